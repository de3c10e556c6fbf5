// Drill: restore the web1 VM from the backup host onto the blank spare through the real CLI,
// and boot it: libvirt on spare defines and starts it from the backed-up XML (qemu; TCG
// where the machine has no /dev/kvm that boots the guest), and the guest must answer SSH on its own address with
// the host key it had at backup time and serve its page.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_GUEST, labDown, labExecOk, labUp, sshArgs } from '../lab/index.js';
import { lifeboat, note, runRunbook, stateDir, stepResult, summaryLine } from './cli.js';

const BACKUP = '/srv/backups/vm';
const IMAGES = '/srv/vm/images';
/** the budget for a boot to SSH under TCG on the 2-core machine */
const BOOT_BUDGET_S = 60;

/** what the newest run's step printed (its journaled stdout) */
async function stepOutput(state: string, step: string): Promise<string> {
  const log = await lifeboat(['log', '--json', '--state-dir', state]);
  const records = (JSON.parse(log.stdout) as { records: { type: string; step?: string; stdoutTail?: string }[] })
    .records;
  return records
    .filter((r) => r.type === 'exec-finished' && r.step === step)
    .map((r) => r.stdoutTail ?? '')
    .join('');
}

/** the boot time the drill measured: from libvirt's start of the domain to the SSH answer */
async function bootSeconds(state: string): Promise<number> {
  const out = await stepOutput(state, 'vm-answers-ssh');
  const m = /, ([\d.]+) s after it started/.exec(out);
  expect(m, out).not.toBeNull();
  return Number(m![1]);
}

/** the operator's own ssh to the guest: strict host-key checking against the lab's known_hosts */
function sshGuest(cmd: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile('ssh', [...sshArgs(LAB_GUEST.name), cmd], { timeout: 30_000 }, (err, out, e) =>
      resolve({
        code: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
        out: String(out).trim(),
        err: String(e),
      }),
    );
  });
}

/** the VM and its files gone from the spare, as an operator cleans up after an attempt */
const removeVm = () =>
  labExecOk(
    'spare',
    `virsh destroy web1 >/dev/null 2>&1; virsh undefine web1 >/dev/null 2>&1; rm -f ${IMAGES}/web1.*; virsh list --all --name | grep -x web1 || true`,
  );

/** the backup set copied to the spare without booting it (as a run cut off after its copy) */
const stageCopy = () =>
  labExecOk(
    'spare',
    `rsync -t -e ssh 'backup:${BACKUP}/web1.*' ${IMAGES}/ && cd ${IMAGES} && sha256sum -c --strict --quiet web1.qcow2.sha256`,
  );

describe('vm-restore-blank-slate', () => {
  const state = stateDir();

  beforeAll(async () => {
    const { ms } = await labUp(['vm']);
    note(`lab up (vm: backup + spare with libvirt; guest from the cache or built) in ${ms} ms`);
  });

  afterAll(async () => {
    await labDown();
  });

  it('stops at the checksum when the backup image is corrupted, and copies nothing', async () => {
    await labExecOk(
      'backup',
      `cd ${BACKUP} && cp -p web1.qcow2 web1.qcow2.good && printf 'XXXX' | dd of=web1.qcow2 bs=1 seek=4096 conv=notrunc status=none`,
    );
    const run = await runRunbook('vm-restore-blank-slate', state);
    expect(run.code).not.toBe(0);
    expect(stepResult(run.stdout, 'backup-checksum')).toBe('FAILED');
    expect(run.stdout).toMatch(/did NOT match/);
    expect(stepResult(run.stdout, 'copy-image')).toBe('not-run');
    expect(await labExecOk('spare', `find ${IMAGES} -mindepth 1 | wc -l`)).toBe('0');
    expect(await labExecOk('spare', 'virsh list --all --name')).toBe('');
    await labExecOk('backup', `cd ${BACKUP} && mv web1.qcow2.good web1.qcow2`);
  });

  it('restores the image intact and boots it: SSH with the recorded host key, HTTP', async () => {
    const run = await runRunbook('vm-restore-blank-slate', state);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const step of [
      'verify-checksum',
      'verify-qcow2',
      'define-domain',
      'start-domain',
      'vm-answers-ssh',
      'vm-serves',
    ]) {
      expect(stepResult(run.stdout, step), step).toBe('ok');
    }
    const boot = await bootSeconds(state);
    note(`restore: ${summaryLine(run.stdout)}; guest boot to SSH ${boot} s (libvirt start → host key answered)`);
    expect(boot).toBeLessThanOrEqual(BOOT_BUDGET_S);

    // (the image itself verified before the boot; the running guest writes to it since)
    expect(await labExecOk('spare', `ssh backup cat ${BACKUP}/web1.xml | cmp - ${IMAGES}/web1.xml && echo same`)).toBe(
      'same',
    );

    // libvirt on the spare runs it, from the restored disk, on the spare's bridge
    expect(await labExecOk('spare', 'virsh domstate web1')).toBe('running');
    expect(await labExecOk('spare', 'virsh domblklist web1 | awk \'$1 == "vda" {print $2}\'')).toBe(
      `${IMAGES}/web1.qcow2`,
    );
    expect(await labExecOk('spare', 'virsh domiflist web1 | awk \'$3 == "br0" {print $3}\'')).toBe('br0');
    expect(await labExecOk('spare', 'pgrep -c -f "^/usr/bin/qemu-system-x86_64 .*-name guest=web1"')).toBe('1');

    // the guest itself, from the operator: its key is the lab's known_hosts entry for web1,
    // recorded at backup time; ssh refuses any other
    const hostname = await sshGuest('hostname; cut -d" " -f1 /proc/uptime');
    expect(hostname.code, hostname.err).toBe(0);
    expect(hostname.out.split('\n')[0]).toBe('web1');
    const page = await fetch(`http://${LAB_GUEST.address}/`, { signal: AbortSignal.timeout(10_000) });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('web1 restored');
  });

  it('stops when the VM answers with another host key than the backup recorded', async () => {
    await removeVm();
    // the backup's record names a different key (a backup of the wrong machine, or a new one)
    await labExecOk(
      'backup',
      `cd ${BACKUP} && cp -p web1.host_key.pub web1.host_key.pub.good && rm -f /tmp/k /tmp/k.pub && ssh-keygen -q -t ed25519 -N '' -f /tmp/k && cut -d' ' -f1,2 /tmp/k.pub >web1.host_key.pub && rm -f /tmp/k /tmp/k.pub`,
    );
    const run = await runRunbook('vm-restore-blank-slate', state);
    expect(run.code).not.toBe(0);
    expect(stepResult(run.stdout, 'start-domain')).toBe('ok');
    expect(stepResult(run.stdout, 'vm-answers-ssh')).toBe('FAILED');
    expect(stepResult(run.stdout, 'vm-serves')).toBe('not-run');
    expect(run.stdout + run.stderr).toMatch(
      /HOST KEY DIFFERS: 198\.18\.0\.33 presents SHA256:\S+, the backup recorded SHA256:\S+/,
    );
    await labExecOk('backup', `cd ${BACKUP} && mv web1.host_key.pub.good web1.host_key.pub`);
  });

  it('replaces a damaged copy on the spare even when its size and time look right', async () => {
    await removeVm();
    await stageCopy();
    // silent corruption on the spare's disk: same size, same mtime as the good copy
    await labExecOk(
      'spare',
      `cd ${IMAGES} && t=$(stat -c %y web1.qcow2) && printf 'XXXX' | dd of=web1.qcow2 bs=1 seek=8192 conv=notrunc status=none && touch -d "$t" web1.qcow2 && ! sha256sum -c --quiet web1.qcow2.sha256 2>/dev/null`,
    );
    const run = await runRunbook('vm-restore-blank-slate', state);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepResult(run.stdout, 'copy-image')).toBe('ok');
    // the fresh copy verified before the boot (the running guest writes to its disk since)
    expect(stepResult(run.stdout, 'verify-checksum')).toBe('ok');
    expect(stepResult(run.stdout, 'vm-serves')).toBe('ok');
    note(`restore over a damaged copy: guest boot to SSH ${await bootSeconds(state)} s`);
  });

  it('skips the copy when the spare already holds a verified image, and boots it', async () => {
    await removeVm();
    await stageCopy();
    const run = await runRunbook('vm-restore-blank-slate', state);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepResult(run.stdout, 'copy-image')).toBe('skipped');
    expect(stepResult(run.stdout, 'vm-answers-ssh')).toBe('ok');
    note(`restore from the verified copy: guest boot to SSH ${await bootSeconds(state)} s`);
  });
});

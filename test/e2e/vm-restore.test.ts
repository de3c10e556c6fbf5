// Drill: restore the web1 VM image from the backup host onto the blank spare through the
// real CLI. No libvirt in the lab: the restore is proven without booting (checksum,
// qemu-img check, a file read out of the guest filesystem).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExecOk, labUp } from '../lab/index.js';
import { note, runRunbook, stateDir, stepResult, summaryLine } from './cli.js';

const BACKUP = '/srv/backups/vm';
const IMAGES = '/srv/vm/images';
const ANSWER = ['--yes-manual', '--answer', 'confirm-host-key=SHA256:checked-on-the-console'];

describe('vm-restore-blank-slate', () => {
  const state = stateDir();

  beforeAll(async () => {
    const { ms } = await labUp(['vm']);
    note(`lab up (vm: backup + spare) in ${ms} ms`);
  });

  afterAll(async () => {
    await labDown();
  });

  it('stops at the checksum when the backup image is corrupted, and copies nothing', async () => {
    await labExecOk('backup', `cd ${BACKUP} && cp -p web1.qcow2 web1.qcow2.good && printf 'XXXX' | dd of=web1.qcow2 bs=1 seek=4096 conv=notrunc status=none`);
    const run = await runRunbook('vm-restore-blank-slate', state, ANSWER);
    expect(run.code).not.toBe(0);
    expect(stepResult(run.stdout, 'backup-checksum')).toBe('FAILED');
    expect(run.stdout).toMatch(/did NOT match/);
    expect(stepResult(run.stdout, 'copy-image')).toBe('not-run');
    expect(await labExecOk('spare', `find ${IMAGES} -mindepth 1 | wc -l`)).toBe('0');
    await labExecOk('backup', `cd ${BACKUP} && mv web1.qcow2.good web1.qcow2`);
  });

  it('restores the image intact onto the spare', async () => {
    const run = await runRunbook('vm-restore-blank-slate', state, ANSWER);
    note(`restore: ${summaryLine(run.stdout)}`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepResult(run.stdout, 'verify-checksum')).toBe('ok');
    expect(stepResult(run.stdout, 'verify-qcow2')).toBe('ok');
    // no libvirt in the lab: define/start are skipped by their guard, not failed
    expect(stepResult(run.stdout, 'define-domain')).toBe('skipped');

    const sum = (host: 'backup' | 'spare', dir: string) => labExecOk(host, `sha256sum ${dir}/web1.qcow2 | cut -d' ' -f1`);
    expect(await sum('spare', IMAGES)).toBe(await sum('backup', BACKUP));
    expect(await labExecOk('spare', `ssh backup cat ${BACKUP}/web1.xml | cmp - ${IMAGES}/web1.xml && echo same`)).toBe('same');
    // the guest filesystem inside the restored image reads back
    const hostname = await labExecOk('spare', `qemu-img convert -f qcow2 -O raw ${IMAGES}/web1.qcow2 /tmp/web1.raw && debugfs -R 'cat /etc/hostname' /tmp/web1.raw 2>/dev/null; rm -f /tmp/web1.raw`);
    expect(hostname).toBe('web1');
  });

  it('replaces a damaged copy on the spare even when its size and time look right', async () => {
    // silent corruption on the spare's disk: same size, same mtime as the good copy
    await labExecOk('spare', `cd ${IMAGES} && t=$(stat -c %y web1.qcow2) && printf 'XXXX' | dd of=web1.qcow2 bs=1 seek=8192 conv=notrunc status=none && touch -d "$t" web1.qcow2 && ! sha256sum -c --quiet web1.qcow2.sha256 2>/dev/null`);
    const run = await runRunbook('vm-restore-blank-slate', state, ANSWER);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepResult(run.stdout, 'copy-image')).toBe('ok');
    expect(await labExecOk('spare', `cd ${IMAGES} && sha256sum -c --strict web1.qcow2.sha256`)).toBe('web1.qcow2: OK');
  });

  it('skips the copy when the spare already holds a verified image', async () => {
    const run = await runRunbook('vm-restore-blank-slate', state, ANSWER);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepResult(run.stdout, 'copy-image')).toBe('skipped');
  });
});

// Drill: the active file server fs1 is cut off; the runbook moves the share's VIP to the
// replica fs2 and turns the nightly sync round. Then fs1 comes back, is cleaned up as the
// runbook's manual step says, and the flipped sync job really copies fs2 -> fs1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExecOk, labUp, linkDown, linkUp, LAB_ADDRESSES, LAB_VIPS } from '../lab/index.js';
import { note, runRunbook, stateDir, stepResult, summaryLine } from './cli.js';

const VIP = LAB_VIPS.fs;
const JOB = '/srv/cron.d/lifeboat-share-sync';
// a compact manifest: path, type, mode, owner, size, mtime, link target, content hash
const MANIFEST = `cd /srv/share && { find . \\( -type d -printf '%y %m %U:%G %Ts %p\\n' \\) -o \\( -type l -printf '%y %U:%G %Ts %l %p\\n' \\) -o -printf '%y %m %U:%G %n %s %Ts %p\\n' | LC_ALL=C sort; find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; } | sha256sum`;

describe('fileserver-failover', () => {
  const state = stateDir();

  beforeAll(async () => {
    const { ms } = await labUp(['fs']);
    note(`lab up (fs) in ${ms} ms`);
    // the replica is level with the active server, as after a nightly sync
    const sync = await runRunbook('fileserver-resync', state);
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
  });

  afterAll(async () => {
    await labDown();
  });

  it('moves the share to the replica when the active server is cut off', async () => {
    await linkDown('fs1');
    const run = await runRunbook('fileserver-failover', state, ['--yes-manual']);
    note(`file-server failover: ${summaryLine(run.stdout)}`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepResult(run.stdout, 'vip-off-active')).toBe('skipped');
    expect(stepResult(run.stdout, 'fence-unreachable-active')).toBe('ok');
    expect(stepResult(run.stdout, 'vip-answers')).toBe('ok');

    expect(await labExecOk('fs2', 'ip -o -4 addr show dev eth0')).toContain(`${VIP}/24`);
    // the nightly job now runs on fs2 and copies to fs1
    const job = await labExecOk('fs2', `cat ${JOB}`);
    expect(job).toContain(`/srv/share/ ${LAB_ADDRESSES.fs1}:/srv/share/`);
  });

  it('after fs1 is back and cleaned up, the flipped sync brings it level with fs2', async () => {
    // work done on the replica after the failover
    await labExecOk(
      'fs2',
      "mkdir -p '/srv/share/Sales/after failover' && echo 'new quote' > '/srv/share/Sales/after failover/quote 1.txt' && rm -f '/srv/share/README (read me).txt'",
    );
    // fs1 returns; as the manual step says: VIP and old sync job off before anything else
    await linkUp('fs1');
    await labExecOk('fs1', `ip addr del ${VIP}/24 dev eth0 && rm -f ${JOB}`);
    await labExecOk('fs2', `arping -q -U -c 1 -I eth0 ${VIP}`);

    // run the flipped job's command as cron would
    await labExecOk('fs2', `cmd=$(grep -v '^#' ${JOB} | sed -E 's/^([^ ]+ ){5}root //'); bash -c "$cmd"`);
    expect(await labExecOk('fs1', MANIFEST)).toBe(await labExecOk('fs2', MANIFEST));
    expect(await labExecOk('fs1', "cat '/srv/share/Sales/after failover/quote 1.txt'")).toBe('new quote');
    expect(await labExecOk('fs1', "test ! -e '/srv/share/README (read me).txt' && echo gone")).toBe('gone');
  });

  it('refuses to fail over again while the replica holds the VIP', async () => {
    const run = await runRunbook('fileserver-failover', state, ['--yes-manual']);
    expect(run.code).not.toBe(0);
    expect(stepResult(run.stdout, 'replica-lacks-vip')).toBe('FAILED');
  });
});

// Real SSH faults on lab hosts during a runbook run through the CLI: a changed host key
// and a dead sshd must stop the run before anything changes, with a message that says why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killSshd, labDown, labExecOk, labUp, rekey, startSshd } from '../lab/index.js';
import { runRunbook, stateDir, stepResult } from './cli.js';

const IMAGES = '/srv/vm/images';
const imagesOnSpare = () => labExecOk('spare', `find ${IMAGES} -mindepth 1 | wc -l`);

describe('SSH faults during a run', () => {
  const state = stateDir();

  beforeAll(async () => {
    await labUp(['vm']);
  });

  afterAll(async () => {
    await labDown();
  });

  it('refuses a host whose key changed, and changes nothing', async () => {
    await rekey('backup');
    const run = await runRunbook('vm-restore-blank-slate', state);
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/host key/i);
    expect(stepResult(run.stdout, 'copy-image')).not.toBe('ok');
    expect(await imagesOnSpare()).toBe('0');
  });

  it('stops when sshd on a host refuses connections, and runs once it is back', async () => {
    // the lab's known_hosts still has backup's old key: bring the lab's view up to date first
    await labDown();
    await labUp(['vm']);
    await killSshd('spare');
    const run = await runRunbook('vm-restore-blank-slate', state);
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/refused/i);
    expect(await imagesOnSpare()).toBe('0');

    await startSshd('spare');
    const again = await runRunbook('vm-restore-blank-slate', state);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(stepResult(again.stdout, 'verify-checksum')).toBe('ok');
    expect(stepResult(again.stdout, 'vm-answers-ssh')).toBe('ok');
  });
});

// Faults in the middle of a run, on separate lab hosts, each followed by `lifeboat resume`:
// a host's switch port goes down mid-step, a host's sshd session dies mid-step, a host's key
// changes (refused; accepted only through the explicit path). Nothing runs twice by accident.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LAB_DIR, LAB_PASSWORDS, labDown, labExec, labExecOk, labUp, linkDown, linkUp, rekey } from '../lab/index.js';
import { CLI, LAB_INVENTORY, note, stepResult, type CliResult } from './cli.js';
import { lifeboat } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const LOG = '/srv/fault-drill.log';

const RUNBOOK = `lifeboat: 1
kind: runbook
name: fault-drill
version: 1.0.0
title: Fault drill
tier: routine
objectives: { rto: 10m, rpo: 0s }
roles: { a: fs1, b: fs2 }
steps:
  - { id: pre, phase: preflight, on: [a, b], run: test -d /srv }
  - { id: one, on: b, run: "echo one >> ${LOG}" }
  - { id: slow, on: b, run: "sleep 6; echo slow >> ${LOG}" }
  - { id: two, on: a, run: "echo two >> ${LOG}" }
`;

/** the test projects made so far, removed after the file's tests */
const made: string[] = [];

function project(): { dir: string; state: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-faults-'));
  made.push(dir);
  mkdirSync(path.join(dir, 'inventories'));
  copyFileSync(LAB_INVENTORY, path.join(dir, 'inventories', 'lab.yaml'));
  writeFileSync(
    path.join(dir, 'site.yaml'),
    'lifeboat: 1\nkind: site\norganisation: Lab\nrecovery_order: [fault-drill]\n',
  );
  writeFileSync(path.join(dir, 'fault-drill.yaml'), RUNBOOK);
  return { dir, state: path.join(dir, '.lifeboat') };
}

/** The CLI started in `cwd`; `done` when it ends (the shared runner, test/helpers/cli.ts). */
function cli(cwd: string, args: string[]): { done: Promise<CliResult> } {
  return {
    done: lifeboat(args, {
      cli: CLI,
      cwd,
      inheritEnv: true,
      env: { LIFEBOAT_LAB_DIR: LAB_DIR, PG_CHECK_PASSWORD: LAB_PASSWORDS.drill, CI: 'true' },
      timeoutMs: 280_000,
    }),
  };
}

const journal = (state: string) => {
  const runs = path.join(state, 'runs');
  if (!existsSync(runs)) return '';
  return readdirSync(runs)
    .map((r) => {
      try {
        return readFileSync(path.join(runs, r, 'journal.jsonl'), 'utf8');
      } catch {
        return '';
      }
    })
    .join('');
};

const lines = async (host: 'fs1' | 'fs2') =>
  (await labExec(host, `cat ${LOG} 2>/dev/null`)).stdout.split('\n').filter(Boolean);

describe('faults mid-run, then resume', () => {
  beforeAll(async () => {
    await labUp(['fs']);
  }, 120_000);
  afterAll(async () => {
    if (!process.env.LIFEBOAT_KEEP_TEST_STATE) for (const dir of made) rmSync(dir, { recursive: true, force: true });
    await labDown();
  }, 60_000);

  it("a host's link goes down mid-step: connection lost, the step is in doubt, resume settles it and finishes", async () => {
    await labExec('fs1', `rm -f ${LOG}`);
    await labExec('fs2', `rm -f ${LOG}`);
    const p = project();
    const run = cli(p.dir, ['run', 'fault-drill', '-i', 'lab', '--yes', '--plain']);
    await waitFor(() => journal(p.state).includes('"type":"intent","step":"slow"'), 'the slow step to be sent', 30_000);
    await linkDown('fs2');
    const r = await run.done;
    note(`link down mid-step: the run noticed and stopped after ${r.ms} ms`);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/CONNECTION LOST|connection lost/);
    expect(stepResult(r.stdout, 'slow')).toBe('FAILED');
    expect(stepResult(r.stdout, 'two')).toBe('not-run');
    await linkUp('fs2');
    // the cut-off host went on by itself: the operator looks before deciding
    await waitFor(async () => (await lines('fs2')).includes('slow'), 'the slow command to finish on fs2', 30_000);
    const resumed = await cli(p.dir, ['resume', '--yes', '--plain', '--in-doubt', 'done']).done;
    // "done" on the operator's word, with no evidence: the run reaches its end, completed with errors (exit 1)
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(1);
    expect(resumed.stdout).toMatch(/in doubt/);
    expect(resumed.stdout).toMatch(/^COMPLETED WITH ERRORS: fault-drill@/m);
    expect(await lines('fs2')).toEqual(['one', 'slow']);
    expect(await lines('fs1')).toEqual(['two']);
  }, 180_000);

  it("a host's sshd session dies mid-step: connection lost, not a command failure; resume re-runs it when asked", async () => {
    await labExec('fs1', `rm -f ${LOG}`);
    await labExec('fs2', `rm -f ${LOG}`);
    const p = project();
    const run = cli(p.dir, ['run', 'fault-drill', '-i', 'lab', '--yes', '--plain']);
    await waitFor(() => journal(p.state).includes('"type":"intent","step":"slow"'), 'the slow step to be sent', 30_000);
    // the command itself is running on fs2 (not only sent): then its session dies
    await waitFor(
      async () => (await labExec('fs2', "pgrep -f '^sleep 6$'")).stdout.trim() !== '',
      'sleep 6 to run on fs2',
      30_000,
    );
    // the session's own sshd processes (not the listener): what a crash of sshd's session looks like
    await labExec('fs2', "pkill -KILL -f '^sshd: root@' ; pkill -KILL -f 'sleep 6' ; true");
    const r = await run.done;
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/CONNECTION LOST|connection lost/);
    expect(r.stdout).not.toMatch(/\[slow @ fs2\] FAILED: exit code/);
    expect(await lines('fs2')).toEqual(['one']);
    const resumed = await cli(p.dir, ['resume', '--yes', '--plain', '--in-doubt', 'rerun']).done;
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(await lines('fs2')).toEqual(['one', 'slow']);
    expect(await lines('fs1')).toEqual(['two']);
  }, 180_000);

  it("a host's key changes: refused with the new fingerprint; accepted only through the explicit path", async () => {
    await labExec('fs1', `rm -f ${LOG}`);
    await labExec('fs2', `rm -f ${LOG}`);
    await rekey('fs2');
    const p = project();
    const refused = await cli(p.dir, ['run', 'fault-drill', '-i', 'lab', '--yes', '--plain']).done;
    expect(refused.code).toBe(1);
    expect(refused.stdout + refused.stderr).toMatch(/host key/i);
    expect(refused.stdout + refused.stderr).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
    expect(await lines('fs2')).toEqual([]);
    // --accept-new-host-keys never takes a CHANGED key
    const still = await cli(p.dir, [
      'run',
      'fault-drill',
      '-i',
      'lab',
      '--yes',
      '--plain',
      '--accept-new-host-keys',
      '--takeover',
    ]).done;
    expect(still.code).toBe(1);
    expect(await lines('fs2')).toEqual([]);
    // the explicit path: the operator checked the new key, removes the old entry, trusts the new one on first use
    const kh = path.join(LAB_DIR, 'known_hosts');
    const before = readFileSync(kh, 'utf8');
    expect((await labExec('fs1', 'true')).code).toBe(0);
    const keygen = spawn('ssh-keygen', ['-R', '198.18.0.22', '-f', kh], { stdio: 'ignore' });
    await new Promise((r) => keygen.on('close', r));
    expect(readFileSync(kh, 'utf8')).not.toBe(before);
    const ok = await cli(p.dir, [
      'run',
      'fault-drill',
      '-i',
      'lab',
      '--yes',
      '--plain',
      '--accept-new-host-keys',
      '--takeover',
    ]).done;
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(await lines('fs2')).toEqual(['one', 'slow']);
    expect(readFileSync(kh, 'utf8')).toMatch(/^\|1\|/m);
    expect(await labExecOk('fs1', `cat ${LOG}`)).toBe('two');
  }, 180_000);
});

// Drill: the operator's machine dies in the middle of a switchover (the CLI is SIGKILLed
// while the VIP is being announced); `lifeboat resume` finishes the job from the journal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { labDown, labExecOk, labPsql, labUp, LAB_ADDRESSES, LAB_VIPS, LAB_DIR } from '../lab/index.js';
import { CLI, LAB_INVENTORY, ROOT, lifeboat, note, stateDir, stepResult, summaryLine } from './cli.js';

/** Start a run and SIGKILL it as soon as its output matches `killAt`; resolves with the output so far. */
function runAndKill(args: string[], killAt: RegExp): Promise<{ out: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, LIFEBOAT_LAB_DIR: LAB_DIR, NO_COLOR: '1' },
    });
    let out = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!killed && killAt.test(out)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('close', () => resolve({ out, killed }));
  });
}

describe('postgres-switchover interrupted and resumed', () => {
  const state = stateDir();

  beforeAll(async () => {
    await labUp(['db']);
  });

  afterAll(async () => {
    await labDown();
  });

  it('finishes after the CLI was killed mid-run', async () => {
    await labPsql('db1', `insert into drill (payload) select 'resume ' || g from generate_series(1, 20) g`);
    const first = await runAndKill(
      ['run', 'postgres-switchover', '-i', LAB_INVENTORY, '--yes', '--plain', '--state-dir', state],
      /\[announce-vip @ db2\] \$ arping/,
    );
    expect(first.killed, first.out).toBe(true);
    const runId = /run (\S+): postgres-switchover@/.exec(first.out)?.[1];
    expect(runId, first.out).toBeTruthy();
    // half done: db2 already promoted, db1 stopped and not yet following
    expect(await labPsql('db2', 'select pg_is_in_recovery()')).toBe('f');

    const resumed = await lifeboat(['resume', runId!, '--yes', '--plain', '--state-dir', state, '--in-doubt', 'rerun']);
    note(`resume after a killed CLI: ${summaryLine(resumed.stdout)}`);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    // finished steps were not run again
    expect(resumed.stdout).not.toMatch(/\[promote @ db2\] \$/);
    expect(stepResult(resumed.stdout, 'old-primary-caught-up')).toBe('ok');

    expect(await labPsql('db1', 'select pg_is_in_recovery()')).toBe('t');
    expect(await labPsql('db2', `select host(client_addr) || ' ' || state from pg_stat_replication`)).toBe(
      `${LAB_ADDRESSES.db1} streaming`,
    );
    expect(await labPsql('db1', `select count(*) from drill where payload like 'resume %'`)).toBe('20');
    expect(await labExecOk('db2', 'ip -o -4 addr show dev eth0')).toContain(`${LAB_VIPS.db}/24`);
    // the run lock on db2 was released
    expect(await labExecOk('db2', 'ls /run/lock')).not.toContain('lifeboat-postgres-switchover');
  });
});

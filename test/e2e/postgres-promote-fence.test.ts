// Drill: the primary still answers SSH (say its disk is failing) and the standby is
// promoted anyway: the runbook must fence it itself — PostgreSQL stopped, VIP dropped —
// so there is never a second writable primary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labExecOk, labPsql, labUp, LAB_VIPS } from '../lab/index.js';
import { note, runRunbook, stateDir, stepResult, summaryLine } from './cli.js';

describe('postgres-promote-standby with a primary that still answers', () => {
  const state = stateDir();

  beforeAll(async () => {
    await labUp(['db']);
  });

  afterAll(async () => {
    await labDown();
  });

  it('stops the old primary and takes its VIP before promoting', async () => {
    await labPsql('db1', `insert into drill (payload) select 'fence ' || g from generate_series(1, 50) g`);
    const lsn = await labPsql('db1', 'select pg_current_wal_lsn()');

    const run = await runRunbook('postgres-promote-standby', state, ['--yes-manual']);
    note(`promotion with the primary answering: ${summaryLine(run.stdout)}`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepResult(run.stdout, 'fence-primary-db')).toBe('ok');
    expect(stepResult(run.stdout, 'fence-primary-vip')).toBe('ok');
    // reachable: the manual fencing path is not needed
    expect(stepResult(run.stdout, 'fence-unreachable-primary')).toBe('skipped');

    // exactly one primary: db1 is down and has no VIP, db2 has both roles
    const status = await labExec(
      'db1',
      'cd / && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D /var/lib/postgresql/15/main status',
    );
    expect(status.code).toBe(3); // pg_ctl: no server running
    expect(await labExecOk('db1', 'ip -o -4 addr show dev eth0')).not.toContain(`${LAB_VIPS.db}/24`);
    expect(await labExecOk('db2', 'ip -o -4 addr show dev eth0')).toContain(`${LAB_VIPS.db}/24`);
    expect(await labPsql('db2', 'select pg_is_in_recovery()')).toBe('f');
    // a clean stop: everything db1 wrote reached db2 before the promotion
    expect(await labPsql('db2', `select count(*) from drill where payload like 'fence %'`)).toBe('50');
    expect(await labPsql('db2', `select pg_current_wal_lsn() >= '${lsn}'::pg_lsn`)).toBe('t');
  });
});

// Drill: a planned switchover db1 -> db2 through the real CLI, under write load: nothing
// committed is lost, and the old primary ends up streaming from the new one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExecOk, labPsql, labUp, LAB_ADDRESSES, LAB_VIPS } from '../lab/index.js';
import { note, runRunbook, stateDir, stepResult, summaryLine } from './cli.js';
import { waitFor } from '../helpers/wait.js';

const FINGERPRINT = `select count(*) || ' ' || md5(coalesce(string_agg(id || ':' || payload, ',' order by id), '')) from drill`;

describe('postgres-switchover', () => {
  const state = stateDir();

  beforeAll(async () => {
    const { ms } = await labUp(['db']);
    note(`lab up (db) in ${ms} ms`);
  });

  afterAll(async () => {
    await labDown();
  });

  it('loses nothing and leaves a working pair the other way round', async () => {
    // a writer on db1 that keeps committing until the primary goes away
    await labExecOk(
      'db1',
      `cd / && setsid -f bash -c 'for i in $(seq 1 100000); do runuser -u postgres -- psql -XqAt -d lab -c "insert into drill (payload) values (\\$\\$load $i\\$\\$)" >/dev/null 2>&1 || break; echo $i >> /tmp/writer.ok; done' >/dev/null 2>&1 < /dev/null; echo started`,
    );
    // the switchover starts while the writer is committing: wait for its first commits, not for a time
    await waitFor(
      async () => Number(await labExecOk('db1', 'cat /tmp/writer.ok 2>/dev/null | wc -l')) >= 20,
      'the writer on db1 to commit',
      30_000,
    );

    const run = await runRunbook('postgres-switchover', state);
    note(`switchover: ${summaryLine(run.stdout)}`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepResult(run.stdout, 'standby-replayed-checkpoint')).toBe('ok');

    // everything the old primary committed is on the new one: compare the old primary's
    // data (it is a standby now, read-only, replaying from db2) with db2's, row for row
    // the writer stopped by itself when the primary went away
    const loadRows = await labPsql('db2', `select count(*) from drill where payload like 'load %'`);
    expect(await labExecOk('db1', `pgrep -f '[f]or i in' | wc -l`)).toBe('0');
    expect(Number(loadRows)).toBeGreaterThan(0);
    await labPsql('db2', `insert into drill (payload) values ('after switchover')`);
    const lsn = await labPsql('db2', 'select pg_current_wal_lsn()');
    for (let i = 0; i < 100; i++) {
      if ((await labPsql('db1', `select pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn`)) === 't') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await labPsql('db1', FINGERPRINT)).toBe(await labPsql('db2', FINGERPRINT));
    // no gap in the writer's sequence: every insert that returned was kept
    const gaps = await labPsql(
      'db2',
      `select count(*) from (select substr(payload, 6)::int n from drill where payload like 'load %') t
      where n > 1 and not exists (select 1 from drill d where d.payload = 'load ' || (t.n - 1))`,
    );
    expect(gaps).toBe('0');
    // and exactly the inserts the writer saw succeed are there
    expect(await labExecOk('db1', 'wc -l < /tmp/writer.ok')).toBe(loadRows);
    note(`switchover under load: ${loadRows} writer rows, none lost`);

    // roles swapped: db2 writable on a new timeline, db1 a streaming standby
    expect(await labPsql('db2', 'select pg_is_in_recovery()')).toBe('f');
    expect(
      await labPsql('db2', `select ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int`),
    ).toBe('2');
    expect(await labPsql('db1', 'select pg_is_in_recovery()')).toBe('t');
    expect(await labPsql('db2', `select host(client_addr) || ' ' || state from pg_stat_replication`)).toBe(
      `${LAB_ADDRESSES.db1} streaming`,
    );
    expect(await labPsql('db1', `select count(*) from drill where payload = 'after switchover'`)).toBe('1');
    // the VIP followed
    expect(await labExecOk('db2', 'ip -o -4 addr show dev eth0')).toContain(`${LAB_VIPS.db}/24`);
    expect(await labExecOk('db1', 'ip -o -4 addr show dev eth0')).not.toContain(`${LAB_VIPS.db}/24`);
  });

  it('refuses to run again the same way round', async () => {
    const run = await runRunbook('postgres-switchover', state);
    expect(run.code).not.toBe(0);
    expect(stepResult(run.stdout, 'primary-is-primary')).toBe('FAILED');
    expect(stepResult(run.stdout, 'stop-primary')).toBe('not-run');
  });
});

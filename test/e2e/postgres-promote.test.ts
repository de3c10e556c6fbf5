// Drill: the PostgreSQL primary is cut off the network (a partition: it keeps running and
// still believes it is primary); the runbook promotes the standby through the real CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import {
  labDown,
  labExecOk,
  labPsql,
  labUp,
  linkDown,
  linkUp,
  LAB_ADDRESSES,
  LAB_PASSWORDS,
  LAB_VIPS,
} from '../lab/index.js';
import { note, runRunbook, stateDir, stepResult, summaryLine } from './cli.js';

// count + an order-sensitive checksum of every row: equal means the same rows, same content
const FINGERPRINT = `select count(*) || ' ' || md5(coalesce(string_agg(id || ':' || payload, ',' order by id), '')) from drill`;

describe('postgres-promote-standby after losing the primary', () => {
  const state = stateDir();
  let before = '';

  beforeAll(async () => {
    const { ms } = await labUp(['db']);
    note(`lab up (db: db1 + db2) in ${ms} ms`);
  });

  afterAll(async () => {
    const { ms } = await labDown();
    note(`lab down in ${ms} ms`);
  });

  it('keeps every row committed before the loss, moves the VIP and takes writes through it', async () => {
    // rows from many small transactions, like an application writes them
    await labPsql(
      'db1',
      `do $$ begin for i in 1..300 loop insert into drill (payload) values ('order ' || i || ' ' || md5(i::text)); commit; end loop; end $$;`,
    );
    before = await labPsql('db1', FINGERPRINT);
    const lsn = await labPsql('db1', 'select pg_current_wal_lsn()');
    // asynchronous replication: the standby has the rows once it has received this position
    for (let i = 0; i < 100; i++) {
      if ((await labPsql('db2', `select pg_last_wal_receive_lsn() >= '${lsn}'::pg_lsn`)) === 't') break;
      await new Promise((r) => setTimeout(r, 100));
    }

    await linkDown('db1');
    const run = await runRunbook('postgres-promote-standby', state, ['--yes-manual']);
    note(`promotion: ${summaryLine(run.stdout)} (CLI wall time ${run.ms} ms)`);
    expect(run.code, run.stdout + run.stderr).toBe(0);

    // the unreachable primary's steps were skipped, the manual fencing path was taken
    expect(stepResult(run.stdout, 'fence-primary-db')).toBe('skipped');
    expect(run.stdout).toMatch(/primary \(db1\) is unreachable/);
    expect(stepResult(run.stdout, 'fence-unreachable-primary')).toBe('ok');
    expect(stepResult(run.stdout, 'promote')).toBe('ok');

    // the new primary: writable, every row there
    expect(await labPsql('db2', 'select pg_is_in_recovery()')).toBe('f');
    const rows = await labPsql(
      'db2',
      `select count(*) || ' ' || md5(coalesce(string_agg(id || ':' || payload, ',' order by id), '')) from drill where payload <> 'lifeboat failover check'`,
    );
    expect(rows).toBe(before);
    // the runbook's own write through the VIP landed on the new primary
    expect(await labPsql('db2', `select count(*) from drill where payload = 'lifeboat failover check'`)).toBe('1');

    // the VIP is on db2, and a client on the operator's side writes through it
    expect(await labExecOk('db2', 'ip -o -4 addr show dev eth0')).toContain(`${LAB_VIPS.db}/24`);
    const viaVip = execFileSync(
      'psql',
      [
        '-X',
        '-h',
        LAB_VIPS.db,
        '-U',
        'drill',
        '-d',
        'lab',
        '-tAc',
        "insert into drill (payload) values ('after failover') returning inet_server_addr()",
      ],
      {
        env: { ...process.env, PGPASSWORD: LAB_PASSWORDS.drill, PGCONNECT_TIMEOUT: '5' },
      },
    )
      .toString()
      .trim();
    expect(viaVip.split('\n')[0]).toBe(LAB_VIPS.db);
    expect(await labPsql('db2', `select count(*) from drill where payload = 'after failover'`)).toBe('1');

    // the cut-off old primary still runs and still thinks it is primary: that is why fencing matters
    expect(await labPsql('db1', 'select pg_is_in_recovery()')).toBe('f');
  });

  it('refuses a second promotion: the standby is no longer in recovery', async () => {
    const run = await runRunbook('postgres-promote-standby', state, ['--yes-manual']);
    expect(run.code).not.toBe(0);
    expect(stepResult(run.stdout, 'standby-in-recovery')).toBe('FAILED');
    expect(stepResult(run.stdout, 'promote')).toBe('not-run');
  });

  it('rebuilds the old primary as a standby once it is back and fenced', async () => {
    // db1 comes back: still a primary, still holding the VIP, with a write nobody else has
    await linkUp('db1');
    await labPsql('db1', `insert into drill (payload) values ('written on the cut-off primary')`);
    const refused = await runRunbook('postgres-rebuild-standby', state, ['--yes-manual']);
    expect(refused.code).not.toBe(0);
    expect(stepResult(refused.stdout, 'standby-lacks-vip')).toBe('FAILED');
    expect(await labPsql('db1', 'select pg_is_in_recovery()')).toBe('f');

    // fenced as the promotion's manual step says: the VIP off the old primary
    await labExecOk('db1', `ip addr del ${LAB_VIPS.db}/24 dev eth0`);
    const run = await runRunbook('postgres-rebuild-standby', state, ['--yes-manual']);
    note(`rebuild of the old primary: ${summaryLine(run.stdout)}`);
    expect(run.code, run.stdout + run.stderr).toBe(0);

    expect(await labPsql('db1', 'select pg_is_in_recovery()')).toBe('t');
    expect(await labPsql('db2', `select host(client_addr) || ' ' || state from pg_stat_replication`)).toBe(
      `${LAB_ADDRESSES.db1} streaming`,
    );
    expect(await labPsql('db1', FINGERPRINT)).toBe(await labPsql('db2', FINGERPRINT));
    // the divergent write is not in the database, but its data directory was kept aside
    expect(await labPsql('db1', `select count(*) from drill where payload = 'written on the cut-off primary'`)).toBe(
      '0',
    );
    expect(await labExecOk('db1', 'cat /var/lib/postgresql/15/main.before-rebuild/PG_VERSION')).toBe('15');
  });
});

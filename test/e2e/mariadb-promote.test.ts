// Drill: the MariaDB primary is lost while an application writes through the VIP; the
// shipped runbook promotes the GTID replica through the real CLI. The data-loss window
// lifeboat reports before the first point of no return is compared with the transactions
// that were really lost (read back from the cut-off primary once it is reachable again).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  labDown,
  labExec,
  labExecOk,
  labMariadb,
  labUp,
  linkDown,
  linkUp,
  LAB_ADDRESSES,
  LAB_PASSWORDS,
  LAB_VIPS,
} from '../lab/index.js';
import { lifeboat, note, runRunbook, stateDir, stepResult, summaryLine } from './cli.js';

const ENV = { MARIADB_CHECK_PASSWORD: LAB_PASSWORDS.drill };
// count + an order-sensitive checksum of the rows up to an id: equal means the same rows, same content
const fingerprint = (maxId: number) => `set session group_concat_max_len = 100000000;
select concat(count(*), ' ', md5(coalesce(group_concat(id, ':', payload order by id separator ','), ''))) from orders where id <= ${maxId}`;

/** A client writing through the VIP, one autocommitted insert at a time; `acked` holds the ids the server confirmed. */
function writeLoad(vip: string) {
  const child = spawn(
    'mariadb',
    ['-h', vip, '-u', 'drill', '-D', 'shop', '-N', '-B', '--unbuffered', '--connect-timeout=5'],
    {
      env: { ...process.env, MYSQL_PWD: LAB_PASSWORDS.drill },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const acked: number[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    acked.push(Number(l.trim()));
    for (const w of waiters.filter((x) => acked.length >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  child.stdin.on('error', () => undefined);
  let n = 0;
  const timer = setInterval(() => {
    n++;
    child.stdin.write(
      `insert into orders (payload) values ('load ${n} ${'x'.repeat(n % 50)}'); select last_insert_id();\n`,
    );
  }, 10);
  return {
    acked,
    /** resolves once the server acknowledged n inserts (rejects after the deadline) */
    until: (want: number, ms = 30_000) =>
      new Promise<void>((resolve, reject) => {
        if (acked.length >= want) {
          resolve();
          return;
        }
        const t = setTimeout(
          () => reject(new Error(`only ${acked.length} of ${want} inserts acknowledged in ${ms} ms`)),
          ms,
        );
        waiters.push({
          n: want,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      }),
    stop: () => {
      clearInterval(timer);
      child.kill('SIGKILL');
    },
  };
}

function viaVip(sql: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      'mariadb',
      ['-h', LAB_VIPS.mdb, '-u', 'drill', '-N', '-B', '--connect-timeout=5', '-e', sql],
      { env: { ...process.env, MYSQL_PWD: LAB_PASSWORDS.drill } },
      (err, out, e) => resolve({ code: err ? 1 : 0, out: String(out).trim(), err: String(e) }),
    );
  });
}

async function reportedWindow(state: string): Promise<{ ms: number; text: string; question: string }> {
  const log = await lifeboat(['log', '--json', '--state-dir', state]);
  const records = (
    JSON.parse(log.stdout) as { records: { type: string; windowMs?: number; verdict?: string; question?: string }[] }
  ).records;
  const rpo = records.find((r) => r.type === 'rpo-measured');
  const gate = records.find((r) => r.type === 'confirmed');
  expect(rpo, 'the run journaled its data-loss window').toBeDefined();
  return { ms: rpo!.windowMs!, text: `${rpo!.verdict}`, question: gate?.question ?? '' };
}

describe('mariadb-promote-replica after losing the primary under write load', () => {
  const state = stateDir();

  beforeAll(async () => {
    const { ms } = await labUp(['mdb']);
    note(`lab up (mdb: mdb1 + mdb2) in ${ms} ms`);
  });

  afterAll(async () => {
    const { ms } = await labDown();
    note(`lab down in ${ms} ms`);
  });

  it('keeps every row the replica received (count + checksum), reports a window that covers what was lost, and takes writes on the VIP', async () => {
    const load = writeLoad(LAB_VIPS.mdb);
    try {
      await load.until(200);
      await linkDown('mdb1');
    } finally {
      load.stop();
    }
    const acked = [...load.acked];
    const run = await runRunbook('mariadb-promote-replica', state, ['--yes-manual'], ENV);
    note(`promotion: ${summaryLine(run.stdout)} (CLI wall time ${run.ms} ms)`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepResult(run.stdout, 'fence-primary')).toBe('skipped');
    expect(stepResult(run.stdout, 'fence-unreachable-primary')).toBe('ok');
    expect(stepResult(run.stdout, 'reset-replica')).toBe('ok');
    const reported = await reportedWindow(state);
    // the first point of no return carries the measurement in the journal too
    expect(reported.question).toMatch(/^data-loss window ≈ [\d.]+ s \(RPO 1m\): within\. /);
    expect(run.stdout).toMatch(/^data-loss window ≈ [\d.]+ s \(RPO 1m\): within \(measured by data-loss-window\)$/m);

    // the new primary: writable, replication forgotten, the VIP here and answering writes
    expect(await labMariadb('mdb2', 'select @@read_only')).toBe('0');
    expect(await labMariadb('mdb2', 'show replica status')).toBe('');
    expect(await labExecOk('mdb2', 'cat /etc/mysql/mariadb.conf.d/99-lifeboat-role.cnf')).toContain('read_only = OFF');
    const w = await viaVip(`insert into shop.orders (payload) values ('after failover'); select @@hostname`);
    expect(w.code, w.err).toBe(0);
    expect(w.out).toBe('mdb2');
    expect(await labMariadb('mdb2', `select count(*) from lifeboat.check_write`)).toBe('1');

    // the old primary comes back (still running, still holding the VIP: the manual fence's job)
    await linkUp('mdb1');
    await labExecOk('mdb1', `ip addr del ${LAB_VIPS.mdb}/24 dev eth0`);
    const keptMax = Number(
      await labMariadb('mdb2', `select max(id) from orders where payload like 'load %' or payload like 'seed %'`),
    );
    // the replica holds exactly the primary's rows up to the last one it received: same count, same checksum
    expect(await labMariadb('mdb2', fingerprint(keptMax))).toBe(await labMariadb('mdb1', fingerprint(keptMax)));
    const lost = (
      await labMariadb('mdb1', `select id, unix_timestamp(created_at) from orders where id > ${keptMax} order by id`)
    )
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t').map(Number));
    const lastKept = Number(
      await labMariadb('mdb1', `select unix_timestamp(created_at) from orders where id = ${keptMax}`),
    );
    const lostAcked = acked.filter((id) => id > keptMax).length;
    // the transactions really lost span at most the window lifeboat reported
    const actualMs = lost.length ? Math.round((lost[lost.length - 1][1] - lastKept) * 1000) : 0;
    note(
      `write load: ${acked.length} inserts acknowledged; lost ${lost.length} transaction(s) (${lostAcked} of them acknowledged) spanning ${actualMs} ms of writes; lifeboat reported a data-loss window of ${reported.ms} ms (${reported.text})`,
    );
    expect(actualMs).toBeLessThanOrEqual(reported.ms);
    // every acknowledged insert older than the window is on the new primary
    expect(acked.filter((id) => id <= keptMax).length + lostAcked).toBe(acked.length);
  });

  it('refuses a second promotion: the replica is no longer a replica', async () => {
    const run = await runRunbook('mariadb-promote-replica', state, ['--yes-manual'], ENV);
    expect(run.code).not.toBe(0);
    expect(stepResult(run.stdout, 'replica-is-a-replica')).toBe('FAILED');
    expect(stepResult(run.stdout, 'reset-replica')).toBe('not-run');
  });
});

describe('mariadb-promote-replica with the old primary still answering', () => {
  const state = stateDir();

  beforeAll(async () => {
    await labDown();
    const { ms } = await labUp(['mdb']);
    note(`lab up again (mdb) in ${ms} ms`);
  });

  afterAll(async () => {
    await labDown();
  });

  it('stops MariaDB on the old primary and takes its VIP: the old primary refuses writes, the VIP takes them', async () => {
    const before = await labMariadb('mdb1', fingerprint(1e12));
    const run = await runRunbook('mariadb-promote-replica', state, ['--yes-manual'], ENV);
    note(`promotion with the primary answering: ${summaryLine(run.stdout)}`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepResult(run.stdout, 'fence-primary')).toBe('ok');
    expect(stepResult(run.stdout, 'fence-unreachable-primary')).toBe('skipped');

    // the old primary: MariaDB stopped, no VIP; a client writing to it is refused
    expect((await labExec('mdb1', 'mariadb-admin ping')).code).not.toBe(0);
    expect(await labExecOk('mdb1', 'ip -o -4 addr show dev eth0')).not.toContain(LAB_VIPS.mdb);
    const refused = await new Promise<{ code: number; err: string }>((resolve) => {
      execFile(
        'mariadb',
        [
          '-h',
          LAB_ADDRESSES.mdb1,
          '-u',
          'drill',
          '-D',
          'shop',
          '--connect-timeout=5',
          '-e',
          "insert into orders (payload) values ('to the old primary')",
        ],
        { env: { ...process.env, MYSQL_PWD: LAB_PASSWORDS.drill } },
        (err, _o, e) => resolve({ code: err ? 1 : 0, err: String(e) }),
      );
    });
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/Can't connect/);

    // nothing lost: the fence stopped the primary cleanly after the replica applied everything
    expect(await labMariadb('mdb2', fingerprint(1e12) + ` and payload not in ('after failover')`)).toBe(before);
    const w = await viaVip(`insert into shop.orders (payload) values ('after failover'); select @@hostname`);
    expect(w.code, w.err).toBe(0);
    expect(w.out).toBe('mdb2');
  });
});

// The lab itself: separate-looking hosts, real host-key checking, faults that look real,
// and real log shipping between the database hosts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  killSshd,
  labDown,
  labExecOk,
  labPsql,
  labUp,
  linkDown,
  linkUp,
  rekey,
  sshArgs,
  startSshd,
  LAB_DIR,
  type LabHost,
} from '../lab/index.js';

function ssh(host: LabHost, cmd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('ssh', ['-o', 'ConnectTimeout=2', ...sshArgs(host), cmd], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({
        code: err ? (typeof err.code === 'number' ? err.code : 255) : 0,
        out: String(stdout) + String(stderr),
      });
    });
  });
}

describe('the lab', () => {
  beforeAll(async () => {
    await labUp(['db', 'vm']);
  });

  afterAll(async () => {
    await labDown();
  });

  it('gives each host its own name, process table, folders and host key', async () => {
    const db1 = await ssh('db1', 'hostname; ps -o comm= -p 1; ls /srv; cat /etc/ssh/ssh_host_ed25519_key.pub');
    const spare = await ssh('spare', 'hostname; ps -o comm= -p 1; ls /srv; cat /etc/ssh/ssh_host_ed25519_key.pub');
    expect(db1.code, db1.out).toBe(0);
    const [n1, init1, srv1, key1] = db1.out.trim().split('\n');
    const [n2, , srv2, key2] = spare.out.trim().split('\n');
    expect([n1, n2]).toEqual(['db1', 'spare']);
    expect(init1).toBe('bash'); // the lab's init is PID 1, not the machine's
    expect(srv1).toBe('wal-archive');
    expect(srv2).toBe('vm');
    expect(key1).not.toBe(key2);
    // a PostgreSQL on db1 is invisible from spare
    expect(await labExecOk('spare', 'pgrep -c postgres || true')).toBe('0');
  });

  it('checks host keys for real, and its faults look like real ones', async () => {
    await rekey('spare');
    expect((await ssh('spare', 'true')).out).toMatch(
      /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/,
    );

    await killSshd('backup');
    expect((await ssh('backup', 'true')).out).toMatch(/Connection refused/);
    await startSshd('backup');
    expect((await ssh('backup', 'true')).code).toBe(0);

    await linkDown('backup');
    expect((await ssh('backup', 'true')).out).toMatch(/timed out/);
    await linkUp('backup');
    expect((await ssh('backup', 'true')).code).toBe(0);
  });

  it('ships WAL through the archive when the standby is cut off from the primary', async () => {
    await linkDown('db2');
    await labPsql('db1', `insert into drill (payload) select 'shipped ' || g from generate_series(1, 10) g`);
    // close the segment so it is archived (archive_timeout does it on a real server)
    await labPsql('db1', 'select pg_switch_wal()');
    let seen = '0';
    for (let i = 0; i < 60 && seen !== '10'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      seen = await labPsql('db2', `select count(*) from drill where payload like 'shipped %'`);
    }
    expect(seen).toBe('10');
    // streaming is down: the rows came through restore_command
    expect(await labPsql('db2', `select count(*) from pg_stat_wal_receiver where status = 'streaming'`)).toBe('0');
    await linkUp('db2');
    // the operator's key is private, the lab folder too
    expect(statSync(join(LAB_DIR, 'id_ed25519')).mode & 0o777).toBe(0o600);
    expect(statSync(LAB_DIR).mode & 0o777).toBe(0o700);
  });
});

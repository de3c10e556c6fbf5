import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { remoteLockCommands, remoteUnlockCommand, parseRemoteOwner, REMOTE_LOCK_HELD } from '../../src/journal/lock.js';

// the commands are plain POSIX shell: run them with bash here, the way sshd would
const sh = (cmd: string) => spawnSync('bash', ['-c', `set -e -o pipefail; ${cmd}`], { encoding: 'utf8' });

let base: string;
beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'lb-rlock-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('remote lock commands', () => {
  it('acquire is exclusive, prints the owner when held, and is re-entrant for the same run', () => {
    const a = remoteLockCommands('pg', '20261121-010203-pg-abcd', 'root@laptop', base);
    const b = remoteLockCommands('pg', '20261121-020000-pg-ffff', "o'brien@desk", base);
    expect(sh(a.acquire).status).toBe(0);
    const owner = readFileSync(path.join(base, 'lifeboat-pg', 'owner'), 'utf8');
    expect(owner).toMatch(/^run_id=20261121-010203-pg-abcd\noperator=root@laptop\nsince=\d{4}-\d\d-\d\dT/);
    const held = sh(b.acquire);
    expect(held.status).toBe(REMOTE_LOCK_HELD);
    expect(parseRemoteOwner(held.stdout)).toMatchObject({ runId: '20261121-010203-pg-abcd', operator: 'root@laptop' });
    // resume of the same run takes it again
    expect(sh(a.acquire).status).toBe(0);
    // someone else's release does nothing
    expect(sh(b.release).status).toBe(0);
    expect(existsSync(path.join(base, 'lifeboat-pg'))).toBe(true);
    expect(parseRemoteOwner(sh(a.inspect).stdout)?.runId).toBe('20261121-010203-pg-abcd');
    expect(sh(a.release).status).toBe(0);
    expect(existsSync(path.join(base, 'lifeboat-pg'))).toBe(false);
    expect(sh(a.inspect).stdout.trim()).toBe('free');
    // now b gets it, with a quote in the operator name kept intact
    expect(sh(b.acquire).status).toBe(0);
    expect(parseRemoteOwner(sh(b.inspect).stdout)?.operator).toBe("o'brien@desk");
    expect(sh(remoteUnlockCommand('pg', base)).status).toBe(0);
    expect(existsSync(path.join(base, 'lifeboat-pg'))).toBe(false);
  });

  it('a lock directory without owner file is held, not free', () => {
    const a = remoteLockCommands('pg', 'r1', 'o', base);
    expect(sh(`mkdir ${base}/lifeboat-pg`).status).toBe(0);
    const r = sh(a.acquire);
    expect(r.status).toBe(REMOTE_LOCK_HELD);
    expect(r.stdout).toContain('owner=unknown');
  });

  it('reclaims a lock left by a run known to be finished, and only such a lock', () => {
    expect(sh(remoteLockCommands('pg', 'old-run', 'o', base).acquire).status).toBe(0);
    expect(sh(remoteLockCommands('pg', 'new-run', 'o', base, ['other-run']).acquire).status).toBe(REMOTE_LOCK_HELD);
    expect(sh(remoteLockCommands('pg', 'new-run', 'o', base, ['other-run', 'old-run']).acquire).status).toBe(0);
    expect(parseRemoteOwner(sh(remoteLockCommands('pg', 'x', 'o', base).inspect).stdout)?.runId).toBe('new-run');
  });

  it('quotes what it inserts', () => {
    const c = remoteLockCommands('pg', 'r1', 'x; touch /tmp/pwned', base);
    expect(c.acquire).toContain("'operator=x; touch /tmp/pwned'");
  });

  it('many concurrent acquires: exactly one wins', async () => {
    const { spawn } = await import('node:child_process');
    const results = await Promise.all(
      Array.from(
        { length: 12 },
        (_, i) =>
          new Promise<number>((resolve) => {
            const c = spawn('bash', ['-c', remoteLockCommands('pg', `run-${i}`, 'o', base).acquire], {
              stdio: 'ignore',
            });
            c.on('close', (code) => resolve(code ?? -1));
          }),
      ),
    );
    expect(results.filter((c) => c === 0)).toHaveLength(1);
    expect(results.filter((c) => c === REMOTE_LOCK_HELD)).toHaveLength(11);
  });
});

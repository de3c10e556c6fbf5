import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir, hostname } from 'node:os';
import path from 'node:path';
import {
  acquireLocalLock,
  readLocalLock,
  LockError,
  lockPath,
  ownerAlive,
  processStartTime,
  removeLocalLock,
  type LockOwner,
} from '../../src/journal/lock.js';

let tmp: string;
let state: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lb-lock-'));
  state = path.join(tmp, '.lifeboat');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** a pid that certainly is not running any more */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function writeLock(owner: Partial<LockOwner>, runbook = 'pg') {
  acquireLocalLock(state, 'prime', { runId: 'x', operator: 'x' }).release(); // creates the folders
  writeFileSync(
    lockPath(state, runbook),
    JSON.stringify({
      runId: '20261121-000000-pg-aaaa',
      operator: 'jo@laptop',
      pid: 1,
      host: hostname(),
      started: '2026-11-21T00:00:00.000Z',
      ...owner,
    }),
    { mode: 0o600 },
  );
}

describe('local run lock', () => {
  it('holds the owner as JSON, private, and refuses a second run naming the first', () => {
    const lock = acquireLocalLock(state, 'pg', { runId: '20261121-010203-pg-abcd', operator: 'root@laptop' });
    const p = lockPath(state, 'pg');
    expect(statSync(p).mode & 0o777).toBe(0o600);
    const held = JSON.parse(readFileSync(p, 'utf8'));
    expect(held).toMatchObject({
      runId: '20261121-010203-pg-abcd',
      operator: 'root@laptop',
      pid: process.pid,
      host: hostname(),
    });
    expect(Date.parse(held.started)).not.toBeNaN();
    const err = (() => {
      try {
        acquireLocalLock(state, 'pg', { runId: '20261121-010204-pg-ffff', operator: 'jo@other' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(LockError);
    const le = err as LockError;
    expect(le.stale).toBe(false);
    expect(le.owner?.runId).toBe('20261121-010203-pg-abcd');
    expect(le.message).toContain('root@laptop');
    expect(le.message).toContain(`pid ${process.pid}`);
    expect(le.message).toContain(hostname());
    expect(le.message).toContain('still running');
    // no temp files left behind
    expect(readdirSync(path.join(state, 'locks')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    lock.release();
    expect(existsSync(p)).toBe(false);
    // free again
    acquireLocalLock(state, 'pg', { runId: '20261121-010205-pg-0000', operator: 'jo@other' }).release();
  });

  it('locks per runbook', () => {
    const a = acquireLocalLock(state, 'pg', { runId: 'a', operator: 'o' });
    const b = acquireLocalLock(state, 'files', { runId: 'b', operator: 'o' });
    a.release();
    b.release();
  });

  it('a dead owner on this machine is stale; takeover replaces it', () => {
    writeLock({ pid: deadPid() });
    const err = (() => {
      try {
        acquireLocalLock(state, 'pg', { runId: 'new', operator: 'o' });
      } catch (e) {
        return e as LockError;
      }
    })();
    expect(err?.stale).toBe(true);
    expect(err?.message).toMatch(/stale/);
    const lock = acquireLocalLock(state, 'pg', { runId: 'new', operator: 'o' }, { takeoverStale: true });
    expect(readLocalLock(state, 'pg')?.owner?.runId).toBe('new');
    lock.release();
    expect(readLocalLock(state, 'pg')).toBeUndefined();
  });

  it('a stale lock of a run whose journal shows it finished is taken without asking', async () => {
    const { FileJournal } = await import('../../src/journal/file-journal.js');
    const runId = '20261121-000000-pg-aaaa';
    writeLock({ pid: deadPid(), runId });
    expect(() => acquireLocalLock(state, 'pg', { runId: 'new', operator: 'o' })).toThrow(/stale/);
    const j = await FileJournal.create(state, runId);
    await j.append({ type: 'step-started', step: 'x' });
    await j.append({ type: 'run-finished', result: 'succeeded', durationMs: 1 });
    await j.close();
    const lock = acquireLocalLock(state, 'pg', { runId: 'new', operator: 'o' });
    expect(readLocalLock(state, 'pg')?.owner?.runId).toBe('new');
    lock.release();
  });

  it('a live owner is never taken over, even when asked', () => {
    writeLock({ pid: process.pid, pidStart: processStartTime(process.pid) });
    expect(() => acquireLocalLock(state, 'pg', { runId: 'new', operator: 'o' }, { takeoverStale: true })).toThrow(
      /still running/,
    );
  });

  it('a reused pid (other start time) is not the owner', () => {
    const owner = {
      runId: 'r',
      operator: 'o',
      pid: process.pid,
      host: hostname(),
      started: 'x',
      pidStart: (processStartTime(process.pid) ?? 0) + 1,
    };
    expect(ownerAlive(owner)).toBe(false);
    expect(ownerAlive({ ...owner, pidStart: processStartTime(process.pid) })).toBe(true);
  });

  it('an owner on another machine cannot be judged: not stale', () => {
    writeLock({ host: 'some-other-laptop', pid: deadPid() });
    const err = (() => {
      try {
        acquireLocalLock(state, 'pg', { runId: 'new', operator: 'o' }, { takeoverStale: true });
      } catch (e) {
        return e as LockError;
      }
    })();
    expect(err?.stale).toBe(false);
    expect(err?.message).toContain('some-other-laptop');
    expect(err?.message).toContain('another machine');
  });

  it('an unreadable lock file is stale', () => {
    writeLock({});
    writeFileSync(lockPath(state, 'pg'), '{"runId":', { mode: 0o600 });
    expect(() => acquireLocalLock(state, 'pg', { runId: 'n', operator: 'o' })).toThrow(/unreadable/);
    acquireLocalLock(state, 'pg', { runId: 'n', operator: 'o' }, { takeoverStale: true }).release();
  });

  it('release leaves a lock that is no longer ours alone', () => {
    const lock = acquireLocalLock(state, 'pg', { runId: 'mine', operator: 'o' });
    writeFileSync(
      lock.path,
      JSON.stringify({ runId: 'theirs', operator: 'x', pid: 1, host: hostname(), started: 'x' }),
    );
    lock.release();
    expect(readLocalLock(state, 'pg')?.owner?.runId).toBe('theirs');
    expect(removeLocalLock(state, 'pg')).toBe(true);
    expect(removeLocalLock(state, 'pg')).toBe(false);
  });

  it('only one of many concurrent takers wins', async () => {
    // separate processes race for the same lock; the winner holds it until all have answered
    const script = `
      import { acquireLocalLock } from ${JSON.stringify(path.resolve('src/journal/lock.ts'))};
      try { acquireLocalLock(process.env.LB_STATE, 'pg', { runId: 'r' + process.pid, operator: 'o' }); console.log('won'); setTimeout(() => {}, 60000); }
      catch (e) { console.log('lost'); }`;
    const { spawn } = await import('node:child_process');
    const children: import('node:child_process').ChildProcess[] = [];
    const runs = Array.from(
      { length: 6 },
      () =>
        new Promise<string>((resolve) => {
          const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
            env: { ...process.env, LB_STATE: state },
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          children.push(c);
          let out = '';
          c.stdout!.on('data', (d) => {
            out += d;
            if (out.includes('\n')) resolve(out.trim());
          });
          c.on('close', () => resolve(out.trim()));
        }),
    );
    try {
      const results = await Promise.all(runs);
      expect(results.filter((r) => r === 'won')).toHaveLength(1);
      expect(results.filter((r) => r === 'lost')).toHaveLength(5);
    } finally {
      for (const c of children) c.kill('SIGKILL');
    }
  }, 60_000);
});

describe('pidAlive', () => {
  it('a killed but not yet reaped child (zombie) is dead', async () => {
    const { pidAlive } = await import('../../src/journal/lock.js');
    const { spawn } = await import('node:child_process');
    const c = spawn('sleep', ['30'], { stdio: 'ignore' });
    expect(pidAlive(c.pid!)).toBe(true);
    process.kill(c.pid!, 'SIGKILL');
    // no await: the child stays a zombie until this process's event loop reaps it
    const t = Date.now();
    while (Date.now() - t < 200) {
      /* let the kernel deliver the kill */
    }
    expect(pidAlive(c.pid!)).toBe(false);
    await new Promise((r) => c.once('exit', r));
  });
});

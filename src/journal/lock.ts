// Run locks: one run of a runbook at a time. Locally a lock file per runbook in the state
// folder; on the target side (runbook `lock: { on: ROLE }`) a directory under /var/lock made
// with mkdir, which is atomic on every filesystem, so two operators on two laptops cannot
// both fail over the same database.
import { linkSync, readFileSync, unlinkSync, writeFileSync, renameSync, fsyncSync, openSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { shellQuote } from '../util/shell-quote.js';
import { ensureStatePath, fsyncDir, checkPrivate, lstatOrUndefined } from './safe-fs.js';
import { journalPath, readJournal } from './file-journal.js';

/** The run's journal in this state folder ends with run-finished: its lock, if left behind, guards nothing. */
export function runHasFinished(stateDir: string, runId: string): boolean {
  try {
    const { records } = readJournal(journalPath(stateDir, runId));
    let finished = false;
    for (const r of records) {
      if (r.type === 'run-finished') finished = true;
      else if (r.type === 'resumed') finished = false;
    }
    return finished;
  } catch {
    return false;
  }
}

export interface LockOwner {
  runId: string;
  /** user@host of the operator */
  operator: string;
  pid: number;
  /** os.hostname() of the machine holding the lock */
  host: string;
  /** ISO time the lock was taken */
  started: string;
  /** Linux: the process start time (clock ticks since boot), to tell a reused pid from the owner */
  pidStart?: number;
}

export class LockError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly owner: LockOwner | undefined,
    /**
     * the owner is gone (same machine, pid dead) or the lock file is unreadable: taking it over is safe after a look
     */
    readonly stale: boolean,
  ) {
    super(message);
    this.name = 'LockError';
  }
}

export interface LocalLock {
  path: string;
  owner: LockOwner;
  /** remove the lock if it is still ours; safe to call twice */
  release(): void;
}

export const lockPath = (stateDir: string, runbook: string) => path.join(stateDir, 'locks', `${runbook}.lock`);

/** Linux: field 22 of /proc/PID/stat; undefined elsewhere or when the process is gone. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** true when a process with that pid exists (EPERM: it exists, owned by someone else); a zombie is dead */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // a killed process its parent has not reaped yet still answers kill(0)
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return false;
  } catch {
    /* no /proc: trust kill(0) */
  }
  return true;
}

/** Is this owner's process still running on this machine? undefined: another machine, cannot tell. */
export function ownerAlive(owner: LockOwner, hostname = os.hostname()): boolean | undefined {
  if (owner.host !== hostname) return undefined;
  if (!pidAlive(owner.pid)) return false;
  // the pid exists, but a pid reused by an unrelated process is not the owner
  if (owner.pidStart !== undefined) {
    const now = processStartTime(owner.pid);
    if (now !== undefined && now !== owner.pidStart) return false;
  }
  return true;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.runId === 'string' && typeof o.pid === 'number' && typeof o.host === 'string') {
      return {
        runId: o.runId,
        operator: String(o.operator ?? '?'),
        pid: o.pid,
        host: o.host,
        started: String(o.started ?? '?'),
        pidStart: typeof o.pidStart === 'number' ? o.pidStart : undefined,
      };
    }
  } catch {
    /* unreadable */
  }
  return undefined;
}

/**
 * The current owner of a runbook's local lock, or undefined when it is free. `unreadable` when the file holds garbage.
 */
export function readLocalLock(
  stateDir: string,
  runbook: string,
): { path: string; owner?: LockOwner; unreadable?: boolean } | undefined {
  const p = lockPath(stateDir, runbook);
  const st = lstatOrUndefined(p);
  if (!st) return undefined;
  checkPrivate(p, st, 'file');
  const owner = parseOwner(readFileSync(p, 'utf8'));
  return owner ? { path: p, owner } : { path: p, unreadable: true };
}

export function describeOwner(o: LockOwner): string {
  return `run ${o.runId} by ${o.operator} (pid ${o.pid} on ${o.host}, since ${o.started})`;
}

const registered = new Map<string, () => void>();
let exitHookInstalled = false;
function onExit(): void {
  for (const f of registered.values()) f();
}

export interface AcquireOptions {
  /** take over a stale lock (dead owner on this machine, or unreadable) instead of failing */
  takeoverStale?: boolean;
  hostname?: string;
  now?: () => Date;
}

/** The owner written whole to a private temp file in DIR, flushed to disk; its path. */
function writeOwnerFile(dir: string, runbook: string, owner: LockOwner): string {
  const tmp = path.join(dir, `.${runbook}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, JSON.stringify(owner) + '\n', { mode: 0o600, flag: 'wx' });
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Why the held lock refuses us: the LockError to throw. */
function lockedError(
  runbook: string,
  p: string,
  held: { owner?: LockOwner; unreadable?: boolean },
  alive: boolean | undefined,
  stale: boolean,
): LockError {
  if (held.unreadable)
    return new LockError(`runbook ${runbook} is locked by an unreadable lock file ${p}`, p, undefined, true);
  const o = held.owner!;
  const why =
    alive === false ? 'its process is gone (stale lock)' : alive === undefined ? 'on another machine' : 'still running';
  return new LockError(`runbook ${runbook} is locked by ${describeOwner(o)}: ${why}`, p, o, stale);
}

/**
 * Link TMP into place as the lock P: link() fails atomically when the lock exists. A stale lock is taken over
 * when asked to, or without asking when its run had finished; any other holder is a LockError.
 */
function linkLock(
  tmp: string,
  p: string,
  stateDir: string,
  runbook: string,
  host: string,
  takeoverStale: boolean,
): void {
  for (let attempt = 0; ; attempt++) {
    try {
      linkSync(tmp, p);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const held = readLocalLock(stateDir, runbook);
    // released between our link and our read: try again (a few times: others race too)
    if (!held) {
      if (attempt < 3) continue;
      throw new LockError(`the lock ${p} keeps changing hands`, p, undefined, false);
    }
    const alive = held.owner ? ownerAlive(held.owner, host) : undefined;
    const stale = held.unreadable === true || alive === false;
    // a crash after the run's last record leaves a lock nobody needs: take it without asking
    const finished = alive === false && runHasFinished(stateDir, held.owner!.runId);
    if (stale && (takeoverStale || finished) && attempt < 3) {
      takeOver(p, held.owner);
      continue;
    }
    throw lockedError(runbook, p, held, alive, stale);
  }
}

/** The lock's release, also run at exit: removes the lock only while it is still ours; safe to call twice. */
function releaser(p: string, owner: LockOwner): () => void {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    registered.delete(p);
    try {
      // only our own lock: after a takeover by someone else the file is theirs
      const cur = parseOwner(readFileSync(p, 'utf8'));
      if (cur && cur.runId === owner.runId && cur.pid === owner.pid && cur.host === owner.host) unlinkSync(p);
    } catch {
      /* already gone */
    }
  };
  registered.set(p, release);
  if (!exitHookInstalled) {
    process.on('exit', onExit);
    exitHookInstalled = true;
  }
  return release;
}

/**
 * Take the runbook's local lock for a run. Throws LockError when someone holds it
 * (`stale: true` when the owner is provably gone: the CLI offers a takeover).
 * The same run id may take its own stale lock back only with `takeoverStale` (resume).
 */
export function acquireLocalLock(
  stateDir: string,
  runbook: string,
  info: { runId: string; operator: string },
  opts: AcquireOptions = {},
): LocalLock {
  const dir = ensureStatePath(stateDir, 'locks');
  const p = path.join(dir, `${runbook}.lock`);
  const owner: LockOwner = {
    runId: info.runId,
    operator: info.operator,
    pid: process.pid,
    host: opts.hostname ?? os.hostname(),
    started: (opts.now?.() ?? new Date()).toISOString(),
    pidStart: processStartTime(process.pid),
  };
  // write the whole content to a private temp file, then link it into place: link() fails
  // atomically when the lock exists, and a lock file is never seen half written
  const tmp = writeOwnerFile(dir, runbook, owner);
  try {
    linkLock(tmp, p, stateDir, runbook, owner.host, opts.takeoverStale ?? false);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
  }
  fsyncDir(dir);
  return { path: p, owner, release: releaser(p, owner) };
}

// Move the stale lock aside, then check it was the stale one we looked at (another process
// may have taken over in between); if not, put it back and let the caller fail on it.
function takeOver(p: string, expected: LockOwner | undefined): void {
  const aside = `${p}.stale-${randomBytes(3).toString('hex')}`;
  try {
    renameSync(p, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const moved = parseOwner(readFileSync(aside, 'utf8'));
  const same =
    expected === undefined
      ? moved === undefined
      : moved !== undefined &&
        moved.runId === expected.runId &&
        moved.pid === expected.pid &&
        moved.host === expected.host;
  if (!same) {
    try {
      linkSync(aside, p);
    } catch {
      /* someone locked meanwhile: theirs wins */
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    /* gone */
  }
}

/** Remove a local lock unconditionally (lifeboat unlock). Returns false when there was none. */
export function removeLocalLock(stateDir: string, runbook: string): boolean {
  const p = lockPath(stateDir, runbook);
  if (!lstatOrUndefined(p)) return false;
  unlinkSync(p);
  return true;
}

// ---- the lock on the target side -----------------------------------------------------

export const remoteLockDir = (runbook: string, base = '/var/lock') => `${base}/lifeboat-${runbook}`;

export interface RemoteLockCommands {
  /** exit 0: ours now (or already ours: same run id); exit 3: held, the owner file is printed on stdout */
  acquire: string;
  /** removes the lock only when it is ours; exit 0 either way */
  release: string;
  /** prints the owner file, or `free` */
  inspect: string;
}

/** Exit code of `acquire` when another run holds the lock. */
export const REMOTE_LOCK_HELD = 3;

/**
 * `base`: the folder the lock directory goes in (tests); /var/lock (= /run/lock: cleared at boot) by default.
 * `reclaim`: run ids known to be finished (from this machine's journals): a lock such a run
 * left behind (crash after its last record) is taken over instead of refusing.
 */
export function remoteLockCommands(
  runbook: string,
  runId: string,
  operator: string,
  base?: string,
  reclaim: string[] = [],
): RemoteLockCommands {
  const d = shellQuote(remoteLockDir(runbook, base));
  const mine = shellQuote(`run_id=${runId}`);
  const ownerLines = [mine, shellQuote(`operator=${operator}`)].join(' ');
  const writeOwner = `printf '%s\\n' ${ownerLines} "since=$(date -u +%Y-%m-%dT%H:%M:%SZ)" > ${d}/owner`;
  const stale = reclaim
    .filter((id) => id !== runId)
    .map((id) => `-e ${shellQuote(`run_id=${id}`)}`)
    .join(' ');
  // mkdir is the atomic test-and-set; the owner file is written after, so a reader may
  // briefly see the directory without it (reported as "owner being written")
  const parent = shellQuote(path.posix.dirname(remoteLockDir(runbook, base)));
  const acquire = [
    // a host without /var/lock (a minimal container) gets one; one where it cannot be made says so
    `mkdir -p ${parent} 2>/dev/null || { echo "cannot create ${parent.replace(/'/g, '')} for the run lock" >&2; exit 4; }`,
    `if mkdir ${d} 2>/dev/null; then ${writeOwner}; exit 0; fi`,
    `if grep -qxF ${mine} ${d}/owner 2>/dev/null; then exit 0; fi`,
    ...(stale ? [`if grep -qxF ${stale} ${d}/owner 2>/dev/null; then ${writeOwner}; exit 0; fi`] : []),
    `cat ${d}/owner 2>/dev/null || echo 'owner=unknown (being written, or lost)'`,
    `exit ${REMOTE_LOCK_HELD}`,
  ].join('; ');
  const release = `if grep -qxF ${mine} ${d}/owner 2>/dev/null; then rm -f ${d}/owner && rmdir ${d}; fi; exit 0`;
  const inspect = `if [ -d ${d} ]; then cat ${d}/owner 2>/dev/null || echo 'owner unknown'; else echo free; fi`;
  return { acquire, release, inspect };
}

/** The command an operator runs by hand on the lock host to clear a stuck remote lock. */
export function remoteUnlockCommand(runbook: string, base?: string): string {
  const d = shellQuote(remoteLockDir(runbook, base));
  return `rm -f ${d}/owner && rmdir ${d}`;
}

/** Parse the owner file printed by `acquire` (exit 3) or `inspect`. */
export function parseRemoteOwner(text: string): { runId?: string; operator?: string; since?: string } | undefined {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(run_id|operator|since)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  if (!Object.keys(out).length) return undefined;
  return { runId: out.run_id, operator: out.operator, since: out.since };
}

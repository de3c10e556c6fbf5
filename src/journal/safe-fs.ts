// Checks and helpers for the private state folder (.lifeboat/): journals hold command output
// and decisions, and a run resumed from a journal someone else could edit would execute
// whatever they wrote there. So: no symlinks, owned by us, not writable by group or others.
import {
  lstatSync,
  mkdirSync,
  chmodSync,
  openSync,
  fsyncSync,
  closeSync,
  writeFileSync,
  constants,
  type Stats,
} from 'node:fs';
import path from 'node:path';

export class StateDirError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'StateDirError';
  }
}

const myUid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);

/** lstat, or undefined when the path does not exist */
export function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Refuse a path that is a symlink, of the wrong type, owned by someone else, or writable by group/others. */
export function checkPrivate(p: string, st: Stats, kind: 'dir' | 'file'): void {
  if (st.isSymbolicLink())
    throw new StateDirError(
      `${p} is a symbolic link; lifeboat does not follow links in its state folder`,
      p,
      `replace it with a real ${kind === 'dir' ? 'folder' : 'file'}, or pass --state-dir`,
    );
  if (kind === 'dir' ? !st.isDirectory() : !st.isFile())
    throw new StateDirError(`${p} is not a ${kind === 'dir' ? 'folder' : 'regular file'}`, p);
  const uid = myUid();
  if (uid !== undefined && st.uid !== uid)
    throw new StateDirError(
      `${p} is owned by uid ${st.uid}, not by you (uid ${uid})`,
      p,
      `run lifeboat as its owner, or: chown ${uid} ${p}`,
    );
  if (st.mode & 0o022) {
    const want = kind === 'dir' ? '700' : '600';
    throw new StateDirError(
      `${p} is writable by ${st.mode & 0o020 ? 'group' : ''}${(st.mode & 0o022) === 0o022 ? ' and ' : ''}` +
        `${st.mode & 0o002 ? 'others' : ''} (mode ${(st.mode & 0o777).toString(8)})`,
      p,
      `chmod ${want} ${p}`,
    );
  }
}

/** Create (mode 0700, umask-proof) or check a private folder. Returns true when it was created. */
export function ensurePrivateDir(p: string, mode = 0o700): boolean {
  const st = lstatOrUndefined(p);
  if (st) {
    checkPrivate(p, st, 'dir');
    return false;
  }
  try {
    mkdirSync(p, { mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    checkPrivate(p, lstatSync(p), 'dir');
    return false;
  }
  chmodSync(p, mode);
  checkPrivate(p, lstatSync(p), 'dir');
  fsyncDir(path.dirname(p));
  return true;
}

/** fsync a folder so a new entry in it (file, subfolder) survives a power cut. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The state folder and a subfolder path in it, each level created or checked. */
export function ensureStatePath(stateDir: string, ...parts: string[]): string {
  // the parent of the state folder is the user's project: only make sure it exists
  mkdirSync(path.dirname(path.resolve(stateDir)), { recursive: true });
  ensurePrivateDir(stateDir);
  writeStateIgnores(stateDir);
  let p = stateDir;
  for (const part of parts) {
    p = path.join(p, part);
    ensurePrivateDir(p);
  }
  return p;
}

// history.jsonl is meant to be committed; journals and locks are private and per machine.
function writeStateIgnores(stateDir: string): void {
  try {
    writeFileSync(path.join(stateDir, '.gitignore'), 'runs/\nlocks/\n', { flag: 'wx', mode: 0o644 });
    // two branches that both rehearsed append to the same file: keep both sides' lines
    writeFileSync(path.join(stateDir, '.gitattributes'), 'history.jsonl merge=union\n', { flag: 'wx', mode: 0o644 });
  } catch {
    /* already there, or not writable: neither matters for the run */
  }
}

// The run journal on disk: `STATE/runs/RUN-ID/journal.jsonl`, one JSON record per line.
// `append` resolves only after the line is written (and fdatasynced when it must be), so
// whatever the runner did after an append is backed by a record that survives a crash;
// `resume` replays the file. Appends made together share one write and one fdatasync.
import {
  open as openCb,
  writeSync,
  fdatasync as fdatasyncCb,
  ftruncate as ftruncateCb,
  close as closeCb,
  fstat as fstatCb,
  fchmod as fchmodCb,
  readFileSync,
  constants,
  mkdirSync,
  chmodSync,
  lstatSync,
} from 'node:fs';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Journal } from '../ports.js';
import type { JournalRecord, RunEvent } from '../engine/events.js';
import { checkPrivate, ensureStatePath, fsyncDir, lstatOrUndefined, StateDirError } from './safe-fs.js';

export { StateDirError };

/** The few file operations the journal makes; injectable so tests can see the fsyncs. */
export interface JournalFs {
  open(path: string, flags: number, mode: number): Promise<number>;
  /** returns the bytes written (a short write is continued by the caller) */
  write(fd: number, data: Buffer, offset: number, length: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  fchmod(fd: number, mode: number): Promise<void>;
  fstat(fd: number): Promise<{ ino: number; dev: number; size: number }>;
  close(fd: number): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
}

const pOpen = promisify(openCb);
const pFdatasync = promisify(fdatasyncCb);
const pFtruncate = promisify(ftruncateCb);
const pFchmod = promisify(fchmodCb);
const pFstat = promisify(fstatCb);
const pClose = promisify(closeCb);

export const nodeJournalFs: JournalFs = {
  open: (p, flags, mode) => pOpen(p, flags, mode),
  // a line into the page cache takes microseconds: written in place, not through the thread
  // pool (a round trip per record, four per step); the fdatasync that must wait stays async
  write: async (fd, data, offset, length) => writeSync(fd, data, offset, length),
  fdatasync: (fd) => pFdatasync(fd),
  ftruncate: (fd, len) => pFtruncate(fd, len),
  fchmod: (fd, mode) => pFchmod(fd, mode),
  fstat: async (fd) => {
    const s = await pFstat(fd);
    return { ino: s.ino, dev: s.dev, size: s.size };
  },
  close: (fd) => pClose(fd),
  fsyncDir: async (dir) => fsyncDir(dir),
};

export interface FileJournalOptions {
  /**
   * applied to every string field of every record before it is written (defence in depth: the runner redacts already)
   */
  redact?: (text: string) => string;
  /** open(): append even though lines in the middle of the journal are unreadable */
  force?: boolean;
  /**
   * Which records are fdatasync'ed before `append` resolves (default: all). Every record is
   * written (so it survives the process being killed) before `append` resolves; a sync also
   * makes every earlier record durable against a power loss.
   */
  sync?: (event: RunEvent) => boolean;
  fs?: JournalFs;
  now?: () => Date;
}

export class JournalError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly problems: string[] = [],
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'JournalError';
  }
}

// ---- run ids -------------------------------------------------------------------

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYYMMDD-HHMMSS-RUNBOOK-xxxx` (UTC): sorts by start time, readable, unique enough with 4 random hex. */
export function newRunId(runbook: string, date: Date = new Date()): string {
  const d = date;
  const stamp =
    `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  const name =
    runbook
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'run';
  return `${stamp}-${name}-${randomBytes(2).toString('hex')}`;
}

const RUN_ID = /^\d{8}-\d{6}-[a-z0-9-]+-[0-9a-f]{4}$/;
export const isRunId = (id: string): boolean => RUN_ID.test(id);

export const runDir = (stateDir: string, runId: string) => path.join(stateDir, 'runs', runId);
export const journalPath = (stateDir: string, runId: string) => path.join(runDir(stateDir, runId), 'journal.jsonl');

// ---- reading -------------------------------------------------------------------

export interface JournalContents {
  records: JournalRecord[];
  /** the last line was cut off by a crash (no newline, or not JSON): ignored */
  torn: boolean;
  /** lines before the last that could not be read: these are not skipped silently */
  problems: string[];
  /** bytes of the file up to the end of the last complete line (where a reopen truncates to) */
  validBytes: number;
}

function checkRecord(o: unknown): string | undefined {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'not a JSON object';
  const r = o as Record<string, unknown>;
  if (typeof r.type !== 'string') return 'no event type';
  if (typeof r.seq !== 'number' || !Number.isInteger(r.seq) || r.seq < 1) return 'no valid seq';
  if (typeof r.at !== 'string' || Number.isNaN(Date.parse(r.at))) return 'no valid time (at)';
  return undefined;
}

/** Parse journal bytes; never throws on content. */
export function parseJournal(buf: Buffer): JournalContents {
  const records: JournalRecord[] = [];
  const problems: string[] = [];
  let torn = false;
  let validBytes = 0;
  let start = 0;
  let lineNo = 0;
  let lastSeq = 0;
  while (start < buf.length) {
    lineNo++;
    const nl = buf.indexOf(0x0a, start);
    const end = nl === -1 ? buf.length : nl;
    const isLast = nl === -1 || nl + 1 >= buf.length;
    const text = buf.subarray(start, end).toString('utf8');
    if (nl === -1) {
      torn = true;
      break;
    } // a write that never completed
    let parsed: unknown;
    let why: string | undefined;
    if (!text.trim()) why = 'empty line';
    else {
      try {
        parsed = JSON.parse(text);
        why = checkRecord(parsed);
      } catch (e) {
        why = `not valid JSON (${(e as Error).message})`;
      }
    }
    if (why && isLast) {
      torn = true;
      break;
    } // crash garbage at the tail
    if (why) problems.push(`line ${lineNo}: ${why}`);
    else {
      const rec = parsed as JournalRecord;
      if (rec.seq <= lastSeq) problems.push(`line ${lineNo}: seq ${rec.seq} does not follow ${lastSeq}`);
      else {
        records.push(rec);
        lastSeq = rec.seq;
      }
    }
    validBytes = nl + 1;
    start = nl + 1;
  }
  return { records, torn, problems, validBytes };
}

/** Read a journal file (missing file: an error; damaged content: reported, not thrown). */
export function readJournal(file: string): JournalContents {
  return parseJournal(readFileSync(file));
}

// ---- redaction -----------------------------------------------------------------

function redactDeep(v: unknown, redact: (s: string) => string, key?: string): unknown {
  // the record type is structure, not data
  if (typeof v === 'string') return key === 'type' ? v : redact(v);
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, redact));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = redactDeep(x, redact, k);
    return out;
  }
  return v;
}

// ---- the journal ---------------------------------------------------------------

const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW;

/** an appended record waiting for its batch: serialized at `append` time, in call order */
interface Pending {
  record: JournalRecord;
  line: Buffer;
  sync: boolean;
  resolve: (r: JournalRecord) => void;
  reject: (e: Error) => void;
}

export class FileJournal implements Journal {
  private queue: Pending[] = [];
  /** the flusher, while one runs (it takes every queued line, batch after batch, until none is left) */
  private flushing: Promise<void> | undefined;
  private failed: Error | undefined;
  private closed = false;
  private nextSeq: number;
  private writtenSeq: number;

  private constructor(
    readonly path: string,
    readonly runId: string,
    private fd: number,
    /** records already in the file when it was opened (empty after create) */
    readonly existing: JournalRecord[],
    /** problems found on open (only with `force`) */
    readonly problems: string[],
    private readonly opts: FileJournalOptions,
  ) {
    this.writtenSeq = existing[existing.length - 1]?.seq ?? 0;
    this.nextSeq = this.writtenSeq + 1;
  }

  /** seq of the last record written (0 when none) */
  get lastSeq(): number {
    return this.writtenSeq;
  }

  /** Start a new journal. Fails when the run folder exists already. */
  static async create(stateDir: string, runId: string, opts: FileJournalOptions = {}): Promise<FileJournal> {
    if (!isRunId(runId)) throw new JournalError(`not a run id: ${runId}`, stateDir);
    const fs = opts.fs ?? nodeJournalFs;
    const runs = ensureStatePath(stateDir, 'runs');
    const dir = path.join(runs, runId);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new JournalError(`run ${runId} exists already`, dir, [], 'use resume to continue it');
      throw e;
    }
    chmodSync(dir, 0o700);
    const file = path.join(dir, 'journal.jsonl');
    const fd = await fs.open(file, OPEN_FLAGS | constants.O_CREAT | constants.O_EXCL, 0o600);
    await fs.fchmod(fd, 0o600); // umask-proof
    // the new file and the new run folder are entries in their parents: make them durable
    await fs.fsyncDir(dir);
    await fs.fsyncDir(runs);
    return new FileJournal(file, runId, fd, [], [], opts);
  }

  /**
   * Reopen a journal to continue (resume). A torn last line is cut off before anything is
   * appended; unreadable lines in the middle refuse unless `force` (they are kept in the file).
   */
  static async open(stateDir: string, runId: string, opts: FileJournalOptions = {}): Promise<FileJournal> {
    const fs = opts.fs ?? nodeJournalFs;
    const dir = runDir(stateDir, runId);
    const file = path.join(dir, 'journal.jsonl');
    for (const [p, kind] of [
      [stateDir, 'dir'],
      [path.join(stateDir, 'runs'), 'dir'],
      [dir, 'dir'],
      [file, 'file'],
    ] as const) {
      const st = lstatOrUndefined(p);
      if (!st)
        throw new JournalError(
          `no journal for run ${runId} (${p} does not exist)`,
          p,
          [],
          'list runs with: lifeboat runs',
        );
      checkPrivate(p, st, kind);
    }
    const before = lstatSync(file);
    const fd = await fs.open(file, OPEN_FLAGS, 0o600);
    try {
      // the file checked is the file opened (no swap in between)
      const st = await fs.fstat(fd);
      if (st.ino !== before.ino || st.dev !== before.dev)
        throw new JournalError(`${file} changed while being opened`, file);
      const contents = readJournal(file);
      if (contents.problems.length && !opts.force) {
        throw new JournalError(
          `journal of run ${runId} has ${contents.problems.length} unreadable line(s)`,
          file,
          contents.problems,
          'resuming could repeat or skip steps; inspect it with `lifeboat log`, then resume with --force to continue from the readable records',
        );
      }
      if (contents.torn) {
        // keep the file valid JSONL: the torn bytes were never acknowledged to the runner
        await fs.ftruncate(fd, contents.validBytes);
        await fs.fdatasync(fd);
      }
      return new FileJournal(file, runId, fd, contents.records, contents.problems, opts);
    } catch (e) {
      await fs.close(fd).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Group commit: the record gets its seq and its line now (call order = file order) and joins
   * the queue; the flusher writes every queued line with one write, then one fdatasync when any
   * of them needs it. The promise resolves once the record's batch is written (and synced).
   */
  append(event: RunEvent): Promise<JournalRecord> {
    if (this.closed) return Promise.reject(new JournalError('journal is closed', this.path));
    // fail-stop: after a failed write the tail may be torn, and a gap in seq would lie
    if (this.failed) return Promise.reject(this.notWritable());
    let record: JournalRecord;
    let line: Buffer;
    let sync: boolean;
    try {
      const body = this.opts.redact ? (redactDeep(event, this.opts.redact) as RunEvent) : event;
      record = { seq: this.nextSeq, at: (this.opts.now?.() ?? new Date()).toISOString(), ...body } as JournalRecord;
      line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
      sync = !this.opts.sync || this.opts.sync(event);
    } catch (e) {
      return Promise.reject(e as Error); // nothing queued, no seq used
    }
    this.nextSeq++;
    return new Promise<JournalRecord>((resolve, reject) => {
      this.queue.push({ record, line, sync, resolve, reject });
      // on a microtask: appends made in the same synchronous loop share one batch
      this.flushing ??= Promise.resolve().then(() => this.flush());
    });
  }

  private notWritable(): JournalError {
    return new JournalError(`journal is not writable after an earlier failure: ${this.failed!.message}`, this.path);
  }

  /** Write batch after batch until the queue is empty; lines appended meanwhile form the next batch. Never rejects. */
  private async flush(): Promise<void> {
    const fs = this.opts.fs ?? nodeJournalFs;
    for (;;) {
      const batch = this.queue;
      this.queue = [];
      if (!batch.length) {
        // cleared before returning, in the same step as the emptiness check: a later append starts a new flusher
        this.flushing = undefined;
        return;
      }
      if (this.failed) {
        for (const p of batch) p.reject(this.notWritable());
        continue;
      }
      const buf = batch.length === 1 ? batch[0].line : Buffer.concat(batch.map((p) => p.line));
      try {
        // one write with O_APPEND: the lines land whole at the end, in order (a short write is continued)
        let off = 0;
        while (off < buf.length) off += await fs.write(this.fd, buf, off, buf.length - off);
        if (batch.some((p) => p.sync)) await fs.fdatasync(this.fd);
      } catch (e) {
        this.failed = e as Error;
        const err = new JournalError(`could not write the journal: ${(e as Error).message}`, this.path);
        for (const p of batch) p.reject(err);
        continue; // whatever was queued meanwhile is refused, never written
      }
      this.writtenSeq = batch[batch.length - 1].record.seq;
      for (const p of batch) p.resolve(p.record);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // refuse new records, let the queued ones reach the file
    this.closed = true;
    while (this.flushing) await this.flushing;
    const fs = this.opts.fs ?? nodeJournalFs;
    // whatever was written without a sync is made durable before the journal is let go
    if (this.opts.sync && !this.failed) await fs.fdatasync(this.fd).catch(() => undefined);
    await fs.close(this.fd);
  }
}

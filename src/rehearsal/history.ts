// Rehearsal history: `.lifeboat/history.jsonl`, one line per finished rehearsal (or
// production run). Unlike the journals it is meant to be committed beside the runbooks, so
// the plan and `lifeboat drills` can say on any checkout whether a runbook's rehearsal is current.
import {
  openSync,
  writeSync,
  fsyncSync,
  closeSync,
  fchmodSync,
  fstatSync,
  readSync,
  readFileSync,
  constants,
} from 'node:fs';
import path from 'node:path';
import type { JournalRecord, RunStartedEvent } from '../engine/events.js';
import { readHistory, type HistoryRecord, type HistoryStep } from './status.js';
import { journalState, runOutcome, unitOutcome, stepOutcome, outcomeLines } from '../engine/outcome.js';
import { rpoFromRecords } from '../engine/rpo.js';
import { ensureStatePath, fsyncDir, lstatOrUndefined, StateDirError } from '../journal/safe-fs.js';

export type { HistoryRecord, HistoryStep } from './status.js';

export const historyPath = (root: string, stateDir = path.join(root, '.lifeboat')) =>
  path.join(stateDir, 'history.jsonl');

/**
 * Append one entry: a single O_APPEND write of a whole line, fsynced (and the folder too
 * when the file is new). A file that does not end in a newline (hand edit, torn write)
 * gets one first, so the new line never glues onto a broken one.
 */
export async function appendHistory(
  root: string,
  entry: HistoryRecord | KitRecord,
  opts: { stateDir?: string } = {},
): Promise<string> {
  const stateDir = opts.stateDir ?? path.join(root, '.lifeboat');
  ensureStatePath(stateDir);
  const file = historyPath(root, stateDir);
  const existed = lstatOrUndefined(file);
  if (existed?.isSymbolicLink())
    throw new StateDirError(
      `${file} is a symbolic link; lifeboat does not follow links in its state folder`,
      file,
      'replace it with a real file',
    );
  if (existed && existed.mode & 0o022)
    throw new StateDirError(`${file} is writable by group or others`, file, `chmod 644 ${file}`);
  const fd = openSync(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  try {
    // committed and shared: readable by everyone, writable by its owner only
    if (!existed) fchmodSync(fd, 0o644);
    const size = fstatSync(fd).size;
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    const buf = Buffer.from(prefix + JSON.stringify(entry) + '\n', 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (!existed) fsyncDir(stateDir);
  return file;
}

/** Every entry of the history file (lines that are not entries are counted in `skipped`). */
export function readHistoryRecords(root: string, stateDir?: string): { entries: HistoryRecord[]; skipped: number } {
  return readHistory(historyPath(root, stateDir));
}

/**
 * Build the history entry for a finished run from its journal. Undefined when the run did
 * not finish or was a preflight. `hostKeys` come from the transport (the journal does not hold them).
 */
export function historyFromJournal(
  records: JournalRecord[],
  extra: { hostKeys?: Record<string, string> } = {},
): HistoryRecord | undefined {
  const start = records.find((r): r is JournalRecord & RunStartedEvent => r.type === 'run-started');
  let fin: (JournalRecord & { type: 'run-finished' }) | undefined;
  let lastResumed = -1;
  records.forEach((r, i) => {
    if (r.type === 'resumed') lastResumed = i;
    if (r.type === 'run-finished' && i > lastResumed) fin = r;
  });
  if (!start || !fin || start.mode === 'preflight' || fin.result === 'interrupted') return undefined;
  const rpo = rpoFromRecords(records);
  // per step and host, in the order the steps ended: the one outcome function's answer
  const js = journalState(records);
  const o = runOutcome(js);
  const durations = new Map<string, number>();
  const order: string[] = [];
  for (const r of records) {
    if (r.type === 'exec-finished' && r.purpose === 'run') durations.set(`${r.step}\0${r.host}`, r.durationMs);
    else if (r.type === 'step-finished') {
      durations.set(r.step, r.durationMs);
      if (!order.includes(r.step)) order.push(r.step);
    }
  }
  for (const id of js.steps) if (!order.includes(id) && stepOutcome(js, id) !== 'not-run') order.push(id);
  const steps: HistoryStep[] = [];
  for (const id of order) {
    const hosts = [...(js.units.get(id)?.keys() ?? [])].filter((h) => h !== '');
    if (!hosts.length) steps.push({ id, result: stepOutcome(js, id), duration_ms: durations.get(id) ?? 0 });
    for (const h of hosts)
      steps.push({ id, host: h, result: unitOutcome(js, id, h), duration_ms: durations.get(`${id}\0${h}`) ?? 0 });
  }
  const lines = outcomeLines(o);
  return {
    runbook: start.runbook,
    version: start.version,
    digest: start.digest,
    inventory: start.inventory,
    inventory_digest: start.inventoryDigest,
    environment: start.environment,
    mode: start.mode === 'rehearsal' ? 'rehearsal' : 'production',
    host_keys: extra.hostKeys ?? {},
    operator: start.operator,
    started_at: start.at,
    finished_at: fin.at,
    result: o.passed ? 'passed' : o.result === 'completed-with-errors' ? 'completed-with-errors' : 'failed',
    errors: o.errors.length ? lines.slice(0, o.errors.length) : undefined,
    allowed_failures: o.allowedFailures.length
      ? o.allowedFailures.map((u) => `${u.step}${u.host ? ` on ${u.host}` : ''}`)
      : undefined,
    duration_ms: Math.max(0, Date.parse(fin.at) - Date.parse(start.at)),
    rto_ms: start.rtoMs,
    ...(rpo ? { rpo_ms: rpo.rpoMs, data_loss_window_ms: rpo.windowMs, rpo_verdict: rpo.verdict } : {}),
    steps,
    run_id: start.runId,
  };
}

// ---- kits ----------------------------------------------------------------------------------

/** One line of history.jsonl per kit built (`lifeboat kit`): what the go-bag holds. */
export interface KitRecord {
  kind: 'kit';
  /** sha256 of the kit's MANIFEST.sha256 */
  kit_digest: string;
  built_at: string;
  operator: string;
  lifeboat: string;
  platforms: string[];
  inventories: string[];
  /** the printed plan's digest per inventory */
  plans: { inventory: string; digest: string }[];
  /**
   * the site's runbooks and site.yaml in the kit (relative to the site folder) → sha256 (kit/freshness siteFileDigests)
   */
  files: Record<string, string>;
}

/** Every kit recorded in the history, oldest first. */
export function readKitRecords(root: string, stateDir?: string): KitRecord[] {
  let text: string;
  try {
    text = readFileSync(historyPath(root, stateDir), 'utf8');
  } catch {
    return [];
  }
  const kits: KitRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"kit"')) continue;
    try {
      const o = JSON.parse(line) as Partial<KitRecord>;
      if (
        o.kind === 'kit' &&
        typeof o.kit_digest === 'string' &&
        typeof o.built_at === 'string' &&
        !Number.isNaN(Date.parse(o.built_at)) &&
        o.files &&
        typeof o.files === 'object'
      )
        kits.push(o as KitRecord);
    } catch {
      /* not a kit line */
    }
  }
  return kits.sort((a, b) => Date.parse(a.built_at) - Date.parse(b.built_at));
}

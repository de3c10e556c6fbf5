// The run log: what runs there are in a state folder, how each ended, and each run's
// timeline in words. Reads journals only; never writes.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { JournalRecord, RunStartedEvent, RunFinishedEvent } from '../engine/events.js';
import { findRoot } from '../load/project.js';
import { formatDuration } from '../util/duration.js';
import { isRunId, journalPath, readJournal } from './file-journal.js';
import { ownerAlive, readLocalLock } from './lock.js';
import { compareText } from '../util/compare.js';
import { journalState, runOutcome, outcomeLines, type RunResult } from '../engine/outcome.js';
import { rpoFromRecords, type RpoEvidence } from '../engine/rpo.js';
import { eventWords, startNoteWords, unansweredIntentWords, type EventWords } from '../engine/event-words.js';

/** how `runs` lists a run (the engine's own state of a run in progress is engine/state.ts RunState) */
export type ListedRunState =
  'running' | 'interrupted' | 'succeeded' | 'completed-with-errors' | 'failed' | 'aborted' | 'rolled-back' | 'crashed';

export interface RunSummary {
  id: string;
  journal: string;
  runbook?: string;
  version?: string;
  title?: string;
  inventory?: string;
  environment?: string;
  mode?: RunStartedEvent['mode'];
  operator?: string;
  /** ISO time of run-started */
  started?: string;
  /** ISO time of the run-finished that ended it */
  finished?: string;
  state: ListedRunState;
  /**
   * wall clock from start to finish (or to now when running, to the last record when crashed), pauses included: the
   * outage the RTO measures
   */
  durationMs?: number;
  rtoMs?: number;
  /** finished within the RTO (undefined: no RTO, or not finished) */
  withinRto?: boolean;
  /** run-finished message */
  message?: string;
  /** how many times the run was resumed */
  resumes: number;
  /** commands sent whose result was never recorded: resume must decide about them */
  inDoubt: { step: string; host: string; purpose: string; attempt: number }[];
  steps: { ok: number; failed: number; skipped: number };
  /** why a run that reached its end did not pass, and its allowed failures (runOutcome, in words) */
  outcome: string[];
  /** the last step that started */
  lastStep?: string;
  /** the data-loss window a `measures: rpo` step measured, against the RPO */
  rpo?: RpoEvidence;
  torn: boolean;
  problems: string[];
  records: number;
}

/** `--state-dir`, else `.lifeboat` in the project root (nearest ancestor of cwd with site.yaml, else cwd). */
export function resolveStateDir(opts: { stateDir?: string; cwd?: string }): string {
  if (opts.stateDir) return path.resolve(opts.cwd ?? process.cwd(), opts.stateDir);
  return path.join(findRoot(opts.cwd ?? process.cwd()), '.lifeboat');
}

type Purpose = 'run' | 'skip_if' | 'rollback';
const unitKey = (step: string, host: string, attempt: number, purpose: Purpose) =>
  `${step}\0${host}\0${attempt}\0${purpose}`;

/** Intents without an exec-finished / exec-error after them. */
export function pendingIntents(records: JournalRecord[]): RunSummary['inDoubt'] {
  const open = new Map<string, RunSummary['inDoubt'][number]>();
  for (const r of records) {
    if (r.type === 'intent')
      open.set(unitKey(r.step, r.host, r.attempt, r.purpose), {
        step: r.step,
        host: r.host,
        purpose: r.purpose,
        attempt: r.attempt,
      });
    else if (r.type === 'exec-finished' || r.type === 'exec-error')
      open.delete(unitKey(r.step, r.host, r.attempt, r.purpose));
    // settled by a decision; "abort (decide later)" leaves it in doubt for the next resume
    else if (r.type === 'in-doubt' && r.choice !== 'abort')
      for (const [k, v] of open) if (v.step === r.step && v.host === r.host) open.delete(k);
  }
  return [...open.values()];
}

export interface SummarizeOptions {
  /** state folder, to look at the run's lock (running or crashed?) */
  stateDir?: string;
  now?: Date;
  /** tests: is this run's lock owner alive? */
  isLive?: (runbook: string, runId: string) => boolean;
}

function lockHeldByLive(stateDir: string, runbook: string, runId: string): boolean {
  try {
    const held = readLocalLock(stateDir, runbook);
    if (!held?.owner || held.owner.runId !== runId) return false;
    // on another machine we cannot tell: better to say running than crashed
    return ownerAlive(held.owner) !== false;
  } catch {
    return false;
  }
}

export function summarizeRun(
  id: string,
  records: JournalRecord[],
  extra: { journal: string; torn: boolean; problems: string[] },
  opts: SummarizeOptions = {},
): RunSummary {
  const start = records.find((r): r is JournalRecord & RunStartedEvent => r.type === 'run-started');
  let lastResumed = -1;
  let lastFinished = -1;
  let resumes = 0;
  const steps = { ok: 0, failed: 0, skipped: 0 };
  let lastStep: string | undefined;
  records.forEach((r, i) => {
    if (r.type === 'resumed') {
      lastResumed = i;
      resumes++;
    }
    if (r.type === 'run-finished') lastFinished = i;
    if (r.type === 'step-started') lastStep = r.step;
    if (r.type === 'step-finished') steps[r.result]++;
  });
  // a run-finished (e.g. interrupted) followed by a resume no longer ends the run
  const fin = lastFinished > lastResumed ? (records[lastFinished] as JournalRecord & RunFinishedEvent) : undefined;
  let state: ListedRunState;
  const o = runOutcome(journalState(records));
  if (fin) state = o.result === 'unfinished' ? 'failed' : o.result;
  else {
    const live =
      start &&
      (opts.isLive
        ? opts.isLive(start.runbook, id)
        : opts.stateDir
          ? lockHeldByLive(opts.stateDir, start.runbook, id)
          : false);
    state = live ? 'running' : 'crashed';
  }
  const now = opts.now ?? new Date();
  const startMs = start ? Date.parse(start.at) : records[0] ? Date.parse(records[0].at) : undefined;
  const endMs = fin
    ? Date.parse(fin.at)
    : state === 'running'
      ? now.getTime()
      : records.length
        ? Date.parse(records[records.length - 1].at)
        : undefined;
  const durationMs = startMs !== undefined && endMs !== undefined ? Math.max(0, endMs - startMs) : undefined;
  const rtoMs = start?.rtoMs;
  return {
    id,
    journal: extra.journal,
    runbook: start?.runbook,
    version: start?.version,
    title: start?.title,
    inventory: start?.inventory,
    environment: start?.environment,
    mode: start?.mode,
    operator: start?.operator,
    started: start?.at,
    finished: fin?.at,
    state,
    durationMs,
    rtoMs,
    withinRto: fin && rtoMs !== undefined && durationMs !== undefined ? durationMs <= rtoMs : undefined,
    message: fin?.message,
    outcome: outcomeLines(o),
    resumes,
    inDoubt: pendingIntents(records),
    steps,
    lastStep,
    rpo: rpoFromRecords(records),
    torn: extra.torn,
    problems: start ? extra.problems : [...extra.problems, 'no run-started record'],
    records: records.length,
  };
}

/** One run by id (throws when the journal does not exist). */
export function readRun(
  stateDir: string,
  id: string,
  opts: Omit<SummarizeOptions, 'stateDir'> = {},
): { summary: RunSummary; records: JournalRecord[] } {
  const file = journalPath(stateDir, id);
  const j = readJournal(file);
  return {
    summary: summarizeRun(id, j.records, { journal: file, torn: j.torn, problems: j.problems }, { ...opts, stateDir }),
    records: j.records,
  };
}

/** Every run in the state folder, newest first. Journals that cannot be read are listed as crashed with a problem. */
export function listRuns(stateDir: string, opts: Omit<SummarizeOptions, 'stateDir'> = {}): RunSummary[] {
  let ids: string[];
  try {
    ids = readdirSync(path.join(stateDir, 'runs')).filter(isRunId);
  } catch {
    return [];
  }
  const out: RunSummary[] = [];
  for (const id of ids) {
    try {
      out.push(readRun(stateDir, id, opts).summary);
    } catch (e) {
      out.push({
        id,
        journal: journalPath(stateDir, id),
        state: 'crashed',
        resumes: 0,
        inDoubt: [],
        steps: { ok: 0, failed: 0, skipped: 0 },
        outcome: [],
        torn: false,
        problems: [`journal unreadable: ${(e as Error).message}`],
        records: 0,
      });
    }
  }
  // run ids start with the UTC start time, so they sort by age
  return out.sort(
    (a, b) => (a.started && b.started ? Date.parse(b.started) - Date.parse(a.started) : 0) || compareText(b.id, a.id),
  );
}

/**
 * Ids of runs whose last record is a run-finished: a lock one of them left behind (crash after that record) guards
 * nothing.
 */
export function finishedRunIds(stateDir: string): string[] {
  return listRuns(stateDir)
    .filter((r) =>
      ['succeeded', 'completed-with-errors', 'failed', 'aborted', 'rolled-back', 'interrupted'].includes(r.state),
    )
    .map((r) => r.id);
}

// ---- words -----------------------------------------------------------------------

/** `+00:03.2`, `+12:05.0`, `+1:02:03.4` */
export function formatElapsed(ms: number): string {
  const tenths = Math.floor(Math.max(0, ms) / 100);
  const s = Math.floor(tenths / 10);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = `${String(s % 60).padStart(2, '0')}.${tenths % 10}`;
  return h ? `+${h}:${String(m).padStart(2, '0')}:${sec}` : `+${String(m).padStart(2, '0')}:${sec}`;
}

/** "4m12s of 30m RTO: within" */
export function describeRto(durationMs: number | undefined, rtoMs: number | undefined, finished: boolean): string {
  if (durationMs === undefined) return '';
  const d = formatDuration(durationMs);
  if (rtoMs === undefined) return `${d} (no RTO set)`;
  const verdict =
    durationMs <= rtoMs
      ? finished
        ? 'within RTO'
        : 'so far within RTO'
      : `RTO exceeded by ${formatDuration(durationMs - rtoMs)}`;
  return `${d} of ${formatDuration(rtoMs)} RTO: ${verdict}`;
}

export interface TimelineEntry extends EventWords {
  seq: number;
  at: string;
  elapsedMs: number;
  /** the step's number as the plan prints it (from the run's start record; src/plan/numbering.ts) */
  number?: string;
}

/** Where the run ended (its last run-finished) and the run's one result, which that line says. */
function runEnding(records: JournalRecord[]): { index: number; result?: RunResult } {
  const index = records.reduce((n, r, i) => (r.type === 'run-finished' ? i : n), -1);
  const o = runOutcome(journalState(records));
  return { index, result: o.result === 'unfinished' ? undefined : o.result };
}

/**
 * Each record in words (src/engine/event-words.ts), with its time and step number. Intents are left out when a
 * result follows them (unless `verbose`): one line per command; one without a result says it is in doubt. A
 * failure's output tail (`detail`) only when `verbose`. `full`: no line is shortened (the printed report has room;
 * a terminal does not).
 */
export function timeline(records: JournalRecord[], opts: { verbose?: boolean; full?: boolean } = {}): TimelineEntry[] {
  const t0 = records.length ? Date.parse(records[0].at) : 0;
  const ending = runEnding(records);
  const pending = new Set(pendingIntents(records).map((p) => unitKey(p.step, p.host, p.attempt, p.purpose as Purpose)));
  const numbers = (records.find((r) => r.type === 'run-started') as (JournalRecord & RunStartedEvent) | undefined)
    ?.stepNumbers;
  const out: TimelineEntry[] = [];
  const add = (r: JournalRecord, { detail, ...w }: EventWords) =>
    out.push({
      seq: r.seq,
      at: r.at,
      elapsedMs: Date.parse(r.at) - t0,
      ...w,
      ...(opts.verbose && detail ? { detail } : {}),
      ...(w.step && numbers?.[w.step] ? { number: numbers[w.step] } : {}),
    });
  records.forEach((r, i) => {
    const words = { short: !opts.full, runResult: i === ending.index ? ending.result : undefined };
    if (r.type === 'intent') {
      if (pending.has(unitKey(r.step, r.host, r.attempt, r.purpose))) add(r, unansweredIntentWords(r, words));
      else if (opts.verbose) add(r, eventWords(r, words));
      return;
    }
    add(r, eventWords(r, words));
    if (r.type === 'run-started') for (const n of r.notes ?? []) add(r, startNoteWords(n));
  });
  return out;
}

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
import { journalState, runOutcome, outcomeLines, resultWords } from '../engine/outcome.js';
import { failureTail } from '../engine/output-tail.js';
import { describeRpo, rpoFromRecords, rpoLevel, type RpoEvidence } from '../engine/rpo.js';

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

/**
 * The newest run that did not finish (crashed, interrupted, or aborted by a person or a refused gate) and is not
 * running now: what `resume` with no id continues.
 */
export function newestUnfinishedRun(
  stateDir: string,
  opts: Omit<SummarizeOptions, 'stateDir'> = {},
): RunSummary | undefined {
  return listRuns(stateDir, opts).find(
    (r) => r.state === 'crashed' || r.state === 'interrupted' || r.state === 'aborted',
  );
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

const oneLine = (s: string, max = 80) => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};
const byWhom = (by: string, auto: boolean) => (auto ? `auto (${by})` : `by ${by}`);

export interface TimelineEntry {
  seq: number;
  at: string;
  elapsedMs: number;
  host?: string;
  step?: string;
  /** the step's number as the plan prints it (from the run's start record; src/plan/numbering.ts) */
  number?: string;
  text: string;
  level: 'info' | 'ok' | 'warn' | 'error';
  /** a failure's last lines of stderr and stdout (verbose only), one line each */
  detail?: string[];
}

/** Each record in words. Intents are left out when a result follows them (unless `verbose`): one line per command. */
/** `full`: no line is shortened (the printed report has room; a terminal does not) */
export function timeline(records: JournalRecord[], opts: { verbose?: boolean; full?: boolean } = {}): TimelineEntry[] {
  const line = (s: string, max: number) => (opts.full ? s.replace(/\s+/g, ' ').trim() : oneLine(s, max));
  const t0 = records.length ? Date.parse(records[0].at) : 0;
  const o = runOutcome(journalState(records));
  const last = records.reduce((n, r, i) => (r.type === 'run-finished' ? i : n), -1);
  const pending = new Set(pendingIntents(records).map((p) => unitKey(p.step, p.host, p.attempt, p.purpose as Purpose)));
  const out: TimelineEntry[] = [];
  const numbers = (records.find((r) => r.type === 'run-started') as (JournalRecord & RunStartedEvent) | undefined)
    ?.stepNumbers;
  const add = (r: JournalRecord, e: Omit<TimelineEntry, 'seq' | 'at' | 'elapsedMs'>) =>
    out.push({
      seq: r.seq,
      at: r.at,
      elapsedMs: Date.parse(r.at) - t0,
      ...e,
      ...(e.step && numbers?.[e.step] ? { number: numbers[e.step] } : {}),
    });
  for (const r of records) {
    switch (r.type) {
      case 'run-started':
        add(r, {
          text:
            `${r.mode} of ${r.runbook}@${r.version} on ${r.inventory}${r.environment ? ` (${r.environment})` : ''}` +
            ` by ${r.operator}${r.fromStep ? `, from step ${r.fromStep}` : ''}`,
          level: 'info',
        });
        for (const n of r.notes ?? []) add(r, { text: `note: ${n}`, level: 'warn' });
        break;
      case 'host-state':
        add(r, {
          host: r.host,
          text: r.reachable
            ? 'reachable'
            : `unreachable${r.kind ? ` (${r.kind}${r.message ? `: ${line(r.message, 60)}` : ''})` : ''}`,
          level: r.reachable ? 'info' : 'warn',
        });
        break;
      case 'step-started':
        add(r, { step: r.step, text: 'started', level: 'info' });
        break;
      case 'step-skipped':
        add(r, {
          host: r.host,
          step: r.step,
          text: `skipped (${r.reason}${r.note ? `: ${line(r.note, 60)}` : ''})`,
          level: 'info',
        });
        break;
      case 'confirmed':
        add(r, {
          step: r.step,
          text: `confirm "${line(r.question, 60)}"  ${r.answer ? 'yes' : 'no'} ${byWhom(r.by, r.auto)}`,
          level: r.answer ? 'info' : 'warn',
        });
        break;
      case 'manual-done':
        add(r, {
          step: r.step,
          text:
            `manual step ${r.done ? 'done' : 'not done'} ${byWhom(r.by, r.auto)}` +
            `${r.record && r.value !== undefined ? `, ${r.record} = ${line(r.value, 40)}` : ''}`,
          level: r.done ? 'ok' : 'warn',
        });
        break;
      case 'intent': {
        const open = pending.has(unitKey(r.step, r.host, r.attempt, r.purpose));
        if (open)
          add(r, {
            host: r.host,
            step: r.step,
            text: `${r.purpose === 'run' ? '' : `${r.purpose}: `}sent, no result recorded: IN DOUBT (${line(r.command, 50)})`,
            level: 'error',
          });
        else if (opts.verbose)
          add(r, {
            host: r.host,
            step: r.step,
            text: `${r.purpose === 'run' ? 'run' : r.purpose}${r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}: ${line(r.command, 70)}`,
            level: 'info',
          });
        break;
      }
      case 'exec-finished': {
        const how = r.timedOut
          ? 'timed out'
          : r.canceled
            ? 'canceled'
            : r.signal
              ? `killed by ${r.signal}`
              : `exit ${r.exitCode}`;
        const facts = `(${how}, ${formatDuration(r.durationMs)}${r.attempt > 1 ? `, attempt ${r.attempt}` : ''})`;
        let text: string;
        if (r.purpose === 'skip_if')
          text = `skip_if: ${r.ok ? 'guard holds, skip' : 'guard does not hold, run'} ${facts}`;
        else if (r.purpose === 'rollback') text = `rollback ${r.ok ? 'ok' : 'failed'} ${facts}`;
        else if (r.pollAgain) text = `not yet ${facts}${r.reason ? `: ${line(r.reason, 50)}` : ''}`;
        else text = `${r.ok ? 'ok' : 'failed'} ${facts}${!r.ok && r.reason ? `: ${line(r.reason, 60)}` : ''}`;
        if (r.captured) text += `; captured ${r.captured.name} = ${line(r.captured.value, 40)}`;
        const tail =
          opts.verbose && !r.ok && r.purpose !== 'skip_if' && !r.pollAgain
            ? failureTail({ stdout: r.stdoutTail, stderr: r.stderrTail })
            : '';
        add(r, {
          host: r.host,
          step: r.step,
          text,
          level: r.purpose === 'skip_if' || r.pollAgain ? 'info' : r.ok ? 'ok' : 'error',
          detail: tail ? tail.split('\n') : undefined,
        });
        break;
      }
      case 'exec-error':
        add(r, {
          host: r.host,
          step: r.step,
          text: `${r.purpose === 'run' ? '' : `${r.purpose} `}error: ${r.kind}: ${line(r.message, 60)}`,
          level: 'error',
        });
        break;
      case 'step-finished':
        add(r, {
          step: r.step,
          text: `finished ${r.result} (${formatDuration(r.durationMs)})`,
          level: r.result === 'failed' ? 'error' : r.result === 'ok' ? 'ok' : 'info',
        });
        break;
      case 'failure-decision':
        add(r, { host: r.host, step: r.step, text: `on failure: ${r.choice} ${byWhom(r.by, r.auto)}`, level: 'warn' });
        break;
      case 'in-doubt':
        add(r, {
          host: r.host,
          step: r.step,
          text: `in doubt after a crash: ${r.choice === 'guard' ? 'skip_if guard decides' : r.choice} ${byWhom(r.by, r.auto)}`,
          level: 'warn',
        });
        break;
      case 'rollback-started':
        add(r, {
          text: `rollback of ${r.units.length} unit(s): ${r.units.map((u) => `${u.step}@${u.host}`).join(', ')}`,
          level: 'warn',
        });
        break;
      case 'resumed':
        add(r, {
          text:
            `resumed by ${r.operator}` +
            `${r.inDoubt.length ? `; in doubt: ${r.inDoubt.map((u) => `${u.step}@${u.host}`).join(', ')}` : ''}` +
            `${r.acceptedChanges?.length ? `; accepted changes: ${r.acceptedChanges.join(', ')}` : ''}`,
          level: 'warn',
        });
        break;
      case 'interrupted':
        add(r, {
          text: `interrupted by ${r.by} (${r.how === 'stop-step' ? 'running commands stopped' : 'after the running step'})`,
          level: 'warn',
        });
        break;
      case 'rpo-measured':
        add(r, { step: r.step, text: describeRpo(r), level: rpoLevel(r) });
        break;
      case 'run-finished': {
        // the run's last record carries the run's one result (completed with errors is decided from the whole journal)
        const res = records.indexOf(r) === last && o.result !== 'unfinished' ? o.result : r.result;
        add(r, {
          text: `run ${resultWords(res)} (${formatDuration(r.durationMs)})${r.message ? `: ${line(r.message, 70)}` : ''}`,
          level: res === 'succeeded' ? 'ok' : 'error',
        });
        break;
      }
      default: {
        // a record type from a newer lifeboat: show it rather than hide it
        const unknown = r as JournalRecord;
        add(unknown, { text: `(${(unknown as { type: string }).type})`, level: 'info' });
      }
    }
  }
  return out;
}

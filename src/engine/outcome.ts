// The one answer to "how did it go?": the outcome of each step (on each host) and of the run,
// decided from the journal's records alone (no plan needed, so `log`, `runs`, `report`,
// history, drills and the plan read old journals the same way the terminal summary does).
// Nothing else derives a result: every view asks these functions.
import type { JournalRecord, RunEvent } from './events.js';

/** How one step ended on one host (or, for a step without hosts, how the step ended). */
export type UnitOutcome =
  /** done, and its expectation held (or a skip_if guard proved it done already) */
  | 'ok'
  /** not needed: `when` did not hold, its guard held, its host is down as expected, before --from */
  | 'skipped'
  /** failed, and the author wrote `on_failure: continue`: an allowed failure, reported by name */
  | 'allowed-failure'
  /** failed, and the operator chose to skip it and go on: the run completed with errors */
  | 'failed-skipped'
  /** in doubt after a crash, and the operator said "it completed" without evidence: completed with errors */
  | 'marked-done'
  /** failed, and the run stopped there (abort, rollback, or not decided yet) */
  | 'failed'
  /** a confirmation answered no, or a manual step not done: the run stopped before it */
  | 'declined'
  /** the command was sent and no result was recorded: nobody knows whether it completed */
  | 'in-doubt'
  | 'running'
  /** never reached */
  | 'not-run';

/**
 * The run's result. `completed-with-errors`: it reached its end, but an operator skipped a failed step or vouched for
 * one in doubt.
 */
export type RunResult =
  'succeeded' | 'completed-with-errors' | 'failed' | 'aborted' | 'rolled-back' | 'interrupted' | 'unfinished';

export interface UnitRef {
  step: string;
  host?: string;
  outcome: UnitOutcome;
  reason?: string;
  by?: string;
}

export interface RunOutcome {
  result: RunResult;
  /** only `succeeded` passes (exit 0, a rehearsal that counts) */
  passed: boolean;
  exitCode: 0 | 1;
  /** why the result is not `succeeded` although the run reached its end: skipped failures, unproven "done" */
  errors: UnitRef[];
  /** `on_failure: continue` failures, by name */
  allowedFailures: UnitRef[];
  /** the run-finished message, if any */
  message?: string;
}

interface UnitFold {
  step: string;
  host?: string;
  outcome: UnitOutcome;
  reason?: string;
  by?: string;
  order: number;
}

/** The journal folded into what the outcome functions need. Plan-free and pure. */
export interface JournalState {
  /** step ids in the order they were first mentioned */
  steps: string[];
  /** per step: its units (by host; '' for a step without hosts) */
  units: Map<string, Map<string, UnitFold>>;
  finished?: { result: Exclude<RunResult, 'completed-with-errors' | 'unfinished'>; message?: string };
}

const STEPLESS = '';

type Of<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

/** The units met so far, made on first mention, in the order they were mentioned. */
class Units {
  readonly js: JournalState = { steps: [], units: new Map() };
  private order = 0;

  private ofStep(step: string): Map<string, UnitFold> {
    let m = this.js.units.get(step);
    if (!m) {
      m = new Map();
      this.js.units.set(step, m);
      this.js.steps.push(step);
    }
    return m;
  }

  /** one host's unit of a step; STEPLESS for the step as a whole */
  get(step: string, host: string): UnitFold {
    const m = this.ofStep(step);
    let u = m.get(host);
    if (!u) {
      u = { step, host: host === STEPLESS ? undefined : host, outcome: 'not-run', order: this.order++ };
      m.set(host, u);
    }
    return u;
  }

  hosts(step: string): UnitFold[] {
    return [...this.ofStep(step).entries()].filter(([h]) => h !== STEPLESS).map(([, u]) => u);
  }
}

const set = (u: UnitFold, outcome: UnitOutcome, reason?: string, by?: string) => {
  u.outcome = outcome;
  u.reason = reason;
  if (by !== undefined) u.by = by;
};

function foldSkipped(us: Units, r: Of<'step-skipped'>): void {
  if (r.host) return set(us.get(r.step, r.host), 'skipped', r.note);
  set(us.get(r.step, STEPLESS), 'skipped', r.note);
  for (const h of us.hosts(r.step)) if (h.outcome === 'not-run' || h.outcome === 'running') set(h, 'skipped', r.note);
}

function foldExecFinished(us: Units, r: Of<'exec-finished'>): void {
  if (r.purpose === 'rollback') return;
  const u = us.get(r.step, r.host);
  if (r.purpose === 'skip_if') {
    if (r.ok) set(u, 'skipped', 'its skip_if guard held');
  } else if (r.ok) set(u, 'ok');
  else if (r.canceled) set(u, 'in-doubt', 'stopped while running');
  else if (!r.pollAgain) set(u, 'failed', r.reason ?? `exit code ${r.exitCode}`);
}

function foldFailureDecision(us: Units, r: Of<'failure-decision'>): void {
  for (const u of us.hosts(r.step)) {
    if (u.outcome !== 'failed' || (r.host && u.host !== r.host)) continue;
    if (r.choice === 'retry') u.outcome = 'running';
    else if (r.choice === 'skip') {
      u.outcome = 'failed-skipped';
      u.by = r.by;
    } else if (r.choice === 'continue') u.outcome = 'allowed-failure';
  }
}

function foldInDoubt(us: Units, r: Of<'in-doubt'>): void {
  const u = us.get(r.step, r.host);
  if (r.choice === 'done') {
    u.outcome = 'marked-done';
    u.by = r.by;
    u.reason = `marked done by ${r.by} after a stop, without evidence`;
  } else u.outcome = r.choice === 'abort' ? 'in-doubt' : 'running';
}

/** What each record does to the units (records not listed change no outcome). */
const FOLD: { [T in RunEvent['type']]?: (us: Units, r: Of<T>) => void } = {
  'step-started': (us, r) => {
    const u = us.get(r.step, STEPLESS);
    if (u.outcome === 'not-run') u.outcome = 'running';
  },
  'step-skipped': foldSkipped,
  confirmed: (us, r) => {
    if (!r.answer) set(us.get(r.step, STEPLESS), 'declined', `answered no to "${r.question}"`, r.by);
  },
  'manual-done': (us, r) => {
    if (!r.done) set(us.get(r.step, STEPLESS), 'declined', 'not done', r.by);
  },
  intent: (us, r) => {
    if (r.purpose !== 'rollback') us.get(r.step, r.host).outcome = 'running';
  },
  'exec-finished': foldExecFinished,
  'exec-error': (us, r) => {
    if (r.purpose === 'run' || r.purpose === 'skip_if') set(us.get(r.step, r.host), 'failed', r.message);
  },
  'step-finished': (us, r) => {
    us.get(r.step, STEPLESS).outcome = r.result === 'ok' ? 'ok' : r.result === 'skipped' ? 'skipped' : 'failed';
  },
  'failure-decision': foldFailureDecision,
  'in-doubt': foldInDoubt,
  resumed: (us, r) => {
    us.js.finished = undefined;
    for (const d of r.inDoubt) us.get(d.step, d.host).outcome = 'in-doubt';
  },
  'run-finished': (us, r) => {
    us.js.finished = { result: r.result, message: r.message };
  },
};

export function journalState(records: readonly JournalRecord[]): JournalState {
  const us = new Units();
  for (const r of records) (FOLD[r.type] as ((us: Units, r: RunEvent) => void) | undefined)?.(us, r);
  const js = us.js;
  // commands sent and never answered: in doubt
  for (const m of js.units.values())
    for (const u of m.values())
      if (u.outcome === 'running' && u.host !== undefined && js.finished) u.outcome = 'in-doubt';
  return js;
}

// worst first: a step's outcome is the worst of its hosts'
const RANK: UnitOutcome[] = [
  'failed',
  'in-doubt',
  'declined',
  'failed-skipped',
  'marked-done',
  'allowed-failure',
  'running',
  'not-run',
  'ok',
  'skipped',
];

/** How one step ended on one host; `host` omitted for the step as a whole. */
export function unitOutcome(js: JournalState, step: string, host?: string): UnitOutcome {
  if (host === undefined) return stepOutcome(js, step);
  const m = js.units.get(step);
  // a step skipped as a whole (when, --from) never mentions its hosts: they are skipped with it
  return m?.get(host)?.outcome ?? (m?.get(STEPLESS)?.outcome === 'skipped' ? 'skipped' : 'not-run');
}

/** How one step ended: the worst of its hosts, or its own record when it has no hosts. */
export function stepOutcome(js: JournalState, step: string): UnitOutcome {
  const m = js.units.get(step);
  if (!m) return 'not-run';
  const hosts = [...m.entries()].filter(([h]) => h !== STEPLESS).map(([, u]) => u.outcome);
  const own = m.get(STEPLESS)?.outcome;
  if (!hosts.length) return own === 'running' && js.finished ? 'not-run' : (own ?? 'not-run');
  if (own === 'declined') return 'declined';
  return hosts.reduce((a, b) => (RANK.indexOf(a) <= RANK.indexOf(b) ? a : b));
}

const refs = (js: JournalState, pick: (o: UnitOutcome) => boolean): UnitRef[] => {
  const out: UnitFold[] = [];
  for (const m of js.units.values())
    for (const u of m.values()) if ((u.host !== undefined || m.size === 1) && pick(u.outcome)) out.push(u);
  return out
    .sort((a, b) => a.order - b.order)
    .map(({ step, host, outcome, reason, by }) => ({ step, host, outcome, reason, by }));
};

/** The run's result, with the steps that make it less than a success and the allowed failures by name. */
export function runOutcome(js: JournalState): RunOutcome {
  const errors = refs(js, (o) => o === 'failed-skipped' || o === 'marked-done');
  const allowedFailures = refs(js, (o) => o === 'allowed-failure');
  let result: RunResult = js.finished?.result ?? 'unfinished';
  if (result === 'succeeded' && errors.length) result = 'completed-with-errors';
  const passed = result === 'succeeded';
  return { result, passed, exitCode: passed ? 0 : 1, errors, allowedFailures, message: js.finished?.message };
}

/** Shorthand for views that hold the records. */
export const outcomeOf = (records: readonly JournalRecord[]) => runOutcome(journalState(records));

const OUTCOME_WORDS: Record<UnitOutcome, [label: string, words: string]> = {
  ok: ['ok', 'ok'],
  skipped: ['skipped', 'skipped'],
  'allowed-failure': ['FAILED-ALLOWED', 'failed (allowed: on_failure continue)'],
  'failed-skipped': ['FAILED-SKIPPED', 'failed, skipped by the operator'],
  'marked-done': ['MARKED-DONE', 'marked done without evidence'],
  failed: ['FAILED', 'failed'],
  declined: ['DECLINED', 'declined'],
  'in-doubt': ['IN-DOUBT', 'in doubt'],
  running: ['running', 'running'],
  'not-run': ['not-run', 'not run'],
};

/** A unit outcome in words ("failed, skipped by the operator"), the same in every view. */
export const outcomeWords = (o: UnitOutcome): string => OUTCOME_WORDS[o][1];

/** A unit outcome as one token for a table column ("FAILED-SKIPPED"). */
export const outcomeLabel = (o: UnitOutcome): string => OUTCOME_WORDS[o][0];

/** A unit outcome that is a failure of some kind (red in every view). */
export const isFailureOutcome = (o: UnitOutcome): boolean =>
  o === 'failed' || o === 'failed-skipped' || o === 'marked-done' || o === 'in-doubt' || o === 'declined';

const RESULT_WORDS: Record<RunResult, string> = {
  succeeded: 'succeeded',
  'completed-with-errors': 'completed with errors',
  failed: 'failed',
  aborted: 'aborted',
  'rolled-back': 'rolled-back',
  interrupted: 'interrupted',
  unfinished: 'unfinished',
};

/** The run's result in words ("completed with errors"). */
export const resultWords = (r: RunResult): string => RESULT_WORDS[r];

const name = (u: UnitRef) => `${u.step}${u.host ? ` on ${u.host}` : ''}`;

/** One line per reason the run is less than it looks, for every view's result line. */
export function outcomeLines(o: RunOutcome): string[] {
  const lines: string[] = [];
  for (const e of o.errors)
    lines.push(
      e.outcome === 'failed-skipped'
        ? `${name(e)} failed (${e.reason ?? 'failed'}) and was skipped by ${e.by ?? 'the operator'}`
        : `${name(e)} was in doubt and marked done by ${e.by ?? 'the operator'} without evidence`,
    );
  if (o.allowedFailures.length)
    lines.push(`allowed failures (on_failure: continue): ${o.allowedFailures.map(name).join(', ')}`);
  return lines;
}

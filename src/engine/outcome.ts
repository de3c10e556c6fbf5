// The one answer to "how did it go?": the outcome of each step (on each host) and of the run,
// decided from the journal's records alone (no plan needed, so `log`, `runs`, `report`,
// history, drills and the plan read old journals the same way the terminal summary does).
// Nothing else derives a result: every view asks these functions.
import type { JournalRecord } from './events.js';

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

export function journalState(records: readonly JournalRecord[]): JournalState {
  const js: JournalState = { steps: [], units: new Map() };
  let order = 0;
  const stepUnits = (step: string) => {
    let m = js.units.get(step);
    if (!m) {
      m = new Map();
      js.units.set(step, m);
      js.steps.push(step);
    }
    return m;
  };
  const unit = (step: string, host: string) => {
    const m = stepUnits(step);
    let u = m.get(host);
    if (!u) {
      u = { step, host: host === STEPLESS ? undefined : host, outcome: 'not-run', order: order++ };
      m.set(host, u);
    }
    return u;
  };
  const hostUnits = (step: string) => [...stepUnits(step).entries()].filter(([h]) => h !== STEPLESS).map(([, u]) => u);
  for (const r of records) {
    switch (r.type) {
      case 'step-started': {
        const u = unit(r.step, STEPLESS);
        if (u.outcome === 'not-run') u.outcome = 'running';
        break;
      }
      case 'step-skipped':
        if (r.host) {
          const u = unit(r.step, r.host);
          u.outcome = 'skipped';
          u.reason = r.note;
        } else {
          const u = unit(r.step, STEPLESS);
          u.outcome = 'skipped';
          u.reason = r.note;
          for (const h of hostUnits(r.step))
            if (h.outcome === 'not-run' || h.outcome === 'running') {
              h.outcome = 'skipped';
              h.reason = r.note;
            }
        }
        break;
      case 'confirmed':
        if (!r.answer) {
          const u = unit(r.step, STEPLESS);
          u.outcome = 'declined';
          u.reason = `answered no to "${r.question}"`;
          u.by = r.by;
        }
        break;
      case 'manual-done':
        if (!r.done) {
          const u = unit(r.step, STEPLESS);
          u.outcome = 'declined';
          u.reason = 'not done';
          u.by = r.by;
        }
        break;
      case 'intent':
        if (r.purpose !== 'rollback') {
          const u = unit(r.step, r.host);
          u.outcome = 'running';
        }
        break;
      case 'exec-finished': {
        if (r.purpose === 'rollback') break;
        const u = unit(r.step, r.host);
        if (r.purpose === 'skip_if') {
          if (r.ok) {
            u.outcome = 'skipped';
            u.reason = 'its skip_if guard held';
          }
          break;
        }
        if (r.ok) {
          u.outcome = 'ok';
          u.reason = undefined;
        } else if (r.canceled) {
          u.outcome = 'in-doubt';
          u.reason = 'stopped while running';
        } else if (!r.pollAgain) {
          u.outcome = 'failed';
          u.reason = r.reason ?? `exit code ${r.exitCode}`;
        }
        break;
      }
      case 'exec-error':
        if (r.purpose === 'run' || r.purpose === 'skip_if') {
          const u = unit(r.step, r.host);
          u.outcome = 'failed';
          u.reason = r.message;
        }
        break;
      case 'step-finished': {
        const u = unit(r.step, STEPLESS);
        u.outcome = r.result === 'ok' ? 'ok' : r.result === 'skipped' ? 'skipped' : 'failed';
        break;
      }
      case 'failure-decision': {
        const failed = hostUnits(r.step).filter((u) => u.outcome === 'failed' && (!r.host || u.host === r.host));
        for (const u of failed) {
          if (r.choice === 'retry') u.outcome = 'running';
          else if (r.choice === 'skip') {
            u.outcome = 'failed-skipped';
            u.by = r.by;
          } else if (r.choice === 'continue') u.outcome = 'allowed-failure';
        }
        break;
      }
      case 'in-doubt': {
        const u = unit(r.step, r.host);
        if (r.choice === 'done') {
          u.outcome = 'marked-done';
          u.by = r.by;
          u.reason = `marked done by ${r.by} after a stop, without evidence`;
        } else if (r.choice === 'abort') u.outcome = 'in-doubt';
        else u.outcome = 'running';
        break;
      }
      case 'resumed':
        js.finished = undefined;
        for (const d of r.inDoubt) {
          const u = unit(d.step, d.host);
          u.outcome = 'in-doubt';
        }
        break;
      case 'run-finished':
        js.finished = { result: r.result, message: r.message };
        break;
      default:
        break;
    }
  }
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

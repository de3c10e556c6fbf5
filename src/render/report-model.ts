// A run's journal as an incident timeline: who ran what, when, each step's duration and
// result, each confirmation with operator and time, the total against the RTO, and what was
// skipped or rolled back — the basis of the post-incident review. Pure: records in, view out.
import {
  journalState,
  runOutcome,
  stepOutcome,
  unitOutcome,
  outcomeWords,
  outcomeLines,
  resultWords,
  isFailureOutcome,
} from '../engine/outcome.js';
import { failureTail } from '../engine/output-tail.js';
import {
  answeredBy,
  capturedWords,
  commandErrorWords,
  commandResultWords,
  eventWords,
  inDoubtChoiceWords,
  transportErrorWords,
} from '../engine/event-words.js';
import type { JournalRecord, RunStartedEvent, RunFinishedEvent } from '../engine/events.js';
import { timeline } from '../journal/runs.js';
import { formatDuration } from '../util/duration.js';
import { describeRpo, rpoFromRecords } from '../engine/rpo.js';
import { describeOverrun } from '../plan/estimates.js';

export interface ReportStepRow {
  /** the step's number as the plan and the dry run print it (src/plan/numbering.ts) */
  number: string;
  step: string;
  host: string;
  result: string;
  attempts: number;
  duration: string;
  note: string;
  failed: boolean;
}
export interface ReportDecision {
  at: string;
  elapsed: string;
  step: string;
  what: string;
  answer: string;
  by: string;
}

export interface ReportModel {
  runId: string;
  runbook: string;
  version: string;
  title: string;
  digest: string;
  digestShort: string;
  inventory: string;
  environment: string;
  mode: string;
  operators: string[];
  started: string;
  finished: string;
  result: string;
  resultOk: boolean;
  /** runOutcome in words: skipped failures, unproven "done", allowed failures by name */
  outcome: string[];
  /** the last lines of stderr and stdout of each failed command (outputTail) */
  failures: { step: string; host: string; output: string }[];
  total: string;
  rto: string;
  rtoVerdict: string;
  /** the data-loss window measured against the RPO, in words ('' when the run measured none) */
  dataLoss: string;
  withinRto: boolean | undefined;
  message: string;
  resumes: number;
  notes: string[];
  steps: ReportStepRow[];
  decisions: ReportDecision[];
  skipped: { step: string; host: string; note: string }[];
  rollbacks: { step: string; host: string; result: string }[];
  /** steps that took longer than their `estimate:` ("took 14m02s, estimate 10m"), from the step-finished durations */
  overruns: { number: string; step: string; text: string }[];
  timeline: { at: string; elapsed: string; where: string; text: string; level: string }[];
  lifeboatVersion: string;
  generated: string;
}

const el = (ms: number) => {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `+${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

// A unit's result comes from the one outcome function (src/engine/outcome.ts), its facts in
// words from the one event wording (src/engine/event-words.ts); this file only arranges them.

export function reportModel(records: JournalRecord[], opts: { now?: Date; version: string }): ReportModel {
  const start = records.find((r): r is JournalRecord & RunStartedEvent => r.type === 'run-started');
  if (!start) throw new Error('the journal has no run-started record');
  const t0 = Date.parse(start.at);
  const fins = records.filter((r): r is JournalRecord & RunFinishedEvent => r.type === 'run-finished');
  const fin = fins[fins.length - 1];
  const lastResume = records.map((r) => r.type).lastIndexOf('resumed');
  const finished = fin && records.indexOf(fin) > lastResume ? fin : undefined;
  const endMs = finished ? Date.parse(finished.at) : Date.parse(records[records.length - 1].at);
  const total = endMs - t0;
  const js = journalState(records);
  const outcome = runOutcome(js);
  const t = tallyRecords(records, start, t0);
  const steps = stepRows(t, js, start.stepNumbers ?? {});
  const rto = start.rtoMs;
  const withinRto = rto && finished ? total <= rto : undefined;
  return {
    runId: start.runId,
    runbook: start.runbook,
    version: start.version,
    title: start.title,
    digest: start.digest,
    digestShort: start.digest.slice(0, 12),
    inventory: start.inventory,
    environment: start.environment ?? '',
    mode: start.mode,
    operators: [...t.operators],
    started: start.at,
    finished: finished?.at ?? '',
    result: outcome.result === 'unfinished' ? 'unfinished (crashed or running)' : resultWords(outcome.result),
    resultOk: outcome.passed,
    outcome: outcomeLines(outcome),
    failures: [...t.failures.values()],
    total: formatDuration(total),
    rto: rto ? formatDuration(rto) : 'none set',
    rtoVerdict: rto
      ? `${Math.round((total / rto) * 100)}% of the RTO${finished ? (total <= rto ? ' — within it' : ' — OVER it') : ' so far'}`
      : 'no RTO set',
    dataLoss: (() => {
      const e = rpoFromRecords(records);
      return e ? `${describeRpo(e)} (measured by ${e.step})` : '';
    })(),
    withinRto,
    message: finished?.message ?? '',
    resumes: records.filter((r) => r.type === 'resumed').length,
    notes: start.notes ?? [],
    steps,
    decisions: t.decisions,
    skipped: t.skipped,
    rollbacks: t.rollbacks,
    overruns: overrunsOf(records, start),
    timeline: timeline(records, { full: true }).map((e) => ({
      at: e.at.slice(11, 19),
      elapsed: el(e.elapsedMs),
      where: [e.number ? `${e.number}. ${e.step}` : e.step, e.host].filter(Boolean).join(' @ '),
      text: e.text,
      level: e.level,
    })),
    lifeboatVersion: opts.version,
    generated: (opts.now ?? new Date()).toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  };
}

/** a step on one host (or '(manual)') as the records tell it */
interface UnitRow {
  step: string;
  host: string;
  /** how its last command failed short of an exit code ("connection lost"): the row's result says so */
  lost?: string;
  attempts: number;
  first?: number;
  last?: number;
  note: string;
}

/** what the report gathers from the records, in journal order */
interface Tally {
  operators: Set<string>;
  decisions: ReportDecision[];
  skipped: ReportModel['skipped'];
  rollbacks: ReportModel['rollbacks'];
  failures: Map<string, { step: string; host: string; output: string }>;
  units: Map<string, UnitRow>;
}

type RecordOf<T extends JournalRecord['type']> = Extract<JournalRecord, { type: T }>;

function tallyRecords(records: JournalRecord[], start: RunStartedEvent, t0: number): Tally {
  const t: Tally = {
    operators: new Set<string>([start.operator]),
    decisions: [],
    skipped: [],
    rollbacks: [],
    failures: new Map(),
    units: new Map(),
  };
  for (const r of records) {
    const at = Date.parse(r.at);
    switch (r.type) {
      case 'confirmed':
      case 'manual-done':
      case 'failure-decision':
      case 'in-doubt':
        tallyDecision(t, r, at, el(at - t0));
        break;
      case 'resumed':
        t.operators.add(r.operator);
        break;
      case 'step-skipped':
      case 'intent':
      case 'exec-finished':
      case 'exec-error':
        tallyExec(t, r, at);
        break;
    }
  }
  return t;
}

function unitOf(t: Tally, step: string, host: string): UnitRow {
  const k = `${step}\0${host}`;
  if (!t.units.has(k)) t.units.set(k, { step, host, attempts: 0, note: '' });
  return t.units.get(k)!;
}

/** an operator's (or the policy's) answer: a row of the decisions table */
function tallyDecision(
  t: Tally,
  r: RecordOf<'confirmed' | 'manual-done' | 'failure-decision' | 'in-doubt'>,
  at: number,
  elapsed: string,
): void {
  switch (r.type) {
    case 'confirmed':
      t.operators.add(r.by);
      t.decisions.push({
        at: r.at,
        elapsed,
        step: r.step,
        what: `confirm: ${r.question}`,
        answer: r.answer ? 'yes' : 'no',
        by: answeredBy(r),
      });
      break;
    case 'manual-done':
      t.operators.add(r.by);
      t.decisions.push({
        at: r.at,
        elapsed,
        step: r.step,
        what: `manual step${r.record ? `, recorded ${r.record}` : ''}`,
        answer: r.done ? `done${r.value !== undefined ? `: ${r.value}` : ''}` : 'not done',
        by: answeredBy(r),
      });
      // a manual step is a row of its own
      unitOf(t, r.step, '(manual)');
      break;
    case 'failure-decision':
      t.decisions.push({
        at: r.at,
        elapsed,
        step: r.step,
        what: `after a failure${r.host ? ` on ${r.host}` : ''}`,
        answer: r.choice,
        by: answeredBy(r),
      });
      if (!r.auto) t.operators.add(r.by);
      break;
    case 'in-doubt':
      // the operator said a command in doubt had run: settled as done, not "running"
      if (r.choice === 'done') {
        const u = unitOf(t, r.step, r.host);
        u.lost = undefined;
        u.note = eventWords(r).text;
        u.last ??= at;
      }
      t.decisions.push({
        at: r.at,
        elapsed,
        step: r.step,
        what: `in doubt after a stop, on ${r.host}`,
        answer: inDoubtChoiceWords(r),
        by: answeredBy(r),
      });
      break;
  }
}

/** a command's start and end, or a step skipped: the step rows, failures and rollbacks */
function tallyExec(
  t: Tally,
  r: RecordOf<'step-skipped' | 'intent' | 'exec-finished' | 'exec-error'>,
  at: number,
): void {
  switch (r.type) {
    case 'step-skipped':
      t.skipped.push({ step: r.step, host: r.host ?? '', note: r.note });
      if (r.host) {
        const u = unitOf(t, r.step, r.host);
        u.lost = undefined;
        u.note = r.note;
      }
      break;
    case 'intent': {
      if (r.purpose !== 'run') break;
      const u = unitOf(t, r.step, r.host);
      u.attempts = Math.max(u.attempts, r.attempt);
      u.first ??= at;
      u.lost = undefined;
      break;
    }
    case 'exec-finished':
      tallyExecFinished(t, r, at);
      break;
    case 'exec-error': {
      if (r.purpose === 'rollback') {
        t.rollbacks.push({ step: r.step, host: r.host, result: commandErrorWords(r) });
        break;
      }
      const u = unitOf(t, r.step, r.host);
      u.last = at;
      u.lost = transportErrorWords(r.kind);
      u.note = r.message;
      break;
    }
  }
}

function tallyExecFinished(t: Tally, r: RecordOf<'exec-finished'>, at: number): void {
  if (r.purpose === 'rollback') {
    t.rollbacks.push({ step: r.step, host: r.host, result: commandResultWords(r) });
    return;
  }
  if (r.purpose !== 'run') return;
  const u = unitOf(t, r.step, r.host);
  u.last = at;
  if (r.ok) {
    u.lost = undefined;
    u.note = r.captured ? capturedWords(r.captured) : '';
    t.failures.delete(`${r.step}\0${r.host}`);
  } else if (!r.pollAgain) {
    u.lost = undefined;
    u.note = r.reason ?? '';
    const output = failureTail({ stdout: r.stdoutTail, stderr: r.stderrTail });
    if (output) t.failures.set(`${r.step}\0${r.host}`, { step: r.step, host: r.host, output });
  }
}

function stepRows(
  t: Tally,
  js: ReturnType<typeof journalState>,
  numbers: NonNullable<RunStartedEvent['stepNumbers']>,
): ReportStepRow[] {
  return [...t.units.values()].map((u) => {
    // the result is the one outcome function's; how a command failed stays in the note
    const o = u.host === '(manual)' ? stepOutcome(js, u.step) : unitOutcome(js, u.step, u.host);
    const how = u.lost && o === 'failed' ? `${outcomeWords(o)} (${u.lost})` : outcomeWords(o);
    return {
      number: numbers[u.step] ?? '',
      step: u.step,
      host: u.host,
      result: how,
      attempts: u.attempts,
      duration: u.first && u.last ? formatDuration(u.last - u.first) : '',
      note: u.note,
      failed: isFailureOutcome(o) || o === 'running',
    };
  });
}

/**
 * Steps whose journaled duration (step-finished) passed their estimate (run-started): the last finish of each step
 * counts.
 */
function overrunsOf(records: JournalRecord[], start: RunStartedEvent): ReportModel['overruns'] {
  const estimates = start.estimatesMs ?? {};
  const took = new Map<string, number>();
  for (const r of records)
    if (r.type === 'step-finished' && r.result !== 'skipped' && estimates[r.step] !== undefined)
      took.set(r.step, r.durationMs);
  const out: ReportModel['overruns'] = [];
  for (const [step, ms] of took) {
    const text = describeOverrun(ms, estimates[step]);
    if (text) out.push({ number: start.stepNumbers?.[step] ?? '', step, text });
  }
  return out;
}

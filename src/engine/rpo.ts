// The data-loss window: a step marked `measures: rpo` captures how much recent data the
// failover would lose (a standby's replay delay, the age of the last sync or backup), in
// seconds or as a duration. One function turns that value and the runbook's RPO into the
// verdict every view shows (gate, summary, log, report, history, plan). Pure: plan + state in.
import type { ResolvedPlan, ResolvedStep } from '../model/plan.js';
import { stepOf, type RunState } from './state.js';
import type { JournalRecord, RpoMeasuredEvent } from './events.js';
import { durationShort, formatDuration, parseDuration } from '../util/duration.js';

export type RpoVerdict = 'within' | 'past' | 'no-objective' | 'not-measured';

export interface RpoEvidence {
  /** the step that measured it, and the captured value as printed */
  step: string;
  capture: string;
  value: string;
  /** the window in ms; absent when the value is not a number of seconds or a duration */
  windowMs?: number;
  rpoMs?: number;
  verdict: RpoVerdict;
}

/** "0.4", "12", "0.4s", "2m", "1h30m", "500ms" → ms; anything else (NULL, empty, -3) → undefined. */
export function parseWindow(raw: string): number | undefined {
  const t = raw.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const dec = /^(\d+(?:\.\d+)?)s$/.exec(t);
  if (dec) return Math.round(Number(dec[1]) * 1000);
  try {
    return parseDuration(t);
  } catch {
    return undefined;
  }
}

export function assessRpo(step: string, capture: string, value: string, rpoMs: number | undefined): RpoEvidence {
  const windowMs = parseWindow(value);
  const verdict: RpoVerdict =
    windowMs === undefined
      ? 'not-measured'
      : rpoMs === undefined
        ? 'no-objective'
        : windowMs <= rpoMs
          ? 'within'
          : 'past';
  return { step, capture, value, windowMs, rpoMs, verdict };
}

/** The steps of a plan that measure the data-loss window. */
export const rpoSteps = (plan: ResolvedPlan): ResolvedStep[] =>
  plan.steps.filter((s) => s.measures === 'rpo' && s.capture);

/** The latest measurement the run holds: the last `measures: rpo` step (in run order) whose value was captured. */
export function rpoFromState(plan: ResolvedPlan, state: RunState): RpoEvidence | undefined {
  let found: RpoEvidence | undefined;
  for (const id of state.order) {
    const s = stepOf(plan, id);
    if (s?.measures !== 'rpo' || !s.capture || !(s.capture in state.captured)) continue;
    found = assessRpo(s.id, s.capture, state.captured[s.capture], plan.runbook.rpoMs);
  }
  return found;
}

/** The last measurement a journal recorded. */
export function rpoFromRecords(records: readonly JournalRecord[]): RpoEvidence | undefined {
  let last: RpoMeasuredEvent | undefined;
  for (const r of records) if (r.type === 'rpo-measured') last = r;
  if (!last) return undefined;
  const { step, capture, value, windowMs, rpoMs, verdict } = last;
  return { step, capture, value, windowMs, rpoMs, verdict };
}

/** ≈ 0.4 s, ≈ 12 s, ≈ 3m10s */
export function formatWindow(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  return formatDuration(ms);
}

/** How a view colours the measurement. */
export const rpoLevel = (e: RpoEvidence): 'ok' | 'warn' =>
  e.verdict === 'within' || e.verdict === 'no-objective' ? 'ok' : 'warn';

/** The one wording: "data-loss window ≈ 0.4 s (RPO 1m): within". */
export function describeRpo(e: RpoEvidence): string {
  const rpo = e.rpoMs === undefined ? 'no RPO set' : `RPO ${durationShort(e.rpoMs)}`;
  switch (e.verdict) {
    case 'within':
      return `data-loss window ≈ ${formatWindow(e.windowMs!)} (${rpo}): within`;
    case 'past':
      return `data-loss window ≈ ${formatWindow(e.windowMs!)} (${rpo}): PAST THE RPO — up to ${formatWindow(e.windowMs!)} of writes may be lost`;
    case 'no-objective':
      return `data-loss window ≈ ${formatWindow(e.windowMs!)} (${rpo})`;
    case 'not-measured':
      return `data-loss window not measured: ${e.step} printed ${JSON.stringify(e.value.slice(0, 40))}, not a number of seconds (${rpo})`;
  }
}

/**
 * The plan's line: which step measures the window, and what the last rehearsal measured
 * ("last rehearsal: data-loss window ≈ 0.7 s (RPO 1m): within"). Undefined when no step measures it.
 */
export function describePlannedRpo(
  plan: ResolvedPlan,
  last?: { data_loss_window_ms?: number; rpo_ms?: number; rpo_verdict?: RpoVerdict; finished_at: string },
): string | undefined {
  const steps = rpoSteps(plan);
  if (!steps.length) return undefined;
  const by = `measured by ${steps.map((s) => s.id).join(', ')} before the first point of no return`;
  if (!last?.rpo_verdict) return `${by}; no rehearsal measured it yet`;
  const e: RpoEvidence = {
    step: steps[0].id,
    capture: steps[0].capture!,
    value: '',
    windowMs: last.data_loss_window_ms,
    rpoMs: last.rpo_ms,
    verdict: last.rpo_verdict,
  };
  return `${by}; rehearsal of ${last.finished_at.slice(0, 10)}: ${e.verdict === 'not-measured' ? 'not measured' : describeRpo(e)}`;
}

/**
 * The question of the first point of no return after a measurement, with the window in front;
 * undefined when the step is not that gate (a later gate, a preflight step, nothing measured).
 */
export function rpoGateQuestion(
  plan: ResolvedPlan,
  state: RunState,
  stepId: string,
  question: string,
): string | undefined {
  const step = stepOf(plan, stepId);
  if (!step?.confirm || step.phase === 'preflight') return undefined;
  const e = rpoFromState(plan, state);
  if (!e) return undefined;
  const earlier = plan.steps.some(
    (s) => s.id !== stepId && s.confirm && s.phase !== 'preflight' && state.steps[s.id]?.confirmed,
  );
  if (earlier) return undefined;
  return `${describeRpo(e)}${e.verdict === 'past' ? '. Go on anyway?' : '.'} ${question}`;
}

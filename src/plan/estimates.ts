// Step estimates (`estimate: 10m`): how long the operator expects each step to take. One
// place adds them up against the RTO and words an overrun, for the DR lint, the dry run, the
// plan and the run report alike (decision 0031).
import { durationShort, formatDuration } from '../util/duration.js';
import type { ResolvedPlan } from '../model/plan.js';

export interface EstimateTotal {
  /** the sum of the main phase's estimates */
  totalMs: number;
  /** main-phase steps with an estimate, of `steps` */
  estimated: number;
  /** main-phase steps (conditional ones included: the sum is of every step that may run) */
  steps: number;
  rtoMs?: number;
  /** the estimates add up to more than the RTO */
  over: boolean;
}

/** The main (non-preflight) phase's estimates added up, against the RTO. */
export function estimateTotal(steps: { phase?: string; estimateMs?: number }[], rtoMs?: number): EstimateTotal {
  const main = steps.filter((s) => s.phase !== 'preflight');
  const withEstimate = main.filter((s) => s.estimateMs !== undefined);
  const totalMs = withEstimate.reduce((sum, s) => sum + s.estimateMs!, 0);
  return { totalMs, estimated: withEstimate.length, steps: main.length, rtoMs, over: rtoMs !== undefined && totalMs > rtoMs };
}

/** "estimates add up to 41m (9 of 12 steps) — over the RTO of 30m"; '' when no step has one */
export function describeEstimateTotal(t: EstimateTotal): string {
  if (!t.estimated) return '';
  const of = t.estimated !== t.steps ? `${t.estimated} of ${t.steps} steps` : t.steps === 1 ? 'its one step' : `all ${t.steps} steps`;
  const rto = t.rtoMs === undefined ? 'no RTO set' : t.over ? `OVER the RTO of ${durationShort(t.rtoMs)}` : `within the RTO of ${durationShort(t.rtoMs)}`;
  return `estimates add up to ${durationShort(t.totalMs)} (${of}) — ${rto}`;
}

/** "took 14m02s, estimate 10m" when a step ran longer than its estimate; undefined otherwise */
export function describeOverrun(durationMs: number, estimateMs: number | undefined): string | undefined {
  if (estimateMs === undefined || durationMs <= estimateMs) return undefined;
  return `took ${formatDuration(durationMs)}, estimate ${durationShort(estimateMs)}`;
}

/** step id → estimate in ms, for the run-started record (undefined when no step has one) */
export function estimatesOf(plan: ResolvedPlan): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const s of plan.steps) if (s.estimateMs !== undefined) out[s.id] = s.estimateMs;
  return Object.keys(out).length ? out : undefined;
}

// Step estimates (`estimate: 10m`): how long the operator expects each step to take. One
// place adds them up against the RTO and words an overrun, for the DR lint, the dry run, the
// plan and the run report alike (decision 0031).
import { durationShort, formatDuration } from '../util/duration.js';
import { isHostCondition, type ResolvedPlan, type ResolvedStep } from '../model/plan.js';

/** A step as the sum sees it; `hosts`: its reachable/unreachable conditions (inherited from an include too). */
export interface EstimatedStep {
  phase?: string;
  estimateMs?: number;
  hosts?: { host: string; reachable: boolean; name?: string }[];
}

export interface EstimateTotal {
  /** the sum of the main phase's estimates, in the longest case */
  totalMs: number;
  /** main-phase steps with an estimate, of `steps` (both in the longest case) */
  estimated: number;
  /** main-phase steps that run in the longest case */
  steps: number;
  /** the longest case, when steps depend on hosts being reachable: "primary unreachable" */
  when?: string;
  rtoMs?: number;
  /** the estimates add up to more than the RTO */
  over: boolean;
}

/** at most this many hosts are told apart (2^N cases); conditions on further hosts count as holding */
const MAX_CASE_HOSTS = 8;

/**
 * The main (non-preflight) phase's estimates added up, against the RTO. Steps that run only
 * when a host is (un)reachable are alternatives: each case of the hosts being up or down is
 * added up on its own and the longest one counts. Value conditions may hold: those steps count.
 */
export function estimateTotal(steps: EstimatedStep[], rtoMs?: number): EstimateTotal {
  const main = steps.filter((s) => s.phase !== 'preflight');
  const names = new Map<string, string>();
  for (const s of main) for (const h of s.hosts ?? []) if (!names.has(h.host)) names.set(h.host, h.name ?? h.host);
  const hosts = [...names.keys()].slice(0, MAX_CASE_HOSTS);
  let best: { totalMs: number; estimated: number; steps: number; mask: number } | undefined;
  for (let mask = 0; mask < 2 ** hosts.length; mask++) {
    const up = (host: string) => {
      const i = hosts.indexOf(host);
      return i < 0 ? undefined : Boolean(mask & (1 << i));
    };
    const runs = main.filter((s) =>
      (s.hosts ?? []).every((h) => up(h.host) === undefined || up(h.host) === h.reachable),
    );
    const withEstimate = runs.filter((s) => s.estimateMs !== undefined);
    const totalMs = withEstimate.reduce((sum, s) => sum + s.estimateMs!, 0);
    if (!best || totalMs > best.totalMs) best = { totalMs, estimated: withEstimate.length, steps: runs.length, mask };
  }
  const b = best!;
  const when = hosts.length
    ? hosts.map((h, i) => `${names.get(h)} ${b.mask & (1 << i) ? 'reachable' : 'unreachable'}`).join(', ')
    : undefined;
  return {
    totalMs: b.totalMs,
    estimated: b.estimated,
    steps: b.steps,
    ...(when ? { when } : {}),
    rtoMs,
    over: rtoMs !== undefined && b.totalMs > rtoMs,
  };
}

/** "estimates add up to 41m (9 of 12 steps) — over the RTO of 30m"; '' when no step has one */
export function describeEstimateTotal(t: EstimateTotal): string {
  if (!t.estimated) return '';
  const of = `${t.estimated} of ${t.steps} main-phase step${t.steps === 1 ? '' : 's'}`;
  const rto =
    t.rtoMs === undefined
      ? 'no RTO set'
      : t.over
        ? `OVER the RTO of ${durationShort(t.rtoMs)}`
        : `within the RTO of ${durationShort(t.rtoMs)}`;
  return `estimates add up to ${durationShort(t.totalMs)} (${of}${t.when ? `, with ${t.when}` : ''}) — ${rto}`;
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

/** A resolved step's host conditions, named by role where the runbook names one. */
export function hostConditionsOf(step: ResolvedStep): EstimatedStep['hosts'] {
  return step.when
    .filter(isHostCondition)
    .map((c) => ({ host: c.host, reachable: c.kind === 'reachable', ...(c.role ? { name: c.role } : {}) }));
}

/** A resolved plan's steps as the sum sees them. */
export const estimatedSteps = (steps: ResolvedStep[]): EstimatedStep[] =>
  steps.map((s) => ({ phase: s.phase, estimateMs: s.estimateMs, hosts: hostConditionsOf(s) }));

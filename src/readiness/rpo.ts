// The measured data-loss window against the RPO, for readiness. The contract (shared with the
// run's own RPO check, src/engine/rpo.ts where present): a runbook marks one step with
// `measures: rpo`; that step captures its stdout, and the stdout is the window in seconds.
// Pure: the captured text and the objective in, a verdict and its words out.
import { formatDuration } from '../util/duration.js';

export const RPO_MEASURE = 'rpo';

export interface RpoVerdict {
  state: 'within' | 'exceeded' | 'unknown' | 'no-objective';
  measuredMs?: number;
  objectiveMs?: number;
  /** "≈ 0.4s (RPO 1m): within", "≈ 2m (RPO 1m): exceeded", … */
  words: string;
}

const SECONDS = /^\s*(\d+(?:\.\d+)?)\s*$/;

/** `objectiveText`: the RPO as the runbook writes it ("1m"), for the words */
export function rpoVerdict(captured: string | undefined, objectiveMs: number | undefined, objectiveText?: string): RpoVerdict {
  const m = captured === undefined ? null : SECONDS.exec(captured);
  const rpo = objectiveMs === undefined ? 'no RPO' : `RPO ${objectiveText ?? formatDuration(objectiveMs)}`;
  if (!m) return { state: 'unknown', objectiveMs, words: captured === undefined ? `not measured (${rpo})` : `the measuring step printed ${JSON.stringify(captured.slice(0, 40))}, not a number of seconds (${rpo})` };
  const measuredMs = Number(m[1]) * 1000;
  if (objectiveMs === undefined) return { state: 'no-objective', measuredMs, words: `≈ ${formatDuration(measuredMs)} (no RPO declared)` };
  const state = measuredMs <= objectiveMs ? 'within' : 'exceeded';
  return { state, measuredMs, objectiveMs, words: `≈ ${formatDuration(measuredMs)} (${rpo}): ${state === 'within' ? 'within' : 'EXCEEDED'}` };
}

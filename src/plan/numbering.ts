// The one step numbering: the number a person at the keyboard (dry run, live view, log, run
// report) and a person holding the printed plan use for the same step. Preconditions (the
// `preflight` phase) are P1, P2, …; the steps that change things are 1, 2, … in plan order,
// included steps numbered where they are flattened. Every view asks here; none counts itself.
import type { ResolvedPlan, ResolvedStep } from '../model/plan.js';

export type NumberedStep = Pick<ResolvedStep, 'id' | 'phase'>;

/** step id → its number ("P1", "1", …) */
export function stepNumbers(plan: Pick<ResolvedPlan, 'steps'> | readonly NumberedStep[]): Map<string, string> {
  const steps: readonly NumberedStep[] = Array.isArray(plan) ? plan : (plan as Pick<ResolvedPlan, 'steps'>).steps;
  const out = new Map<string, string>();
  let pre = 0;
  let main = 0;
  for (const s of steps) out.set(s.id, s.phase === 'preflight' ? `P${++pre}` : String(++main));
  return out;
}

// Which questions are points of no return. A gate is a POINT OF NO RETURN only when what it
// lets through cannot be undone: a command with no rollback that is not idempotent (a pure
// confirm step guards the step just after it, as the DR lint reads it, when that step runs
// something destructive), or any step marked `irreversible: true`. Every other `confirm:` is
// an ordinary "ask first" question. The plan and the dry run both ask here, so a reader is
// never taught to ignore the warning.
import type { ResolvedPlan, ResolvedStep } from '../model/plan.js';
import { destructiveIn } from '../load/rules/destructive.js';

const cannotBeUndone = (s: ResolvedStep | undefined): boolean =>
  s !== undefined && (s.irreversible === true || (s.action === 'run' && !s.rollback && !s.idempotent));

/** ids of the steps whose question is a point of no return */
export function pointsOfNoReturn(plan: Pick<ResolvedPlan, 'steps'>): Set<string> {
  const out = new Set<string>();
  plan.steps.forEach((s, i) => {
    if (!s.confirm) return;
    if (
      s.irreversible ||
      (s.action === 'run' ? cannotBeUndone(s) : s.action === 'gate' && guardsIrreversible(plan.steps[i + 1]))
    )
      out.add(s.id);
  });
  return out;
}

function guardsIrreversible(next: ResolvedStep | undefined): boolean {
  return (
    next !== undefined &&
    !next.confirm &&
    (next.irreversible === true ||
      (cannotBeUndone(next) && next.run !== undefined && destructiveIn(next.run.source) !== undefined))
  );
}

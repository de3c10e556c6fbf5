// A step's number as the operator sees it: its place in the order a run executes the steps
// (preflight first), from 1 — as the dry run prints them. Used by the live view and --list-steps.
// SWITCH: src/plan/numbering.ts (the one step-numbering function), once it is on main.
import type { ResolvedPlan } from '../model/plan.js';
import { executionOrder } from '../engine/state.js';

export function stepNumbers(plan: ResolvedPlan): Map<string, string> {
  return new Map(executionOrder(plan, 'run').map((s, i) => [s.id, String(i + 1)]));
}

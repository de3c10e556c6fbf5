// The site's recovery order as phases, exactly as written: validation checks it and the plan
// prints it from this one reading (never re-sorted by tier). A bare runbook name in
// `recovery_order` is a phase of its own; `one_of` marks alternatives, of which one is run.
import type { Site } from '../model/types.js';

export type OrderPath = (string | number)[];

export interface OrderChoice {
  runbook: string;
  when?: string;
  path: OrderPath;
}
/** one entry of a phase: a runbook, or alternatives (choices.length > 1) */
export interface OrderEntry {
  choices: OrderChoice[];
  path: OrderPath;
}
export interface OrderPhase {
  name?: string;
  notes?: string;
  entries: OrderEntry[];
  path: OrderPath;
}

export function recoveryPhases(site: Pick<Site, 'recovery_order'>): OrderPhase[] {
  return site.recovery_order.map((item, i) => {
    const path: OrderPath = ['recovery_order', i];
    if (typeof item === 'string') return { entries: [{ choices: [{ runbook: item, path }], path }], path };
    return {
      name: item.phase,
      notes: item.notes,
      path,
      entries: item.runbooks.map((e, j) => {
        const ep: OrderPath = [...path, 'runbooks', j];
        if (typeof e === 'string') return { choices: [{ runbook: e, path: ep }], path: ep };
        return {
          path: ep,
          choices: e.one_of.map((c, k) => ({
            runbook: c.runbook,
            when: c.when,
            path: [...ep, 'one_of', k, 'runbook'],
          })),
        };
      }),
    };
  });
}

/** every runbook the order names, with the index of its phase (first mention) */
export function phaseOf(phases: OrderPhase[]): Map<string, number> {
  const out = new Map<string, number>();
  phases.forEach((p, i) => {
    for (const e of p.entries) for (const c of e.choices) if (!out.has(c.runbook)) out.set(c.runbook, i);
  });
  return out;
}

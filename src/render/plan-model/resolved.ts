// Every runbook of the project resolved against the inventory: its service row, its rehearsal
// status, the hosts it reaches, and how the document's other sections point at it.
import type { Project } from '../../load/project.js';
import type { Site, Tier } from '../../model/types.js';
import type { ResolvedPlan } from '../../model/plan.js';
import { resolvePlan } from '../../plan/resolve.js';
import { parseDuration } from '../../util/duration.js';
import { rehearsalStatus, describeRehearsal, type HistoryRecord, type RehearsalState } from '../../rehearsal/status.js';
import { durationShort } from '../words.js';
import { recoveryPhases, phaseOf } from '../../plan/recovery-order.js';
import { anchorOf, SECTIONS } from './sections.js';

/** text: "current (passed 2026-11-02)", "stale since 2026-08-01", "never rehearsed" */
export interface StatusView {
  state: RehearsalState;
  text: string;
  current: boolean;
}

export interface ServiceRow {
  service: string;
  runbook: string;
  title: string;
  anchor: string;
  version: string;
  tier: Tier;
  rto: string;
  rpo: string;
  owner: string;
  status: StatusView;
}

/** a runbook as other sections point at it: "5.3 Promote the standby" */
export interface RunbookRef {
  runbook: string;
  title: string;
  anchor: string;
  section: string;
  status: StatusView;
}

/** every runbook of the project resolved against the inventory, and what the document keeps of it */
export interface ResolvedRunbooks {
  plans: Map<string, ResolvedPlan>;
  rows: Map<string, ServiceRow>;
  lastPassed: Map<string, HistoryRecord | undefined>;
  /** inventory host → the runbooks whose steps reach it */
  usedBy: Map<string, Set<string>>;
  mayBeDown: Set<string>;
}

export function resolveRunbooks(
  project: Project,
  s: Site,
  inventoryName: string,
  history: HistoryRecord[],
  now: Date,
  out: { inputs: Map<string, string>; rel: (f: string) => string; problems: string[] },
): ResolvedRunbooks {
  const rehearseEveryMs = s.rehearse_every ? parseDuration(s.rehearse_every) : undefined;
  const res: ResolvedRunbooks = {
    plans: new Map(),
    rows: new Map(),
    lastPassed: new Map(),
    usedBy: new Map(),
    mayBeDown: new Set(),
  };
  for (const name of [...project.runbooks.keys()].sort()) {
    let plan: ResolvedPlan;
    try {
      plan = resolvePlan(project, name, inventoryName, { env: {} });
    } catch (e) {
      out.problems.push(
        `runbook '${name}' does not resolve against inventory '${inventoryName}': ${(e as Error).message}`,
      );
      continue;
    }
    res.plans.set(name, plan);
    for (const f of plan.files) out.inputs.set(out.rel(f.path), f.sha256);
    for (const [h, host] of Object.entries(plan.hosts)) {
      if (!res.usedBy.has(h)) res.usedBy.set(h, new Set());
      res.usedBy.get(h)!.add(name);
      if (host.mayBeDown) res.mayBeDown.add(h);
    }
    const st = rehearsalStatus(history, name, plan.digest, rehearseEveryMs, now);
    res.lastPassed.set(name, st.lastPassed);
    const status: StatusView = { state: st.state, text: describeRehearsal(st), current: st.state === 'current' };
    res.rows.set(name, serviceRow(project, name, plan, status));
  }
  return res;
}

function serviceRow(project: Project, name: string, plan: ResolvedPlan, status: StatusView): ServiceRow {
  const r = plan.runbook;
  // objectives as the runbook writes them ("24h" stays "24h")
  const obj = project.runbooks.get(name)?.data.objectives;
  return {
    service: r.service ?? r.title,
    runbook: name,
    title: r.title,
    anchor: anchorOf(name),
    version: r.version,
    tier: r.tier,
    rto: obj?.rto ?? durationShort(r.rtoMs),
    rpo: obj?.rpo ?? durationShort(r.rpoMs),
    owner: r.owner ?? '',
    status,
  };
}

/** the runbooks in the document's order, and how other sections point at them */
export interface RunbookRefs {
  ordered: string[];
  has: (n: string) => boolean;
  ref: (n: string) => RunbookRef;
}

export function runbookRefs(
  project: Project,
  phasesRead: ReturnType<typeof recoveryPhases>,
  rows: Map<string, ServiceRow>,
  problems: string[],
  notes: string[],
): RunbookRefs {
  // the document's runbook order is the site's recovery order as written; runbooks it does
  // not name (included-only ones, or forgotten ones) come after, by name
  const ordered = [...phaseOf(phasesRead).keys()].filter((n) => rows.has(n));
  for (const n of phaseOf(phasesRead).keys())
    if (!project.runbooks.has(n)) problems.push(`recovery_order names '${n}', which is not a runbook of this site`);
  for (const n of [...rows.keys()].sort()) {
    if (ordered.includes(n)) continue;
    ordered.push(n);
    notes.push(`runbook '${n}' is not in the site's recovery_order: it is printed after the others`);
  }
  const refs = new Map<string, RunbookRef>();
  ordered.forEach((n, i) => {
    const r = rows.get(n)!;
    refs.set(n, {
      runbook: n,
      title: r.title,
      anchor: r.anchor,
      section: `${SECTIONS.runbooks}.${i + 1}`,
      status: r.status,
    });
  });
  const ref = (n: string): RunbookRef =>
    refs.get(n) ?? {
      runbook: n,
      title: n,
      anchor: anchorOf(n),
      section: '',
      status: { state: 'never', text: 'unknown runbook', current: false },
    };
  return { ordered, has: (n) => refs.has(n), ref };
}

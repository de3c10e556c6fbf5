// The site's own sections: its services and tiers, the recovery order, the situations that
// say which runbook to take, and the network addresses that move.
import type { Project } from '../../load/project.js';
import type { Inventory, Site, Tier } from '../../model/types.js';
import { resolveHost } from '../../plan/resolve.js';
import { SITE_VAR_VALUE } from '../../plan/template.js';
import type { recoveryPhases } from '../../plan/recovery-order.js';
import type { RunbookRef, RunbookRefs, ServiceRow } from './resolved.js';

/** one place per service: its facts, the runbooks that serve it, what must be back first */
export interface ServiceView {
  id: string;
  name: string;
  anchor: string;
  tier: Tier;
  rto: string;
  rpo: string;
  owner: string;
  runbooks: RunbookRef[];
  /** names of the services that must be back first */
  dependsOn: string[];
  /** checks after recovery, in words */
  verify: string[];
  /** false: the site describes no services; this one is read from its runbook */
  declared: boolean;
}

export interface PhaseChoice extends RunbookRef {
  when?: string;
  tier: Tier;
  service: string;
}
export interface PhaseView {
  number: number;
  name: string;
  notes?: string;
  /** in order; an entry with more than one choice is a set of alternatives: run one */
  entries: { alternatives: boolean; choices: PhaseChoice[] }[];
}

export interface SituationView {
  symptom: string;
  check?: string;
  notWhen?: string;
  runbook: RunbookRef;
}

export interface NetworkView {
  name: string;
  kind: 'vip' | 'dns';
  address?: string;
  /** "db1 (10.0.0.11)" when it names an inventory host */
  normally: string;
  after: { runbook: RunbookRef; holder: string }[];
  notes?: string;
}

/** a site value that is exactly `{{ vars.NAME }}` reads the inventory's var; anything else is text */
function inventoryValue(inv: Inventory, text: string): string {
  const m = SITE_VAR_VALUE.exec(text);
  if (!m) return text;
  const v = inv.vars?.[m[1]];
  return v === undefined ? `${text} (not set in this inventory)` : String(v);
}

/** services: the site's, or (when it describes none) one per runbook from its own fields */
export function serviceViews(
  project: Project,
  s: Site,
  rows: Map<string, ServiceRow>,
  refs: RunbookRefs,
  problems: string[],
): ServiceView[] {
  const { ordered, ref } = refs;
  const services: ServiceView[] = s.services
    ? Object.entries(s.services).map(([id, v]) => ({
        id,
        name: v.name,
        anchor: `service-${id}`,
        tier: v.tier,
        rto: v.rto ?? '',
        rpo: v.rpo ?? '',
        owner: v.owner ?? '',
        runbooks: v.runbooks
          .filter((n) => refs.has(n))
          .map(ref)
          .sort((x, y) => ordered.indexOf(x.runbook) - ordered.indexOf(y.runbook)),
        dependsOn: (v.depends_on ?? []).map((d) => s.services?.[d]?.name ?? d),
        verify: v.verify ?? [],
        declared: true,
      }))
    : ordered.map((n) => {
        const r = rows.get(n)!;
        return {
          id: n,
          name: r.service,
          anchor: `service-${n}`,
          tier: r.tier,
          rto: r.rto,
          rpo: r.rpo,
          owner: r.owner,
          runbooks: [ref(n)],
          dependsOn: [],
          verify: [],
          declared: false,
        };
      });
  if (s.services)
    for (const [id, v] of Object.entries(s.services))
      for (const n of v.runbooks)
        if (!project.runbooks.has(n))
          problems.push(`service '${id}' names '${n}', which is not a runbook of this site`);
  return services;
}

export function phaseViews(
  phasesRead: ReturnType<typeof recoveryPhases>,
  rows: Map<string, ServiceRow>,
  refs: RunbookRefs,
  servicesOf: (n: string) => ServiceView[],
): PhaseView[] {
  return phasesRead.map((p, i) => ({
    number: i + 1,
    name: p.name ?? rows.get(p.entries[0].choices[0].runbook)?.service ?? p.entries[0].choices[0].runbook,
    notes: p.notes,
    entries: p.entries
      .map((e) => ({
        alternatives: e.choices.length > 1,
        choices: e.choices
          .filter((c) => refs.has(c.runbook))
          .map((c) => {
            const svc = servicesOf(c.runbook)[0];
            return {
              ...refs.ref(c.runbook),
              when: c.when,
              tier: svc?.tier ?? rows.get(c.runbook)!.tier,
              service: svc?.name ?? rows.get(c.runbook)!.service,
            };
          }),
      }))
      .filter((e) => e.choices.length),
  }));
}

export function situationViews(project: Project, s: Site, refs: RunbookRefs, problems: string[]): SituationView[] {
  return (s.situations ?? []).map((x) => {
    if (!project.runbooks.has(x.runbook))
      problems.push(`situations name '${x.runbook}', which is not a runbook of this site`);
    return { symptom: x.symptom, check: x.check, notWhen: x.not_when, runbook: refs.ref(x.runbook) };
  });
}

export function networkViews(invData: Inventory, s: Site, refs: RunbookRefs): NetworkView[] {
  const hostWords = (h: string) => (invData.hosts[h] ? `${h} (${resolveHost(invData, h, { env: {} }).address})` : h);
  return (s.network ?? []).map((x) => ({
    name: x.name,
    kind: x.kind,
    address: x.address === undefined ? undefined : inventoryValue(invData, x.address),
    normally: hostWords(x.normally),
    notes: x.notes,
    after: Object.entries(x.after ?? {})
      .filter(([n]) => refs.has(n))
      .map(([n, holder]) => ({ runbook: refs.ref(n), holder: hostWords(holder) })),
  }));
}

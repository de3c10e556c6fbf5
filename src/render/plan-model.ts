// The printed DR plan as data: every runbook of the site resolved against one inventory and
// turned into words and display commands. Pure (no templates, no clock: `now` comes in), so
// HTML, Markdown and tests all read the same model. This file assembles it; its parts are in
// plan-model/: the runbooks resolved, the site's sections, one runbook's section, one step's
// view, the hosts by hand, the change log and the contents.
import path from 'node:path';
import type { Project, Loaded } from '../load/project.js';
import type { Site, Tier } from '../model/types.js';
import { sha256 } from '../plan/resolve.js';
import { packageVersion } from './assets.js';
import type { HistoryRecord } from '../rehearsal/status.js';
import { compareText } from '../util/compare.js';
import { recoveryPhases } from '../plan/recovery-order.js';
import { resolveRunbooks, runbookRefs } from './plan-model/resolved.js';
import {
  networkViews,
  phaseViews,
  serviceViews,
  situationViews,
  type NetworkView,
  type PhaseView,
  type ServiceView,
  type SituationView,
} from './plan-model/site.js';
import { runbookViews, type RunbookView } from './plan-model/runbook.js';
import { hostViews, type HostView } from './plan-model/hosts.js';
import { changeViews, type ChangeSource, type ChangeView } from './plan-model/changes.js';
import { contentsOf, type ContentsEntry } from './plan-model/sections.js';

export const TIERS: Tier[] = ['critical', 'important', 'routine'];
const TIER_WORDS: Record<Tier, string> = {
  critical: 'the business stops',
  important: 'the business slows',
  routine: 'it can wait',
};

export interface InputFile {
  path: string;
  sha256: string;
}

export interface PlanModel {
  organisation: string;
  /** ISO time and a readable form */
  generatedAt: string;
  generated: string;
  lifeboatVersion: string;
  /** sha256 over every input file; digestShort is its first 12 hex digits */
  digest: string;
  digestShort: string;
  inventory: { name: string; environment?: string; description?: string };
  copies: string[];
  contacts: { name: string; role?: string; phone?: string; email?: string; notes?: string }[];
  /** Markdown source */
  escalation?: string;
  rehearseEvery?: string;
  /** the document's numbered sections, runbooks as level 2 (page numbers filled in by the PDF) */
  contents: ContentsEntry[];
  situations: SituationView[];
  services: ServiceView[];
  tiers: { tier: Tier; meaning: string; services: ServiceView[] }[];
  /** the site's recovery order, as written */
  phases: PhaseView[];
  runbooks: RunbookView[];
  network: NetworkView[];
  credentials: { what: string; where: string; who?: string }[];
  changes: ChangeView[];
  hosts: HostView[];
  knownHosts: string[];
  inputs: InputFile[];
  notes: string[];
}

export interface PlanModelOptions {
  now?: Date;
  /** more files the output depends on (templates): they go into the digest */
  extraInputs?: InputFile[];
  /** lifeboat's version printed on the cover (default: the package's) */
  version?: string;
  /** each runbook file's history for the change log (default: its present version only) */
  changes?: ChangeSource;
}

export class PlanModelError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
    this.name = 'PlanModelError';
  }
}

export function planModel(
  project: Project,
  site: Loaded<Site>,
  inventoryName: string,
  history: HistoryRecord[] = [],
  opts: PlanModelOptions = {},
): PlanModel {
  const now = opts.now ?? new Date();
  const inv = project.inventories.get(inventoryName);
  if (!inv)
    throw new PlanModelError(`no inventory named '${inventoryName}'`, [
      `inventories found: ${[...project.inventories.keys()].join(', ') || 'none'}`,
    ]);
  const s = site.data;
  const problems: string[] = [];
  const notes: string[] = [];
  const rel = (f: string) => path.relative(project.root, path.resolve(f)).split(path.sep).join('/');

  const inputs = new Map<string, string>();
  inputs.set(rel(site.file.file), sha256(site.file.text));
  inputs.set(rel(inv.file.file), sha256(inv.file.text));
  const resolved = resolveRunbooks(project, s, inventoryName, history, now, { inputs, rel, problems });
  const { rows } = resolved;

  const phasesRead = recoveryPhases(s);
  const refs = runbookRefs(project, phasesRead, rows, problems, notes);
  const services = serviceViews(project, s, rows, refs, problems);
  const servicesOf = (n: string) => services.filter((v) => v.runbooks.some((r) => r.runbook === n));
  const phases = phaseViews(phasesRead, rows, refs, servicesOf);
  const situations = situationViews(project, s, refs, problems);
  const views = runbookViews(project, resolved, refs, { servicesOf, phases, situations, problems });
  if (problems.length) throw new PlanModelError(`cannot print the plan for inventory '${inventoryName}'`, problems);

  for (const f of opts.extraInputs ?? []) inputs.set(f.path, f.sha256);
  const inputList = [...inputs].map(([p, h]) => ({ path: p, sha256: h })).sort((a, b) => compareText(a.path, b.path));
  const digest = sha256(inputList.map((f) => `${f.path}\0${f.sha256}`).join('\n'));

  const invData = inv.data;
  const knownHosts = Array.isArray(invData.known_hosts)
    ? [...invData.known_hosts]
    : [invData.known_hosts ?? '~/.ssh/known_hosts'];
  const network = networkViews(invData, s, refs);
  const hosts = hostViews(invData, knownHosts, resolved);
  const changes = changeViews(project, views, refs, opts.changes);
  const contents = contentsOf(views);
  return {
    organisation: s.organisation,
    generatedAt: now.toISOString(),
    generated: `${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    lifeboatVersion: opts.version ?? packageVersion(),
    digest,
    digestShort: digest.slice(0, 12),
    inventory: { name: invData.name, environment: invData.environment, description: invData.description },
    copies: s.plan_copies ?? [],
    contacts: s.contacts ?? [],
    escalation: s.escalation,
    rehearseEvery: s.rehearse_every,
    contents,
    situations,
    services,
    tiers: TIERS.map((tier) => ({
      tier,
      meaning: TIER_WORDS[tier],
      services: services.filter((v) => v.tier === tier),
    })).filter((t) => t.services.length),
    phases,
    runbooks: views,
    network,
    credentials: s.credentials ?? [],
    changes,
    hosts,
    knownHosts,
    inputs: inputList,
    notes,
  };
}

// The printed DR plan as data: every runbook of the site resolved against one inventory and
// turned into words and display commands. Pure (no templates, no clock: `now` comes in), so
// HTML, Markdown and tests all read the same model.
import path from 'node:path';
import type { Project, Loaded } from '../load/project.js';
import type { Site, Tier } from '../model/types.js';
import {
  isHostCondition,
  type ResolvedCondition,
  type ResolvedPlan,
  type ResolvedStep,
  type SecretSource,
} from '../model/plan.js';
import type { Inventory } from '../model/types.js';
import { resolvePlan, resolveHost, sha256 } from '../plan/resolve.js';
import { render, SITE_VAR_VALUE, type RenderContext, type Template } from '../plan/template.js';
import { hostFacts, stepContext } from '../plan/context.js';
import { parseDuration } from '../util/duration.js';
import { shellQuote } from '../util/shell-quote.js';
import { packageVersion } from './assets.js';
import { rehearsalStatus, describeRehearsal, type HistoryRecord, type RehearsalState } from '../rehearsal/status.js';
import { describePlannedRpo } from '../engine/rpo.js';
import { code, durationShort, durationWords, expectationWords, untilWords } from './words.js';
import { compareText } from '../util/compare.js';
import { stepNumbers } from '../plan/numbering.js';
import { pointsOfNoReturn } from '../plan/gates.js';
import { recoveryPhases, phaseOf } from '../plan/recovery-order.js';
import { describeEstimateTotal, estimatedSteps, estimateTotal } from '../plan/estimates.js';

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

export interface ChangeEntry {
  date: string;
  version: string;
  note: string;
}
export interface ChangeView {
  runbook: RunbookRef;
  file: string;
  version: string;
  entries: ChangeEntry[];
}
/** a runbook file's history, newest first (from git, or from the file itself) */
export type ChangeSource = (file: string) => ChangeEntry[];

export interface ContentsEntry {
  section: string;
  title: string;
  anchor: string;
  level: 1 | 2;
  page?: number;
}

export interface CommandView {
  /** host names this exact command runs on */
  hosts: string[];
  command: string;
}

export interface StepView {
  /** "P1" for preconditions, "1" … for steps (src/plan/numbering.ts: the same in every view) */
  number: string;
  /** the runbook whose section prints this step */
  runbook: string;
  id: string;
  title: string;
  kind: 'run' | 'manual' | 'gate';
  /** the included runbook the step comes from */
  from?: string;
  /** "db2 (198.18.0.12)", "this machine (local)" */
  hosts: string[];
  strategy?: string;
  sudo?: string;
  env: { name: string; value: string }[];
  commands: CommandView[];
  /** the question asked before the step */
  confirm?: string;
  /** the question guards something that cannot be undone (src/plan/gates.ts) */
  pointOfNoReturn: boolean;
  manual?: string;
  /** what success looks like, in words */
  success?: string;
  limits: string[];
  when: string[];
  /** printed after the command: "Skipped when this succeeds" */
  skipIf?: CommandView[];
  rollback?: CommandView[];
  /** values to write down, each with a ruled blank */
  writeDown: string[];
  notes: string[];
  /** a value condition is already false with this inventory: lifeboat would skip the step */
  skippedHere: boolean;
  /** the step's `estimate:` as the runbook writes durations ("10m") */
  estimate?: string;
}

export interface RoleView {
  role: string;
  host: string;
  address: string;
  mayBeDown: boolean;
}

export interface RunbookView {
  /** "5.2": its section in the document */
  section: string;
  /** situations (from the site) that call for this runbook, and when another one is right */
  useWhen: string[];
  notWhen: string[];
  /** the site's services this runbook serves */
  services: string[];
  name: string;
  anchor: string;
  title: string;
  service: string;
  tier: Tier;
  version: string;
  rto: string;
  rpo: string;
  owner: string;
  file: string;
  digest: string;
  /** Markdown source */
  description?: string;
  status: StatusView;
  /** which step measures the data-loss window, and what the last passed rehearsal measured */
  dataLoss?: string;
  /** the main phase's estimates against the runbook's RTO, in words (absent when no step has one) */
  estimate?: string;
  /** the estimates add up to more than the RTO */
  estimateOverRto?: boolean;
  roles: RoleView[];
  /** hosts the steps reach that are not behind a role (includes, direct host names, local) */
  otherHosts: string[];
  secrets: { name: string; source: string }[];
  includes: string[];
  /** the host lifeboat holds a run lock on, as "db2 (10.0.0.12)" */
  lock?: string;
  preconditions: StepView[];
  steps: StepView[];
}

export interface HostView {
  name: string;
  address: string;
  addressFromSshConfig: boolean;
  user: string;
  port: number;
  jump?: string;
  hostKey?: string;
  knownHosts: string[];
  description?: string;
  mayBeDown: boolean;
  usedBy: string[];
  /** hosts reached through this one */
  jumpFor: string[];
  /** the break-glass command: plain OpenSSH, no lifeboat needed */
  ssh: string;
  /** the key file the command names (-i), as the inventory writes it */
  keyFile?: string;
  /** where the key or password physically lives (never the secret) */
  credentials?: string;
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

export const anchorOf = (runbook: string) => `runbook-${runbook}`;

export function secretLabel(source: SecretSource | undefined, name: string): string {
  if (!source) return `<secret ${name}>`;
  if ('env' in source) return `<from ${source.env}>`;
  if ('file' in source) return `<from file ${source.file}>`;
  return `<typed at the prompt: ${source.prompt}>`;
}

function secretSourceWords(source: SecretSource): string {
  if ('env' in source) return `environment variable ${source.env}`;
  if ('file' in source) return `file ${source.file}`;
  return `asked at a prompt ("${source.prompt}")`;
}

/** `user@address:port` of a jump chain, outermost first, for `ssh -J` */
function jumpChain(inv: Inventory, name: string): string[] {
  const out: string[] = [];
  let h = resolveHost(inv, name, { env: {} });
  while (h.jump) {
    out.unshift(`${h.jump.user}@${h.jump.address}:${h.jump.port}`);
    h = h.jump;
  }
  return out;
}

// the document's own section numbers; runbooks are RUNBOOK_SECTION.1, .2, …
export const SECTIONS = {
  contacts: 1,
  situations: 2,
  services: 3,
  order: 4,
  runbooks: 5,
  verify: 6,
  network: 7,
  breakglass: 8,
  changes: 9,
  appendix: 10,
} as const;

/** a site value that is exactly `{{ vars.NAME }}` reads the inventory's var; anything else is text */
function inventoryValue(inv: Inventory, text: string): string {
  const m = SITE_VAR_VALUE.exec(text);
  if (!m) return text;
  const v = inv.vars?.[m[1]];
  return v === undefined ? `${text} (not set in this inventory)` : String(v);
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

/** every runbook of the project resolved against the inventory, and what the document keeps of it */
interface ResolvedRunbooks {
  plans: Map<string, ResolvedPlan>;
  rows: Map<string, ServiceRow>;
  lastPassed: Map<string, HistoryRecord | undefined>;
  /** inventory host → the runbooks whose steps reach it */
  usedBy: Map<string, Set<string>>;
  mayBeDown: Set<string>;
}

function resolveRunbooks(
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
interface RunbookRefs {
  ordered: string[];
  has: (n: string) => boolean;
  ref: (n: string) => RunbookRef;
}

function runbookRefs(
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

/** services: the site's, or (when it describes none) one per runbook from its own fields */
function serviceViews(
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

function phaseViews(
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

function situationViews(project: Project, s: Site, refs: RunbookRefs, problems: string[]): SituationView[] {
  return (s.situations ?? []).map((x) => {
    if (!project.runbooks.has(x.runbook))
      problems.push(`situations name '${x.runbook}', which is not a runbook of this site`);
    return { symptom: x.symptom, check: x.check, notWhen: x.not_when, runbook: refs.ref(x.runbook) };
  });
}

/** each runbook's section, with when to use it (situations, alternatives) and its services' facts */
function runbookViews(
  project: Project,
  resolved: ResolvedRunbooks,
  refs: RunbookRefs,
  site: {
    servicesOf: (n: string) => ServiceView[];
    phases: PhaseView[];
    situations: SituationView[];
    problems: string[];
  },
): RunbookView[] {
  const { problems } = site;
  const views: RunbookView[] = [];
  for (const n of refs.ordered) {
    const row = resolved.rows.get(n)!;
    const svcs = site.servicesOf(n);
    // the service's facts are the one source; a runbook serving none keeps its own
    const svc = svcs[0];
    const { useWhen, notWhen } = whenToUse(n, site.situations, site.phases);
    try {
      views.push({
        ...runbookView(project, resolved.plans.get(n)!, row, problems, resolved.lastPassed.get(n)),
        section: refs.ref(n).section,
        useWhen,
        notWhen,
        services: svcs.map((v) => v.name),
        ...(svc
          ? {
              service: svcs.map((v) => v.name).join(', '),
              tier: svc.tier,
              rto: svc.rto,
              rpo: svc.rpo,
              owner: svc.owner || row.owner,
            }
          : {}),
      });
    } catch (e) {
      problems.push(`runbook '${n}': ${(e as Error).message}`);
    }
  }
  return views;
}

/** the situations that call for runbook `n`, and (as a set of alternatives) when another is right */
function whenToUse(n: string, situations: SituationView[], phases: PhaseView[]) {
  const useWhen = situations.filter((x) => x.runbook.runbook === n).map((x) => x.symptom);
  const notWhen = situations.filter((x) => x.runbook.runbook === n && x.notWhen).map((x) => x.notWhen!);
  for (const p of phases) {
    for (const e of p.entries) {
      if (!e.alternatives) continue;
      const mine = e.choices.find((c) => c.runbook === n);
      if (!mine) continue;
      if (mine.when) useWhen.push(mine.when);
      for (const o of e.choices)
        if (o !== mine) notWhen.push(`${o.when ?? 'otherwise'}: use ${o.section} ${o.title} instead`);
    }
  }
  return { useWhen, notWhen };
}

function networkViews(invData: Inventory, s: Site, refs: RunbookRefs): NetworkView[] {
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

function hostViews(
  invData: Inventory,
  knownHosts: string[],
  used: Pick<ResolvedRunbooks, 'usedBy' | 'mayBeDown'>,
): HostView[] {
  const jumpFor = new Map<string, string[]>();
  for (const name of Object.keys(invData.hosts).sort()) {
    for (let j = resolveHost(invData, name, { env: {} }).jump; j; j = j.jump)
      jumpFor.set(j.name, [...(jumpFor.get(j.name) ?? []), name]);
  }
  return Object.keys(invData.hosts)
    .sort()
    .map((name) => {
      const h = resolveHost(invData, name, { env: {} });
      const chain = jumpChain(invData, name);
      const keyFile = invData.hosts[name].identity_file ?? invData.defaults?.identity_file;
      return {
        name,
        address: h.address,
        addressFromSshConfig: !invData.hosts[name].address,
        user: h.user,
        port: h.port,
        jump: chain.length ? chain.join(' → ') : undefined,
        hostKey: h.hostKey,
        knownHosts,
        description: invData.hosts[name].description,
        mayBeDown: used.mayBeDown.has(name),
        usedBy: [...(used.usedBy.get(name) ?? [])].sort(),
        jumpFor: jumpFor.get(name) ?? [],
        ssh: breakGlassSsh(h, chain, keyFile, knownHosts),
        keyFile,
        credentials: invData.hosts[name].credentials ?? invData.defaults?.credentials,
      };
    });
}

/** the plain OpenSSH command that reaches a host without lifeboat */
function breakGlassSsh(
  h: { user: string; address: string; port: number },
  chain: string[],
  keyFile: string | undefined,
  knownHosts: string[],
): string {
  const kh =
    knownHosts.length === 1 && knownHosts[0] === '~/.ssh/known_hosts'
      ? ''
      : `-o UserKnownHostsFile=${knownHosts.map((k) => (knownHosts.length > 1 ? `"${k}"` : k)).join(' ')} `;
  // inventory values are quoted like runbook values: the printed command is safe to paste
  // (a leading ~ stays unquoted so the shell expands it)
  const key = keyFile
    ? `-i ${keyFile.startsWith('~/') ? `~/${shellQuote(keyFile.slice(2))}` : shellQuote(keyFile)} -o IdentitiesOnly=yes `
    : '';
  return `ssh ${key}${kh}${chain.length ? `-J ${shellQuote(chain.join(','))} ` : ''}${shellQuote(`${h.user}@${h.address}`)} -p ${h.port}`;
}

function changeViews(
  project: Project,
  views: RunbookView[],
  refs: RunbookRefs,
  changes: ChangeSource | undefined,
): ChangeView[] {
  return views.map((v) => {
    const entries = changes?.(path.resolve(project.root, v.file)) ?? [];
    return {
      runbook: refs.ref(v.name),
      file: v.file,
      version: v.version,
      entries: entries.length
        ? entries
        : [{ date: '', version: v.version, note: 'present version (no history found)' }],
    };
  });
}

function contentsOf(views: RunbookView[]): ContentsEntry[] {
  return [
    { section: String(SECTIONS.contacts), title: 'Contacts and escalation', anchor: 'contacts', level: 1 },
    {
      section: String(SECTIONS.situations),
      title: 'Which runbook? Symptoms and situations',
      anchor: 'situations',
      level: 1,
    },
    { section: String(SECTIONS.services), title: 'Services', anchor: 'services', level: 1 },
    { section: String(SECTIONS.order), title: 'Recovery order', anchor: 'order', level: 1 },
    { section: String(SECTIONS.runbooks), title: 'Runbooks', anchor: views[0]?.anchor ?? 'order', level: 1 },
    ...views.map((v): ContentsEntry => ({ section: v.section, title: v.title, anchor: v.anchor, level: 2 })),
    { section: String(SECTIONS.verify), title: 'After recovery: verification checklist', anchor: 'verify', level: 1 },
    {
      section: String(SECTIONS.network),
      title: 'Network addresses and where credentials live',
      anchor: 'network',
      level: 1,
    },
    {
      section: String(SECTIONS.breakglass),
      title: 'Break glass: reaching each host by hand',
      anchor: 'breakglass',
      level: 1,
    },
    { section: String(SECTIONS.changes), title: 'Change log', anchor: 'changes', level: 1 },
    { section: String(SECTIONS.appendix), title: 'Appendix: hosts and input files', anchor: 'appendix', level: 1 },
  ];
}

/** what the views of one runbook's steps share */
interface StepViewContext {
  plan: ResolvedPlan;
  problems: string[];
  facts: ReturnType<typeof hostFacts>;
  secretsOf: (runbook: string) => Record<string, SecretSource>;
  numbers: Map<string, string>;
  pnr: Set<string>;
}

function runbookView(
  project: Project,
  plan: ResolvedPlan,
  row: ServiceRow,
  problems: string[],
  lastRehearsal?: HistoryRecord,
): Omit<RunbookView, 'section' | 'useWhen' | 'notWhen' | 'services'> {
  // included runbooks bring their own secrets; every one is shown by where it comes from
  const secretSources: Record<string, Record<string, SecretSource>> = {};
  const secretsOf = (runbook: string) =>
    (secretSources[runbook] ??= (project.runbooks.get(runbook)?.data.secrets ?? {}) as Record<string, SecretSource>);
  const vc: StepViewContext = {
    plan,
    problems,
    facts: hostFacts(plan),
    secretsOf,
    numbers: stepNumbers(plan),
    pnr: pointsOfNoReturn(plan),
  };
  const pre = plan.steps.filter((st) => st.phase === 'preflight');
  const main = plan.steps.filter((st) => st.phase !== 'preflight');
  const roleHosts = new Set(Object.values(plan.roles));
  const r = plan.runbook;
  const secrets = secretViews(project, plan, secretsOf);
  const estimates = estimateTotal(estimatedSteps(plan.steps), r.rtoMs);
  return {
    ...(estimates.estimated ? { estimate: describeEstimateTotal(estimates), estimateOverRto: estimates.over } : {}),
    name: r.name,
    anchor: row.anchor,
    title: r.title,
    service: row.service,
    tier: r.tier,
    version: r.version,
    rto: row.rto,
    rpo: row.rpo,
    owner: row.owner,
    file: path.relative(project.root, path.resolve(r.file)).split(path.sep).join('/'),
    digest: plan.digest,
    description: r.description,
    status: row.status,
    dataLoss: describePlannedRpo(plan, lastRehearsal),
    roles: Object.entries(plan.roles).map(([role, host]) => ({
      role,
      host,
      address: plan.hosts[host]?.address ?? host,
      mayBeDown: plan.hosts[host]?.mayBeDown ?? false,
    })),
    otherHosts: Object.keys(plan.hosts)
      .filter((h) => !roleHosts.has(h))
      .sort()
      .map((h) => hostLabel(plan, h)),
    secrets,
    includes: [...new Set(plan.steps.filter((st) => st.runbook !== r.name).map((st) => st.runbook))],
    lock: plan.lock ? hostLabel(plan, plan.lock.host) : undefined,
    preconditions: pre.map((step) => stepView(vc, step)),
    steps: main.map((step) => stepView(vc, step)),
  };
}

/** the runbook's secrets and its includes', each by where it comes from */
function secretViews(
  project: Project,
  plan: ResolvedPlan,
  secretsOf: (runbook: string) => Record<string, SecretSource>,
): { name: string; source: string }[] {
  const r = plan.runbook;
  const secrets: { name: string; source: string }[] = [];
  for (const rb of [
    r.name,
    ...plan.files
      .filter((f) => f.role === 'include')
      .map((f) => [...project.runbooks.values()].find((l) => l.file.file === f.path)?.data.name ?? ''),
  ]) {
    for (const [n, src] of Object.entries(secretsOf(rb)))
      secrets.push({ name: rb === r.name ? n : `${rb}: ${n}`, source: secretSourceWords(src) });
  }
  return secrets;
}

const hostLabel = (plan: ResolvedPlan, h: string) =>
  h === 'local' ? 'this machine (local)' : `${h} (${plan.hosts[h]?.address ?? h})`;

function ctxFor(vc: StepViewContext, step: ResolvedStep, host: string | undefined): RenderContext {
  const sources = vc.secretsOf(step.runbook);
  const ctx = stepContext(
    vc.plan,
    step,
    host,
    {},
    Object.fromEntries(Object.keys(sources).map((k) => [k, ''])),
    vc.facts,
  );
  ctx.secretLabel = (n) => secretLabel(sources[n], n);
  ctx.pendingCaptured = (n) => `<captured ${n}>`;
  return ctx;
}

/** a template as printed; a template that cannot be shown is a problem (and prints empty) */
function show(
  vc: StepViewContext,
  step: ResolvedStep,
  t: Template,
  host: string | undefined,
  mode: 'shell-display' | 'text-display',
): string {
  try {
    return render(t, ctxFor(vc, step, host), mode);
  } catch (e) {
    vc.problems.push(
      `${step.source.file}:${step.source.line}:${step.source.col}: step '${step.id}': ${(e as Error).message}`,
    );
    return '';
  }
}

/** the command on each of the step's hosts; hosts with the same command share one entry */
function perHost(vc: StepViewContext, step: ResolvedStep, t: Template): CommandView[] {
  const targets = step.hosts.length ? step.hosts : [undefined];
  const out: CommandView[] = [];
  for (const h of targets) {
    const command = show(vc, step, t, h, 'shell-display');
    const same = out.find((c) => c.command === command);
    if (same) {
      if (h) same.hosts.push(h);
    } else out.push({ hosts: h ? [h] : [], command });
  }
  return out;
}

/** a `when:` condition in words; `skipped`: it is already false with this inventory */
function whenWords(vc: StepViewContext, step: ResolvedStep, c: ResolvedCondition): { words: string; skipped: boolean } {
  if (isHostCondition(c)) {
    const addr = c.host === 'local' ? 'this machine' : `${c.host}, ${vc.plan.hosts[c.host]?.address ?? c.host}`;
    const who = c.role ? `${c.role} (${addr})` : hostLabel(vc.plan, c.host);
    return {
      words: `only when ${who} ${c.kind === 'unreachable' ? 'cannot be reached' : 'can be reached'}`,
      skipped: false,
    };
  }
  const v = show(vc, step, c.value, step.hosts[0], 'text-display');
  // an empty value prints as its template, so the reader sees what is compared
  const subject = v === '' ? `${code(c.value.source)} (empty here)` : code(v);
  const words =
    c.kind === 'matches'
      ? `only when ${subject} matches ${code(`/${c.operand}/`)}`
      : `only when ${subject} ${c.kind === 'equals' ? 'is' : 'is not'} ${c.operand === '' ? 'empty' : code(c.operand)}`;
  // without captured values the answer is already known for this inventory: say it
  if (c.value.refs.some((r) => r.parts[0] === 'captured')) return { words, skipped: false };
  let holds: boolean;
  try {
    holds =
      c.kind === 'equals' ? v === c.operand : c.kind === 'not_equals' ? v !== c.operand : new RegExp(c.operand).test(v);
  } catch {
    return { words, skipped: false };
  }
  return { words: `${words}: with this inventory it ${holds ? 'runs' : 'is skipped'}`, skipped: !holds };
}

function stepView(vc: StepViewContext, step: ResolvedStep): StepView {
  const { plan } = vc;
  const number = vc.numbers.get(step.id)!;
  const conditions = step.when.map((c) => whenWords(vc, step, c));
  const notes: string[] = [];
  const mayBeDownHosts = step.hosts.filter((h) => plan.hosts[h]?.mayBeDown);
  if (mayBeDownHosts.length)
    notes.push(`${mayBeDownHosts.join(', ')} may be down: if it cannot be reached, skip this step and note it.`);
  return {
    number,
    runbook: plan.runbook.name,
    id: step.id,
    title: step.title,
    kind: step.action,
    from: step.runbook !== plan.runbook.name ? step.runbook : undefined,
    hosts: step.hosts.map((h) => hostLabel(plan, h)),
    strategy:
      step.hosts.length > 1
        ? step.strategy === 'serial'
          ? 'one host after the other'
          : 'on all hosts at once'
        : undefined,
    sudo: sudoWords(step),
    env: Object.entries(step.env).map(([name, t]) => ({
      name,
      value: show(vc, step, t, step.hosts[0], 'shell-display'),
    })),
    commands: step.run ? perHost(vc, step, step.run) : [],
    confirm: step.confirm ? show(vc, step, step.confirm, step.hosts[0], 'text-display') : undefined,
    pointOfNoReturn: vc.pnr.has(step.id),
    manual: step.manual ? show(vc, step, step.manual, undefined, 'text-display') : undefined,
    success: successWords(step),
    limits: limitWords(step),
    when: conditions.map((c) => c.words),
    skippedHere: conditions.some((c) => c.skipped),
    skipIf: step.skipIf ? perHost(vc, step, step.skipIf) : undefined,
    rollback: step.rollback ? perHost(vc, step, step.rollback) : undefined,
    writeDown: writeDownWords(step),
    notes,
    ...(step.estimateMs !== undefined ? { estimate: durationShort(step.estimateMs) } : {}),
  };
}

/** timeouts, retries and what a failure does, in words */
function limitWords(step: ResolvedStep): string[] {
  const limits: string[] = [];
  if (step.timeoutMs !== undefined && !step.until) limits.push(`gives up after ${durationWords(step.timeoutMs)}`);
  if (step.retries > 0)
    limits.push(
      `retried up to ${step.retries} time${step.retries === 1 ? '' : 's'}, ${durationWords(step.retryDelayMs)} apart`,
    );
  if (step.onFailure === 'continue') limits.push('if it fails, carry on with the next step');
  if (step.onFailure === 'abort') limits.push('if it fails, stop and roll back');
  if (step.idempotent) limits.push('safe to run twice');
  return limits;
}

function writeDownWords(step: ResolvedStep): string[] {
  const writeDown: string[] = [];
  if (step.capture) writeDown.push(`Its output (later steps use it as ${code(`<captured ${step.capture}>`)})`);
  if (step.record) writeDown.push(`The value (later steps use it as ${code(`<captured ${step.record}>`)})`);
  return writeDown;
}

function successWords(step: ResolvedStep): string | undefined {
  if (step.action !== 'run') return undefined;
  return step.until ? untilWords(step.until, step.intervalMs, step.timeoutMs) : expectationWords(step.expect);
}

function sudoWords(step: ResolvedStep): string | undefined {
  if (step.sudo === true) return 'as root (sudo)';
  return typeof step.sudo === 'string' && step.sudo ? `as user ${step.sudo} (sudo -u ${step.sudo})` : undefined;
}

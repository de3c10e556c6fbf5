// The printed DR plan as data: every runbook of the site resolved against one inventory and
// turned into words and display commands. Pure (no templates, no clock: `now` comes in), so
// HTML, Markdown and tests all read the same model.
import path from 'node:path';
import type { Project, Loaded } from '../load/project.js';
import type { Site, Tier } from '../model/types.js';
import { isHostCondition, type ResolvedCondition, type ResolvedPlan, type ResolvedStep, type SecretSource } from '../model/plan.js';
import type { Inventory } from '../model/types.js';
import { resolvePlan, resolveHost, sha256 } from '../plan/resolve.js';
import { render, type RenderContext, type Template } from '../plan/template.js';
import { hostFacts, stepContext } from '../plan/context.js';
import { parseDuration } from '../util/duration.js';
import { shellQuote } from '../util/shell-quote.js';
import { packageVersion } from './assets.js';
import { rehearsalStatus, describeRehearsal, type HistoryEntry, type RehearsalState } from './rehearsal-status.js';
import { describePlannedRpo } from '../engine/rpo.js';
import { code, durationShort, durationWords, expectationWords, untilWords } from './words.js';
import { compareText } from '../util/compare.js';

export const TIERS: Tier[] = ['critical', 'important', 'routine'];
const TIER_WORDS: Record<Tier, string> = { critical: 'the business stops', important: 'the business slows', routine: 'it can wait' };

export interface InputFile { path: string; sha256: string }

/** text: "current (passed 2026-11-02)", "stale since 2026-08-01", "never rehearsed" */
export interface StatusView { state: RehearsalState; text: string; current: boolean }

export interface ServiceRow {
  service: string; runbook: string; title: string; anchor: string; version: string;
  tier: Tier; rto: string; rpo: string; owner: string; status: StatusView;
}

export interface CommandView {
  /** host names this exact command runs on */
  hosts: string[];
  command: string;
}

export interface StepView {
  /** "P1" for preconditions, "1" … for steps */
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
  /** point of no return: the question asked before the step */
  confirm?: string;
  manual?: string;
  /** what success looks like, in words */
  success?: string;
  limits: string[];
  when: string[];
  skipIf?: CommandView[];
  rollback?: CommandView[];
  notes: string[];
  /** a value condition is already false with this inventory: lifeboat would skip the step */
  skippedHere: boolean;
}

export interface RoleView { role: string; host: string; address: string; mayBeDown: boolean }

export interface RunbookView {
  name: string; anchor: string; title: string; service: string; tier: Tier; version: string;
  rto: string; rpo: string; owner: string; file: string; digest: string;
  /** Markdown source */
  description?: string;
  status: StatusView;
  /** which step measures the data-loss window, and what the last passed rehearsal measured */
  dataLoss?: string;
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
  name: string; address: string; addressFromSshConfig: boolean; user: string; port: number;
  jump?: string; hostKey?: string; knownHosts: string[]; description?: string;
  mayBeDown: boolean; usedBy: string[];
  /** hosts reached through this one */
  jumpFor: string[];
  /** the break-glass command: plain OpenSSH, no lifeboat needed */
  ssh: string;
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
  tiers: { tier: Tier; meaning: string; services: ServiceRow[] }[];
  order: ServiceRow[];
  runbooks: RunbookView[];
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
}

export class PlanModelError extends Error {
  constructor(message: string, readonly problems: string[]) { super(message); this.name = 'PlanModelError'; }
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
  while (h.jump) { out.unshift(`${h.jump.user}@${h.jump.address}:${h.jump.port}`); h = h.jump; }
  return out;
}

function orderRows(rows: ServiceRow[], order: string[]): ServiceRow[] {
  const pos = (n: string) => { const i = order.indexOf(n); return i < 0 ? Number.MAX_SAFE_INTEGER : i; };
  return [...rows].sort((a, b) => TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier) || pos(a.runbook) - pos(b.runbook) || compareText(a.runbook, b.runbook));
}

export function planModel(project: Project, site: Loaded<Site>, inventoryName: string, history: HistoryEntry[] = [], opts: PlanModelOptions = {}): PlanModel {
  const now = opts.now ?? new Date();
  const inv = project.inventories.get(inventoryName);
  if (!inv) throw new PlanModelError(`no inventory named '${inventoryName}'`, [`inventories found: ${[...project.inventories.keys()].join(', ') || 'none'}`]);
  const s = site.data;
  const rehearseEveryMs = s.rehearse_every ? parseDuration(s.rehearse_every) : undefined;
  const problems: string[] = [];
  const notes: string[] = [];
  const rel = (f: string) => path.relative(project.root, path.resolve(f)).split(path.sep).join('/');

  const inputs = new Map<string, string>();
  inputs.set(rel(site.file.file), sha256(site.file.text));
  inputs.set(rel(inv.file.file), sha256(inv.file.text));

  const usedBy = new Map<string, Set<string>>();
  const mayBeDown = new Set<string>();
  const rows: ServiceRow[] = [];
  const views: RunbookView[] = [];

  for (const name of [...project.runbooks.keys()].sort()) {
    let plan: ResolvedPlan;
    try {
      plan = resolvePlan(project, name, inventoryName, { env: {} });
    } catch (e) {
      problems.push(`runbook '${name}' does not resolve against inventory '${inventoryName}': ${(e as Error).message}`);
      continue;
    }
    for (const f of plan.files) inputs.set(rel(f.path), f.sha256);
    for (const [h, host] of Object.entries(plan.hosts)) {
      if (!usedBy.has(h)) usedBy.set(h, new Set());
      usedBy.get(h)!.add(name);
      if (host.mayBeDown) mayBeDown.add(h);
    }
    const st = rehearsalStatus(history, name, plan.digest, rehearseEveryMs, now);
    const status: StatusView = { state: st.state, text: describeRehearsal(st), current: st.state === 'current' };
    const r = plan.runbook;
    // objectives as the runbook writes them ("24h" stays "24h")
    const obj = project.runbooks.get(name)?.data.objectives;
    const row: ServiceRow = {
      service: r.service ?? r.title, runbook: name, title: r.title, anchor: anchorOf(name), version: r.version, tier: r.tier,
      rto: obj?.rto ?? durationShort(r.rtoMs), rpo: obj?.rpo ?? durationShort(r.rpoMs), owner: r.owner ?? '', status,
    };
    rows.push(row);
    try {
      views.push(runbookView(project, plan, row, problems, st.lastPassed));
    } catch (e) {
      problems.push(`runbook '${name}': ${(e as Error).message}`);
    }
    if (!s.recovery_order.includes(name)) notes.push(`runbook '${name}' is not in the site's recovery_order: it is listed last in its tier`);
  }
  for (const n of s.recovery_order) if (!project.runbooks.has(n)) problems.push(`recovery_order names '${n}', which is not a runbook of this site`);
  if (problems.length) throw new PlanModelError(`cannot print the plan for inventory '${inventoryName}'`, problems);

  for (const f of opts.extraInputs ?? []) inputs.set(f.path, f.sha256);
  const inputList = [...inputs].map(([p, h]) => ({ path: p, sha256: h })).sort((a, b) => compareText(a.path, b.path));
  const digest = sha256(inputList.map((f) => `${f.path}\0${f.sha256}`).join('\n'));

  const order = orderRows(rows, s.recovery_order);
  views.sort((a, b) => order.findIndex((r) => r.runbook === a.name) - order.findIndex((r) => r.runbook === b.name));

  const invData = inv.data;
  const knownHosts = Array.isArray(invData.known_hosts) ? [...invData.known_hosts] : [invData.known_hosts ?? '~/.ssh/known_hosts'];
  const jumpFor = new Map<string, string[]>();
  for (const name of Object.keys(invData.hosts).sort()) {
    for (let j = resolveHost(invData, name, { env: {} }).jump; j; j = j.jump) jumpFor.set(j.name, [...(jumpFor.get(j.name) ?? []), name]);
  }
  const hosts: HostView[] = Object.keys(invData.hosts).sort().map((name) => {
    const h = resolveHost(invData, name, { env: {} });
    const chain = jumpChain(invData, name);
    const kh = knownHosts.length === 1 && knownHosts[0] === '~/.ssh/known_hosts' ? '' : `-o UserKnownHostsFile=${knownHosts.map((k) => (knownHosts.length > 1 ? `"${k}"` : k)).join(' ')} `;
    // inventory values are quoted like runbook values: the printed command is safe to paste
    const ssh = `ssh ${kh}${chain.length ? `-J ${shellQuote(chain.join(','))} ` : ''}${shellQuote(`${h.user}@${h.address}`)} -p ${h.port}`;
    return {
      name, address: h.address, addressFromSshConfig: !invData.hosts[name].address, user: h.user, port: h.port,
      jump: chain.length ? chain.join(' → ') : undefined, hostKey: h.hostKey, knownHosts, description: invData.hosts[name].description,
      mayBeDown: mayBeDown.has(name), usedBy: [...(usedBy.get(name) ?? [])].sort(), jumpFor: jumpFor.get(name) ?? [], ssh,
    };
  });

  return {
    organisation: s.organisation,
    generatedAt: now.toISOString(),
    generated: `${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    lifeboatVersion: opts.version ?? packageVersion(),
    digest, digestShort: digest.slice(0, 12),
    inventory: { name: invData.name, environment: invData.environment, description: invData.description },
    copies: s.plan_copies ?? [],
    contacts: s.contacts ?? [],
    escalation: s.escalation,
    rehearseEvery: s.rehearse_every,
    tiers: TIERS.map((tier) => ({ tier, meaning: TIER_WORDS[tier], services: order.filter((r) => r.tier === tier) })).filter((t) => t.services.length),
    order,
    runbooks: views,
    hosts,
    knownHosts,
    inputs: inputList,
    notes,
  };
}

function runbookView(project: Project, plan: ResolvedPlan, row: ServiceRow, problems: string[], lastRehearsal?: HistoryEntry): RunbookView {
  const facts = hostFacts(plan);
  const hostLabel = (h: string) => (h === 'local' ? 'this machine (local)' : `${h} (${plan.hosts[h]?.address ?? h})`);
  // included runbooks bring their own secrets; every one is shown by where it comes from
  const secretSources: Record<string, Record<string, SecretSource>> = {};
  const secretsOf = (runbook: string) => (secretSources[runbook] ??= (project.runbooks.get(runbook)?.data.secrets ?? {}) as Record<string, SecretSource>);

  const ctxFor = (step: ResolvedStep, host: string | undefined): RenderContext => {
    const sources = secretsOf(step.runbook);
    const ctx = stepContext(plan, step, host, {}, Object.fromEntries(Object.keys(sources).map((k) => [k, ''])), facts);
    ctx.secretLabel = (n) => secretLabel(sources[n], n);
    ctx.pendingCaptured = (n) => `<captured ${n}>`;
    return ctx;
  };
  const show = (step: ResolvedStep, t: Template, host: string | undefined, mode: 'shell-display' | 'text-display'): string => {
    try {
      return render(t, ctxFor(step, host), mode);
    } catch (e) {
      problems.push(`${step.source.file}:${step.source.line}:${step.source.col}: step '${step.id}': ${(e as Error).message}`);
      return '';
    }
  };
  const perHost = (step: ResolvedStep, t: Template): CommandView[] => {
    const targets = step.hosts.length ? step.hosts : [undefined];
    const out: CommandView[] = [];
    for (const h of targets) {
      const command = show(step, t, h, 'shell-display');
      const same = out.find((c) => c.command === command);
      if (same) { if (h) same.hosts.push(h); } else out.push({ hosts: h ? [h] : [], command });
    }
    return out;
  };
  let skippedHere = false;
  const whenWords = (step: ResolvedStep, c: ResolvedCondition): string => {
    if (isHostCondition(c)) {
      const addr = c.host === 'local' ? 'this machine' : `${c.host}, ${plan.hosts[c.host]?.address ?? c.host}`;
      const who = c.role ? `${c.role} (${addr})` : hostLabel(c.host);
      return `only when ${who} ${c.kind === 'unreachable' ? 'cannot be reached' : 'can be reached'}`;
    }
    const v = show(step, c.value, step.hosts[0], 'text-display');
    // an empty value prints as its template, so the reader sees what is compared
    const subject = v === '' ? `${code(c.value.source)} (empty here)` : code(v);
    const words = c.kind === 'matches'
      ? `only when ${subject} matches ${code(`/${c.operand}/`)}`
      : `only when ${subject} ${c.kind === 'equals' ? 'is' : 'is not'} ${c.operand === '' ? 'empty' : code(c.operand)}`;
    // without captured values the answer is already known for this inventory: say it
    if (c.value.refs.some((r) => r.parts[0] === 'captured')) return words;
    let holds: boolean;
    try {
      holds = c.kind === 'equals' ? v === c.operand : c.kind === 'not_equals' ? v !== c.operand : new RegExp(c.operand).test(v);
    } catch { return words; }
    if (!holds) skippedHere = true;
    return `${words}: with this inventory it ${holds ? 'runs' : 'is skipped'}`;
  };

  const stepView = (step: ResolvedStep, number: string): StepView => {
    skippedHere = false;
    const when = step.when.map((c) => whenWords(step, c));
    const limits: string[] = [];
    if (step.timeoutMs !== undefined && !step.until) limits.push(`gives up after ${durationWords(step.timeoutMs)}`);
    if (step.retries > 0) limits.push(`retried up to ${step.retries} time${step.retries === 1 ? '' : 's'}, ${durationWords(step.retryDelayMs)} apart`);
    if (step.onFailure === 'continue') limits.push('if it fails, carry on with the next step');
    if (step.onFailure === 'abort') limits.push('if it fails, stop and roll back');
    if (step.idempotent) limits.push('safe to run twice');
    const notes: string[] = [];
    if (step.capture) notes.push(`Write down its output: later steps use it as ${code(`<captured ${step.capture}>`)}.`);
    if (step.record) notes.push(`Write down the value: later steps use it as ${code(`<captured ${step.record}>`)}.`);
    const mayBeDownHosts = step.hosts.filter((h) => plan.hosts[h]?.mayBeDown);
    if (mayBeDownHosts.length) notes.push(`${mayBeDownHosts.join(', ')} may be down: if it cannot be reached, skip this step and note it.`);
    const success = step.action !== 'run' ? undefined : step.until ? untilWords(step.until, step.intervalMs, step.timeoutMs) : expectationWords(step.expect);
    const sudo = step.sudo === true ? 'as root (sudo)' : typeof step.sudo === 'string' && step.sudo ? `as user ${step.sudo} (sudo -u ${step.sudo})` : undefined;
    return {
      number, runbook: plan.runbook.name, id: step.id, title: step.title,
      kind: step.action,
      from: step.runbook !== plan.runbook.name ? step.runbook : undefined,
      hosts: step.hosts.map(hostLabel),
      strategy: step.hosts.length > 1 ? (step.strategy === 'serial' ? 'one host after the other' : 'on all hosts at once') : undefined,
      sudo,
      env: Object.entries(step.env).map(([name, t]) => ({ name, value: show(step, t, step.hosts[0], 'shell-display') })),
      commands: step.run ? perHost(step, step.run) : [],
      confirm: step.confirm ? show(step, step.confirm, step.hosts[0], 'text-display') : undefined,
      manual: step.manual ? show(step, step.manual, undefined, 'text-display') : undefined,
      success,
      limits,
      when,
      skippedHere,
      skipIf: step.skipIf ? perHost(step, step.skipIf) : undefined,
      rollback: step.rollback ? perHost(step, step.rollback) : undefined,
      notes,
    };
  };

  const pre = plan.steps.filter((st) => st.phase === 'preflight');
  const main = plan.steps.filter((st) => st.phase !== 'preflight');
  const roleHosts = new Set(Object.values(plan.roles));
  const r = plan.runbook;
  const secrets: { name: string; source: string }[] = [];
  for (const rb of [r.name, ...plan.files.filter((f) => f.role === 'include').map((f) => [...project.runbooks.values()].find((l) => l.file.file === f.path)?.data.name ?? '')]) {
    for (const [n, src] of Object.entries(secretsOf(rb))) secrets.push({ name: rb === r.name ? n : `${rb}: ${n}`, source: secretSourceWords(src) });
  }
  return {
    name: r.name, anchor: row.anchor, title: r.title, service: row.service, tier: r.tier, version: r.version,
    rto: row.rto, rpo: row.rpo, owner: row.owner, file: path.relative(project.root, path.resolve(r.file)).split(path.sep).join('/'), digest: plan.digest,
    description: r.description,
    status: row.status,
    dataLoss: describePlannedRpo(plan, lastRehearsal),
    roles: Object.entries(plan.roles).map(([role, host]) => ({ role, host, address: plan.hosts[host]?.address ?? host, mayBeDown: plan.hosts[host]?.mayBeDown ?? false })),
    otherHosts: Object.keys(plan.hosts).filter((h) => !roleHosts.has(h)).sort().map(hostLabel),
    secrets,
    includes: [...new Set(plan.steps.filter((st) => st.runbook !== r.name).map((st) => st.runbook))],
    lock: plan.lock ? hostLabel(plan.lock.host) : undefined,
    preconditions: pre.map((st, i) => stepView(st, `P${i + 1}`)),
    steps: main.map((st, i) => stepView(st, String(i + 1))),
  };
}

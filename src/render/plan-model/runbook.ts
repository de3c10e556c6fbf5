// One runbook's section: its facts (from its services when it serves any), when to use it,
// its roles, hosts and secrets, and its steps.
import path from 'node:path';
import type { Project } from '../../load/project.js';
import type { Tier } from '../../model/types.js';
import type { ResolvedPlan, SecretSource } from '../../model/plan.js';
import type { HistoryRecord } from '../../rehearsal/status.js';
import { describePlannedRpo } from '../../engine/rpo.js';
import { hostFacts } from '../../plan/context.js';
import { stepNumbers } from '../../plan/numbering.js';
import { pointsOfNoReturn } from '../../plan/gates.js';
import { describeEstimateTotal, estimatedSteps, estimateTotal } from '../../plan/estimates.js';
import type { ResolvedRunbooks, RunbookRefs, ServiceRow, StatusView } from './resolved.js';
import type { PhaseView, ServiceView, SituationView } from './site.js';
import { hostLabel, stepView, type StepView, type StepViewContext } from './step.js';

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

/** each runbook's section, with when to use it (situations, alternatives) and its services' facts */
export function runbookViews(
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

function secretSourceWords(source: SecretSource): string {
  if ('env' in source) return `environment variable ${source.env}`;
  if ('file' in source) return `file ${source.file}`;
  return `asked at a prompt ("${source.prompt}")`;
}

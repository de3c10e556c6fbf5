// Readiness: would recovery work today? Between drills plans rot (a standby falls behind, a
// backup stops, a host key changes, sudo is removed). For every runbook of the site this runs
// the runbook's own preflight (plus the sudo check `preflight` adds, and the step that measures
// the RPO where a runbook declares one) against one inventory, all runbooks at once, through the
// same runner as a run: nothing but read-only checks, no journal on disk, no lock, no history.
import type { CliIO } from '../cli/io.js';
import { planFacts, type JournalRecord, type RunStartedEvent } from '../engine/events.js';
import type { Operator, Reporter } from '../ports.js';
import { closeAll, type Transports } from '../transport/registry.js';
import type { Project } from '../load/project.js';
import type { HistoryRecord } from '../rehearsal/history.js';
import type { ResolvedPlan } from '../model/plan.js';
import { UnitStatus, initState, stepOf, type RunState } from '../engine/state.js';
import { drillRows, ago } from '../rehearsal/drills.js';
import type { RehearsalState } from '../rehearsal/status.js';
import { formatDuration } from '../util/duration.js';
import { assessRpo, describeRpo, rpoSteps, type RpoEvidence } from '../engine/rpo.js';

export interface CheckResult {
  step: string;
  host: string;
  result: 'ok' | 'failed' | 'skipped' | 'not run';
  detail?: string;
}

export interface ServiceReadiness {
  runbook: string;
  service: string;
  tier: string;
  ready: boolean;
  /** why not ready, in words (empty when ready) */
  reasons: string[];
  /** things worth knowing that do not make it not ready */
  notes: string[];
  checks: CheckResult[];
  /**
   * the measured data-loss window against the RPO (src/engine/rpo.ts, as a run judges it) and its words; undefined when
   * the runbook declares no evidence
   */
  rpo?: ReadinessRpo;
  rpoObjective?: string;
  drill: { state: RehearsalState; reason?: string; last?: string; lastResult?: string; ago?: string };
  durationMs: number;
}

export type ReadinessRpo = RpoEvidence & { words: string };

/**
 * The data-loss window a readiness check measured: the run's own verdict and wording, or undefined when the step
 * captured nothing.
 */
export function readinessRpo(
  step: string,
  capture: string,
  value: string | undefined,
  rpoMs: number | undefined,
): ReadinessRpo | undefined {
  if (value === undefined) return undefined;
  const e = assessRpo(step, capture, value, rpoMs);
  return { ...e, words: describeRpo(e) };
}

export interface ReadinessReport {
  inventory: string;
  at: string;
  services: ServiceReadiness[];
  /** critical services that are not ready: exit 1 */
  criticalNotReady: string[];
}

/** What readiness needs from the run machinery (the run command's own functions, passed in). */
export interface ReadinessDeps {
  prepare(runbook: string, inventory: string, io: CliIO): Promise<{ plan: ResolvedPlan; project: Project }>;
  addSudoChecks(prepared: { plan: ResolvedPlan }): void;
  resolveSecrets(
    plan: ResolvedPlan,
    io: CliIO,
    operator: undefined,
    warn: (s: string) => void,
  ): Promise<Record<string, string>>;
  makeTransports(io: CliIO, opts: { acceptNewHostKeys?: boolean }, operator: Operator): Promise<Transports>;
  operator: Operator;
  version: string;
}

/** A reporter that keeps nothing but the notes (readiness prints one page at the end). */
class Quiet implements Reporter {
  readonly notes: string[] = [];
  event(): void {}
  output(): void {}
  note(text: string): void {
    this.notes.push(text);
  }
  pause(): void {}
  resume(): void {}
  close(): void {}
}

const firstLine = (s: string | undefined) => (s ?? '').trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';

/**
 * The steps readiness runs: the preflight steps and any step that measures the RPO (read-only
 * by the contract of `measures: rpo`), each made to continue on failure so every check reports.
 */
export function readinessSteps(plan: ResolvedPlan): { plan: ResolvedPlan; rpoStep?: { id: string; capture: string } } {
  const measuring = rpoSteps(plan)[0];
  const rpoStep = measuring ? { id: measuring.id, capture: measuring.capture! } : undefined;
  const steps = plan.steps
    .filter((s) => s.phase === 'preflight' || s.id === rpoStep?.id)
    .map((s) => ({ ...s, phase: 'preflight' as const, onFailure: 'continue' as const, confirm: undefined }));
  return { plan: { ...plan, steps }, rpoStep };
}

/** What one service's readiness is made of, gathered as its checks report. */
interface Findings {
  checks: CheckResult[];
  reasons: string[];
  notes: string[];
}

async function checkOne(
  project: Project,
  name: string,
  inventory: string,
  io: CliIO,
  deps: ReadinessDeps,
): Promise<Omit<ServiceReadiness, 'drill'>> {
  const started = Date.now();
  const rb = project.runbooks.get(name)!.data;
  const base = {
    runbook: name,
    service: rb.service ?? rb.title,
    tier: rb.tier,
    rpoObjective: rb.objectives?.rpo,
    checks: [] as CheckResult[],
    reasons: [] as string[],
    notes: [] as string[],
  };
  let prepared: { plan: ResolvedPlan };
  try {
    prepared = await deps.prepare(name, inventory, io);
  } catch (e) {
    return {
      ...base,
      ready: false,
      reasons: [`cannot be resolved against ${inventory}: ${(e as Error).message}`],
      durationMs: Date.now() - started,
    };
  }
  const { plan, rpoStep } = readinessSteps(prepared.plan);
  deps.addSudoChecks({ plan });
  let secrets: Record<string, string>;
  try {
    secrets = await deps.resolveSecrets(plan, io, undefined, (s) => base.notes.push(s));
  } catch (e) {
    return { ...base, ready: false, reasons: [(e as Error).message], durationMs: Date.now() - started };
  }
  const { state, notes } = await runChecks(plan, name, secrets, io, deps, base);
  const mayBeDown = new Set(
    Object.entries(plan.hosts)
      .filter(([, h]) => h.mayBeDown)
      .map(([n]) => n),
  );
  judgeHosts(state, mayBeDown, base);
  judgeChecks(plan, state, mayBeDown, base);
  const rpo = rpoStep ? judgeRpo(plan, state, rpoStep, base) : undefined;
  base.notes.push(...notes.filter((n) => !base.notes.includes(n)));
  return { ...base, ready: base.reasons.length === 0, rpo, durationMs: Date.now() - started };
}

/**
 * The checks run through the same runner as a run, with a journal in memory; a runner that throws stops the checks
 * (a reason). The state they leave, and the notes the runner gave.
 */
async function runChecks(
  plan: ResolvedPlan,
  name: string,
  secrets: Record<string, string>,
  io: CliIO,
  deps: ReadinessDeps,
  found: Findings,
): Promise<{ state: RunState; notes: string[] }> {
  const [{ MemoryJournal }, { Runner }] = await Promise.all([
    import('../journal/memory-journal.js'),
    import('../engine/runner.js'),
  ]);
  const journal = new MemoryJournal();
  const runStarted = (await journal.append({
    type: 'run-started',
    runId: `readiness-${name}`,
    ...planFacts(plan),
    operator: deps.operator.name,
    lifeboatVersion: deps.version,
    vars: {},
    mode: 'preflight',
  })) as JournalRecord & RunStartedEvent;
  const state = initState(plan, runStarted, { defaultOnFailure: 'abort' });
  const reporter = new Quiet();
  const transports = await deps.makeTransports(io, {}, deps.operator);
  try {
    await new Runner(
      plan,
      state,
      { transports, journal, operator: deps.operator, reporter },
      { secrets, connectAll: true },
    ).run();
  } catch (e) {
    found.reasons.push(`the checks stopped: ${(e as Error).message}`);
  } finally {
    await closeAll(transports);
  }
  return { state, notes: reporter.notes };
}

/** A host that cannot be reached is a reason, or only a note when the runbook expects it may be down. */
function judgeHosts(state: RunState, mayBeDown: Set<string>, found: Findings): void {
  for (const [host, h] of Object.entries(state.hosts)) {
    if (h.reachable) continue;
    if (mayBeDown.has(host))
      found.notes.push(
        `${host} cannot be reached (the runbook expects that it may be down): ${h.message ?? h.kind ?? ''}`.trim(),
      );
    else found.reasons.push(`${host} cannot be reached: ${h.message ?? h.kind ?? 'no connection'}`);
  }
}

/** Every check on every host, with its result; a failed one is a reason (unless its host may be down and is). */
function judgeChecks(plan: ResolvedPlan, state: RunState, mayBeDown: Set<string>, found: Findings): void {
  for (const id of state.order) {
    const step = stepOf(plan, id)!;
    for (const host of step.hosts.length ? step.hosts : ['local']) {
      const u = state.units[`${id}@${host}`];
      if (!u) continue;
      const result: CheckResult['result'] =
        u.status === UnitStatus.Ok
          ? 'ok'
          : u.status === UnitStatus.Failed
            ? 'failed'
            : u.status === UnitStatus.Skipped
              ? 'skipped'
              : 'not run';
      const detail = result === 'failed' ? (u.reason ?? firstLine(u.lastOutput)) : u.note;
      found.checks.push({ step: id, host, result, detail });
      if (result === 'failed' && !(mayBeDown.has(host) && state.hosts[host]?.reachable === false))
        found.reasons.push(`${id} on ${host}: ${detail ?? 'failed'}`);
    }
  }
}

/** The data-loss window the RPO step measured, against the objective: no evidence, or past it, is a reason. */
function judgeRpo(
  plan: ResolvedPlan,
  state: RunState,
  rpoStep: { id: string; capture: string },
  found: Findings,
): ReadinessRpo | undefined {
  const rpo = readinessRpo(rpoStep.id, rpoStep.capture, state.captured[rpoStep.capture], plan.runbook.rpoMs);
  if (!rpo) found.reasons.push(`no RPO evidence: step ${rpoStep.id} did not measure the data-loss window`);
  else if (rpo.verdict === 'past') found.reasons.push(rpo.words);
  else if (rpo.verdict === 'not-measured') found.reasons.push(`no RPO evidence: ${rpo.words}`);
  return rpo;
}

export async function readiness(
  project: Project,
  inventory: string,
  history: HistoryRecord[],
  io: CliIO,
  deps: ReadinessDeps,
  now = new Date(),
): Promise<ReadinessReport> {
  const rows = drillRows(project, history, now);
  // every runbook at once: a dead host costs its connect_timeout once, not once per runbook
  const results = await Promise.all(rows.map((r) => checkOne(project, r.runbook, inventory, io, deps)));
  const services: ServiceReadiness[] = results.map((r, i) => {
    const d = rows[i];
    return {
      ...r,
      drill: {
        state: d.state,
        reason: d.reason,
        last: d.last?.finished_at,
        lastResult: d.last?.result,
        ago: d.last ? ago(d.last.finished_at, now) : undefined,
      },
    };
  });
  return {
    inventory,
    at: now.toISOString(),
    services,
    criticalNotReady: services.filter((s) => s.tier === 'critical' && !s.ready).map((s) => s.runbook),
  };
}

export const describeDuration = (ms: number) => formatDuration(ms);

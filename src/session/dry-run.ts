// lifeboat run --dry-run: the real engine against a transport that connects to nothing and
// records every command. Prints, step by step, the host, the exact command (secrets masked),
// gates, manual steps, polling and timeouts, and the rollback of each step.
import type { CliIO } from '../cli/io.js';
import { EXIT } from '../cli/exit.js';
import type { Prepared } from './prepare.js';
import type { RunCmdOptions, RunMode } from './options.js';
import { DryRunTransport } from '../transport/dry-run.js';
import { MemoryJournal } from '../journal/memory-journal.js';
import { Runner } from '../engine/runner.js';
import { initState, executionOrder, stepOf, type RunState } from '../engine/state.js';
import { planFacts, type JournalRecord, type RunStartedEvent } from '../engine/events.js';
import type { Operator, Reporter, ResolvedHost } from '../ports.js';
import { dials, oneTransportForAll } from '../transport/registry.js';
import { render } from '../plan/template.js';
import { stepContext, secretLabel, factsOf } from '../plan/context.js';
import { durationShort, formatDuration } from '../util/duration.js';
import { describeEstimateTotal, estimatedSteps, estimateTotal, type EstimateTotal } from '../plan/estimates.js';
import { describeTest } from '../engine/expect.js';
import { VERSION } from '../version.js';
import { isHostCondition, type Expectation, type ResolvedPlan, type ResolvedStep } from '../model/plan.js';
import { operatorName } from '../ui/operator.js';
import { stepNumbers } from '../plan/numbering.js';
import { pointsOfNoReturn } from '../plan/gates.js';
import { describeHostSources } from '../ui/describe.js';

interface DryStep {
  /** the step's number everywhere (plan, log, report): P1 … for preconditions, 1 … after */
  number: string;
  /** the question guards something nothing undoes (src/plan/gates.ts) */
  pointOfNoReturn: boolean;
  id: string;
  title: string;
  phase: string;
  action: string;
  hosts: { name: string; address: string; user: string; port: number }[];
  commands: { host: string; command: string }[];
  guard?: string;
  confirm?: string;
  manual?: string;
  record?: string;
  success: string;
  timeout?: string;
  retries?: number;
  rollback?: string;
  sudo?: boolean | string;
  skipped?: string;
  onFailure?: string;
  idempotent: boolean;
  when?: string;
  /** the step's `estimate:`, as the runbook writes durations (10m) */
  estimate?: string;
}

export function describeExpectation(e: Expectation, until: boolean, step: ResolvedStep): string {
  const parts: string[] = [];
  parts.push(e.exit.length === 1 ? `exit code ${e.exit[0]}` : `exit code ${e.exit.join(' or ')}`);
  if (e.stdout) parts.push(`prints ${describeTest(e.stdout)}`);
  if (e.stderr) parts.push(`stderr ${describeTest(e.stderr)}`);
  const base = parts.join(' and ');
  return until
    ? `repeats every ${formatDuration(step.intervalMs)} until ${base}, for at most ${formatDuration(step.timeoutMs ?? 300_000)}`
    : base;
}

/** A host the run connects to, in the JSON dry run: how it is reached and where each value comes from. */
function hostJson(h: ResolvedHost): Record<string, unknown> {
  switch (h.transport) {
    case 'ssh':
      return {
        name: h.name,
        address: h.address,
        port: h.port,
        user: h.user,
        jump: h.jump?.name,
        proxyCommand: h.proxyCommand,
        origins: h.origins ?? {},
      };
    case 'local':
      return { name: h.name, address: h.address, origins: h.origins ?? {} };
  }
}

export async function dryRun(prepared: Prepared, opts: RunCmdOptions, io: CliIO, mode: RunMode): Promise<number> {
  const plan = prepared.plan;
  const placeholders = Object.fromEntries(Object.keys(plan.secrets).map((n) => [n, `\u0000secret:${n}\u0000`]));
  const { state, records } = await recordRun(plan, opts, mode, placeholders);
  const steps = executionOrder(plan, mode).map(stepDescriber(plan, records, placeholders));
  // the main phase's estimates against the RTO (a preflight-only run has none to add up)
  const estimates = estimateTotal(estimatedSteps(executionOrder(plan, mode)), plan.runbook.rtoMs);
  if (opts.format === 'json') printJson(io, plan, state.status, steps, estimates);
  else printText(io, plan, steps, estimates);
  return state.status === 'succeeded' ? EXIT.OK : EXIT.PROBLEMS;
}

/** The dry run's operator: every gate answered yes, every manual step done, any failure or doubt ends the run. */
function dryOperator(): Operator {
  return {
    name: operatorName(),
    confirm: async () => ({ answer: true, auto: true }),
    manual: async (q) => ({ done: true, value: q.record ? `<typed ${q.record}>` : undefined, auto: true }),
    onFailure: async () => 'abort',
    inDoubt: async () => 'abort',
    interrupt: async () => 'stop-step',
    secret: async () => '',
  };
}

/** The real engine against the recording transport and a journal in memory: what the run would send, step by step. */
export async function recordRun(
  plan: ResolvedPlan,
  opts: RunCmdOptions,
  mode: RunMode,
  placeholders: Record<string, string>,
): Promise<{ state: RunState; records: JournalRecord[] }> {
  const transport = new DryRunTransport();
  const journal = new MemoryJournal();
  const operator = dryOperator();
  const silent: Reporter = { event() {}, output() {}, note() {}, pause() {}, resume() {}, close() {} };
  const started = (await journal.append({
    type: 'run-started',
    runId: 'dry-run',
    ...planFacts(plan),
    operator: operator.name,
    lifeboatVersion: VERSION,
    vars: {},
    mode,
    fromStep: opts.from,
    toStep: opts.to,
  })) as JournalRecord & RunStartedEvent;
  const state = initState(plan, started, { defaultOnFailure: 'abort' });
  const runner = new Runner(
    plan,
    state,
    { transports: oneTransportForAll(transport), journal, operator, reporter: silent },
    { secrets: placeholders },
  );
  await runner.run();
  return { state, records: journal.records };
}

/** How each step is shown: the recorded commands put back with their steps, and everything else the plan says. */
function stepDescriber(
  plan: ResolvedPlan,
  records: JournalRecord[],
  placeholders: Record<string, string>,
): (s: ResolvedStep) => DryStep {
  // the commands each step sent, grouped once (not searched per step)
  const commandsOf = new Map<string, { host: string; command: string }[]>();
  for (const r of records) {
    if (r.type !== 'intent' || r.purpose !== 'run') continue;
    const list = commandsOf.get(r.step) ?? [];
    list.push({ host: r.host, command: r.command });
    commandsOf.set(r.step, list);
  }
  const skipped = new Map(
    records
      .filter((r): r is Extract<JournalRecord, { type: 'step-skipped' }> => r.type === 'step-skipped')
      .map((r) => [r.step, r.note]),
  );
  const numbers = stepNumbers(plan);
  const pnr = pointsOfNoReturn(plan);
  return (s) => {
    // the secret names (not values) must be known, or a gate or manual text naming a secret cannot be shown
    const ctx = {
      ...stepContext(plan, s, s.hosts[0], {}, placeholders),
      secretLabel: secretLabel(plan),
      pendingCaptured: (n: string) => `<captured ${n}>`,
    };
    const text = (t?: ResolvedStep['run']) => (t ? render(t, ctx, 'text-display') : undefined);
    const shell = (t?: ResolvedStep['run']) => (t ? render(t, ctx, 'shell-display') : undefined);
    return {
      number: numbers.get(s.id)!,
      pointOfNoReturn: pnr.has(s.id),
      id: s.id,
      title: s.title,
      phase: s.phase,
      action: s.action,
      hosts: s.hosts.map((h) => {
        const f = factsOf(plan.hosts[h], h);
        return { name: h, address: f.address, user: f.user, port: f.port };
      }),
      commands: commandsOf.get(s.id) ?? [],
      guard: shell(s.skipIf),
      confirm: text(s.confirm),
      manual: text(s.manual),
      record: s.record,
      success: successOf(s),
      timeout: s.timeoutMs && !s.until ? formatDuration(s.timeoutMs) : undefined,
      retries: s.retries || undefined,
      rollback: shell(s.rollback),
      sudo: s.sudo,
      onFailure: s.onFailure,
      idempotent: s.idempotent,
      ...(s.estimateMs !== undefined ? { estimate: durationShort(s.estimateMs) } : {}),
      // reachability and captured values are known only when connected: say when it runs instead
      skipped: s.when.length ? undefined : skipped.get(s.id),
      when: s.when.length ? describeWhen(s.when) : undefined,
    };
  };
}

/** What makes the step a success, in words. */
function successOf(s: ResolvedStep): string {
  return s.action === 'run'
    ? describeExpectation(s.until ?? s.expect, Boolean(s.until), s)
    : s.action === 'manual'
      ? 'the operator confirms it is done'
      : 'the operator answers yes';
}

/** A step's `when:` conditions, in words. */
function describeWhen(when: ResolvedStep['when']): string {
  return when
    .map((c) =>
      isHostCondition(c)
        ? `${c.role ? `${c.role} (${c.host})` : c.host} is ${c.kind}`
        : `${c.value.source} ${c.kind === 'equals' ? 'is' : c.kind === 'not_equals' ? 'is not' : 'matches'} ` +
          `${c.kind === 'matches' ? `/${c.operand}/` : `'${c.operand}'`}`,
    )
    .join(' and ');
}

/** `--format json`: the plan, the hosts and where their values come from, the steps, the estimates. */
function printJson(
  io: CliIO,
  plan: ResolvedPlan,
  result: RunState['status'],
  steps: DryStep[],
  estimates: EstimateTotal,
) {
  const hosts = Object.values(plan.hosts).filter(dials).map(hostJson);
  io.stdout.write(
    JSON.stringify(
      {
        runbook: plan.runbook,
        inventory: plan.inventory,
        digest: plan.digest,
        result,
        connectionsOpened: 0,
        hosts,
        steps,
        ...(estimates.estimated ? { estimates: { ...estimates, text: describeEstimateTotal(estimates) } } : {}),
      },
      null,
      2,
    ) + '\n',
  );
}

/** A step's command as the plan renders it for a host (for a step the dry run skipped, which sent nothing). */
function plannedCommand(plan: ResolvedPlan, id: string, host: string): string {
  const st = stepOf(plan, id);
  if (!st?.run) return '';
  return render(
    st.run,
    {
      ...stepContext(plan, st, host, {}, {}),
      secretLabel: secretLabel(plan),
      pendingCaptured: (n: string) => `<captured ${n}>`,
    },
    'shell-display',
  );
}

/** The dry run's text: the runbook, its hosts and where each value comes from, every step, the totals. */
function printText(io: CliIO, plan: ResolvedPlan, steps: DryStep[], estimates: EstimateTotal) {
  const w = (s = '') => io.stdout.write(s + '\n');
  w(`DRY RUN — nothing is connected to, nothing changes.`);
  w(
    `${plan.runbook.title} (${plan.runbook.name}@${plan.runbook.version}) against ${plan.inventory.name}` +
      `${plan.inventory.environment ? ` [${plan.inventory.environment}]` : ''}`,
  );
  if (plan.runbook.rtoMs)
    w(
      `RTO ${formatDuration(plan.runbook.rtoMs)}${plan.runbook.rpoMs ? `, RPO ${formatDuration(plan.runbook.rpoMs)}` : ''}`,
    );
  w();
  // `local` needs no words; an inventory host that is the operator's machine (Ansible's ansible_connection=local) does
  const remote = Object.values(plan.hosts).filter((h) => h.transport !== 'local' || h.name !== 'local');
  if (remote.length) {
    w('Hosts (and where each value comes from):');
    for (const h of remote) for (const l of describeHostSources(h)) w(`  ${l}`);
    w();
  }
  for (const s of steps) printStep(w, s, (id, host) => plannedCommand(plan, id, host));
  if (estimates.estimated) {
    const e = describeEstimateTotal(estimates);
    w(`${e[0].toUpperCase()}${e.slice(1)}.`);
  }
  w(
    `${steps.length} steps; ${new Set(steps.flatMap((s) => s.hosts.map((h) => h.name))).size} hosts; no connection was opened.`,
  );
}

/** One step of the dry run's text: what it asks, where each command runs, how it succeeds, how it is undone. */
function printStep(w: (s?: string) => void, s: DryStep, plannedCommand: (id: string, host: string) => string): void {
  w(
    `${s.number.padStart(3)}. ${s.title}${s.title !== s.id ? ` (${s.id})` : ''}${s.phase === 'preflight' ? ' [preflight]' : ''}`,
  );
  if (s.estimate) w(`      estimate: ${s.estimate}`);
  if (s.skipped) w(`      skipped: ${s.skipped}`);
  if (s.when) w(`      runs only when ${s.when}`);
  if (s.confirm)
    w(s.pointOfNoReturn ? `      ▲ POINT OF NO RETURN — asks: ${s.confirm}` : `      ? asks first: ${s.confirm}`);
  if (s.manual) {
    w(`      ✋ manual:`);
    for (const l of s.manual.trim().split('\n')) w(`         ${l}`);
    if (s.record) w(`         (records a typed value as captured.${s.record})`);
  }
  for (const h of s.hosts) {
    // a step the dry run skipped (e.g. `when: { unreachable: … }`) sent nothing: show its command rendered, not the raw
    // template
    const cmd = s.commands.find((c) => c.host === h.name)?.command ?? plannedCommand(s.id, h.name);
    w(
      `      on ${h.name} (${h.user}@${h.address}${h.port !== 22 && h.port ? `:${h.port}` : ''})` +
        `${s.sudo ? ` with sudo${typeof s.sudo === 'string' ? ` -u ${s.sudo}` : ''}` : ''}:`,
    );
    w(`        $ ${cmd}`);
  }
  if (s.guard) w(`      skipped when this succeeds: ${s.guard}`);
  if (s.action === 'run')
    w(
      `      success: ${s.success}${s.timeout ? `; timeout ${s.timeout}` : ''}${s.retries ? `; retries ${s.retries}` : ''}` +
        `${s.onFailure ? `; on failure: ${s.onFailure}` : ''}${s.idempotent ? '; idempotent' : ''}`,
    );
  if (s.rollback) w(`      rollback: ${s.rollback}`);
  w();
}

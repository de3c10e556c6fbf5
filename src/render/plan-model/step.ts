// One step as printed: its hosts, the command on each, its question, its conditions and
// limits in words, what to write down, and its rollback.
import {
  isHostCondition,
  type ResolvedCondition,
  type ResolvedPlan,
  type ResolvedStep,
  type SecretSource,
} from '../../model/plan.js';
import { render, type RenderContext, type Template } from '../../plan/template.js';
import { hostFacts, stepContext } from '../../plan/context.js';
import { code, durationShort, durationWords, expectationWords, untilWords } from '../words.js';

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

/** what the views of one runbook's steps share */
export interface StepViewContext {
  plan: ResolvedPlan;
  problems: string[];
  facts: ReturnType<typeof hostFacts>;
  secretsOf: (runbook: string) => Record<string, SecretSource>;
  numbers: Map<string, string>;
  pnr: Set<string>;
}

export function secretLabel(source: SecretSource | undefined, name: string): string {
  if (!source) return `<secret ${name}>`;
  if ('env' in source) return `<from ${source.env}>`;
  if ('file' in source) return `<from file ${source.file}>`;
  return `<typed at the prompt: ${source.prompt}>`;
}

export const hostLabel = (plan: ResolvedPlan, h: string) =>
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

export function stepView(vc: StepViewContext, step: ResolvedStep): StepView {
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

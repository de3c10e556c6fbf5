// Everything that happens in a run, as records. The runner writes each one to the journal
// (fsynced) before acting on it; replaying them through `apply` rebuilds the run's state,
// which is how `resume` works. One definition, used by journal, UI and report alike.

import type { ResolvedPlan } from '../model/plan.js';

export type UnitKey = `${string}@${string}`;

export interface RunStartedEvent {
  type: 'run-started';
  runId: string;
  runbook: string;
  version: string;
  title: string;
  /** sha256 over the runbook and its includes */
  digest: string;
  files: { path: string; sha256: string; role: string }[];
  inventory: string;
  inventoryDigest: string;
  environment?: string;
  operator: string;
  lifeboatVersion: string;
  /** resolved top-level vars (secrets are never here) */
  vars: Record<string, string | number | boolean>;
  rtoMs?: number;
  mode: 'run' | 'rehearsal' | 'preflight';
  /** step id the run was started at (--from) */
  fromStep?: string;
  /** step id the run stops after (--to): later steps are skipped */
  toStep?: string;
  /** step id → its number (src/plan/numbering.ts), so log and report number steps as the plan does */
  stepNumbers?: Record<string, string>;
  /**
   * step id → its `estimate:` in ms (steps with one only), so the report can set each step-finished duration against it
   */
  estimatesMs?: Record<string, number>;
  /** the operator's decision to start a production run whose rehearsal is not current, etc. */
  notes?: string[];
}

export interface HostStateEvent {
  type: 'host-state';
  host: string;
  reachable: boolean;
  /** TransportError kind, when not reachable */
  kind?: string;
  message?: string;
}

export interface StepStartedEvent {
  type: 'step-started';
  step: string;
}

export interface StepSkippedEvent {
  type: 'step-skipped';
  step: string;
  /** a single host, or the whole step when absent */
  host?: string;
  reason: 'when' | 'skip_if' | 'host-down' | 'operator' | 'from' | 'to' | 'in-doubt-done';
  note: string;
}

export interface ConfirmEvent {
  type: 'confirmed';
  step: string;
  question: string;
  answer: boolean;
  by: string;
  auto: boolean;
}

export interface ManualEvent {
  type: 'manual-done';
  step: string;
  done: boolean;
  by: string;
  value?: string;
  record?: string;
  auto: boolean;
}

/** written and fsynced BEFORE the command is sent */
export interface IntentEvent {
  type: 'intent';
  step: string;
  host: string;
  attempt: number;
  command: string;
  purpose: 'run' | 'skip_if' | 'rollback';
}

export interface ExecFinishedEvent {
  type: 'exec-finished';
  step: string;
  host: string;
  attempt: number;
  purpose: 'run' | 'skip_if' | 'rollback';
  exitCode: number | null;
  timedOut: boolean;
  canceled: boolean;
  signal: string | null;
  durationMs: number;
  /** redacted, bounded */
  stdoutTail: string;
  stderrTail: string;
  /** the expectation held (purpose run) / the guard succeeded (skip_if) */
  ok: boolean;
  /** why not ok, in words */
  reason?: string;
  /** polling: the `until` did not hold yet */
  pollAgain?: boolean;
  captured?: { name: string; value: string };
}

export interface ExecErrorEvent {
  type: 'exec-error';
  step: string;
  host: string;
  attempt: number;
  purpose: 'run' | 'skip_if' | 'rollback';
  kind: string;
  message: string;
}

export interface StepFinishedEvent {
  type: 'step-finished';
  step: string;
  result: 'ok' | 'failed' | 'skipped';
  durationMs: number;
}

export interface FailureDecisionEvent {
  type: 'failure-decision';
  step: string;
  host?: string;
  choice: 'retry' | 'skip' | 'rollback' | 'abort' | 'continue';
  by: string;
  auto: boolean;
}

export interface InDoubtEvent {
  type: 'in-doubt';
  step: string;
  host: string;
  choice: 'rerun' | 'done' | 'abort' | 'guard';
  by: string;
  auto: boolean;
  captured?: { name: string; value: string };
}

export interface RollbackStartedEvent {
  type: 'rollback-started';
  units: { step: string; host: string }[];
}

export interface ResumedEvent {
  type: 'resumed';
  operator: string;
  acceptedChanges?: string[];
  inDoubt: { step: string; host: string }[];
}

export interface InterruptedEvent {
  type: 'interrupted';
  by: string;
  how: 'stop-step' | 'after-step';
}

/** A `measures: rpo` step captured the data-loss window; journaled right after its result. */
export interface RpoMeasuredEvent {
  type: 'rpo-measured';
  step: string;
  capture: string;
  /** the captured value as printed */
  value: string;
  windowMs?: number;
  rpoMs?: number;
  verdict: 'within' | 'past' | 'no-objective' | 'not-measured';
}

export interface RunFinishedEvent {
  type: 'run-finished';
  result: 'succeeded' | 'failed' | 'aborted' | 'rolled-back' | 'interrupted';
  durationMs: number;
  message?: string;
}

export type RunEvent =
  | RunStartedEvent
  | HostStateEvent
  | StepStartedEvent
  | StepSkippedEvent
  | ConfirmEvent
  | ManualEvent
  | IntentEvent
  | ExecFinishedEvent
  | ExecErrorEvent
  | StepFinishedEvent
  | FailureDecisionEvent
  | InDoubtEvent
  | RollbackStartedEvent
  | ResumedEvent
  | InterruptedEvent
  | RunFinishedEvent
  | RpoMeasuredEvent;

/** a journal record: an event with its sequence number and wall-clock time */
export type JournalRecord = RunEvent & { seq: number; at: string };

/**
 * The records that must be durable (fsynced) before the runner goes on: the intent before a
 * command is sent — its sync also makes every earlier record durable — and the records that
 * end or restart a run. Losing any other record to a power cut can only make a resume more
 * careful, never less: a lost result leaves its command in doubt, a lost answer is asked again.
 * (Every record is still written before the runner acts, so killing the process loses nothing.)
 */
export const mustSync = (e: RunEvent): boolean =>
  e.type === 'intent' ||
  e.type === 'run-started' ||
  e.type === 'run-finished' ||
  e.type === 'resumed' ||
  e.type === 'interrupted';

/** What a run-started record says of its plan: the runbook, the files it came from, the inventory (one definition for runs, dry runs and readiness). */
export function planFacts(
  plan: ResolvedPlan,
): Pick<
  RunStartedEvent,
  'runbook' | 'version' | 'title' | 'digest' | 'files' | 'inventory' | 'inventoryDigest' | 'environment' | 'rtoMs'
> {
  return {
    runbook: plan.runbook.name,
    version: plan.runbook.version,
    title: plan.runbook.title,
    digest: plan.digest,
    files: plan.files,
    inventory: plan.inventory.name,
    inventoryDigest: plan.inventoryDigest,
    environment: plan.inventory.environment,
    rtoMs: plan.runbook.rtoMs,
  };
}

// The run's state, and `apply`: the only way it changes. `apply` is deterministic and does
// no I/O, so replaying a journal's records rebuilds exactly the state the run had (resume).
import type { ResolvedPlan, ResolvedStep } from '../model/plan.js';
import type { JournalRecord, RunStartedEvent } from './events.js';

/** Where one step stands on one host. */
export enum UnitStatus {
  /** not started yet (or sent back by retry / in-doubt re-run) */
  Pending = 'pending',
  /** the skip_if guard is running */
  Checking = 'checking',
  /** the command was sent (intent journaled), no result yet */
  Running = 'running',
  /** between polls (`until`) or before a retry */
  Waiting = 'waiting',
  /** done and its expectation held */
  Ok = 'ok',
  /** failed; awaits a decision unless `decided` */
  Failed = 'failed',
  /** not run: skip_if held, host down as expected, operator chose skip */
  Skipped = 'skipped',
  /** the process died while the command ran: nobody knows whether it completed */
  InDoubt = 'in-doubt',
}

/** Where a whole step stands. */
export enum StepStatus {
  Pending = 'pending',
  Running = 'running',
  Ok = 'ok',
  /** failed, and the run went on (on_failure continue, or the operator chose skip) */
  Failed = 'failed',
  Skipped = 'skipped',
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'aborted' | 'rolled-back' | 'interrupted';

export interface UnitState {
  step: string;
  host: string;
  status: UnitStatus;
  /** attempts of the main command so far (polls and retries count) */
  attempt: number;
  /** attempts since the last operator retry, for the `retries` budget */
  tries: number;
  /** the skip_if guard ran and did not hold */
  skipChecked: boolean;
  /** ms epoch: a waiting unit may run again from then */
  notBefore?: number;
  /** ms epoch of the first attempt (polling deadline) */
  firstAt?: number;
  startedAt?: number;
  finishedAt?: number;
  reason?: string;
  note?: string;
  /** failed unit whose failure the operator (or policy) has dealt with */
  decided: boolean;
  /** how: a unit given up by an abort runs again when the run is resumed */
  decision?: 'skip' | 'continue' | 'abort' | 'rollback' | 'in-doubt-abort';
  lastCommand?: string;
  lastOutput?: string;
  rollback?: 'running' | 'ok' | 'failed';
  /** the connection dropped while the command ran: it may have completed */
  lostMidCommand?: boolean;
}

export interface StepState {
  id: string;
  status: StepStatus;
  confirmed: boolean;
  manualDone: boolean;
  startedAt?: number;
  finishedAt?: number;
  note?: string;
}

export interface HostStatus {
  reachable: boolean;
  kind?: string;
  message?: string;
}

export interface RunConfig {
  /** on_failure when a step says nothing: ask when a person is there, abort otherwise */
  defaultOnFailure: 'ask' | 'abort';
  mode: RunStartedEvent['mode'];
  fromStep?: string;
  toStep?: string;
}

export interface RunState {
  runId: string;
  startedAt: number;
  status: RunStatus;
  config: RunConfig;
  /** step ids in execution order: preflight steps first */
  order: string[];
  steps: Record<string, StepState>;
  units: Record<string, UnitState>;
  hosts: Record<string, HostStatus>;
  captured: Record<string, string>;
  /** units that completed ok, in completion order (what a rollback undoes, reversed) */
  completed: { step: string; host: string }[];
  rollback?: { queue: { step: string; host: string }[]; pos: number };
  /** the operator chose rollback; the queue is journaled next */
  rollbackWanted?: boolean;
  abort?: { result: 'aborted' | 'failed'; message: string };
  /** Ctrl-C: stop the running commands now, or let the current step finish */
  stopRequested: false | 'stop-step' | 'after-step';
  finishedAt?: number;
  lastSeq: number;
  message?: string;
  /**
   * Indexes kept by `apply` so that each decision costs the same at step 4,000 as at step 1
   * (never walk every step or unit per step): the units in flight or in doubt, and the position
   * in `order` before which every step has finished (a step never goes back to pending).
   */
  live: Map<string, UnitState>;
  cursor: number;
}

export const unitKey = (step: string, host: string) => `${step}@${host}`;

const stepIndexes = new WeakMap<ResolvedPlan, Map<string, ResolvedStep>>();
/** A step by id, from an index built once per plan. */
export function stepOf(plan: ResolvedPlan, id: string): ResolvedStep | undefined {
  let ix = stepIndexes.get(plan);
  if (!ix) {
    ix = new Map(plan.steps.map((st) => [st.id, st]));
    stepIndexes.set(plan, ix);
  }
  return ix.get(id);
}

/** The units of one step, in the step's host order. */
export function unitsOf(state: RunState, plan: ResolvedPlan, step: string): UnitState[] {
  const out: UnitState[] = [];
  for (const h of stepOf(plan, step)?.hosts ?? []) {
    const u = state.units[unitKey(step, h)];
    if (u) out.push(u);
  }
  return out;
}

/** The units that are in flight or in doubt, from the index `apply` keeps. */
export function liveUnits(state: RunState): UnitState[] {
  return [...state.live.values()];
}

const isLive = (u: UnitState) => isInFlight(u) || u.status === UnitStatus.InDoubt;
function track(state: RunState, u: UnitState | undefined) {
  if (!u) return;
  const k = unitKey(u.step, u.host);
  if (isLive(u)) state.live.set(k, u);
  else state.live.delete(k);
}
const stepDone = (s: StepState | undefined) =>
  !s || (s.status !== StepStatus.Pending && s.status !== StepStatus.Running);
function advanceCursor(state: RunState) {
  while (state.cursor < state.order.length && stepDone(state.steps[state.order[state.cursor]])) state.cursor++;
}

export function executionOrder(plan: ResolvedPlan, mode: RunConfig['mode']): ResolvedStep[] {
  const pre = plan.steps.filter((s) => s.phase === 'preflight');
  if (mode === 'preflight') return pre;
  return [...pre, ...plan.steps.filter((s) => s.phase !== 'preflight')];
}

export function initState(
  plan: ResolvedPlan,
  started: JournalRecord & RunStartedEvent,
  config: Omit<RunConfig, 'mode' | 'fromStep' | 'toStep'>,
): RunState {
  const cfg: RunConfig = { ...config, mode: started.mode, fromStep: started.fromStep, toStep: started.toStep };
  const order = executionOrder(plan, cfg.mode);
  const state: RunState = {
    runId: started.runId,
    startedAt: Date.parse(started.at),
    status: 'running',
    config: cfg,
    order: order.map((s) => s.id),
    steps: {},
    units: {},
    hosts: {},
    captured: {},
    completed: [],
    stopRequested: false,
    lastSeq: started.seq,
    live: new Map(),
    cursor: 0,
  };
  for (const s of order) {
    state.steps[s.id] = { id: s.id, status: StepStatus.Pending, confirmed: false, manualDone: false };
    for (const h of s.hosts)
      state.units[unitKey(s.id, h)] = {
        step: s.id,
        host: h,
        status: UnitStatus.Pending,
        attempt: 0,
        tries: 0,
        skipChecked: false,
        decided: false,
      };
  }
  return state;
}

const TERMINAL = new Set([UnitStatus.Ok, UnitStatus.Skipped]);
export const isTerminal = (u: UnitState) => TERMINAL.has(u.status) || (u.status === UnitStatus.Failed && u.decided);
export const isInFlight = (u: UnitState) =>
  u.status === UnitStatus.Running || u.status === UnitStatus.Checking || u.rollback === 'running';

/** Default `until` polling budget when a step gives no timeout. */
export const DEFAULT_POLL_TIMEOUT_MS = 5 * 60_000;

/** When an `until:` step stops polling: its first attempt plus its timeout (5 min by default). */
export const pollDeadline = (st: { timeoutMs?: number }, firstAt: number): number =>
  firstAt + (st.timeoutMs ?? DEFAULT_POLL_TIMEOUT_MS);
/** Another poll fits before the deadline (the next attempt would start in time). */
export const pollFits = (st: { timeoutMs?: number; intervalMs: number }, firstAt: number, now: number): boolean =>
  now + st.intervalMs < pollDeadline(st, firstAt);

export function apply(state: RunState, plan: ResolvedPlan, rec: JournalRecord): RunState {
  const at = Date.parse(rec.at);
  state.lastSeq = rec.seq;
  const unit = (step: string, host: string) => state.units[unitKey(step, host)];
  applyRecord(state, plan, rec, at, unit);
  // keep the indexes: the units this record can have changed, and the first open step
  switch (rec.type) {
    case 'intent':
    case 'exec-finished':
    case 'exec-error':
    case 'in-doubt':
      track(state, unit(rec.step, rec.host));
      break;
    case 'step-skipped':
    case 'failure-decision':
      for (const u of unitsOf(state, plan, rec.step)) track(state, u);
      break;
    case 'resumed':
      for (const u of Object.values(state.units)) track(state, u);
      break;
  }
  advanceCursor(state);
  return state;
}

type Rec<T extends JournalRecord['type']> = Extract<JournalRecord, { type: T }>;
type UnitOf = (step: string, host: string) => UnitState | undefined;

// One record → the state it changes. The cases that are more than a line or two have a
// function each below, so every one of them reads on its own.
function applyRecord(state: RunState, plan: ResolvedPlan, rec: JournalRecord, at: number, unit: UnitOf): void {
  switch (rec.type) {
    case 'run-started':
      break;
    case 'host-state':
      state.hosts[rec.host] = { reachable: rec.reachable, kind: rec.kind, message: rec.message };
      break;
    case 'step-started': {
      const s = state.steps[rec.step];
      if (s) {
        s.status = StepStatus.Running;
        s.startedAt = at;
      }
      break;
    }
    case 'step-skipped':
      applyStepSkipped(state, plan, rec, at, unit);
      break;
    case 'confirmed': {
      const s = state.steps[rec.step];
      if (rec.answer) {
        if (s) s.confirmed = true;
      } else state.abort = { result: 'aborted', message: `the operator answered no to "${rec.question}"` };
      break;
    }
    case 'manual-done':
      applyManualDone(state, rec);
      break;
    case 'intent':
      applyIntent(rec, at, unit);
      break;
    case 'exec-finished':
      applyExecFinished(state, plan, rec, at, unit);
      break;
    case 'exec-error':
      applyExecError(state, plan, rec, at, unit);
      break;
    case 'step-finished': {
      const s = state.steps[rec.step];
      if (s) {
        s.status =
          rec.result === 'ok' ? StepStatus.Ok : rec.result === 'skipped' ? StepStatus.Skipped : StepStatus.Failed;
        s.finishedAt = at;
      }
      break;
    }
    case 'failure-decision':
      applyFailureDecision(state, plan, rec);
      break;
    case 'in-doubt':
      applyInDoubt(state, rec, unit);
      break;
    case 'rollback-started':
      state.rollbackWanted = false;
      state.rollback = { queue: rec.units, pos: 0 };
      break;
    case 'resumed':
      applyResumed(state, rec, unit);
      break;
    case 'interrupted':
      state.stopRequested = rec.how;
      break;
    case 'run-finished':
      state.status = rec.result;
      state.finishedAt = at;
      state.message = rec.message;
      break;
  }
}

function applyStepSkipped(
  state: RunState,
  plan: ResolvedPlan,
  rec: Rec<'step-skipped'>,
  at: number,
  unit: UnitOf,
): void {
  if (rec.host) {
    const u = unit(rec.step, rec.host);
    if (u) {
      u.status = UnitStatus.Skipped;
      u.note = rec.note;
      u.finishedAt = at;
    }
    return;
  }
  const s = state.steps[rec.step];
  if (s) {
    s.status = StepStatus.Skipped;
    s.note = rec.note;
    s.finishedAt = at;
  }
  for (const u of unitsOf(state, plan, rec.step))
    if (!isTerminal(u)) {
      u.status = UnitStatus.Skipped;
      u.note = rec.note;
    }
}

function applyManualDone(state: RunState, rec: Rec<'manual-done'>): void {
  const s = state.steps[rec.step];
  if (!rec.done) {
    state.abort = { result: 'aborted', message: `manual step '${rec.step}' was not done` };
    return;
  }
  if (s) s.manualDone = true;
  if (rec.record && rec.value !== undefined) state.captured[rec.record] = rec.value;
}

function applyIntent(rec: Rec<'intent'>, at: number, unit: UnitOf): void {
  const u = unit(rec.step, rec.host);
  if (!u) return;
  u.lastCommand = rec.command;
  if (rec.purpose === 'rollback') {
    u.rollback = 'running';
    return;
  }
  if (rec.purpose === 'skip_if') {
    u.status = UnitStatus.Checking;
    return;
  }
  u.status = UnitStatus.Running;
  u.attempt = rec.attempt;
  u.tries += 1;
  u.startedAt ??= at;
  u.firstAt ??= at;
}

function applyExecFinished(
  state: RunState,
  plan: ResolvedPlan,
  rec: Rec<'exec-finished'>,
  at: number,
  unit: UnitOf,
): void {
  const u = unit(rec.step, rec.host);
  const st = stepOf(plan, rec.step);
  if (!u || !st) return;
  u.lastOutput = (rec.stdoutTail + (rec.stderrTail ? `\n${rec.stderrTail}` : '')).trim();
  if (rec.purpose === 'rollback') {
    u.rollback = rec.ok ? 'ok' : 'failed';
    advanceRollback(state);
    return;
  }
  if (rec.purpose === 'skip_if') {
    if (rec.ok) {
      u.status = UnitStatus.Skipped;
      u.note = 'skipped: its skip_if guard held (done already, or not needed here)';
      u.finishedAt = at;
    } else {
      u.status = UnitStatus.Pending;
      u.skipChecked = true;
    }
    return;
  }
  if (rec.ok) {
    u.status = UnitStatus.Ok;
    u.finishedAt = at;
    u.reason = undefined;
    // several hosts capturing one name: the first host of the step's list wins
    if (rec.captured && (!(rec.captured.name in state.captured) || st.hosts[0] === rec.host))
      state.captured[rec.captured.name] = rec.captured.value;
    state.completed.push({ step: rec.step, host: rec.host });
    return;
  }
  u.reason = rec.reason;
  if (rec.canceled) {
    // killed mid-way by the operator: it may have done part of its work
    u.status = UnitStatus.InDoubt;
    u.note = 'stopped by the operator while running';
    return;
  }
  if (rec.pollAgain) {
    if (pollFits(st, u.firstAt ?? at, at)) {
      u.status = UnitStatus.Waiting;
      u.notBefore = at + st.intervalMs;
      return;
    }
    u.reason = `${rec.reason ?? 'condition not met'}; gave up after ${Math.round((at - (u.firstAt ?? at)) / 1000)}s`;
  } else if (!rec.canceled && u.tries <= st.retries) {
    u.status = UnitStatus.Waiting;
    u.notBefore = at + st.retryDelayMs;
    return;
  }
  u.status = UnitStatus.Failed;
  u.decided = false;
  u.finishedAt = at;
}

function applyExecError(state: RunState, plan: ResolvedPlan, rec: Rec<'exec-error'>, at: number, unit: UnitOf): void {
  const u = unit(rec.step, rec.host);
  const st = stepOf(plan, rec.step);
  if (rec.kind === 'unreachable' || rec.kind === 'connection-lost')
    state.hosts[rec.host] = { reachable: false, kind: rec.kind, message: rec.message };
  if (!u || !st) return;
  if (rec.purpose === 'rollback') {
    u.rollback = 'failed';
    u.lastOutput = rec.message;
    advanceRollback(state);
    return;
  }
  u.reason = rec.message;
  if (rec.kind === 'connection-lost' && rec.purpose === 'run') u.lostMidCommand = true;
  // a command that never reached the host may be retried; one whose connection dropped only if idempotent
  const safe =
    rec.kind === 'unreachable' || (rec.kind === 'connection-lost' && st.idempotent) || rec.purpose === 'skip_if';
  if (safe && u.tries <= st.retries && rec.purpose === 'run') {
    u.status = UnitStatus.Waiting;
    u.notBefore = at + st.retryDelayMs;
    return;
  }
  u.status = UnitStatus.Failed;
  u.decided = false;
  u.finishedAt = at;
}

function applyFailureDecision(state: RunState, plan: ResolvedPlan, rec: Rec<'failure-decision'>): void {
  const failed = unitsOf(state, plan, rec.step).filter(
    (u) => u.status === UnitStatus.Failed && !u.decided && (!rec.host || u.host === rec.host),
  );
  switch (rec.choice) {
    case 'retry':
      for (const u of failed) {
        u.status = UnitStatus.Pending;
        u.tries = 0;
        u.firstAt = undefined;
        u.skipChecked = false;
      }
      break;
    case 'skip':
    case 'continue':
      for (const u of failed) {
        u.decided = true;
        u.decision = rec.choice;
        u.note = rec.choice === 'skip' ? `failed; skipped by ${rec.by}` : 'failed; on_failure: continue';
      }
      break;
    case 'rollback': {
      for (const u of failed) {
        u.decided = true;
        u.decision = 'rollback';
      }
      state.rollbackWanted = true;
      state.abort = { result: 'aborted', message: `step '${rec.step}' failed; rolled back by ${rec.by}` };
      break;
    }
    case 'abort':
      for (const u of failed) {
        u.decided = true;
        u.decision = 'abort';
      }
      state.abort = {
        result: rec.auto ? 'failed' : 'aborted',
        message: `step '${rec.step}' failed${rec.auto ? '' : `; aborted by ${rec.by}`}`,
      };
      break;
  }
}

function applyInDoubt(state: RunState, rec: Rec<'in-doubt'>, unit: UnitOf): void {
  const u = unit(rec.step, rec.host);
  if (!u) return;
  if (rec.choice === 'rerun' || rec.choice === 'guard') {
    u.status = UnitStatus.Pending;
    u.skipChecked = false;
    u.tries = 0;
    u.firstAt = undefined;
  } else if (rec.choice === 'done') {
    u.status = UnitStatus.Ok;
    u.note = `marked done by ${rec.by} after a stop`;
    state.completed.push({ step: u.step, host: u.host });
    if (rec.captured) state.captured[rec.captured.name] = rec.captured.value;
  } else {
    u.status = UnitStatus.Failed;
    u.decided = true;
    u.decision = 'in-doubt-abort';
    u.reason = 'in doubt after a stop; the operator aborted';
    state.abort = { result: 'aborted', message: `aborted by ${rec.by} at in-doubt step '${rec.step}' on ${rec.host}` };
  }
}

function applyResumed(state: RunState, rec: Rec<'resumed'>, unit: UnitOf): void {
  state.stopRequested = false;
  // resuming is the decision to carry on: what an abort gave up is taken up again
  if (!state.rollback && !state.rollbackWanted) state.abort = undefined;
  for (const u of Object.values(state.units)) {
    if (u.status !== UnitStatus.Failed || !u.decided) continue;
    if (u.decision === 'in-doubt-abort') {
      u.status = UnitStatus.InDoubt;
      u.decided = false;
      u.decision = undefined;
    } else if (u.decision === 'abort' && u.lostMidCommand) {
      u.status = UnitStatus.InDoubt;
      u.decided = false;
      u.decision = undefined;
    } else if (u.decision === 'abort') {
      u.status = UnitStatus.Pending;
      u.decided = false;
      u.decision = undefined;
      u.tries = 0;
      u.firstAt = undefined;
      u.skipChecked = false;
    }
  }
  for (const u of Object.values(state.units)) {
    if (u.status === UnitStatus.Checking) u.status = UnitStatus.Pending; // the guard is read-only: run it again
    if (u.rollback === 'running') u.rollback = 'failed';
  }
  for (const d of rec.inDoubt) {
    const u = unit(d.step, d.host);
    if (u) u.status = UnitStatus.InDoubt;
  }
  // a run interrupted or crashed is running again
  state.status = 'running';
}

function advanceRollback(state: RunState) {
  if (state.rollback) state.rollback.pos += 1;
}

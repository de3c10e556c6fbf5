// Pure: given the plan, the state and the time, what should happen next. Never runs anything;
// the runner performs the actions and reports back through events (ansible's iterator, dagu's plan).
import type { ResolvedPlan, ResolvedStep } from '../model/plan.js';
import { render, TemplateError } from '../plan/template.js';
import { stepContext, hostFacts, type HostFacts } from '../plan/context.js';
import {
  UnitStatus,
  StepStatus,
  isInFlight,
  isTerminal,
  unitKey,
  stepOf,
  liveUnits,
  type RunState,
  type UnitState,
} from './state.js';
import { dials } from '../transport/registry.js';

export type Action =
  | { kind: 'connect'; hosts: string[] }
  | { kind: 'skip-step'; step: string; reason: 'when' | 'from' | 'to'; note: string }
  | { kind: 'skip-unit'; step: string; host: string; reason: 'host-down'; note: string }
  | { kind: 'start-step'; step: string }
  | { kind: 'confirm'; step: string }
  | { kind: 'manual'; step: string }
  | { kind: 'exec'; step: string; host: string; attempt: number; purpose: 'run' | 'skip_if' | 'rollback' }
  | { kind: 'wait'; until: number }
  | { kind: 'failure'; step: string; host?: string; message: string; policy: 'ask' | 'abort' | 'continue' }
  | { kind: 'in-doubt'; step: string; host: string; policy: 'rerun' | 'guard' | 'ask' }
  | { kind: 'finish-step'; step: string; result: 'ok' | 'failed' | 'skipped' }
  | { kind: 'start-rollback'; units: { step: string; host: string }[] }
  | { kind: 'finish'; result: 'succeeded' | 'failed' | 'aborted' | 'rolled-back' | 'interrupted'; message?: string }
  /** nothing to do until something in flight reports back */
  | { kind: 'idle' };

export interface DecideInput {
  plan: ResolvedPlan;
  state: RunState;
  now: number;
  /** secrets are needed only to evaluate `when` values that use them */
  secrets?: Record<string, string>;
  facts?: Record<string, HostFacts>;
  /** hosts whose connection is being tried: asked for again, they would only be waited for */
  connecting?: ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();
const stepById = (plan: ResolvedPlan, id: string) => stepOf(plan, id)!;

/** what one call of decide() looks at: its input with the defaults filled in */
interface Ctx {
  plan: ResolvedPlan;
  state: RunState;
  now: number;
  secrets: Record<string, string>;
  facts: Record<string, HostFacts>;
  connecting: ReadonlySet<string>;
  /** whether any unit is running: stopping waits for it */
  busy: boolean;
}

export function decide({
  plan,
  state,
  now,
  secrets = {},
  facts = hostFacts(plan),
  connecting = NONE,
}: DecideInput): Action[] {
  if (state.status !== 'running') return [];
  // only units in flight or in doubt matter here: the index `apply` keeps, not every unit of the run
  const units = liveUnits(state);
  const ctx: Ctx = { plan, state, now, secrets, facts, connecting, busy: units.some(isInFlight) };
  return stopping(ctx) ?? settleDoubt(plan, units) ?? rollingBack(ctx) ?? currentStep(ctx);
}

/** 0. Ctrl-C: stop now (the killed commands are in doubt until resume), or after this step;
 *  1. aborting (and not rolling back): let what runs finish, then stop */
function stopping({ state, busy }: Ctx): Action[] | undefined {
  if (state.stopRequested === 'stop-step') {
    return busy
      ? [{ kind: 'idle' }]
      : [
          {
            kind: 'finish',
            result: 'interrupted',
            message: 'stopped by the operator; continue with `lifeboat resume`',
          },
        ];
  }
  if (state.abort && !state.rollbackWanted && !state.rollback) {
    if (busy) return [{ kind: 'idle' }];
    return [{ kind: 'finish', result: state.abort.result, message: state.abort.message }];
  }
  return undefined;
}

/** 2. a crash left commands in doubt: settle them first, one at a time */
function settleDoubt(plan: ResolvedPlan, units: UnitState[]): Action[] | undefined {
  const doubt = units.find((u) => u.status === UnitStatus.InDoubt);
  if (!doubt) return undefined;
  const st = stepById(plan, doubt.step);
  return [
    {
      kind: 'in-doubt',
      step: doubt.step,
      host: doubt.host,
      policy: st.idempotent ? 'rerun' : st.skipIf ? 'guard' : 'ask',
    },
  ];
}

/** 3. rolling back: completed steps' rollbacks, newest first, one at a time */
function rollingBack({ plan, state, busy }: Ctx): Action[] | undefined {
  if (state.rollbackWanted) {
    if (busy) return [{ kind: 'idle' }];
    return [
      { kind: 'start-rollback', units: [...state.completed].reverse().filter((c) => stepById(plan, c.step).rollback) },
    ];
  }
  if (!state.rollback) return undefined;
  if (busy) return [{ kind: 'idle' }];
  const next = state.rollback.queue[state.rollback.pos];
  if (next) return [{ kind: 'exec', step: next.step, host: next.host, attempt: 1, purpose: 'rollback' }];
  const failed = state.rollback.queue.filter((q) => state.units[unitKey(q.step, q.host)]?.rollback === 'failed');
  return [
    {
      kind: 'finish',
      result: 'rolled-back',
      message: failed.length
        ? `rollback failed for ${failed.map((f) => `${f.step} on ${f.host}`).join(', ')}`
        : state.abort?.message,
    },
  ];
}

/** 4. the current step (the first not finished), or the end of the run */
function currentStep(ctx: Ctx): Action[] {
  const { plan, state } = ctx;
  const currentId = firstUnfinished(state);
  if (!currentId) {
    if (ctx.busy) return [{ kind: 'idle' }];
    const failed = state.order.filter((id) => state.steps[id].status === StepStatus.Failed);
    return [
      {
        kind: 'finish',
        result: 'succeeded',
        message: failed.length ? `finished; failed but continued: ${failed.join(', ')}` : undefined,
      },
    ];
  }
  const step = stepById(plan, currentId);
  if (state.steps[currentId].status === StepStatus.Pending) return pendingStep(ctx, step);
  return runningStep(ctx, step);
}

function firstUnfinished(state: RunState): string | undefined {
  for (let i = state.cursor; i < state.order.length; i++) {
    const s = state.steps[state.order[i]];
    if (s.status === StepStatus.Pending || s.status === StepStatus.Running) return s.id;
  }
  return undefined;
}

/** a step not started yet: stop before it, skip it (--from, --to, `when`), or start it */
function pendingStep(ctx: Ctx, step: ResolvedStep): Action[] {
  const { plan, state, connecting } = ctx;
  if (state.stopRequested)
    return ctx.busy
      ? [{ kind: 'idle' }]
      : [{ kind: 'finish', result: 'interrupted', message: 'stopped by the operator; resume with `lifeboat resume`' }];
  if (state.config.fromStep && step.phase !== 'preflight' && beforeFrom(plan, state, step.id)) {
    return [{ kind: 'skip-step', step: step.id, reason: 'from', note: `before --from ${state.config.fromStep}` }];
  }
  if (state.config.toStep && step.phase !== 'preflight' && afterTo(plan, state, step.id)) {
    return [{ kind: 'skip-step', step: step.id, reason: 'to', note: `after --to ${state.config.toStep}` }];
  }
  // `when` may need to know whether hosts answer
  const unknown = [
    ...new Set(
      step.when.flatMap((c) =>
        (c.kind === 'unreachable' || c.kind === 'reachable') && !state.hosts[c.host] ? [c.host] : [],
      ),
    ),
  ];
  if (unknown.length) {
    // only this step waits for them; hosts already being tried are not asked for again
    const ask = unknown.filter((h) => !connecting.has(h));
    return ask.length ? [{ kind: 'connect', hosts: ask }] : [{ kind: 'idle' }];
  }
  const why = whenFails(step, plan, state, ctx.secrets, ctx.facts);
  if (why) return [{ kind: 'skip-step', step: step.id, reason: 'when', note: why }];
  return [{ kind: 'start-step', step: step.id }];
}

/** a step under way: its gate or manual work, a failure to decide, its end, or its next units */
function runningStep(ctx: Ctx, step: ResolvedStep): Action[] {
  const { state } = ctx;
  const ss = state.steps[step.id];
  if (step.confirm && !ss.confirmed) return [{ kind: 'confirm', step: step.id }];
  if (step.action === 'manual')
    return ss.manualDone ? [{ kind: 'finish-step', step: step.id, result: 'ok' }] : [{ kind: 'manual', step: step.id }];
  if (step.action === 'gate') return [{ kind: 'finish-step', step: step.id, result: 'ok' }];

  const mine = stepUnits(state, step);
  // one pass over the step's units (a step on 500 hosts is decided ~500 times)
  let flying = 0;
  let allTerminal = true;
  let anyFailed = false;
  let allSkipped = true;
  const failed: UnitState[] = [];
  for (const u of mine) {
    if (isInFlight(u)) flying++;
    if (u.status === UnitStatus.Failed) {
      anyFailed = true;
      if (!u.decided) failed.push(u);
    }
    if (u.status !== UnitStatus.Skipped) allSkipped = false;
    if (allTerminal && !isTerminal(u)) allTerminal = false;
  }
  if (failed.length) {
    // no new hosts start once one failed; decide when the others have reported
    if (flying) return [{ kind: 'idle' }];
    const policy = step.onFailure ?? state.config.defaultOnFailure;
    const message = failed.map((u) => `${u.host}: ${u.reason ?? 'failed'}`).join('; ');
    return [
      { kind: 'failure', step: step.id, host: failed.length === 1 ? failed[0].host : undefined, message, policy },
    ];
  }
  if (allTerminal)
    return [{ kind: 'finish-step', step: step.id, result: anyFailed ? 'failed' : allSkipped ? 'skipped' : 'ok' }];
  return nextUnits(ctx, step, mine, flying);
}

// A step's units in its host order. Units are made once (initState) and changed in place, so
// the list is built once per run and step instead of a key and a lookup per host per decision.
const unitLists = new WeakMap<RunState, Map<string, UnitState[]>>();
function stepUnits(state: RunState, step: ResolvedStep): UnitState[] {
  let byStep = unitLists.get(state);
  if (!byStep) unitLists.set(state, (byStep = new Map()));
  let list = byStep.get(step.id);
  if (!list) byStep.set(step.id, (list = step.hosts.map((h) => state.units[unitKey(step.id, h)])));
  return list;
}

/** the units of a running step that may start now, within its parallelism */
function nextUnits(
  { plan, state, now, connecting }: Ctx,
  step: ResolvedStep,
  mine: UnitState[],
  flying: number,
): Action[] {
  const serial = step.strategy === 'serial';
  let slots = (serial ? 1 : step.maxParallel) - flying;
  const actions: Action[] = [];
  const toConnect: string[] = [];
  let earliest = Infinity;
  for (const u of mine) {
    if (slots <= 0) break;
    if (u.status === UnitStatus.Waiting) {
      if ((u.notBefore ?? 0) > now) {
        earliest = Math.min(earliest, u.notBefore ?? now);
        if (serial) break;
        continue;
      }
    } else if (u.status !== UnitStatus.Pending) {
      if (serial && !isTerminal(u)) break;
      continue;
    }
    const host = plan.hosts[u.host];
    const hs = state.hosts[u.host];
    if ((!host || dials(host)) && !hs) {
      // a host still being tried delays only its own units
      if (!connecting.has(u.host)) toConnect.push(u.host);
      if (serial) break;
      continue;
    }
    if (hs && !hs.reachable && host?.mayBeDown && (hs.kind === 'unreachable' || hs.kind === 'connection-lost')) {
      actions.push({
        kind: 'skip-unit',
        step: step.id,
        host: u.host,
        reason: 'host-down',
        note: `${u.host} unreachable, as expected (may be down): ${hs.message ?? ''}`.trim(),
      });
      continue;
    }
    actions.push(nextExec(step, u));
    slots--;
  }
  if (toConnect.length) actions.unshift({ kind: 'connect', hosts: toConnect });
  if (actions.length) return actions;
  if (earliest < Infinity) return [{ kind: 'wait', until: earliest }];
  return [{ kind: 'idle' }];
}

function nextExec(step: ResolvedStep, u: UnitState): Action {
  if (step.skipIf && !u.skipChecked && u.status === UnitStatus.Pending)
    return { kind: 'exec', step: step.id, host: u.host, attempt: u.attempt, purpose: 'skip_if' };
  return { kind: 'exec', step: step.id, host: u.host, attempt: u.attempt + 1, purpose: 'run' };
}

const fromIndexes = new WeakMap<string[], { from: string; pos: Map<string, number>; at: number }>();
function beforeFrom(plan: ResolvedPlan, state: RunState, id: string): boolean {
  const from = state.config.fromStep!;
  let ix = fromIndexes.get(state.order);
  if (!ix || ix.from !== from) {
    const main = state.order.filter((s) => stepById(plan, s).phase !== 'preflight');
    ix = {
      from,
      pos: new Map(main.map((s, n) => [s, n])),
      at: main.findIndex((s) => s === from || s.startsWith(`${from}/`)),
    };
    fromIndexes.set(state.order, ix);
  }
  const i = ix.pos.get(id) ?? -1;
  return ix.at >= 0 && i >= 0 && i < ix.at;
}

function afterTo(plan: ResolvedPlan, state: RunState, id: string): boolean {
  const to = state.config.toStep!;
  const main = state.order.filter((s) => stepById(plan, s).phase !== 'preflight');
  const i = main.indexOf(id);
  // the last step of the --to step (an include's steps are STEP/…)
  let j = -1;
  main.forEach((s, k) => {
    if (s === to || s.startsWith(`${to}/`)) j = k;
  });
  return j >= 0 && i > j;
}

/** why the step's `when` does not hold, or undefined when it does */
export function whenFails(
  step: ResolvedStep,
  plan: ResolvedPlan,
  state: RunState,
  secrets: Record<string, string>,
  facts: Record<string, HostFacts>,
): string | undefined {
  for (const c of step.when) {
    if (c.kind === 'unreachable' || c.kind === 'reachable') {
      const up = state.hosts[c.host]?.reachable ?? false;
      const name = c.role ? `${c.role} (${c.host})` : c.host;
      if (c.kind === 'unreachable' && up) return `${name} is reachable`;
      if (c.kind === 'reachable' && !up) return `${name} is unreachable`;
      continue;
    }
    const cv = c as Extract<typeof c, { value: unknown }>;
    let v: string;
    try {
      v = render(cv.value, stepContext(plan, step, undefined, state.captured, secrets, facts), 'text').trim();
    } catch (e) {
      if (e instanceof TemplateError) return `condition cannot be evaluated: ${e.message}`;
      throw e;
    }
    if (cv.kind === 'equals' && v !== cv.operand) return `'${cv.value.source}' is '${v}', not '${cv.operand}'`;
    if (cv.kind === 'not_equals' && v === cv.operand) return `'${cv.value.source}' is '${v}'`;
    if (cv.kind === 'matches' && !new RegExp(cv.operand).test(v))
      return `'${cv.value.source}' is '${v}', which does not match /${cv.operand}/`;
  }
  return undefined;
}

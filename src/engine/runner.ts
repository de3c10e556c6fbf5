// The only async loop of a run: asks `decide` what to do, performs it through the ports,
// journals what happened (durably, before acting on it) and feeds it back through `apply`.
import type { ResolvedPlan, ResolvedStep } from '../model/plan.js';
import {
  TransportError,
  type Journal,
  type Operator,
  type Reporter,
  type ExecResult,
  type ResolvedHost,
} from '../ports.js';
import { dials, transportFor, type Transports } from '../transport/registry.js';
import type { JournalRecord, RunEvent } from './events.js';
import { apply, isInFlight, unitKey, stepOf, liveUnits, pollDeadline, type RunState } from './state.js';
import { decide, type Action } from './decide.js';
import { Redactor } from './redact.js';
import { render } from '../plan/template.js';
import { stepContext, hostFacts, type HostFacts } from '../plan/context.js';
import { rpoFromState, rpoGateQuestion } from './rpo.js';
import { finishedEvent, keptOutput, liveOutput, type ExecAction } from './runner-exec.js';
import { askInDoubt, failedOutput } from './runner-ask.js';

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, Math.max(0, ms));
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    }),
};

export interface RunnerPorts {
  /** every host is reached by the transport of its kind (src/transport/registry.ts) */
  transports: Transports;
  journal: Journal;
  operator: Operator;
  reporter: Reporter;
  clock?: Clock;
}

export interface RunnerOptions {
  secrets: Record<string, string>;
  /** how much of each stream the journal keeps */
  tailBytes?: number;
  /** hosts connected at once when the run starts */
  connectParallel?: number;
  /** connect to every host of the plan at the start, not only those with steps left (preflight) */
  connectAll?: boolean;
  /** runs just before the run's last record (releases the remote lock: a crash after the
   *  last record then leaves nothing behind) */
  beforeFinish?: () => Promise<void>;
}

type ActionOf<K extends Action['kind']> = Extract<Action, { kind: K }>;

/** the same actions asked for this many times in a row without anything new is a loop */
const MAX_REPEATS = 1000;

export class Runner {
  private readonly clock: Clock;
  private readonly redactor: Redactor;
  private readonly facts: Record<string, HostFacts>;
  private readonly controllers = new Map<string, AbortController>();
  /** each unit's last command output (redacted, bounded), for the failure prompt's "show the whole output" */
  private readonly outputs = new Map<string, { stdout: string; stderr: string }>();
  private readonly connecting = new Set<string>();
  /** hosts whose connection was tried (once per run: a host's state comes from its first try) */
  private readonly started = new Set<string>();
  /** connections and commands started: progress even before they report */
  private starts = 0;
  private wakeUp: (() => void) | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private interrupting = false;
  private fatal: unknown;

  constructor(
    readonly plan: ResolvedPlan,
    readonly state: RunState,
    private readonly ports: RunnerPorts,
    private readonly opts: RunnerOptions,
  ) {
    this.clock = ports.clock ?? systemClock;
    this.redactor = new Redactor(Object.values(opts.secrets));
    this.facts = hostFacts(plan);
  }

  get redact(): Redactor {
    return this.redactor;
  }

  /**
   * Journal an event (durably), then apply it and show it. The append starts at once, so records
   * dispatched together share one journal write and sync; apply follows seq (= call) order.
   */
  dispatch(event: RunEvent): Promise<JournalRecord> {
    const appended = this.ports.journal.append(this.redactor.redactDeep(event));
    // handled where it is awaited below; this only keeps an early failure from counting as unhandled
    appended.catch(() => undefined);
    const next = this.chain.then(async () => {
      const rec = await appended;
      apply(this.state, this.plan, rec);
      this.ports.reporter.event(rec);
      this.wake();
      return rec;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /**
   * Dispatch from work the loop does not await (a command's end, and what it measured): a
   * journal that fails becomes the run's fatal error, and the loop wakes to throw it.
   */
  private dispatchOrFail(event: RunEvent): Promise<unknown> {
    return this.dispatch(event).catch((x) => {
      this.fatal = x;
      this.wake();
    });
  }

  private wake() {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  /** Run until the run finishes (or is interrupted). Returns the final state. */
  async run(): Promise<RunState> {
    this.preconnect();
    let lastActions = '';
    let repeats = 0;
    for (;;) {
      if (this.fatal) throw this.fatal;
      if (this.state.status !== 'running') break;
      const actions = decide({
        plan: this.plan,
        state: this.state,
        now: this.clock.now(),
        secrets: this.opts.secrets,
        facts: this.facts,
        connecting: this.connecting,
      });
      if (!actions.length) break;
      // the progress invariant: every turn of this loop journals a record, starts a connection
      // or a command, or waits for one to report. A turn that does none of these is a bug in
      // decide: it ends the run as an internal error (journaled and shown), never a spin.
      const seqBefore = this.state.lastSeq;
      const startsBefore = this.starts;
      let waitUntil: number | undefined;
      for (let i = 0; i < actions.length; i++) {
        const a = actions[i];
        if (a.kind === 'idle') continue;
        if (a.kind === 'wait') {
          waitUntil = a.until;
          continue;
        }
        // its hosts report first: nothing follows run-finished
        if (a.kind === 'finish' && this.connecting.size) continue;
        if (a.kind === 'exec') {
          // consecutive commands start together: their intents share one journal write and sync
          const group = [a];
          for (let n = actions[i + 1]; n?.kind === 'exec'; n = actions[i + 1]) {
            group.push(n);
            i++;
          }
          await this.startExecs(group);
          continue;
        }
        await this.perform(a);
        if (a.kind === 'finish') return this.state;
      }
      const progressed = this.state.lastSeq !== seqBefore || this.starts !== startsBefore;
      // records that change nothing, asked for again and again, are no progress either
      const key = JSON.stringify(actions);
      repeats = key === lastActions ? repeats + 1 : 0;
      lastActions = key;
      if (progressed && repeats < MAX_REPEATS) continue;
      const woke = new Promise<void>((r) => {
        this.wakeUp = r;
      });
      if (waitUntil !== undefined) {
        const ac = new AbortController();
        await Promise.race([woke, this.clock.sleep(waitUntil - this.clock.now(), ac.signal)]);
        ac.abort();
      } else if (repeats < MAX_REPEATS && (liveUnits(this.state).some(isInFlight) || this.connecting.size)) {
        const wasConnecting = this.connecting.size;
        const others = this.state.live.size > 1;
        await woke;
        // hosts that answer in the same turn of the event loop start their commands together
        // (one journal write and sync for their intents); commands that end in the same turn
        // are decided on together (a step on 500 hosts is decided a few times per turn, not
        // once per host, each decision a pass over its hosts)
        if (wasConnecting || others) {
          await new Promise((r) => setImmediate(r));
          await this.chain;
        }
      } else {
        this.wakeUp = undefined;
        await this.noProgress(actions);
        return this.state;
      }
    }
    await this.chain;
    return this.state;
  }

  /** decide asked for something that changes nothing, with nothing left to wait for: end the run, saying so */
  private async noProgress(actions: Action[]) {
    const current = this.state.order.find(
      (id) => this.state.steps[id].status === 'pending' || this.state.steps[id].status === 'running',
    );
    const asked = actions.map((a) => a.kind + ('hosts' in a ? ` ${a.hosts.join(',')}` : '')).join(', ');
    await this.dispatch({
      type: 'run-finished',
      result: 'failed',
      durationMs: this.clock.now() - this.state.startedAt,
      message:
        `internal error: the run made no progress${current ? ` at step ${current}` : ''} (asked for: ${asked}); ` +
        'nothing was left running. This is a bug in lifeboat; the journal is intact',
    });
  }

  /** Open every host the run will touch, in parallel, so a dead host shows at once; the run does not wait for them. */
  private preconnect() {
    const pending = new Set(
      Object.values(this.state.units)
        .filter((u) => !isInFlight(u))
        .map((u) => u.host),
    );
    const hosts = Object.keys(this.plan.hosts).filter(
      (h) => h !== 'local' && (pending.has(h) || this.opts.connectAll) && !this.state.hosts[h],
    );
    const limit = this.opts.connectParallel ?? 32;
    const queue = [...hosts];
    const next = (): Promise<void> | undefined => {
      const h = queue.shift();
      return h === undefined ? undefined : this.connect(h).then(next);
    };
    // marked at once, so decide waits for these hosts instead of asking for them again
    for (const h of hosts) this.connecting.add(h);
    for (let i = 0; i < Math.min(limit, hosts.length); i++) void next();
  }

  /** The one path by which a host becomes known: reachable, or not (with why). Never throws. */
  private async connect(host: string): Promise<void> {
    if (this.state.hosts[host] || this.started.has(host)) return;
    this.started.add(host);
    this.connecting.add(host);
    this.starts++;
    const h = this.plan.hosts[host];
    try {
      if (!h) {
        await this.dispatch({
          type: 'host-state',
          host,
          reachable: false,
          kind: 'internal',
          message: `host '${host}' is not among the hosts of the plan`,
        });
      } else if (!dials(h)) {
        await this.dispatch({ type: 'host-state', host, reachable: true });
      } else {
        try {
          await transportFor(this.ports.transports, h).connect(h);
          await this.dispatch({ type: 'host-state', host, reachable: true });
        } catch (e) {
          const kind = e instanceof TransportError ? e.kind : 'internal';
          await this.dispatch({
            type: 'host-state',
            host,
            reachable: false,
            kind,
            message: this.redactor.redact((e as Error).message),
          });
        }
      }
    } catch (e) {
      this.fatal ??= e;
    } finally {
      this.connecting.delete(host);
      this.wake();
    }
  }

  private step(id: string): ResolvedStep {
    return stepOf(this.plan, id)!;
  }

  private ctx(step: ResolvedStep, host?: string) {
    return stepContext(this.plan, step, host, this.state.captured, this.opts.secrets, this.facts);
  }

  private async perform(a: Action): Promise<void> {
    switch (a.kind) {
      case 'connect':
        // not awaited: the loop wakes when each host reports
        for (const h of a.hosts) void this.connect(h);
        return;
      case 'skip-step':
        await this.dispatch({ type: 'step-skipped', step: a.step, reason: a.reason, note: a.note });
        return;
      case 'skip-unit':
        await this.dispatch({ type: 'step-skipped', step: a.step, host: a.host, reason: a.reason, note: a.note });
        return;
      case 'start-step':
        await this.dispatch({ type: 'step-started', step: a.step });
        return;
      case 'finish-step': {
        const s = this.state.steps[a.step];
        await this.dispatch({
          type: 'step-finished',
          step: a.step,
          result: a.result,
          durationMs: this.clock.now() - (s.startedAt ?? this.clock.now()),
        });
        return;
      }
      case 'confirm':
        await this.askConfirm(a);
        return;
      case 'manual':
        await this.askManual(a);
        return;
      case 'failure':
        await this.decideFailure(a);
        return;
      case 'in-doubt':
        await this.settleInDoubt(a);
        return;
      case 'start-rollback':
        await this.dispatch({ type: 'rollback-started', units: a.units });
        return;
      case 'finish':
        await this.opts
          .beforeFinish?.()
          .catch((e) => this.ports.reporter.note(`before the end of the run: ${(e as Error).message}`, 'warn'));
        await this.dispatch({
          type: 'run-finished',
          result: a.result,
          durationMs: this.clock.now() - this.state.startedAt,
          message: a.message,
        });
        return;
      case 'exec':
        await this.startExecs([a]);
        return;
      case 'wait':
      case 'idle':
        return;
    }
  }

  private async askConfirm(a: ActionOf<'confirm'>): Promise<void> {
    const op = this.ports.operator;
    const st = this.step(a.step);
    const asked = render(st.confirm!, this.ctx(st), 'text');
    // the first point of no return after a measurement says how much data it loses
    const question = this.redactor.redact(rpoGateQuestion(this.plan, this.state, st.id, asked) ?? asked);
    this.ports.reporter.pause();
    const r = await op.confirm({ step: st.id, title: st.title, question }).finally(() => this.ports.reporter.resume());
    await this.dispatch({ type: 'confirmed', step: st.id, question, answer: r.answer, by: op.name, auto: r.auto });
  }

  private async askManual(a: ActionOf<'manual'>): Promise<void> {
    const op = this.ports.operator;
    const st = this.step(a.step);
    const instructions = this.redactor.redact(render(st.manual!, this.ctx(st), 'text'));
    this.ports.reporter.pause();
    const r = await op
      .manual({ step: st.id, title: st.title, instructions, record: st.record })
      .finally(() => this.ports.reporter.resume());
    await this.dispatch({
      type: 'manual-done',
      step: st.id,
      done: r.done,
      by: op.name,
      value: r.value,
      record: st.record,
      auto: r.auto,
    });
  }

  /** A failed step: the policy decides, or the operator does, shown what the failed hosts printed. */
  private async decideFailure(a: ActionOf<'failure'>): Promise<void> {
    const op = this.ports.operator;
    const st = this.step(a.step);
    if (a.policy !== 'ask') {
      await this.dispatch({
        type: 'failure-decision',
        step: a.step,
        host: a.host,
        choice: a.policy,
        by: op.name,
        auto: true,
      });
      return;
    }
    this.ports.reporter.pause();
    const canRollback = this.state.completed.some((c) => this.step(c.step).rollback);
    const { output, fullOutput } = failedOutput(this.state, this.outputs, st);
    const choice = await op
      .onFailure({
        step: st.id,
        title: st.title,
        host: a.host,
        message: a.message,
        canRollback,
        preflight: st.phase === 'preflight',
        output,
        fullOutput,
      })
      .finally(() => this.ports.reporter.resume());
    await this.dispatch({ type: 'failure-decision', step: a.step, host: a.host, choice, by: op.name, auto: false });
  }

  /** A command that may or may not have run before a stop: the policy decides, or the operator does. */
  private async settleInDoubt(a: ActionOf<'in-doubt'>): Promise<void> {
    const op = this.ports.operator;
    if (a.policy !== 'ask') {
      await this.dispatch({
        type: 'in-doubt',
        step: a.step,
        host: a.host,
        choice: a.policy,
        by: op.name,
        auto: true,
      });
      return;
    }
    const st = this.step(a.step);
    const u = this.state.units[unitKey(a.step, a.host)];
    const { choice, captured } = await askInDoubt(op, this.ports.reporter, st, a.host, u);
    await this.dispatch({ type: 'in-doubt', step: a.step, host: a.host, choice, by: op.name, auto: false, captured });
    if (captured && st.measures === 'rpo') await this.recordRpo();
  }

  /** Start commands together; every one has its intent durable before it is sent. Settles when all are sent (or failed to be). */
  private async startExecs(group: ExecAction[]) {
    const results = await Promise.allSettled(group.map((a) => this.startExec(a)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Journal the intent (durably) and send the command once it is, without waiting for the command. */
  private async startExec(a: ExecAction) {
    const st = this.step(a.step);
    const tpl = a.purpose === 'run' ? st.run! : a.purpose === 'skip_if' ? st.skipIf! : st.rollback!;
    const ctx = this.ctx(st, a.host);
    let command: string;
    let display: string;
    let env: Record<string, string>;
    try {
      command = render(tpl, ctx, 'shell');
      display = render(tpl, ctx, 'shell-display');
      env = Object.fromEntries(Object.entries(st.env).map(([k, v]) => [k, render(v, ctx, 'text')]));
    } catch (e) {
      // a captured value that never came (its step was skipped): the step cannot run
      await this.dispatch({
        type: 'intent',
        step: a.step,
        host: a.host,
        attempt: a.attempt,
        command: tpl.source,
        purpose: a.purpose,
      });
      await this.dispatch({
        type: 'exec-error',
        step: a.step,
        host: a.host,
        attempt: a.attempt,
        purpose: a.purpose,
        kind: 'template',
        message: (e as Error).message,
      });
      return;
    }
    const intent = this.dispatch({
      type: 'intent',
      step: a.step,
      host: a.host,
      attempt: a.attempt,
      command: display,
      purpose: a.purpose,
    });
    const host = this.plan.hosts[a.host];
    // a host whose key was refused is not asked again per step: the refusal was said once, on the host's line
    const hs = this.state.hosts[a.host];
    if (hs && !hs.reachable && (hs.kind === 'host-key-unknown' || hs.kind === 'host-key-changed')) {
      await intent;
      await this.dispatch({
        type: 'exec-error',
        step: a.step,
        host: a.host,
        attempt: a.attempt,
        purpose: a.purpose,
        kind: hs.kind,
        message:
          `${a.host}'s host key was refused (${hs.kind === 'host-key-changed' ? 'it changed' : 'unknown key'}; ` +
          `why and what to do: see host ${a.host}): nothing was sent`,
      });
      return;
    }
    const u = this.state.units[unitKey(a.step, a.host)];
    let timeoutMs = st.timeoutMs;
    if (a.purpose === 'run' && st.until)
      timeoutMs = Math.max(1000, pollDeadline(st, u.firstAt ?? this.clock.now()) - this.clock.now());
    if (a.purpose === 'skip_if') timeoutMs = st.timeoutMs ?? 60_000;
    const ac = new AbortController();
    const key = `${unitKey(a.step, a.host)}:${a.purpose}`;
    this.controllers.set(key, ac);
    // the session opens while the intent is synced; the command is sent once it is (the gate)
    void this.exec(host, st, a, command, env, timeoutMs, ac, intent).finally(() => this.controllers.delete(key));
    await intent;
  }

  /** Send a command once its intent is durable (the gate), and journal how it ended. */
  private async exec(
    host: ResolvedHost,
    st: ResolvedStep,
    a: ExecAction,
    command: string,
    env: Record<string, string>,
    timeoutMs: number | undefined,
    ac: AbortController,
    gate: Promise<unknown>,
  ) {
    const transport = transportFor(this.ports.transports, host);
    const live =
      a.purpose === 'run' || a.purpose === 'rollback'
        ? liveOutput(this.redactor, this.ports.reporter, st.id, host.name)
        : undefined;
    let res: ExecResult;
    try {
      const conn = await transport.connect(host);
      res = await conn.exec({
        command,
        env,
        sudo: st.sudo,
        timeoutMs,
        signal: ac.signal,
        gate,
        onStdout: live?.stdout,
        onStderr: live?.stderr,
      });
      live?.flush();
    } catch (e) {
      const kind = e instanceof TransportError ? e.kind : 'internal';
      await this.dispatchOrFail({
        type: 'exec-error',
        step: st.id,
        host: host.name,
        attempt: a.attempt,
        purpose: a.purpose,
        kind,
        message: this.redactor.redact((e as Error).message),
      });
      return;
    }
    if (a.purpose === 'run') this.outputs.set(unitKey(st.id, host.name), keptOutput(this.redactor, res));
    const ev = finishedEvent(
      {
        state: this.state,
        now: () => this.clock.now(),
        tailBytes: this.opts.tailBytes,
        text: (t) => render(t, this.ctx(st, host.name), 'text'),
      },
      st,
      host.name,
      a,
      res,
    );
    await this.dispatchOrFail(ev);
    if (st.measures === 'rpo' && ev.captured && !res.simulated) await this.recordRpo();
  }

  /** Journal the data-loss window the run now holds (after the capture that measured it). */
  private async recordRpo() {
    const e = rpoFromState(this.plan, this.state);
    if (!e) return;
    await this.dispatchOrFail({ type: 'rpo-measured', ...e });
  }

  /** Ctrl-C. The first asks (or, without a person, stops the running commands); callers exit on the second. */
  async interrupt(): Promise<void> {
    if (this.interrupting || this.state.status !== 'running') return;
    this.interrupting = true;
    try {
      const running = Object.values(this.state.units)
        .filter(isInFlight)
        .map((u) => `${u.step} on ${u.host}`);
      this.ports.reporter.pause();
      const how = await this.ports.operator.interrupt({ running }).finally(() => this.ports.reporter.resume());
      if (how === 'continue') return;
      await this.dispatch({ type: 'interrupted', by: this.ports.operator.name, how });
      if (how === 'stop-step') for (const c of this.controllers.values()) c.abort();
    } finally {
      this.interrupting = false;
    }
  }
}

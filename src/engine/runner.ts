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
import type { JournalRecord, RunEvent, ExecFinishedEvent } from './events.js';
import {
  apply,
  isInFlight,
  unitKey,
  stepOf,
  liveUnits,
  pollDeadline,
  pollFits,
  DEFAULT_POLL_TIMEOUT_MS,
  type RunState,
} from './state.js';
import { decide, type Action } from './decide.js';
import { checkExpectation, renderExpectation } from './expect.js';
import { Redactor, StreamRedactor } from './redact.js';
import { failureTail } from './output-tail.js';
import { printable } from '../util/printable.js';
import { render } from '../plan/template.js';
import { stepContext, hostFacts, type HostFacts } from '../plan/context.js';
import { rpoFromState, rpoGateQuestion } from './rpo.js';

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

type ExecAction = Extract<Action, { kind: 'exec' }>;
type ActionOf<K extends Action['kind']> = Extract<Action, { kind: K }>;

const TAIL = 4096;
/** what the failure prompt can page through, per stream */
const FULL = 1 << 20;
/** the same actions asked for this many times in a row without anything new is a loop */
const MAX_REPEATS = 1000;
const tail = (s: string, n: number) => (s.length > n ? s.slice(s.length - n) : s);

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
        await woke;
        // hosts that answer in the same turn of the event loop start their commands together
        // (one journal write and sync for their intents)
        if (wasConnecting) {
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
    const { output, fullOutput } = this.failedOutput(st);
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

  /** What the step's undecided failed hosts printed: the tail, and all of it; each labelled by host when there are several. */
  private failedOutput(st: ResolvedStep): { output?: string; fullOutput?: string } {
    const failed = st.hosts.filter((h) => {
      const u = this.state.units[unitKey(st.id, h)];
      return u?.status === 'failed' && !u.decided;
    });
    const shown = failed.map((h) => ({ h, o: this.outputs.get(unitKey(st.id, h)) })).filter((x) => x.o);
    const label = (h: string, text: string) =>
      failed.length > 1
        ? `${h}:\n${text
            .split('\n')
            .map((l) => `  ${l}`)
            .join('\n')}`
        : text;
    const output =
      shown
        .map(({ h, o }) => label(h, failureTail(o!)))
        .filter(Boolean)
        .join('\n') || undefined;
    const fullOutput =
      shown
        .map(({ h, o }) =>
          label(
            h,
            [o!.stderr && `stderr:\n${printable(o!.stderr)}`, o!.stdout && `stdout:\n${printable(o!.stdout)}`]
              .filter(Boolean)
              .join('\n'),
          ),
        )
        .join('\n') || undefined;
    return { output, fullOutput };
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
    this.ports.reporter.pause();
    let choice: 'rerun' | 'done' | 'abort';
    let captured: { name: string; value: string } | undefined;
    try {
      choice = await op.inDoubt({
        step: st.id,
        title: st.title,
        host: a.host,
        command: u.lastCommand ?? '',
        lastOutput: u.lastOutput ?? '',
      });
      if (choice === 'done' && st.capture) {
        // later steps need what it printed: "done" takes the value from the operator
        const r = await op.manual({
          step: st.id,
          title: `value of ${st.capture}`,
          instructions: `Step ${st.id} captures its output as ${st.capture}. Run it by hand on ${a.host} (${u.lastCommand ?? ''}) and type what it prints.`,
          record: st.capture,
        });
        if (!r.done || r.value === undefined) choice = 'abort';
        else captured = { name: st.capture, value: r.value };
      }
    } catch (e) {
      if (!(e instanceof Error && e.constructor.name === 'NonInteractiveError')) throw e;
      this.ports.reporter.note(
        st.capture
          ? `in-doubt step ${st.id} on ${a.host} captures its output as ${st.capture}: ` +
              `marking it done needs that value (--yes-manual --answer ${st.id}=VALUE, or a terminal); stopping here`
          : `in-doubt step ${st.id} on ${a.host}: ${e.message}`,
        'warn',
      );
      choice = 'abort';
    } finally {
      this.ports.reporter.resume();
    }
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
    const live = a.purpose === 'run' || a.purpose === 'rollback' ? this.liveOutput(st.id, host.name) : undefined;
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
      await this.dispatch({
        type: 'exec-error',
        step: st.id,
        host: host.name,
        attempt: a.attempt,
        purpose: a.purpose,
        kind,
        message: this.redactor.redact((e as Error).message),
      }).catch((x) => {
        this.fatal = x;
        this.wake();
      });
      return;
    }
    if (a.purpose === 'run')
      this.outputs.set(unitKey(st.id, host.name), {
        stdout: tail(this.redactor.redact(res.stdout), FULL),
        stderr: tail(this.redactor.redact(res.stderr), FULL),
      });
    const ev = this.finishedEvent(st, host.name, a, res);
    await this.dispatch(ev).catch((x) => {
      this.fatal = x;
      this.wake();
    });
    if (st.measures === 'rpo' && ev.captured && !res.simulated) await this.recordRpo();
  }

  /** A command's output shown as it comes (redacted, also across chunks), and what is left of it at the end. */
  private liveOutput(step: string, host: string) {
    const out = new StreamRedactor(this.redactor);
    const err = new StreamRedactor(this.redactor);
    const rep = this.ports.reporter;
    return {
      stdout: (c: string) => {
        const t = out.push(c);
        if (t) rep.output(step, host, 'stdout', t);
      },
      stderr: (c: string) => {
        const t = err.push(c);
        if (t) rep.output(step, host, 'stderr', t);
      },
      flush: () => {
        const o = out.flush();
        if (o) rep.output(step, host, 'stdout', o);
        const e = err.flush();
        if (e) rep.output(step, host, 'stderr', e);
      },
    };
  }

  /** How a command ended, judged: its expectation for the step's command, its exit code for a guard or a rollback. */
  private finishedEvent(st: ResolvedStep, host: string, a: ExecAction, res: ExecResult): ExecFinishedEvent {
    const ev: ExecFinishedEvent = {
      type: 'exec-finished',
      step: st.id,
      host,
      attempt: a.attempt,
      purpose: a.purpose,
      exitCode: res.exitCode,
      timedOut: res.timedOut,
      canceled: res.canceled,
      signal: res.signal,
      durationMs: res.durationMs,
      stdoutTail: tail(res.stdout, this.opts.tailBytes ?? TAIL),
      stderrTail: tail(res.stderr, this.opts.tailBytes ?? TAIL),
      ok: false,
    };
    if (res.simulated) {
      // dry run: the command "did what it should"; a guard is shown as not holding, so the step shows
      ev.ok = a.purpose !== 'skip_if';
      if (a.purpose === 'run' && st.capture) ev.captured = { name: st.capture, value: `<captured ${st.capture}>` };
    } else if (a.purpose === 'run') {
      this.judgeRun(ev, st, host, res);
    } else {
      ev.ok = res.exitCode === 0 && !res.timedOut && !res.canceled;
      if (!ev.ok) ev.reason = res.timedOut ? 'timed out' : `exit code ${res.exitCode}`;
    }
    return ev;
  }

  /** The step's command against its `expect` (or its `until`, polled to its deadline), and what it captures. */
  private judgeRun(ev: ExecFinishedEvent, st: ResolvedStep, host: string, res: ExecResult): void {
    let check: { ok: boolean; reason?: string };
    try {
      check = checkExpectation(
        renderExpectation(st.until ?? st.expect, (t) => render(t, this.ctx(st, host), 'text')),
        res,
      );
    } catch (e) {
      // what to compare with cannot be known (a captured value that never came): not a pass
      check = { ok: false, reason: `cannot check the output: ${(e as Error).message}` };
    }
    ev.ok = check.ok;
    ev.reason = check.reason;
    if (st.until && !check.ok && !res.timedOut && !res.canceled) {
      // another poll only when it fits before the deadline: the log then says "gave up", not "not yet"
      const u = this.state.units[unitKey(st.id, host)];
      const first = u.firstAt ?? this.clock.now();
      if (pollFits(st, first, this.clock.now())) ev.pollAgain = true;
      else
        ev.reason = `${check.reason ?? 'condition not met'}; gave up after ${Math.round((this.clock.now() - first) / 1000)}s`;
    }
    if (st.until && res.timedOut)
      ev.reason = `did not hold within ${Math.round((st.timeoutMs ?? DEFAULT_POLL_TIMEOUT_MS) / 1000)}s`;
    if (check.ok && st.capture) ev.captured = { name: st.capture, value: res.stdout.trim() };
  }

  /** Journal the data-loss window the run now holds (after the capture that measured it). */
  private async recordRpo() {
    const e = rpoFromState(this.plan, this.state);
    if (!e) return;
    await this.dispatch({ type: 'rpo-measured', ...e }).catch((x) => {
      this.fatal = x;
      this.wake();
    });
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

// Model-based tests of the engine: fast-check generates runbooks over every step kind and
// field, transports whose every answer is generated (ok, fail, timeout, unreachable at start,
// connection lost mid-command), scripted operator answers, and crash points at any journal
// length followed by a resume. The real resolver, engine, runner and outcome function run;
// invariants are checked on every case. FUZZ_ENGINE_RUNS sets the number of cases
// (`npm run fuzz:engine` runs 100,000; fast-check prints the seed and path of a failure).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { project } from '../helpers/engine-harness.js';
import { resolvePlan } from '../../src/plan/resolve.js';
import { initState, apply, UnitStatus, StepStatus, type RunState } from '../../src/engine/state.js';
import { Runner } from '../../src/engine/runner.js';
import {
  TransportError,
  type Connection,
  type ExecRequest,
  type ExecResult,
  type Journal,
  type Operator,
  type ResolvedHost,
  type Transport,
} from '../../src/ports.js';
import { oneTransportForAll } from '../../src/transport/registry.js';
import type { JournalRecord, RunEvent, RunStartedEvent } from '../../src/engine/events.js';
import type { ResolvedPlan } from '../../src/model/plan.js';
import { journalState, runOutcome, resultWords, unitOutcome } from '../../src/engine/outcome.js';
import { summaryTable } from '../../src/ui/summary.js';
import { historyFromJournal } from '../../src/rehearsal/history.js';
import { summarizeRun } from '../../src/journal/runs.js';
import { reportModel } from '../../src/render/report-model.js';
import { junitXml } from '../../src/rehearsal/record.js';
import type { Prepared } from '../../src/session/prepare.js';

const RUNS = Number(process.env.FUZZ_ENGINE_RUNS ?? 2000);
const SEED = process.env.FUZZ_ENGINE_SEED ? Number(process.env.FUZZ_ENGINE_SEED) : undefined;

const HOSTS = ['primary', 'standby', 'db3'] as const;
type Outcome = 'ok' | 'fail' | 'timeout' | 'lost';

interface StepSpec {
  kind: 'run' | 'manual' | 'record' | 'gate';
  on: string[];
  strategy: 'parallel' | 'serial';
  maxParallel: number;
  when?: { unreachable: string } | { reachable: string } | { value: string; equals: string };
  skipIf: boolean;
  until: boolean;
  retries: number;
  capture: boolean;
  onFailure?: 'ask' | 'continue' | 'abort';
  idempotent: boolean;
  rollback: boolean;
  preflight: boolean;
  confirm: boolean;
}

interface Case {
  steps: StepSpec[];
  outcomes: Outcome[];
  captures: string[];
  down: string[];
  interactive: boolean;
  failure: ('retry' | 'skip' | 'rollback' | 'abort')[];
  inDoubt: ('rerun' | 'done' | 'abort')[];
  confirm: boolean[];
  manualDone: boolean[];
  crashes: number[];
  /** Ctrl-C after this many records of the first segment: stop the commands now, or after the step */
  interrupt?: { at: number; how: 'stop-step' | 'after-step' };
  /** `lifeboat resume` once more after a run that ended aborted or interrupted */
  resumeAfterStop: boolean;
}

const stepArb: fc.Arbitrary<StepSpec> = fc.record({
  kind: fc.constantFrom('run', 'run', 'run', 'manual', 'record', 'gate'),
  on: fc.subarray([...HOSTS], { minLength: 1 }),
  strategy: fc.constantFrom('parallel', 'serial'),
  maxParallel: fc.integer({ min: 1, max: 3 }),
  when: fc.option(
    fc.oneof(
      fc.constantFrom(...HOSTS).map((h) => ({ unreachable: h })),
      fc.constantFrom(...HOSTS).map((h) => ({ reachable: h })),
      fc.constantFrom('x', 'y').map((v) => ({ value: '{{ captured.c0 }}', equals: v })),
    ),
    { nil: undefined },
  ),
  skipIf: fc.boolean(),
  until: fc.boolean(),
  retries: fc.integer({ min: 0, max: 2 }),
  capture: fc.boolean(),
  onFailure: fc.option(fc.constantFrom('ask', 'continue', 'abort'), { nil: undefined }),
  idempotent: fc.boolean(),
  rollback: fc.boolean(),
  preflight: fc.boolean(),
  confirm: fc.boolean(),
}) as fc.Arbitrary<StepSpec>;

const caseArb: fc.Arbitrary<Case> = fc.record({
  steps: fc.array(stepArb, { minLength: 1, maxLength: 6 }),
  outcomes: fc.array(fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'fail', 'timeout', 'lost'), {
    minLength: 1,
    maxLength: 40,
  }),
  captures: fc.array(fc.constantFrom('x', 'y'), { minLength: 1, maxLength: 4 }),
  down: fc.subarray(['db1', 'db2', 'db3']),
  interactive: fc.constantFrom(true, true, false),
  failure: fc.array(fc.constantFrom('retry', 'skip', 'skip', 'rollback', 'abort'), { maxLength: 4 }),
  inDoubt: fc.array(fc.constantFrom('rerun', 'done', 'abort'), { maxLength: 4 }),
  confirm: fc.array(fc.boolean(), { maxLength: 4 }),
  manualDone: fc.array(fc.boolean(), { maxLength: 4 }),
  crashes: fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 2 }),
  interrupt: fc.option(
    fc.record({ at: fc.integer({ min: 2, max: 25 }), how: fc.constantFrom('stop-step', 'after-step') }),
    { nil: undefined },
  ),
  resumeAfterStop: fc.boolean(),
}) as fc.Arbitrary<Case>;

/** the runbook a case describes, as YAML: it goes through the real loader and resolver */
export function caseYaml(c: Case): string {
  let captureN = 0;
  const lines = c.steps.map((s, i) => {
    const id = `s${i}`;
    const out: string[] = [`  - id: ${id}`];
    if (s.preflight && s.kind === 'run') out.push('    phase: preflight');
    if (s.when) out.push(`    when: ${JSON.stringify(s.when)}`);
    if (s.kind === 'manual') out.push(`    manual: do ${id} by hand`);
    else if (s.kind === 'record') out.push(`    manual: read the value for ${id}`, `    record: c${captureN++}`);
    else if (s.kind === 'gate') out.push(`    confirm: go on with ${id}?`);
    else {
      out.push(
        `    on: [${s.on.join(', ')}]`,
        `    run: do-${id}`,
        `    strategy: ${s.strategy}`,
        `    max_parallel: ${s.maxParallel}`,
      );
      if (s.skipIf) out.push(`    skip_if: guard-${id}`);
      if (s.until) out.push('    until: { exit: 0 }', '    interval: 1s', '    timeout: 5s');
      if (s.retries) out.push(`    retries: ${s.retries}`, '    retry_delay: 1s');
      if (s.capture) out.push(`    capture: c${captureN++}`);
      if (s.onFailure) out.push(`    on_failure: ${s.onFailure}`);
      if (s.idempotent) out.push('    idempotent: true');
      if (s.rollback) out.push(`    rollback: undo-${id}`);
      if (s.confirm) out.push(`    confirm: really ${id}?`);
    }
    return out.join('\n');
  });
  return `
lifeboat: 1
kind: runbook
name: model
version: 1.0.0
title: Model
tier: critical
roles: { primary: { host: db1, may_be_down: true }, standby: db2, db3: db3 }
steps:
${lines.join('\n')}
`;
}

class CaseTransport implements Transport {
  /** every command actually sent: what ran on the hosts */
  readonly sent: { host: string; command: string; segment: number }[] = [];
  segment = 0;
  private n = 0;
  constructor(private readonly c: Case) {}
  async connect(host: ResolvedHost): Promise<Connection> {
    await new Promise((r) => setImmediate(r));
    if (this.c.down.includes(host.name))
      throw new TransportError('unreachable', host.name, `host ${host.name} unreachable: connection timed out`);
    return {
      host,
      exec: async (req: ExecRequest): Promise<ExecResult> => {
        if (req.gate) await req.gate;
        this.sent.push({ host: host.name, command: req.command, segment: this.segment });
        const base = {
          exitCode: 0,
          stdout: '',
          stderr: '',
          timedOut: false,
          canceled: false,
          signal: null,
          durationMs: 1,
        };
        if (req.command.startsWith('undo-')) return base;
        const o = this.c.outcomes[this.n++ % this.c.outcomes.length];
        if (o === 'lost') throw new TransportError('connection-lost', host.name, 'connection lost');
        if (o === 'timeout') return { ...base, exitCode: null, timedOut: true, stderr: 'took too long' };
        if (o === 'fail') return { ...base, exitCode: 1, stderr: 'cause\nlast line' };
        return { ...base, stdout: `${this.c.captures[this.n % this.c.captures.length]}\n` };
      },
      close: async () => {},
    };
  }
  async closeAll() {}
}

class CaseOperator implements Operator {
  readonly name = 'op@box';
  how: 'stop-step' | 'after-step' = 'stop-step';
  constructor(
    private readonly c: {
      failure: Case['failure'];
      inDoubt: Case['inDoubt'];
      confirm: boolean[];
      manualDone: boolean[];
    },
  ) {}
  async confirm() {
    return { answer: this.c.confirm.shift() ?? true, auto: false };
  }
  async manual(q: { record?: string }) {
    const done = this.c.manualDone.shift() ?? true;
    return { done, value: q.record ? 'x' : undefined, auto: false };
  }
  async onFailure() {
    return this.c.failure.shift() ?? 'abort';
  }
  async inDoubt() {
    return this.c.inDoubt.shift() ?? 'abort';
  }
  async interrupt() {
    return this.how;
  }
  async secret() {
    return 's';
  }
}

class Crash extends Error {}

/** a journal that dies (as the process would) once it has taken `limit` records in this segment */
class CrashingJournal implements Journal {
  private taken = 0;
  dead = false;
  onTaken?: (n: number) => void;
  constructor(
    readonly records: JournalRecord[],
    private readonly now: () => number,
    private readonly limit: number | undefined,
  ) {}
  async append(event: RunEvent): Promise<JournalRecord> {
    if (this.dead || (this.limit !== undefined && this.taken >= this.limit)) {
      this.dead = true;
      throw new Crash('crash');
    }
    this.taken++;
    this.onTaken?.(this.taken);
    const rec = {
      ...JSON.parse(JSON.stringify(event)),
      seq: this.records.length + 1,
      at: new Date(this.now()).toISOString(),
    } as JournalRecord;
    this.records.push(rec);
    return rec;
  }
  async close() {}
}

const HANG_MS = 20_000;
const STATS = {
  resolve: 0,
  run: 0,
  check: 0,
  crashed: 0,
  resumed: 0,
  inDoubt: 0,
  results: {} as Record<string, number>,
};

async function runCase(c: Case): Promise<{
  plan: ResolvedPlan;
  state: RunState;
  records: JournalRecord[];
  transport: CaseTransport;
  crashed: number;
}> {
  const tr = performance.now();
  const p = project(caseYaml(c));
  const plan = resolvePlan(p, 'model', 'lab');
  STATS.resolve += performance.now() - tr;
  const clock = {
    t: Date.parse('2026-11-21T10:00:00Z'),
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += Math.max(1, ms);
      await new Promise((r) => setImmediate(r));
    },
  };
  const tick = () => {
    clock.t += 7;
    return clock.t;
  };
  const records: JournalRecord[] = [];
  const transport = new CaseTransport(c);
  const answers = {
    failure: [...c.failure],
    inDoubt: [...c.inDoubt],
    confirm: [...c.confirm],
    manualDone: [...c.manualDone],
  };
  const operator = new CaseOperator(answers);
  const crashes = [...c.crashes];
  let state!: RunState;
  let crashed = 0;
  if (c.interrupt) operator.how = c.interrupt.how;
  let stopResumed = false;
  for (let segment = 0; segment <= c.crashes.length + 1; segment++) {
    transport.segment = segment;
    const journal = new CrashingJournal(records, tick, crashes.shift());
    try {
      const started =
        records.find((r): r is JournalRecord & RunStartedEvent => r.type === 'run-started') ??
        ((await journal.append({
          type: 'run-started',
          runId: 'r1',
          runbook: 'model',
          version: '1.0.0',
          title: 'Model',
          digest: plan.digest,
          files: [],
          inventory: 'lab',
          inventoryDigest: '',
          operator: 'op@box',
          lifeboatVersion: '0',
          vars: {},
          mode: 'rehearsal',
        })) as JournalRecord & RunStartedEvent);
      state = initState(plan, started, { defaultOnFailure: c.interactive ? 'ask' : 'abort' });
      const replay = records.filter((r) => r.type !== 'run-started');
      for (const r of replay) apply(state, plan, r);
      if (segment > c.crashes.length) {
        // one more resume after a stop, as the operator may do; nothing else to do otherwise
        if (stopResumed || !c.resumeAfterStop || !['aborted', 'interrupted'].includes(state.status)) break;
        stopResumed = true;
      }
      const runner = new Runner(
        plan,
        state,
        {
          transports: oneTransportForAll(transport),
          journal,
          operator,
          reporter: { event() {}, output() {}, note() {}, pause() {}, resume() {}, close() {} },
          clock,
        },
        { secrets: {} },
      );
      if (segment === 0 && c.interrupt) {
        const at = c.interrupt.at;
        journal.onTaken = (n) => {
          if (n === at) void runner.interrupt().catch(() => undefined);
        };
      }
      if (segment > 0) {
        // as `lifeboat resume` does: commands sent without a recorded result are in doubt
        const inDoubt = Object.values(state.units)
          .filter((u) => u.status === UnitStatus.Running)
          .map((u) => ({ step: u.step, host: u.host }));
        if (state.status === 'running' || state.status === 'interrupted' || state.status === 'aborted')
          await runner.dispatch({ type: 'resumed', operator: operator.name, inDoubt });
      }
      if (state.status === 'running') {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          runner.run(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`hang: the run did not end within ${HANG_MS} ms`)), HANG_MS);
          }),
        ]).finally(() => clearTimeout(timer));
      }
      if (!journal.dead) {
        if (!c.resumeAfterStop || stopResumed || !['aborted', 'interrupted'].includes(state.status)) break;
        continue;
      }
      crashed++;
    } catch (e) {
      if (!(e instanceof Crash) && !journal.dead) throw e;
      crashed++;
      // commands of the dead process may still be finishing: let them settle before the resume
      await new Promise((r) => setImmediate(r));
    }
  }
  return { plan, state, records, transport, crashed };
}

/** what the result must be, worked out without the outcome module */
function oracle(records: JournalRecord[]): { result: string; allowed: string[] } {
  let lastResumed = -1;
  records.forEach((r, i) => {
    if (r.type === 'resumed') lastResumed = i;
  });
  const fin = records.filter((r, i) => r.type === 'run-finished' && i > lastResumed).pop();
  const allowed = [
    ...new Set(records.flatMap((r) => (r.type === 'failure-decision' && r.choice === 'continue' ? [r.step] : []))),
  ];
  if (!fin || fin.type !== 'run-finished') return { result: 'unfinished', allowed };
  // an operator skipped a real failure, or vouched for a command in doubt
  const skippedFailure = records.some(
    (r) =>
      r.type === 'failure-decision' &&
      r.choice === 'skip' &&
      records.some(
        (x) =>
          x.seq < r.seq &&
          (x.type === 'exec-finished' || x.type === 'exec-error') &&
          x.step === r.step &&
          (!r.host || x.host === r.host) &&
          !(x.type === 'exec-finished' && x.ok),
      ),
  );
  const vouched = records.some((r) => r.type === 'in-doubt' && r.choice === 'done');
  if (fin.result === 'succeeded' && (skippedFailure || vouched)) return { result: 'completed-with-errors', allowed };
  return { result: fin.result, allowed };
}

function checkInvariants(c: Case, r: Awaited<ReturnType<typeof runCase>>) {
  const { plan, state, records } = r;
  const js = journalState(records);
  const o = runOutcome(js);
  const want = oracle(records);
  // the result function agrees with the oracle, and allowed failures are named
  expect(o.result, 'result').toBe(want.result);
  expect([...new Set(o.allowedFailures.map((u) => u.step))].sort()).toEqual(want.allowed.sort());
  expect(o.exitCode).toBe(o.result === 'succeeded' ? 0 : 1);
  // the run ended (no crash left it open at the last segment)
  expect(['succeeded', 'failed', 'aborted', 'rolled-back', 'interrupted']).toContain(state.status);
  // every step reaches exactly one terminal state: finished or skipped at most once, and all of them when the run reached its end
  for (const id of state.order) {
    const ends = records.filter(
      (x) => (x.type === 'step-finished' && x.step === id) || (x.type === 'step-skipped' && x.step === id && !x.host),
    );
    expect(ends.length, `step ${id} ended ${ends.length} times`).toBeLessThanOrEqual(1);
    if (state.status === 'succeeded') {
      expect([StepStatus.Ok, StepStatus.Failed, StepStatus.Skipped], `step ${id}`).toContain(state.steps[id].status);
      for (const h of plan.steps.find((s) => s.id === id)!.hosts) {
        const u = state.units[`${id}@${h}`];
        expect([UnitStatus.Ok, UnitStatus.Skipped, UnitStatus.Failed], `${id}@${h}`).toContain(u.status);
      }
    }
  }
  // no non-idempotent step runs again after a crash unless the operator said so (or its guard said it must)
  const resumes = records.filter((x) => x.type === 'resumed');
  for (const res of resumes) {
    if (res.type !== 'resumed') continue;
    for (const d of res.inDoubt) {
      const step = plan.steps.find((s) => s.id === d.step)!;
      if (step.idempotent) continue;
      const decision = records.find(
        (x) => x.seq > res.seq && x.type === 'in-doubt' && x.step === d.step && x.host === d.host,
      );
      const nextResume = resumes.find((x) => x.seq > res.seq);
      const rerunIntents = records.filter(
        (x) =>
          x.seq > res.seq &&
          (!nextResume || x.seq < nextResume.seq) &&
          x.type === 'intent' &&
          x.purpose === 'run' &&
          x.step === d.step &&
          x.host === d.host,
      );
      const allowedToRun =
        decision?.type === 'in-doubt' && (decision.choice === 'rerun' || decision.choice === 'guard');
      if (!allowedToRun)
        expect(rerunIntents, `${d.step}@${d.host} ran again after a crash without the operator's word`).toHaveLength(0);
    }
  }
  // each unit's outcome agrees with the state the engine rebuilt from the same journal
  const allowed: Partial<Record<UnitStatus, string[]>> = {
    [UnitStatus.Ok]: ['ok', 'marked-done'],
    [UnitStatus.Skipped]: ['skipped'],
    [UnitStatus.Failed]: ['failed', 'failed-skipped', 'allowed-failure'],
  };
  for (const u of Object.values(state.units)) {
    // "abort (decide later)" at an in-doubt prompt: failed for the run, still in doubt for the record
    const want = u.decision === 'in-doubt-abort' ? ['in-doubt'] : allowed[u.status];
    if (want && (u.status !== UnitStatus.Failed || u.decided))
      expect(want, `${u.step}@${u.host} is ${u.status} in the state`).toContain(unitOutcome(js, u.step, u.host));
  }
  // every command sent had its intent journaled first
  const intents = records.filter((x) => x.type === 'intent').length;
  expect(r.transport.sent.length).toBeLessThanOrEqual(intents);
  // summary, log/runs, report, history and JUnit say the same result
  const summary = summaryTable(plan, state, records);
  const head = o.result === 'unfinished' ? state.status : resultWords(o.result);
  expect(summary).toContain(`\n${head.toUpperCase()}: model@1.0.0`);
  expect(summarizeRun('r1', records, { journal: 'j', torn: false, problems: [] }).state).toBe(
    o.result === 'unfinished' ? 'crashed' : o.result,
  );
  expect(reportModel(records, { version: '0' }).result).toBe(
    o.result === 'unfinished' ? 'unfinished (crashed or running)' : resultWords(o.result),
  );
  const hist = historyFromJournal(records);
  if (o.result !== 'interrupted' && o.result !== 'unfinished')
    expect(hist?.result).toBe(
      o.passed ? 'passed' : o.result === 'completed-with-errors' ? 'completed-with-errors' : 'failed',
    );
  expect(junitXml({ plan } as Prepared, state, records)).toContain(`<property name="result" value="${o.result}"/>`);
  void c;
}

describe('engine model (fast-check)', () => {
  it(
    `${RUNS} generated runbooks, transports, answers and crash points keep every invariant`,
    async () => {
      let cases = 0;
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          cases++;
          const t0 = performance.now();
          const r = await runCase(c);
          STATS.run += performance.now() - t0;
          const t1 = performance.now();
          checkInvariants(c, r);
          STATS.check += performance.now() - t1;
          const o = runOutcome(journalState(r.records));
          STATS.results[o.result] = (STATS.results[o.result] ?? 0) + 1;
          if (r.crashed) STATS.crashed++;
          if (r.records.some((x) => x.type === 'resumed')) STATS.resumed++;
          if (r.records.some((x) => x.type === 'in-doubt')) STATS.inDoubt++;
        }),
        { numRuns: RUNS, seed: SEED, verbose: true, endOnFailure: true },
      );
      expect(cases).toBeGreaterThanOrEqual(RUNS);
      if (process.env.FUZZ_ENGINE_STATS) console.log(JSON.stringify(STATS));
    },
    Math.max(120_000, RUNS * 60),
  );
});

// The real engine and runner over fake ports: a project built from YAML text, a transport whose
// every answer is scripted, an operator with scripted answers, a clock whose sleeps cost nothing.
import { parseYamlText } from '../../src/load/read-yaml.js';
import type { Project, Loaded } from '../../src/load/project.js';
import { resolvePlan } from '../../src/plan/resolve.js';
import { initState, type RunState } from '../../src/engine/state.js';
import { Runner, type Clock } from '../../src/engine/runner.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import {
  TransportError,
  type Connection,
  type ExecRequest,
  type ExecResult,
  type Operator,
  type Reporter,
  type ResolvedHost,
  type Transport,
} from '../../src/ports.js';
import { oneTransportForAll } from '../../src/transport/registry.js';
import type { JournalRecord, RunStartedEvent } from '../../src/engine/events.js';
import type { ResolvedPlan } from '../../src/model/plan.js';

export const INV = `
lifeboat: 1
kind: inventory
name: lab
environment: rehearsal
hosts:
  db1: { address: 198.18.0.11 }
  db2: { address: 198.18.0.12 }
  db3: { address: 198.18.0.13 }
vars: { vip: 198.18.0.100/24 }
`;

const parsed = new Map<string, ReturnType<typeof parseYamlText>>();
/** the inventory is the same text in every case: parsed once */
const parseOnce = (name: string, text: string) => {
  if (name !== 'inv.yaml') return parseYamlText(name, text);
  const key = `${name}\0${text}`;
  if (!parsed.has(key)) parsed.set(key, parseYamlText(name, text));
  return parsed.get(key)!;
};

export function project(runbookYaml: string, extra: string[] = [], inv = INV): Project {
  const p: Project = { root: '/x', runbooks: new Map(), inventories: new Map(), files: new Map(), diagnostics: [] };
  const add = (name: string, text: string) => {
    const r = parseOnce(name, text);
    if (!r.file) throw new Error(JSON.stringify(r.diagnostics));
    const data = r.file.data as { kind: string; name: string };
    const loaded = { kind: data.kind, file: r.file, data, valid: true } as Loaded<never>;
    (data.kind === 'runbook' ? p.runbooks : p.inventories).set(data.name, loaded);
  };
  add('inv.yaml', inv);
  add('rb.yaml', runbookYaml);
  extra.forEach((t, i) => add(`extra${i}.yaml`, t));
  return p;
}

export type Script = (
  host: string,
  cmd: string,
  n: number,
) => Partial<ExecResult> | Error | Promise<Partial<ExecResult> | Error>;

export class FakeTransport implements Transport {
  readonly calls: { host: string; command: string; env?: Record<string, string> }[] = [];
  readonly down = new Set<string>();
  /** connect() of these hosts never settles (a dead host before its connect_timeout) */
  readonly hanging = new Map<string, () => void>();
  readonly connects: string[] = [];
  constructor(private readonly script: Script) {}
  async connect(host: ResolvedHost): Promise<Connection> {
    this.connects.push(host.name);
    // a real handshake needs the event loop (I/O), never only microtasks
    await new Promise((r) => setImmediate(r));
    if (this.hanging.has(host.name)) await new Promise<void>((r) => this.hanging.set(host.name, r));
    if (this.down.has(host.name))
      throw new TransportError(
        'unreachable',
        host.name,
        `host ${host.name} (${host.address}:22) unreachable: connection timed out after 10s`,
      );
    return {
      host,
      exec: async (req: ExecRequest): Promise<ExecResult> => {
        if (req.gate) await req.gate;
        this.calls.push({ host: host.name, command: req.command, env: req.env });
        const n = this.calls.filter((c) => c.host === host.name && c.command === req.command).length;
        const r = await this.script(host.name, req.command, n);
        if (r instanceof Error) throw r;
        return {
          exitCode: 0,
          stdout: '',
          stderr: '',
          timedOut: false,
          canceled: false,
          signal: null,
          durationMs: 1,
          ...r,
        };
      },
      close: async () => {},
    };
  }
  async closeAll() {}
}

export type FailureAnswer = 'retry' | 'skip' | 'rollback' | 'abort';
/** one answer for every in-doubt question, or a list answered in turn (then 'abort') */
export type InDoubtAnswer = 'rerun' | 'done' | 'abort';
export class FakeOperator implements Operator {
  readonly name = 'tester@box';
  readonly asked: string[] = [];
  constructor(
    readonly answers: {
      confirm?: boolean;
      failure?: FailureAnswer[];
      inDoubt?: InDoubtAnswer | InDoubtAnswer[];
      manual?: string;
      manualDone?: boolean;
    } = {},
  ) {}
  async confirm(q: { question: string }) {
    this.asked.push(`confirm:${q.question}`);
    return { answer: this.answers.confirm ?? true, auto: false };
  }
  async manual(q: { step: string; record?: string }) {
    this.asked.push(`manual:${q.step}`);
    return {
      done: this.answers.manualDone ?? true,
      value: q.record ? (this.answers.manual ?? 'v') : undefined,
      auto: false,
    };
  }
  async onFailure(q: { step: string }) {
    this.asked.push(`failure:${q.step}`);
    return this.answers.failure?.shift() ?? 'abort';
  }
  async inDoubt(q: { step: string }) {
    this.asked.push(`in-doubt:${q.step}`);
    const a = this.answers.inDoubt;
    return (Array.isArray(a) ? a.shift() : a) ?? 'abort';
  }
  async interrupt() {
    return 'stop-step' as const;
  }
  async secret() {
    return 'typed';
  }
}

export const silent: Reporter = { event() {}, output() {}, note() {}, pause() {}, resume() {}, close() {} };

/** a clock whose sleeps pass at once, so polling and retry delays cost no real time */
export function fakeClock(): Clock & { t: number } {
  const c = {
    t: Date.parse('2026-11-21T10:00:00Z'),
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += Math.max(1, ms);
    },
  };
  return c;
}

export const RB = (steps: string, head = '') => `
lifeboat: 1
kind: runbook
name: t
version: 1.0.0
title: T
tier: critical
roles: { primary: { host: db1, may_be_down: true }, standby: db2 }
${head}
steps:
${steps}`;

export function planOf(rb: string, extra: string[] = []): ResolvedPlan {
  const p = project(rb, extra);
  return resolvePlan(p, p.runbooks.keys().next().value!, 'lab');
}

export interface RunItOptions {
  operator?: FakeOperator;
  interactive?: boolean;
  secrets?: Record<string, string>;
  down?: string[];
  hanging?: string[];
  extra?: string[];
  journal?: MemoryJournal;
  state?: RunState;
  plan?: ResolvedPlan;
  transport?: FakeTransport;
  clock?: Clock & { t: number };
}

export async function runIt(rb: string, script: Script, opts: RunItOptions = {}) {
  const plan = opts.plan ?? planOf(rb, opts.extra);
  const clock = opts.clock ?? fakeClock();
  const journal = opts.journal ?? new MemoryJournal(() => clock.t);
  const transport = opts.transport ?? new FakeTransport(script);
  for (const d of opts.down ?? []) transport.down.add(d);
  for (const h of opts.hanging ?? []) transport.hanging.set(h, () => {});
  let state = opts.state;
  if (!state) {
    const started = (await journal.append({
      type: 'run-started',
      runId: 'r1',
      runbook: plan.runbook.name,
      version: '1.0.0',
      title: 't',
      digest: plan.digest,
      files: [],
      inventory: 'lab',
      inventoryDigest: '',
      operator: 'tester@box',
      lifeboatVersion: '0',
      vars: {},
      mode: 'run',
    })) as JournalRecord & RunStartedEvent;
    state = initState(plan, started, { defaultOnFailure: opts.interactive ? 'ask' : 'abort' });
  }
  const operator = opts.operator ?? new FakeOperator();
  const runner = new Runner(
    plan,
    state,
    { transports: oneTransportForAll(transport), journal, operator, reporter: silent, clock },
    { secrets: opts.secrets ?? {} },
  );
  await runner.run();
  return { state, transport, journal, operator, plan, records: journal.records };
}

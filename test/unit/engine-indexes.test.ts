// The indexes `apply` keeps so that a decision costs the same at step 4,000 as at step 1 (the
// live units, the cursor before which every step has finished) must always agree with a full
// scan of the state. Generated runbooks run through the real runner with a fake transport;
// their journals are replayed record by record and the indexes checked after every record.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseYamlText } from '../../src/load/read-yaml.js';
import type { Project, Loaded } from '../../src/load/project.js';
import { resolvePlan } from '../../src/plan/resolve.js';
import {
  initState,
  apply,
  isInFlight,
  unitKey,
  StepStatus,
  UnitStatus,
  type RunState,
} from '../../src/engine/state.js';
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
import type { JournalRecord, RunStartedEvent } from '../../src/engine/events.js';

const HOSTS = ['db1', 'db2', 'db3'];
const INV = `lifeboat: 1
kind: inventory
name: lab
environment: rehearsal
hosts:
${HOSTS.map((h, i) => `  ${h}: { address: 198.18.0.${11 + i} }`).join('\n')}
`;

type Outcome = 'ok' | 'fail' | 'unreachable' | 'lost';
interface GenStep {
  hosts: number[];
  onFailure?: 'continue' | 'abort' | 'ask';
  retries: number;
  parallel: boolean;
  idempotent: boolean;
  rollback: boolean;
  preflight: boolean;
}

function project(rb: string): Project {
  const p: Project = { root: '/x', runbooks: new Map(), inventories: new Map(), files: new Map(), diagnostics: [] };
  for (const [name, text] of [
    ['inv.yaml', INV],
    ['rb.yaml', rb],
  ]) {
    const r = parseYamlText(name, text);
    if (!r.file) throw new Error(JSON.stringify(r.diagnostics));
    const data = r.file.data as { kind: string; name: string };
    (data.kind === 'runbook' ? p.runbooks : p.inventories).set(data.name, {
      kind: data.kind,
      file: r.file,
      data,
      valid: true,
    } as Loaded<never>);
  }
  return p;
}

function runbook(steps: GenStep[]): string {
  const body = steps
    .map((s, i) => {
      const on = `[${[...new Set(s.hosts)].map((h) => HOSTS[h]).join(', ')}]`;
      return [
        `  - id: s${i}`,
        `    on: ${on}`,
        `    run: cmd-${i}`,
        s.preflight ? '    phase: preflight' : '',
        s.onFailure ? `    on_failure: ${s.onFailure}` : '',
        s.retries ? `    retries: ${s.retries}\n    retry_delay: 1s` : '',
        s.parallel ? '    strategy: parallel' : '    strategy: serial',
        s.idempotent ? '    idempotent: true' : '',
        s.rollback && !s.preflight ? `    rollback: undo-${i}` : '',
      ]
        .filter(Boolean)
        .join('\n');
    })
    .join('\n');
  return `lifeboat: 1\nkind: runbook\nname: gen\nversion: 1.0.0\ntitle: Generated\ntier: routine\nsteps:\n${body}\n`;
}

class ScriptedTransport implements Transport {
  private n = 0;
  constructor(private readonly outcomes: Outcome[]) {}
  async connect(host: ResolvedHost): Promise<Connection> {
    return {
      host,
      exec: async (req: ExecRequest): Promise<ExecResult> => {
        if (req.gate) await req.gate;
        const o = this.outcomes[this.n++ % this.outcomes.length];
        if (o === 'unreachable') throw new TransportError('unreachable', host.name, `${host.name} unreachable`);
        if (o === 'lost') throw new TransportError('connection-lost', host.name, `${host.name}: connection lost`);
        return {
          exitCode: o === 'ok' ? 0 : 1,
          stdout: '',
          stderr: o === 'ok' ? '' : 'boom',
          timedOut: false,
          canceled: false,
          signal: null,
          durationMs: 1,
        };
      },
      close: async () => {},
    };
  }
  async closeAll() {}
}

class ScriptedOperator implements Operator {
  readonly name = 'tester@box';
  private i = 0;
  constructor(private readonly answers: ('retry' | 'skip' | 'rollback' | 'abort')[]) {}
  async confirm() {
    return { answer: true, auto: false };
  }
  async manual() {
    return { done: true, value: undefined, auto: false };
  }
  async onFailure() {
    return this.answers[this.i++] ?? 'abort';
  }
  async inDoubt() {
    return 'abort' as const;
  }
  async interrupt() {
    return 'stop-step' as const;
  }
  async secret() {
    return 'typed';
  }
}

const silent: Reporter = { event() {}, output() {}, note() {}, pause() {}, resume() {}, close() {} };

/** the indexes, recomputed the slow way */
function checkIndexes(state: RunState, where: string) {
  const live = Object.entries(state.units)
    .filter(([, u]) => isInFlight(u) || u.status === UnitStatus.InDoubt)
    .map(([k]) => k)
    .sort();
  expect([...state.live.keys()].sort(), `live units after ${where}`).toEqual(live);
  // the index holds the units themselves, not copies
  for (const [k, u] of state.live) expect(u, `live unit ${k} after ${where}`).toBe(state.units[k]);
  for (let i = 0; i < state.cursor; i++) {
    const s = state.steps[state.order[i]];
    expect(
      s.status === StepStatus.Pending || s.status === StepStatus.Running,
      `step ${s.id} before the cursor is open after ${where}`,
    ).toBe(false);
  }
  const firstOpen = state.order.findIndex((id) =>
    [StepStatus.Pending, StepStatus.Running].includes(state.steps[id].status),
  );
  expect(state.cursor, `cursor after ${where}`).toBe(firstOpen < 0 ? state.order.length : firstOpen);
}

const genStep: fc.Arbitrary<GenStep> = fc.record({
  hosts: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }),
  onFailure: fc.constantFrom(undefined, 'continue' as const, 'abort' as const, 'ask' as const),
  retries: fc.integer({ min: 0, max: 2 }),
  parallel: fc.boolean(),
  idempotent: fc.boolean(),
  rollback: fc.boolean(),
  preflight: fc.boolean(),
});

describe('engine indexes', () => {
  it('live units and the cursor agree with a full scan after every record of generated runs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(genStep, { minLength: 1, maxLength: 10 }),
        fc.array(fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'fail', 'unreachable', 'lost'), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.array(fc.constantFrom('retry' as const, 'skip' as const, 'rollback' as const, 'abort' as const), {
          maxLength: 6,
        }),
        async (steps, outcomes, answers) => {
          const plan = resolvePlan(project(runbook(steps)), 'gen', 'lab');
          const clock: Clock & { t: number } = {
            t: Date.parse('2026-12-01T00:00:00Z'),
            now: () => clock.t,
            sleep: async (ms: number) => {
              clock.t += Math.max(1, ms);
            },
          };
          const journal = new MemoryJournal(() => clock.t);
          const started = (await journal.append({
            type: 'run-started',
            runId: 'r1',
            runbook: 'gen',
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
          const state = initState(plan, started, { defaultOnFailure: 'ask' });
          const runner = new Runner(
            plan,
            state,
            {
              transports: { ssh: new ScriptedTransport(outcomes), local: new ScriptedTransport(outcomes) },
              journal,
              operator: new ScriptedOperator([...answers]),
              reporter: silent,
              clock,
            },
            { secrets: {} },
          );
          await runner.run();
          expect(state.status).not.toBe('running');
          checkIndexes(state, 'the run');
          // replay: the same records rebuild the same state, with the indexes right at every record
          const replay = initState(plan, started, { defaultOnFailure: 'ask' });
          for (const rec of journal.records.slice(1)) {
            apply(replay, plan, rec);
            checkIndexes(replay, `${rec.seq} ${rec.type}`);
          }
          expect(replay.units).toEqual(state.units);
          expect(replay.steps).toEqual(state.steps);
          // a resume after the journal is cut anywhere: the indexes hold from the resumed record on
          const cut = 1 + ((outcomes.length * 7) % Math.max(1, journal.records.length - 1));
          const again = initState(plan, started, { defaultOnFailure: 'ask' });
          for (const rec of journal.records.slice(1, cut)) apply(again, plan, rec);
          const inDoubt = Object.values(again.units)
            .filter(isInFlight)
            .map((u) => ({ step: u.step, host: u.host }));
          apply(again, plan, {
            type: 'resumed',
            seq: cut + 1,
            at: new Date(clock.t).toISOString(),
            operator: 'tester@box',
            inDoubt,
          } as unknown as JournalRecord);
          checkIndexes(again, 'a resume');
          for (const d of inDoubt) expect(again.live.has(unitKey(d.step, d.host))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);
});

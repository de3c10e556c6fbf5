// Never hang: every host a step, a condition or a guard names is connected through one path,
// a dead host delays only what needs it, and a decide() that asks for nothing new ends the
// run as a journaled internal error instead of a spin.
import { describe, it, expect } from 'vitest';
import { RB, runIt, planOf, FakeTransport } from '../helpers/engine-harness.js';
import { vi } from 'vitest';
import { decide } from '../../src/engine/decide.js';
import { initState, StepStatus, UnitStatus } from '../../src/engine/state.js';

// a switch to break decide on purpose, to prove the runner's progress invariant holds
const broken = vi.hoisted(() => ({ on: false as boolean | 'records' }));
vi.mock('../../src/engine/decide.js', async (orig) => {
  const real = await orig<typeof import('../../src/engine/decide.js')>();
  return {
    ...real,
    decide: (input: Parameters<typeof real.decide>[0]) => {
      if (broken.on === true && input.state.hosts.db2) return [{ kind: 'connect', hosts: ['db2'] }];
      if (broken.on === 'records' && input.state.hosts.db2)
        return [{ kind: 'skip-unit', step: 'a', host: 'db2', reason: 'host-down', note: 'again' }];
      return real.decide(input);
    },
  };
});
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { outcomeOf } from '../../src/engine/outcome.js';

const OLD_ONLY_IN_CONDITION = `
lifeboat: 1
kind: runbook
name: t
version: 1.0.0
title: T
tier: critical
roles: { old: { host: db1, may_be_down: true }, new: db2 }
steps:
  - id: check
    phase: preflight
    on: new
    run: "true"
  - id: fence
    manual: power off the old server
    when: { unreachable: old }
  - id: promote
    on: new
    run: promote
`;

describe('no hang', () => {
  it('regression: a failed server named only in a condition is connected, and the run ends (it froze at 100 % CPU)', async () => {
    const r = await runIt(OLD_ONLY_IN_CONDITION, () => ({}), { down: ['db1'] });
    expect(r.state.status).toBe('succeeded');
    expect(r.transport.connects).toContain('db1');
    expect(r.operator.asked).toEqual(['manual:fence']);
    const hostState = r.records.find((x) => x.type === 'host-state' && x.host === 'db1');
    expect(hostState).toMatchObject({ reachable: false, kind: 'unreachable' });
  });

  it('regression: the same with the server up skips the fencing step', async () => {
    const r = await runIt(OLD_ONLY_IN_CONDITION, () => ({}));
    expect(r.state.status).toBe('succeeded');
    expect(r.state.steps.fence.status).toBe('skipped');
  });

  it('regression: `when: { reachable: local }` is answered (local is always reachable) instead of being asked for forever', async () => {
    const r = await runIt(
      RB(`
  - id: a
    manual: do it
    when: { reachable: local }
`),
      () => ({}),
    );
    expect(r.state.status).toBe('succeeded');
    expect(r.operator.asked).toEqual(['manual:a']);
  });

  it('a decide() that makes no progress ends the run as a journaled internal error, not a spin', async () => {
    // a host the plan does not know: the one connect path answers it (unreachable, internal)
    const plan = planOf(OLD_ONLY_IN_CONDITION);
    const fence = plan.steps.find((s) => s.id === 'fence')!;
    fence.when = [{ kind: 'unreachable', host: 'ghost' }];
    const r = await runIt('', () => ({}), { plan });
    expect(r.records.find((x) => x.type === 'host-state' && x.host === 'ghost')).toMatchObject({
      reachable: false,
      kind: 'internal',
    });
    expect(r.state.status).toBe('succeeded');
  });

  it('the progress invariant: an action that changes nothing, with nothing in flight, ends the run as a journaled internal error', async () => {
    const plan = planOf(
      RB(`
  - id: a
    on: standby
    run: "true"
`),
    );
    // a decide that keeps asking to connect a host that is known already (the shape of the old hang)
    broken.on = true;
    try {
      const r = await runIt('', () => ({}), { plan });
      expect(r.state.status).toBe('failed');
      const fin = r.records[r.records.length - 1];
      expect(fin).toMatchObject({ type: 'run-finished', result: 'failed' });
      expect(fin.type === 'run-finished' && fin.message).toMatch(/^internal error: the run made no progress at step a/);
    } finally {
      broken.on = false;
    }
  });

  it('the progress invariant: the same records asked for over and over end the run too', async () => {
    const plan = planOf(
      RB(`
  - id: a
    on: standby
    run: "true"
`),
    );
    broken.on = 'records';
    try {
      const r = await runIt('', () => ({}), { plan });
      expect(r.state.status).toBe('failed');
      expect(r.records.length).toBeLessThan(1100);
    } finally {
      broken.on = false;
    }
  });
});

describe('a dead host delays only what needs it', () => {
  it('steps on a live host run while a dead host is still being tried; a step conditioned on it waits for it alone', async () => {
    const rb = `
lifeboat: 1
kind: runbook
name: t
version: 1.0.0
title: T
tier: critical
roles: { old: { host: db1, may_be_down: true }, new: db2 }
steps:
${[1, 2, 3, 4, 5].map((i) => `  - id: pre${i}\n    phase: preflight\n    on: new\n    run: check ${i}\n`).join('')}
  - id: old-gone
    on: old
    run: "true"
`;
    const ran: string[] = [];
    const transport = new FakeTransport((h, cmd) => {
      ran.push(`${h}:${cmd}`);
      return {};
    });
    transport.hanging.set('db1', () => {});
    transport.down.add('db1');
    // the dead host's connect_timeout ends only when the fifth preflight step has finished
    const journal = new MemoryJournal();
    const append = journal.append.bind(journal);
    journal.append = async (e) => {
      const rec = await append(e);
      if (e.type === 'step-finished' && e.step === 'pre5') transport.hanging.get('db1')!();
      return rec;
    };
    const r = await runIt(rb, () => ({}), { transport, journal });
    expect(ran.slice(0, 5)).toEqual([1, 2, 3, 4, 5].map((i) => `db2:check ${i}`));
    const seqOf = (pred: (x: (typeof r.records)[number]) => boolean) => r.records.findIndex(pred);
    const dead = seqOf((x) => x.type === 'host-state' && x.host === 'db1');
    const fifth = seqOf((x) => x.type === 'step-finished' && x.step === 'pre5');
    expect(fifth).toBeGreaterThan(0);
    expect(fifth).toBeLessThan(dead);
    expect(r.state.status).toBe('succeeded');
    expect(r.state.units['old-gone@db1'].status).toBe('skipped');
  });

  it('decide does not ask again for a host being connected; the step waits for it alone', () => {
    const plan = planOf(OLD_ONLY_IN_CONDITION);
    const state = initState(
      plan,
      {
        type: 'run-started',
        seq: 1,
        at: new Date(0).toISOString(),
        runId: 'r',
        runbook: 't',
        version: '1',
        title: 't',
        digest: '',
        files: [],
        inventory: 'lab',
        inventoryDigest: '',
        operator: 'o',
        lifeboatVersion: '0',
        vars: {},
        mode: 'run',
      },
      { defaultOnFailure: 'abort' },
    );
    state.steps.check.status = StepStatus.Ok;
    state.units['check@db2'].status = UnitStatus.Ok;
    expect(decide({ plan, state, now: 0 })).toEqual([{ kind: 'connect', hosts: ['db1'] }]);
    expect(decide({ plan, state, now: 0, connecting: new Set(['db1']) })).toEqual([{ kind: 'idle' }]);
  });
});

describe('outcome of a hang-free run', () => {
  it('is computed from the records', async () => {
    const r = await runIt(OLD_ONLY_IN_CONDITION, () => ({}), { down: ['db1'] });
    expect(outcomeOf(r.records).result).toBe('succeeded');
  });
});

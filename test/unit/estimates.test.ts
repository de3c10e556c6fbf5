// Step estimates (`estimate:`, decision 0031) through each layer: resolve, the sum against the
// RTO, the run report's overrun, the dry run and the plan. The lint is in test/golden/bad/dr-estimate-over-rto.
import { describe, it, expect } from 'vitest';
import { planOf, RB } from '../helpers/engine-harness.js';
import { estimateTotal, describeEstimateTotal, describeOverrun, estimatesOf } from '../../src/plan/estimates.js';
import { reportModel } from '../../src/render/report-model.js';
import { createEngine, loadTemplateSet } from '../../src/render/engine.js';
import type { JournalRecord, RunEvent } from '../../src/engine/events.js';
import { dryRun } from '../../src/session/dry-run.js';
import type { Prepared } from '../../src/session/prepare.js';
import type { CliIO } from '../../src/cli/io.js';

const CHILD = `
lifeboat: 1
kind: runbook
name: vip-move
version: 1.0.0
title: Move the VIP
tier: routine
roles: { standby: db2 }
steps:
  - { id: add, on: standby, run: add-vip, estimate: 3m }
`;

describe('estimates: resolve', () => {
  it("carries each step's estimate in ms, included steps with their own, and none where none is written", () => {
    const plan = planOf(
      RB(
        `
  - { id: pre, phase: preflight, on: standby, run: check, estimate: 30s }
  - { id: ask, confirm: Go?, estimate: 1h30m }
  - { id: copy, on: standby, run: copy }
  - { id: vip, include: vip-move }`,
        'objectives: { rto: 2h }',
      ),
      [CHILD],
    );
    expect(Object.fromEntries(plan.steps.map((s) => [s.id, s.estimateMs]))).toEqual({
      pre: 30_000,
      ask: 5_400_000,
      copy: undefined,
      'vip/add': 180_000,
    });
    expect('estimateMs' in plan.steps.find((s) => s.id === 'copy')!).toBe(false);
  });
});

describe('estimates: the sum against the RTO', () => {
  it('adds up the main phase only, counts the steps without an estimate, and is over only past the RTO', () => {
    const steps = [
      { phase: 'preflight', estimateMs: 3_600_000 },
      { phase: 'main', estimateMs: 600_000 },
      { phase: 'main' },
      { estimateMs: 1_200_000 },
    ];
    const t = estimateTotal(steps, 1_800_000);
    expect(t).toEqual({ totalMs: 1_800_000, estimated: 2, steps: 3, rtoMs: 1_800_000, over: false });
    expect(describeEstimateTotal(t)).toBe('estimates add up to 30m (2 of 3 main-phase steps) — within the RTO of 30m');
    expect(describeEstimateTotal(estimateTotal(steps, 1_500_000))).toBe(
      'estimates add up to 30m (2 of 3 main-phase steps) — OVER the RTO of 25m',
    );
    expect(describeEstimateTotal(estimateTotal(steps.slice(1, 2)))).toBe(
      'estimates add up to 10m (1 of 1 main-phase step) — no RTO set',
    );
    expect(describeEstimateTotal(estimateTotal([{ phase: 'main' }], 60_000))).toBe('');
  });

  it('steps that run only when a host is up, or only when it is down, are alternatives: the longest case counts', () => {
    const up = { host: 'db1', reachable: true, name: 'primary' };
    const down = { host: 'db1', reachable: false, name: 'primary' };
    const steps = [
      { estimateMs: 600_000, hosts: [up] },
      { estimateMs: 240_000, hosts: [down] },
      { estimateMs: 120_000, hosts: [down] },
      { estimateMs: 300_000 },
    ];
    const t = estimateTotal(steps, 900_000);
    expect(t).toEqual({
      totalMs: 900_000,
      estimated: 2,
      steps: 2,
      when: 'primary reachable',
      rtoMs: 900_000,
      over: false,
    });
    expect(describeEstimateTotal(t)).toBe(
      'estimates add up to 15m (2 of 2 main-phase steps, with primary reachable) — within the RTO of 15m',
    );
    // a value condition may hold: such a step always counts
    expect(estimateTotal([...steps, { estimateMs: 360_000, hosts: [down] }], 900_000)).toMatchObject({
      totalMs: 1_020_000,
      when: 'primary unreachable',
      over: true,
    });
  });

  it('words a step that ran longer than its estimate, and nothing otherwise', () => {
    expect(describeOverrun(842_000, 600_000)).toBe('took 14m02s, estimate 10m');
    expect(describeOverrun(600_000, 600_000)).toBeUndefined();
    expect(describeOverrun(842_000, undefined)).toBeUndefined();
  });
});

describe('estimates: the run report', () => {
  const t0 = Date.parse('2026-11-21T03:00:00Z');
  const rec = (e: RunEvent, atMs: number, seq: number) =>
    ({ ...e, seq, at: new Date(t0 + atMs).toISOString() }) as JournalRecord;
  const started: RunEvent = {
    type: 'run-started',
    runId: 'r-1',
    runbook: 'fs',
    version: '1.0.0',
    title: 'Fail over the file server',
    digest: 'ab'.repeat(32),
    files: [],
    inventory: 'lab',
    inventoryDigest: '',
    operator: 'jo@laptop',
    lifeboatVersion: '0.1.0',
    vars: {},
    rtoMs: 3_600_000,
    mode: 'rehearsal',
    stepNumbers: { copy: '1', vip: '2', check: '3' },
    estimatesMs: { copy: 600_000, vip: 120_000, check: 300_000 },
  };
  const records = [
    rec(started, 0, 1),
    rec({ type: 'step-started', step: 'copy' }, 0, 2),
    rec({ type: 'step-finished', step: 'copy', result: 'ok', durationMs: 842_000 }, 842_000, 3),
    rec({ type: 'step-started', step: 'vip' }, 842_000, 4),
    rec({ type: 'step-finished', step: 'vip', result: 'ok', durationMs: 60_000 }, 902_000, 5),
    rec({ type: 'step-skipped', step: 'check', reason: 'when', note: 'not needed here' }, 902_000, 6),
    rec({ type: 'step-finished', step: 'check', result: 'skipped', durationMs: 0 }, 902_000, 7),
    rec({ type: 'run-finished', result: 'succeeded', durationMs: 902_000 }, 902_000, 8),
  ];

  it('says which steps took longer than their estimate, from the journaled step durations', async () => {
    const m = reportModel(records, { version: '0.1.0', now: new Date('2026-11-21T04:00:00Z') });
    expect(m.overruns).toEqual([{ number: '1', step: 'copy', text: 'took 14m02s, estimate 10m' }]);
    const md = (await createEngine(loadTemplateSet(), 'md')).render('report', m);
    expect(md).toContain('## Longer than estimated\n\n- 1. `copy`: took 14m02s, estimate 10m\n');
    const html = (await createEngine(loadTemplateSet(), 'html')).render('report', m);
    expect(html).toContain('<li>1. <code>copy</code>: took 14m02s, estimate 10m</li>');
  });

  it('says nothing of estimates for a journal without them (runs from before estimates, or none written)', async () => {
    const m = reportModel([rec({ ...started, estimatesMs: undefined } as RunEvent, 0, 1), ...records.slice(1)], {
      version: '0.1.0',
    });
    expect(m.overruns).toEqual([]);
    expect((await createEngine(loadTemplateSet(), 'md')).render('report', m)).not.toContain('estimate');
  });

  it("a run records the plan's estimates in its run-started record", () => {
    const plan = planOf(
      RB(`
  - { id: copy, on: standby, run: copy, estimate: 10m }
  - { id: vip, on: standby, run: vip }`),
    );
    expect(estimatesOf(plan)).toEqual({ copy: 600_000 });
    expect(
      estimatesOf(
        planOf(
          RB(`
  - { id: vip, on: standby, run: vip }`),
        ),
      ),
    ).toBeUndefined();
  });
});

describe('estimates: the dry run', () => {
  const io = () => {
    let out = '';
    const stdout = {
      write: (s: string) => {
        out += s;
        return true;
      },
    } as unknown as CliIO['stdout'];
    return { io: { stdout, stderr: stdout, stdin: process.stdin, env: {}, cwd: '/x' } as CliIO, out: () => out };
  };
  const plan = planOf(
    RB(
      `
  - { id: pre, phase: preflight, on: standby, run: check, estimate: 30s }
  - { id: ask, confirm: Fail over now?, estimate: 5m }
  - { id: copy, on: standby, run: copy, estimate: 20m }
  - { id: vip, on: standby, run: vip }`,
      'objectives: { rto: 20m }',
    ),
  );

  it("shows each step's estimate and the main phase's total against the RTO", async () => {
    const t = io();
    await dryRun({ plan } as Prepared, { inventory: 'lab' }, t.io, 'run');
    expect(t.out()).toMatch(/ P1\. pre \[preflight\]\n {6}estimate: 30s\n/);
    expect(t.out()).toMatch(/ {2}2\. copy\n {6}estimate: 20m\n/);
    expect(t.out()).not.toMatch(/3\. vip\n {6}estimate/);
    expect(t.out()).toContain('\nEstimates add up to 25m (2 of 3 main-phase steps) — OVER the RTO of 20m.\n');
  });

  it("--format json has each step's estimate and the total", async () => {
    const t = io();
    await dryRun({ plan } as Prepared, { inventory: 'lab', format: 'json' }, t.io, 'run');
    const doc = JSON.parse(t.out()) as {
      steps: { id: string; estimate?: string }[];
      estimates: { totalMs: number; rtoMs: number; over: boolean; text: string };
    };
    expect(doc.steps.map((s) => s.estimate)).toEqual(['30s', '5m', '20m', undefined]);
    expect(doc.estimates).toMatchObject({ totalMs: 1_500_000, rtoMs: 1_200_000, over: true });
  });
});

// Step estimates (`estimate:`, decision 0031) through each layer: resolve, the sum against the
// RTO, the run report's overrun, the dry run and the plan. The lint is in test/golden/bad/dr-estimate-over-rto.
import { describe, it, expect } from 'vitest';
import { planOf, RB } from './helpers/engine-harness.js';
import { estimateTotal, describeEstimateTotal, describeOverrun } from '../../src/plan/estimates.js';

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
  it('carries each step\'s estimate in ms, included steps with their own, and none where none is written', () => {
    const plan = planOf(RB(`
  - { id: pre, phase: preflight, on: standby, run: check, estimate: 30s }
  - { id: ask, confirm: Go?, estimate: 1h30m }
  - { id: copy, on: standby, run: copy }
  - { id: vip, include: vip-move }`, 'objectives: { rto: 2h }'), [CHILD]);
    expect(Object.fromEntries(plan.steps.map((s) => [s.id, s.estimateMs]))).toEqual({ pre: 30_000, ask: 5_400_000, copy: undefined, 'vip/add': 180_000 });
    expect('estimateMs' in plan.steps.find((s) => s.id === 'copy')!).toBe(false);
  });
});

describe('estimates: the sum against the RTO', () => {
  it('adds up the main phase only, counts the steps without an estimate, and is over only past the RTO', () => {
    const steps = [{ phase: 'preflight', estimateMs: 3_600_000 }, { phase: 'main', estimateMs: 600_000 }, { phase: 'main' }, { estimateMs: 1_200_000 }];
    const t = estimateTotal(steps, 1_800_000);
    expect(t).toEqual({ totalMs: 1_800_000, estimated: 2, steps: 3, rtoMs: 1_800_000, over: false });
    expect(describeEstimateTotal(t)).toBe('estimates add up to 30m (2 of 3 steps) — within the RTO of 30m');
    expect(describeEstimateTotal(estimateTotal(steps, 1_500_000))).toBe('estimates add up to 30m (2 of 3 steps) — OVER the RTO of 25m');
    expect(describeEstimateTotal(estimateTotal(steps.slice(1, 2)))).toBe('estimates add up to 10m (its one step) — no RTO set');
    expect(describeEstimateTotal(estimateTotal([{ phase: 'main' }], 60_000))).toBe('');
  });

  it('words a step that ran longer than its estimate, and nothing otherwise', () => {
    expect(describeOverrun(842_000, 600_000)).toBe('took 14m02s, estimate 10m');
    expect(describeOverrun(600_000, 600_000)).toBeUndefined();
    expect(describeOverrun(842_000, undefined)).toBeUndefined();
  });
});

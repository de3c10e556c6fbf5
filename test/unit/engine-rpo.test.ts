// The engine's data-loss window: a step that `measures: rpo` is checked against objectives.rpo.
import { describe, it, expect } from 'vitest';
import { type JournalRecord } from '../../src/engine/events.js';
import { runIt, RB } from '../helpers/engine-harness.js';

describe('engine: the data-loss window (measures: rpo)', () => {
  const steps = (value: string) =>
    [
      RB(
        `
  - { id: lag, phase: preflight, on: standby, run: measure-lag, capture: lag, measures: rpo }
  - { id: note, on: standby, run: "echo {{ captured.lag }}" }
  - { id: promote, on: standby, run: promote, confirm: "Promote {{ roles.standby }}?" }
  - { id: vip, on: standby, run: vip, confirm: "Move the VIP?" }`,
        'objectives: { rto: 15m, rpo: 1m }',
      ),
      (_h: string, cmd: string) => (cmd === 'measure-lag' ? { stdout: `${value}\n` } : {}),
    ] as const;

  it('puts the window before the first point of no return only, journals it once, and says plainly when it is past the RPO', async () => {
    const within = await runIt(...steps('0.4'));
    expect(within.state.status).toBe('succeeded');
    expect(within.operator.asked).toEqual([
      'confirm:data-loss window ≈ 0.4 s (RPO 1m): within. Promote db2?',
      'confirm:Move the VIP?',
    ]);
    const recs = within.journal.records.filter((r) => r.type === 'rpo-measured');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      step: 'lag',
      capture: 'lag',
      value: '0.4',
      windowMs: 400,
      rpoMs: 60_000,
      verdict: 'within',
    });
    // the measurement is journaled after the result that captured it
    const seqOf = (pred: (r: JournalRecord) => boolean) => within.journal.records.findIndex(pred);
    expect(seqOf((r) => r.type === 'rpo-measured')).toBeGreaterThan(
      seqOf((r) => r.type === 'exec-finished' && r.step === 'lag'),
    );

    const past = await runIt(...steps('2m'));
    expect(past.operator.asked[0]).toBe(
      'confirm:data-loss window ≈ 2m00s (RPO 1m): PAST THE RPO — up to 2m00s of writes may be lost. Go on anyway? Promote db2?',
    );
    const no = await runIt(...steps('NULL'));
    expect(no.operator.asked[0]).toMatch(/^confirm:data-loss window not measured: lag printed "NULL"/);
  });
});

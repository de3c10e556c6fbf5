// The data-loss window against the RPO: one verdict for every view.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { assessRpo, describeRpo, parseWindow, rpoFromRecords } from '../../src/engine/rpo.js';
import { formatDuration } from '../../src/util/duration.js';
import type { JournalRecord } from '../../src/engine/events.js';

describe('parseWindow', () => {
  it('reads seconds and durations, and nothing else', () => {
    expect(parseWindow('0.4')).toBe(400);
    expect(parseWindow(' 12\n')).toBe(12_000);
    expect(parseWindow('0.4s')).toBe(400);
    expect(parseWindow('2m')).toBe(120_000);
    expect(parseWindow('1h30m')).toBe(5_400_000);
    expect(parseWindow('500ms')).toBe(500);
    for (const bad of ['', 'NULL', '-3', 'none', '1e3', '3 s', '.5']) expect(parseWindow(bad), bad).toBeUndefined();
  });

  it('seconds with up to three decimals round-trip to the millisecond', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (ms) => {
        expect(parseWindow((ms / 1000).toFixed(3))).toBe(ms);
        expect(parseWindow(`${(ms / 1000).toFixed(3)}s`)).toBe(ms);
      }),
    );
  });
});

describe('assessRpo', () => {
  it('within exactly when the window is at most the RPO; the words say the same', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.option(fc.integer({ min: 1000, max: 86_400_000 }), { nil: undefined }),
        (ms, rpo) => {
          const e = assessRpo('s', 'c', (ms / 1000).toFixed(3), rpo);
          expect(e.windowMs).toBe(ms);
          if (rpo === undefined) expect(e.verdict).toBe('no-objective');
          else expect(e.verdict).toBe(ms <= rpo ? 'within' : 'past');
          const text = describeRpo(e);
          expect(text.startsWith('data-loss window ≈ ')).toBe(true);
          expect(text.includes('PAST THE RPO')).toBe(e.verdict === 'past');
          expect(text.endsWith(': within')).toBe(e.verdict === 'within');
        },
      ),
    );
  });

  it('a value that is not a window is "not measured", never within', () => {
    const e = assessRpo('lag', 'lag', 'NULL', 60_000);
    expect(e.verdict).toBe('not-measured');
    expect(describeRpo(e)).toBe('data-loss window not measured: lag printed "NULL", not a number of seconds (RPO 1m)');
    expect(describeRpo(assessRpo('lag', 'lag', '0.4', 60_000))).toBe('data-loss window ≈ 0.4 s (RPO 1m): within');
    // the boundary: a window equal to the RPO is within it, a millisecond more is not
    expect(assessRpo('lag', 'lag', '60', 60_000).verdict).toBe('within');
    expect(assessRpo('lag', 'lag', '60.001', 60_000).verdict).toBe('past');
    expect(describeRpo(assessRpo('lag', 'lag', '90', 60_000))).toBe(
      `data-loss window ≈ ${formatDuration(90_000)} (RPO 1m): PAST THE RPO — up to ${formatDuration(90_000)} of writes may be lost`,
    );
  });

  it('the journal gives back the last measurement', () => {
    const rec = (seq: number, value: string) =>
      ({
        seq,
        at: '2026-01-01T00:00:00Z',
        type: 'rpo-measured',
        ...assessRpo('lag', 'lag', value, 60_000),
      }) as JournalRecord;
    expect(rpoFromRecords([])).toBeUndefined();
    expect(rpoFromRecords([rec(1, '3'), rec(2, '0.5')])).toMatchObject({ windowMs: 500, verdict: 'within' });
  });
});

import { describe, it, expect } from 'vitest';
import { parseHistory, rehearsalStatus, describeRehearsal, type HistoryRecord } from '../../src/rehearsal/status.js';

const NOW = new Date('2026-11-20T10:00:00Z');
const DAY = 86_400_000;
const daysAgo = (d: number) => new Date(NOW.getTime() - d * DAY).toISOString();
const e = (over: Partial<HistoryRecord>): HistoryRecord => ({
  runbook: 'db',
  version: '1.0.0',
  digest: 'aaa',
  inventory: 'lab',
  inventory_digest: 'i',
  mode: 'rehearsal',
  host_keys: {},
  operator: 'ops',
  started_at: daysAgo(10),
  result: 'passed',
  finished_at: daysAgo(10),
  duration_ms: 1000,
  steps: [],
  run_id: 'r',
  ...over,
});

describe('rehearsalStatus', () => {
  it('is never without a passed rehearsal (failed ones do not count)', () => {
    expect(rehearsalStatus([], 'db', 'aaa', 90 * DAY, NOW).state).toBe('never');
    const s = rehearsalStatus([e({ result: 'failed' })], 'db', 'aaa', 90 * DAY, NOW);
    expect(s.state).toBe('never');
    expect(s.failedAfter?.result).toBe('failed');
    expect(describeRehearsal(s)).toBe(`never rehearsed; failed ${daysAgo(10).slice(0, 10)}`);
  });

  it('is current when the last passed rehearsal has this digest and is young enough', () => {
    const s = rehearsalStatus([e({})], 'db', 'aaa', 90 * DAY, NOW);
    expect(s.state).toBe('current');
    expect(describeRehearsal(s)).toBe(`current (passed ${daysAgo(10).slice(0, 10)})`);
  });

  it('is stale since the expiry date when the rehearsal is older than rehearse_every', () => {
    const s = rehearsalStatus([e({ finished_at: daysAgo(100) })], 'db', 'aaa', 90 * DAY, NOW);
    expect(s).toMatchObject({ state: 'stale', reason: 'expired', since: daysAgo(10) });
    expect(describeRehearsal(s)).toBe(`stale since ${daysAgo(10).slice(0, 10)}`);
  });

  it('never expires without rehearse_every', () => {
    expect(rehearsalStatus([e({ finished_at: daysAgo(1000) })], 'db', 'aaa', undefined, NOW).state).toBe('current');
  });

  it('is stale when the runbook changed after its last passed rehearsal', () => {
    const s = rehearsalStatus([e({ digest: 'old' })], 'db', 'aaa', 90 * DAY, NOW);
    expect(s).toMatchObject({ state: 'stale', reason: 'changed', since: daysAgo(10) });
    expect(describeRehearsal(s)).toContain('runbook changed after that rehearsal');
  });

  it('judges by the last passed rehearsal only, in time order, whatever the file order', () => {
    const h = [e({ finished_at: daysAgo(5), digest: 'old' }), e({ finished_at: daysAgo(20), digest: 'aaa' })];
    expect(rehearsalStatus(h, 'db', 'aaa', 90 * DAY, NOW)).toMatchObject({ state: 'stale', reason: 'changed' });
    expect(rehearsalStatus(h, 'db', 'old', 90 * DAY, NOW).state).toBe('current');
  });

  it('a failure newer than the last pass makes it stale (the plan must not vouch for it), and ignores other runbooks and production runs', () => {
    const h = [
      e({ finished_at: daysAgo(10) }),
      e({ result: 'failed', finished_at: daysAgo(2) }),
      e({ runbook: 'other', finished_at: daysAgo(1), digest: 'zzz' }),
      e({ mode: 'production', digest: 'zzz', finished_at: daysAgo(1) }),
    ];
    const s = rehearsalStatus(h, 'db', 'aaa', 90 * DAY, NOW);
    expect(s).toMatchObject({ state: 'stale', reason: 'failed' });
    expect(s.failedAfter?.finished_at).toBe(daysAgo(2));
    expect(describeRehearsal(s)).toMatch(/^stale: the last rehearsal failed /);
  });

  it('regression: a rehearsal that completed with errors (a failed step skipped at the prompt) is not a pass, and makes it stale', () => {
    const h = [e({ finished_at: daysAgo(10) }), e({ result: 'completed-with-errors', finished_at: daysAgo(2) })];
    const s = rehearsalStatus(h, 'db', 'aaa', 90 * DAY, NOW);
    expect(s).toMatchObject({ state: 'stale', reason: 'failed' });
    expect(describeRehearsal(s)).toMatch(/^stale: the last rehearsal completed with errors /);
    expect(rehearsalStatus([e({ result: 'completed-with-errors' })], 'db', 'aaa', undefined, NOW).state).toBe('never');
    expect(parseHistory(JSON.stringify(e({ result: 'completed-with-errors' }))).entries).toHaveLength(1);
  });
});

describe('parseHistory', () => {
  it('keeps rehearsal records and counts the other lines', () => {
    const text = [
      JSON.stringify(e({})),
      '',
      'not json',
      JSON.stringify({ runbook: 'x' }),
      JSON.stringify(e({ finished_at: 'yesterday' })),
      JSON.stringify(e({ result: 'failed' })),
    ].join('\n');
    const r = parseHistory(text);
    expect(r.entries).toHaveLength(2);
    expect(r.skipped).toBe(3);
  });
});

// The run report's view model and its HTML/Markdown, from a journal made by hand.
import { describe, it, expect } from 'vitest';
import { reportModel } from '../../src/render/report-model.js';
import { createEngine, loadTemplateSet } from '../../src/render/engine.js';
import type { JournalRecord, RunEvent } from '../../src/engine/events.js';

function journal(events: RunEvent[]): JournalRecord[] {
  const t0 = Date.parse('2026-11-21T03:00:00Z');
  return events.map((e, i) => ({ ...e, seq: i + 1, at: new Date(t0 + i * 10_000).toISOString() }) as JournalRecord);
}

const RECORDS = journal([
  {
    type: 'run-started',
    runId: 'r-1',
    runbook: 'pg',
    version: '2.1.0',
    title: 'Promote <b>standby</b>',
    digest: 'ab'.repeat(32),
    files: [],
    inventory: 'production',
    inventoryDigest: '',
    environment: 'production',
    operator: 'jo@laptop',
    lifeboatVersion: '0.1.0',
    vars: {},
    rtoMs: 60_000,
    mode: 'run',
  },
  { type: 'host-state', host: 'db1', reachable: false, kind: 'unreachable', message: 'timed out' },
  { type: 'step-skipped', step: 'fence', host: 'db1', reason: 'host-down', note: 'db1 unreachable, as expected' },
  { type: 'confirmed', step: 'promote', question: 'Promote db2 <now>?', answer: true, by: 'jo@laptop', auto: false },
  { type: 'intent', step: 'promote', host: 'db2', attempt: 1, command: 'pg_ctl promote', purpose: 'run' },
  {
    type: 'exec-finished',
    step: 'promote',
    host: 'db2',
    attempt: 1,
    purpose: 'run',
    exitCode: 0,
    timedOut: false,
    canceled: false,
    signal: null,
    durationMs: 300,
    stdoutTail: '',
    stderrTail: '',
    ok: true,
  },
  { type: 'intent', step: 'vip', host: 'db2', attempt: 1, command: 'ip addr add', purpose: 'run' },
  {
    type: 'exec-finished',
    step: 'vip',
    host: 'db2',
    attempt: 1,
    purpose: 'run',
    exitCode: 2,
    timedOut: false,
    canceled: false,
    signal: null,
    durationMs: 30,
    stdoutTail: '',
    stderrTail: 'RTNETLINK answers: File exists',
    ok: false,
    reason: 'exit code 2: RTNETLINK answers: File exists',
  },
  { type: 'failure-decision', step: 'vip', host: 'db2', choice: 'rollback', by: 'sam@desk', auto: false },
  { type: 'rollback-started', units: [{ step: 'promote', host: 'db2' }] },
  { type: 'intent', step: 'promote', host: 'db2', attempt: 1, command: 'undo', purpose: 'rollback' },
  {
    type: 'exec-finished',
    step: 'promote',
    host: 'db2',
    attempt: 1,
    purpose: 'rollback',
    exitCode: 0,
    timedOut: false,
    canceled: false,
    signal: null,
    durationMs: 10,
    stdoutTail: '',
    stderrTail: '',
    ok: true,
  },
  {
    type: 'run-finished',
    result: 'rolled-back',
    durationMs: 110_000,
    message: "step 'vip' failed; rolled back by sam@desk",
  },
]);

describe('run report', () => {
  it('collects steps, decisions, skips and rollbacks, and judges the total against the RTO', () => {
    const m = reportModel(RECORDS, { version: '0.1.0', now: new Date('2026-11-21T04:00:00Z') });
    expect(m.result).toBe('rolled-back');
    expect(m.operators).toEqual(['jo@laptop', 'sam@desk']);
    expect(m.total).toBe('2m00s');
    expect(m.withinRto).toBe(false);
    expect(m.rtoVerdict).toMatch(/OVER/);
    expect(m.steps.map((s) => [s.step, s.host, s.result])).toEqual([
      ['fence', 'db1', 'skipped'],
      ['promote', 'db2', 'ok'],
      ['vip', 'db2', 'failed'],
    ]);
    expect(m.decisions.map((d) => [d.step, d.answer, d.by])).toEqual([
      ['promote', 'yes', 'jo@laptop'],
      ['vip', 'rollback', 'sam@desk'],
    ]);
    expect(m.rollbacks).toEqual([{ step: 'promote', host: 'db2', result: 'rolled back' }]);
  });

  it('escapes every value in HTML and renders the same facts in Markdown', async () => {
    const m = reportModel(RECORDS, { version: '0.1.0' });
    const html = (await createEngine(loadTemplateSet(), 'html')).render('report', m);
    expect(html).not.toContain('<b>standby</b>');
    expect(html).toContain('Promote &lt;b&gt;standby&lt;/b&gt;');
    expect(html).toContain('Promote db2 &lt;now&gt;?');
    expect(html).not.toMatch(/<script|src=|href="http/);
    const md = (await createEngine(loadTemplateSet(), 'md')).render('report', m);
    expect(md).toContain('| `vip` | db2 | **failed** | 1 |');
    expect(md).toContain('rolled back');
    expect(md).toMatch(/2m00s\*\* against an RTO of 1m00s/);
  });
});

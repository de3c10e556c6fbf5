// The one result function: what a run and each step were worth, from the journal alone.
import { describe, it, expect } from 'vitest';
import { RB, runIt, FakeOperator, planOf } from '../helpers/engine-harness.js';
import {
  journalState,
  runOutcome,
  stepOutcome,
  unitOutcome,
  outcomeOf,
  outcomeLines,
} from '../../src/engine/outcome.js';
import { historyFromJournal } from '../../src/rehearsal/history.js';
import { summaryTable } from '../../src/ui/summary.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { initState, apply, UnitStatus } from '../../src/engine/state.js';
import type { JournalRecord, RunStartedEvent } from '../../src/engine/events.js';

const TWO = RB(`
  - id: start-service
    on: standby
    run: systemctl start app
  - id: after
    on: standby
    run: "true"
`);

describe('runOutcome', () => {
  it('regression: a failed step the operator skipped makes the run completed-with-errors (it said SUCCEEDED, history "passed")', async () => {
    const r = await runIt(
      TWO,
      (_h, cmd) => (cmd.includes('systemctl') ? { exitCode: 1, stderr: 'Job failed\nsee journalctl' } : {}),
      { interactive: true, operator: new FakeOperator({ failure: ['skip'] }) },
    );
    expect(r.state.status).toBe('succeeded');
    const o = outcomeOf(r.records);
    expect(o).toMatchObject({ result: 'completed-with-errors', passed: false, exitCode: 1 });
    expect(outcomeLines(o)).toEqual([
      'start-service on db2 failed (exit code 1: see journalctl) and was skipped by tester@box',
    ]);
    expect(historyFromJournal(r.records)?.result).toBe('completed-with-errors');
    expect(summaryTable(r.plan, r.state, r.records)).toMatch(/^COMPLETED WITH ERRORS: t@1\.0\.0/m);
    const js = journalState(r.records);
    expect(stepOutcome(js, 'start-service')).toBe('failed-skipped');
    expect(stepOutcome(js, 'after')).toBe('ok');
  });

  it('on_failure: continue is an allowed failure: the run succeeds and names it', async () => {
    const rb = TWO.replace('run: systemctl start app', 'run: systemctl start app\n    on_failure: continue');
    const r = await runIt(rb, (_h, cmd) => (cmd.includes('systemctl') ? { exitCode: 1 } : {}));
    const o = outcomeOf(r.records);
    expect(o).toMatchObject({ result: 'succeeded', passed: true, exitCode: 0 });
    expect(o.allowedFailures.map((u) => `${u.step}@${u.host}`)).toEqual(['start-service@db2']);
    expect(unitOutcome(journalState(r.records), 'start-service', 'db2')).toBe('allowed-failure');
    expect(historyFromJournal(r.records)?.allowed_failures).toEqual(['start-service on db2']);
  });

  it('regression: an in-doubt step marked done without evidence makes the run completed-with-errors', async () => {
    const plan = planOf(TWO);
    const journal = new MemoryJournal(() => Date.parse('2026-11-21T10:00:00Z'));
    const started = (await journal.append({
      type: 'run-started',
      runId: 'r1',
      runbook: 't',
      version: '1.0.0',
      title: 't',
      digest: plan.digest,
      files: [],
      inventory: 'lab',
      inventoryDigest: '',
      operator: 'o',
      lifeboatVersion: '0',
      vars: {},
      mode: 'rehearsal',
    })) as JournalRecord & RunStartedEvent;
    await journal.append({ type: 'host-state', host: 'db2', reachable: true });
    await journal.append({ type: 'step-started', step: 'start-service' });
    await journal.append({
      type: 'intent',
      step: 'start-service',
      host: 'db2',
      attempt: 1,
      command: 'systemctl start app',
      purpose: 'run',
    });
    // the process died here; resume
    const state = initState(plan, started, { defaultOnFailure: 'ask' });
    for (const rec of journal.records.slice(1)) apply(state, plan, rec);
    await journal.append({ type: 'resumed', operator: 'o', inDoubt: [{ step: 'start-service', host: 'db2' }] });
    apply(state, plan, journal.records[journal.records.length - 1]);
    expect(state.units['start-service@db2'].status).toBe(UnitStatus.InDoubt);
    const r = await runIt('', () => ({}), {
      plan,
      state,
      journal,
      interactive: true,
      operator: new FakeOperator({ inDoubt: ['done'] }),
    });
    expect(r.state.status).toBe('succeeded');
    const o = outcomeOf(journal.records);
    expect(o.result).toBe('completed-with-errors');
    expect(o.errors).toMatchObject([{ step: 'start-service', host: 'db2', outcome: 'marked-done' }]);
  });

  it('regression (found by the engine model): a step skipped as a whole by `when` is skipped on each of its hosts, not "not run"', async () => {
    const rb = RB(`
  - id: only-if-down
    on: [standby, primary]
    when: { unreachable: standby }
    run: "true"
`);
    const r = await runIt(rb, () => ({}));
    const js = journalState(r.records);
    expect(unitOutcome(js, 'only-if-down', 'db2')).toBe('skipped');
    expect(unitOutcome(js, 'only-if-down', 'db1')).toBe('skipped');
    expect(summaryTable(r.plan, r.state, r.records)).toMatch(/^only-if-down\s+db2\s+skipped\b/m);
  });

  it('aborted, rolled back and unfinished runs keep their own result', async () => {
    const r = await runIt(TWO, (_h, cmd) => (cmd.includes('systemctl') ? { exitCode: 1 } : {}));
    expect(outcomeOf(r.records).result).toBe('failed');
    expect(runOutcome(journalState(r.records.slice(0, -1))).result).toBe('unfinished');
  });
});

describe('journalState: how one command ends decides its unit', () => {
  const rec = (seq: number, r: Record<string, unknown>) => ({ seq, at: '2026-12-07T06:00:00Z', ...r }) as JournalRecord;
  const sent = (purpose: 'run' | 'skip_if' | 'rollback') => ({
    type: 'intent',
    step: 's',
    host: 'h',
    attempt: 1,
    command: 'x',
    purpose,
  });
  const ended = (purpose: 'run' | 'skip_if' | 'rollback', e: Record<string, unknown>) => ({
    type: 'exec-finished',
    step: 's',
    host: 'h',
    attempt: 1,
    purpose,
    exitCode: 0,
    timedOut: false,
    canceled: false,
    signal: null,
    durationMs: 5,
    stdoutTail: '',
    stderrTail: '',
    ok: true,
    ...e,
  });
  const cases: [string, Record<string, unknown>[], string, string | undefined][] = [
    ['ok', [sent('run'), ended('run', {})], 'ok', undefined],
    ['failed', [sent('run'), ended('run', { ok: false, exitCode: 3 })], 'failed', 'exit code 3'],
    [
      'failed, with its reason',
      [sent('run'), ended('run', { ok: false, reason: 'stdout was "no"' })],
      'failed',
      'stdout was "no"',
    ],
    [
      'stopped by Ctrl-C: in doubt, not failed',
      [sent('run'), ended('run', { ok: false, canceled: true, exitCode: null })],
      'in-doubt',
      'stopped while running',
    ],
    [
      'polling, not yet: still running',
      [sent('run'), ended('run', { ok: false, pollAgain: true })],
      'running',
      undefined,
    ],
    ['its skip_if guard held', [sent('skip_if'), ended('skip_if', {})], 'skipped', 'its skip_if guard held'],
    [
      'its skip_if guard did not hold, then it ran',
      [sent('skip_if'), ended('skip_if', { ok: false, exitCode: 1 }), sent('run'), ended('run', {})],
      'ok',
      undefined,
    ],
    [
      'a rollback changes nothing',
      [sent('run'), ended('run', {}), sent('rollback'), ended('rollback', { ok: false })],
      'ok',
      undefined,
    ],
    [
      'connection lost',
      [
        sent('run'),
        {
          type: 'exec-error',
          step: 's',
          host: 'h',
          attempt: 1,
          purpose: 'run',
          kind: 'connection-lost',
          message: 'gone',
        },
      ],
      'failed',
      'gone',
    ],
  ];
  for (const [name, records, outcome, reason] of cases) {
    it(name, () => {
      const js = journalState(records.map((r, i) => rec(i + 1, r)));
      const u = js.units.get('s')?.get('h');
      expect(u?.outcome).toBe(outcome);
      expect(u?.reason).toBe(reason);
    });
  }
});

import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { FileJournal, journalPath } from '../../src/journal/file-journal.js';
import { acquireLocalLock } from '../../src/journal/lock.js';
import { listRuns, timeline, formatElapsed, describeRto, resolveStateDir, readRun } from '../../src/journal/runs.js';
import { runsCommand } from '../../src/commands/runs.js';
import { logCommand } from '../../src/commands/log.js';
import { findRunId } from '../../src/session/find-run.js';
import { unlockCommand } from '../../src/commands/unlock.js';
import type { RunEvent } from '../../src/engine/events.js';
import type { CliIO } from '../../src/cli/io.js';

let tmp: string;
let state: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lb-runs-'));
  state = path.join(tmp, '.lifeboat');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function fakeIO(): CliIO & { out: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d) => {
    text += d;
  });
  return {
    stdout,
    stderr: new PassThrough(),
    stdin: new PassThrough(),
    env: { NO_COLOR: '1' },
    cwd: tmp,
    out: () => text,
  };
}

const start = (runId: string, runbook = 'pg'): RunEvent => ({
  type: 'run-started',
  runId,
  runbook,
  version: '2.1.0',
  title: 'Promote',
  digest: 'd',
  files: [],
  inventory: 'production',
  inventoryDigest: 'i',
  operator: 'root@laptop',
  lifeboatVersion: '0.1.0',
  vars: {},
  mode: 'run',
  rtoMs: 30 * 60_000,
});

/** writes events with a clock that advances by the given ms per event */
async function writeRun(
  runId: string,
  events: [number, RunEvent][],
  t0 = Date.parse('2026-11-21T10:00:00Z'),
): Promise<void> {
  let t = t0;
  const j = await FileJournal.create(state, runId, { now: () => new Date(t) });
  for (const [dt, e] of events) {
    t += dt;
    await j.append(e);
  }
  await j.close();
}

const promoteOk: [number, RunEvent][] = [
  [1000, { type: 'step-started', step: 'promote' }],
  [
    0,
    {
      type: 'confirmed',
      step: 'promote',
      question: 'Promote db2 to primary? This cannot be undone.',
      answer: true,
      by: 'root@laptop',
      auto: false,
    },
  ],
  [
    2000,
    {
      type: 'intent',
      step: 'promote',
      host: 'db2',
      attempt: 1,
      command: 'pg_ctl promote -D /var/lib/postgresql/15/main -w',
      purpose: 'run',
    },
  ],
  [
    300,
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
  ],
  [0, { type: 'step-finished', step: 'promote', result: 'ok', durationMs: 2300 }],
];

describe('run log', () => {
  it('summarizes finished, crashed, running and resumed runs; newest first', async () => {
    const a = '20261121-100000-pg-aaaa';
    const b = '20261121-110000-pg-bbbb';
    const c = '20261121-120000-files-cccc';
    const d = '20261121-130000-pg-dddd';
    await writeRun(a, [
      [0, start(a)],
      ...promoteOk,
      [100, { type: 'run-finished', result: 'succeeded', durationMs: 3400 }],
    ]);
    await writeRun(b, [[0, start(b)], ...promoteOk.slice(0, 3)], Date.parse('2026-11-21T11:00:00Z'));
    await writeRun(
      c,
      [
        [0, start(c, 'files')],
        [10, { type: 'step-started', step: 'sync' }],
      ],
      Date.parse('2026-11-21T12:00:00Z'),
    );
    await writeRun(
      d,
      [
        [0, start(d)],
        [10, { type: 'interrupted', by: 'root@laptop', how: 'after-step' }],
        [10, { type: 'run-finished', result: 'interrupted', durationMs: 20 }],
        [60_000, { type: 'resumed', operator: 'root@laptop', inDoubt: [] }],
        [10, { type: 'run-finished', result: 'failed', durationMs: 5, message: 'promote failed' }],
      ],
      Date.parse('2026-11-21T13:00:00Z'),
    );
    // c is running: its lock is held by this live process
    const lock = acquireLocalLock(state, 'files', { runId: c, operator: 'root@laptop' });
    try {
      const runs = listRuns(state);
      expect(runs.map((r) => [r.id, r.state])).toEqual([
        [d, 'failed'],
        [c, 'running'],
        [b, 'crashed'],
        [a, 'succeeded'],
      ]);
      const ra = runs[3];
      expect(ra).toMatchObject({
        runbook: 'pg',
        version: '2.1.0',
        inventory: 'production',
        operator: 'root@laptop',
        mode: 'run',
        durationMs: 3400,
        withinRto: true,
        steps: { ok: 1, failed: 0, skipped: 0 },
      });
      expect(runs[2].inDoubt).toEqual([{ step: 'promote', host: 'db2', purpose: 'run', attempt: 1 }]);
      expect(runs[0]).toMatchObject({ resumes: 1, durationMs: 60_030, message: 'promote failed' });
    } finally {
      lock.release();
    }
    // once the lock is gone, c is a crash
    expect(readRun(state, c).summary.state).toBe('crashed');
  });

  it('an interrupted run that was resumed and is not finished is crashed, not interrupted', async () => {
    const id = '20261121-100000-pg-eeee';
    await writeRun(id, [
      [0, start(id)],
      [10, { type: 'run-finished', result: 'interrupted', durationMs: 10 }],
    ]);
    expect(readRun(state, id).summary.state).toBe('interrupted');
    const j = await FileJournal.open(state, id);
    await j.append({ type: 'resumed', operator: 'root@laptop', inDoubt: [] });
    await j.close();
    expect(readRun(state, id).summary.state).toBe('crashed');
  });

  it('tells the timeline in words', async () => {
    const id = '20261121-100000-pg-ffff';
    await writeRun(id, [
      [0, start(id)],
      [
        200,
        { type: 'host-state', host: 'db1', reachable: false, kind: 'unreachable', message: 'connect ECONNREFUSED' },
      ],
      ...promoteOk,
      [
        10,
        {
          type: 'intent',
          step: 'move-vip',
          host: 'db2',
          attempt: 1,
          command: 'ip addr add 198.18.0.100/24 dev eth0',
          purpose: 'run',
        },
      ],
    ]);
    const { records } = readRun(state, id);
    const text = timeline(records).map(
      (l) => `${formatElapsed(l.elapsedMs)}  ${l.host ?? ''}  ${l.step ?? ''}  ${l.text}`,
    );
    expect(text).toContain('+00:03.5  db2  promote  ok (exit 0, 300ms)');
    expect(text).toContain(
      '+00:01.2    promote  confirm "Promote db2 to primary? This cannot be undone." → yes by root@laptop',
    );
    expect(text).toContain('+00:00.2  db1    unreachable: connect ECONNREFUSED');
    expect(text.at(-1)).toMatch(/db2 {2}move-vip {2}sent, no result recorded: IN DOUBT/);
    // the answered intent is only shown when verbose
    expect(text.some((l) => l.includes('pg_ctl promote'))).toBe(false);
    expect(timeline(records, { verbose: true }).some((l) => l.text.includes('pg_ctl promote'))).toBe(true);
  });

  it('an in-doubt command stays in doubt after "abort (decide later)", not after done or rerun', async () => {
    const { pendingIntents } = await import('../../src/journal/runs.js');
    const intent = {
      seq: 2,
      at: 'x',
      type: 'intent',
      step: 's',
      host: 'h',
      attempt: 1,
      command: 'c',
      purpose: 'run',
    } as const;
    const decided = (choice: 'abort' | 'done' | 'rerun') =>
      pendingIntents([
        intent,
        { seq: 3, at: 'x', type: 'in-doubt', step: 's', host: 'h', choice, by: 'o', auto: false },
      ]);
    expect(decided('abort')).toHaveLength(1);
    expect(decided('done')).toHaveLength(0);
    expect(decided('rerun')).toHaveLength(0);
  });

  it('formats elapsed time and RTO verdicts', () => {
    expect(formatElapsed(3240)).toBe('+00:03.2');
    expect(formatElapsed(12 * 60_000 + 5000)).toBe('+12:05.0');
    expect(formatElapsed(3_723_400)).toBe('+1:02:03.4');
    expect(describeRto(4 * 60_000 + 12_000, 30 * 60_000, true)).toBe('4m12s of 30m00s RTO: within RTO');
    expect(describeRto(31 * 60_000, 30 * 60_000, true)).toBe('31m00s of 30m00s RTO: RTO exceeded by 1m00s');
    expect(describeRto(1000, undefined, true)).toBe('1.0s (no RTO set)');
  });

  it('finds the state folder beside site.yaml', () => {
    expect(resolveStateDir({ cwd: tmp })).toBe(path.join(tmp, '.lifeboat'));
    expect(resolveStateDir({ cwd: tmp, stateDir: 'x' })).toBe(path.join(tmp, 'x'));
  });

  it('runs and log commands print tables and timelines; log finds a run by a part of its id', async () => {
    const id = '20261121-100000-pg-abcd';
    await writeRun(id, [
      [0, start(id)],
      ...promoteOk,
      [100, { type: 'run-finished', result: 'succeeded', durationMs: 3400 }],
    ]);
    const io = fakeIO();
    expect(await runsCommand({}, io)).toBe(0);
    expect(io.out()).toMatch(/^RUN\s+RUNBOOK\s+INVENTORY/);
    expect(io.out()).toContain('pg@2.1.0');
    expect(io.out()).toContain('succeeded');
    expect(io.out()).toContain('3.4s of 30m00s RTO: within RTO');
    const io2 = fakeIO();
    expect(await logCommand('abcd', {}, io2)).toBe(0);
    expect(io2.out()).toContain(`run ${id}: pg@2.1.0 on production (run) by root@laptop`);
    expect(io2.out()).toMatch(/10:00:03 {2}\+00:03\.3 {2}db2 {2}promote {2}ok \(exit 0, 300ms\)/);
    expect(io2.out()).toContain('result: succeeded, 3.4s of 30m00s RTO: within RTO');
    const io3 = fakeIO();
    await logCommand(undefined, { json: true }, io3);
    expect(JSON.parse(io3.out()).run.id).toBe(id);
    expect(() => findRunId(state, 'nope')).toThrow(/no run 'nope'/);
  });

  it('log shows a damaged journal rather than failing', async () => {
    const id = '20261121-100000-pg-abce';
    await writeRun(id, [[0, start(id)], ...promoteOk]);
    appendFileSync(journalPath(state, id), '{"seq":9,"at":"2026-11-21T10:00:09.000Z","type":"step-fin');
    const io = fakeIO();
    await logCommand(id, {}, io);
    expect(io.out()).toContain('cut off by a crash');
    expect(io.out()).toContain('result: did not finish');
    expect(io.out()).toContain(`lifeboat resume ${id}`);
  });

  it('unlock shows the owner, asks, and removes', async () => {
    const lock = acquireLocalLock(state, 'pg', { runId: '20261121-100000-pg-abcd', operator: 'jo@laptop' });
    const io = fakeIO();
    const questions: string[] = [];
    expect(
      await unlockCommand('pg', {}, io, async (q) => {
        questions.push(q);
        return false;
      }),
    ).toBe(1);
    expect(io.out()).toContain('held by run 20261121-100000-pg-abcd by jo@laptop');
    expect(io.out()).toContain('still running');
    expect(questions[0]).toMatch(/still running/);
    // no terminal and no --yes: refuse
    await expect(unlockCommand('pg', {}, fakeIO())).rejects.toThrow(/without confirmation/);
    const io2 = fakeIO();
    expect(await unlockCommand('pg', { yes: true }, io2)).toBe(0);
    expect(io2.out()).toContain('lock of pg removed');
    expect(io2.out()).toContain('lifeboat resume 20261121-100000-pg-abcd');
    const io3 = fakeIO();
    expect(await unlockCommand('pg', { yes: true }, io3)).toBe(0);
    expect(io3.out()).toContain('no local lock for pg');
    expect(io3.out()).toContain('rmdir /var/lock/lifeboat-pg');
    lock.release();
  });
});

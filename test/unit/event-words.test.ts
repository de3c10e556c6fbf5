// One record, one wording: the terminal (plain reporter), `lifeboat log` and the run report say
// the same text at the same level for the same journal record (src/engine/event-words.ts).
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileJournal } from '../../src/journal/file-journal.js';
import { readRun, timeline } from '../../src/journal/runs.js';
import { logCommand } from '../../src/commands/log.js';
import { reportModel } from '../../src/render/report-model.js';
import { PlainReporter } from '../../src/ui/plain-reporter.js';
import { eventWords } from '../../src/engine/event-words.js';
import type { JournalRecord, RunEvent } from '../../src/engine/events.js';
import type { CliIO } from '../../src/cli/io.js';

let tmp: string;
let state: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lb-words-'));
  state = path.join(tmp, '.lifeboat');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

type Of<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

const exec = (
  step: string,
  host: string,
  e: Partial<Of<'exec-finished'>> & Pick<Of<'exec-finished'>, 'ok'>,
): Of<'exec-finished'> => ({
  type: 'exec-finished',
  step,
  host,
  attempt: 1,
  purpose: 'run',
  exitCode: e.ok ? 0 : 1,
  timedOut: false,
  canceled: false,
  signal: null,
  durationMs: 120,
  stdoutTail: '',
  stderrTail: '',
  ...e,
});

/** a command: its intent, then its result (every intent answered: none is in doubt) */
const command = (result: Of<'exec-finished'> | Of<'exec-error'>): RunEvent[] => [
  {
    type: 'intent',
    step: result.step,
    host: result.host,
    attempt: result.attempt,
    purpose: result.purpose,
    command: `do ${result.step}`,
  },
  result,
];

const error = (step: string, host: string, kind: string, purpose: Of<'exec-error'>['purpose'] = 'run') =>
  ({ type: 'exec-error', step, host, attempt: 1, purpose, kind, message: `${kind} on ${host}` }) as const;

// every record type, in each of the ways it can be worded (the type makes a new record type show up here)
const SAMPLES: { [T in RunEvent['type']]: Of<T>[] } = {
  'run-started': [
    {
      type: 'run-started',
      runId: '20261121-100000-pg-a0a0',
      runbook: 'pg',
      version: '2.1.0',
      title: 'Promote',
      digest: 'd',
      files: [],
      inventory: 'lab',
      inventoryDigest: 'i',
      environment: 'rehearsal',
      operator: 'root@laptop',
      lifeboatVersion: '0.1.0',
      vars: {},
      mode: 'rehearsal',
      rtoMs: 30 * 60_000,
      fromStep: 'promote',
      toStep: 'vip',
    },
  ],
  'host-state': [
    { type: 'host-state', host: 'db2', reachable: true },
    { type: 'host-state', host: 'db1', reachable: false, kind: 'unreachable', message: 'connect ECONNREFUSED' },
    { type: 'host-state', host: 'db3', reachable: false, kind: 'auth' },
  ],
  'step-skipped': [
    { type: 'step-skipped', step: 'fence', host: 'db1', reason: 'host-down', note: 'db1 unreachable, as expected' },
    { type: 'step-skipped', step: 'check', reason: 'when', note: 'not needed here' },
  ],
  'step-started': [{ type: 'step-started', step: 'promote' }],
  confirmed: [
    { type: 'confirmed', step: 'promote', question: 'Promote db2?', answer: true, by: 'sam@desk', auto: false },
    { type: 'confirmed', step: 'promote', question: 'Promote db2?', answer: true, by: 'sam@desk', auto: true },
    { type: 'confirmed', step: 'vip', question: 'Move the VIP?', answer: false, by: 'sam@desk', auto: false },
  ],
  'manual-done': [
    { type: 'manual-done', step: 'serial', done: true, by: 'sam@desk', record: 'serial', value: 'X-1', auto: false },
    { type: 'manual-done', step: 'serial', done: true, by: 'sam@desk', auto: true },
    { type: 'manual-done', step: 'serial', done: false, by: 'sam@desk', auto: false },
  ],
  // intents come with their commands below
  intent: [],
  'exec-finished': [
    exec('promote', 'db2', { ok: true, durationMs: 311, captured: { name: 'lsn', value: '0/3000060' } }),
    exec('guarded', 'db2', { ok: true, purpose: 'skip_if' }),
    exec('guarded', 'db2', { ok: false, purpose: 'skip_if', attempt: 2 }),
    exec('wait', 'db2', { ok: false, pollAgain: true, reason: "stdout was 'missing', expected 'ready'" }),
    exec('wait', 'db2', { ok: false, attempt: 2, exitCode: 7, reason: 'exit code 7', stderrTail: 'FATAL: no\n' }),
    exec('slow', 'db2', { ok: false, exitCode: null, timedOut: true }),
    exec('slow', 'db2', { ok: false, exitCode: null, signal: 'SIGKILL', attempt: 2 }),
    exec('slow', 'db2', { ok: false, exitCode: null, canceled: true, attempt: 3 }),
    exec('promote', 'db2', { ok: true, purpose: 'rollback' }),
    exec('vip', 'db2', { ok: false, purpose: 'rollback', exitCode: 2, reason: 'exit code 2', stdoutTail: 'busy' }),
  ],
  'exec-error': [
    error('copy', 'db1', 'connection-lost'),
    error('copy', 'db3', 'unreachable'),
    error('copy', 'db4', 'host-key-changed'),
    error('copy', 'db5', 'auth'),
    error('guarded', 'db1', 'connection-lost', 'skip_if'),
    error('copy', 'db2', 'connection-lost', 'rollback'),
  ],
  'step-finished': [
    { type: 'step-finished', step: 'promote', result: 'ok', durationMs: 2_000 },
    { type: 'step-finished', step: 'wait', result: 'failed', durationMs: 9_000 },
    { type: 'step-finished', step: 'check', result: 'skipped', durationMs: 0 },
  ],
  'failure-decision': [
    { type: 'failure-decision', step: 'wait', host: 'db2', choice: 'retry', by: 'sam@desk', auto: false },
    { type: 'failure-decision', step: 'copy', choice: 'abort', by: 'sam@desk', auto: true },
    { type: 'failure-decision', step: 'slow', host: 'db2', choice: 'skip', by: 'sam@desk', auto: false },
  ],
  'rollback-started': [
    {
      type: 'rollback-started',
      units: [
        { step: 'vip', host: 'db2' },
        { step: 'promote', host: 'db2' },
      ],
    },
    { type: 'rollback-started', units: [] },
  ],
  'rpo-measured': [
    {
      type: 'rpo-measured',
      step: 'lag',
      capture: 'lag',
      value: '0.4',
      windowMs: 400,
      rpoMs: 60_000,
      verdict: 'within',
    },
  ],
  interrupted: [
    { type: 'interrupted', by: 'sam@desk', how: 'stop-step' },
    { type: 'interrupted', by: 'sam@desk', how: 'after-step' },
  ],
  resumed: [
    { type: 'resumed', operator: 'jo@laptop', inDoubt: [{ step: 'slow', host: 'db2' }], acceptedChanges: ['vip'] },
  ],
  'in-doubt': [
    { type: 'in-doubt', step: 'slow', host: 'db2', choice: 'rerun', by: 'jo@laptop', auto: true },
    { type: 'in-doubt', step: 'slow', host: 'db2', choice: 'rerun', by: 'jo@laptop', auto: false },
    { type: 'in-doubt', step: 'guarded', host: 'db2', choice: 'guard', by: 'jo@laptop', auto: true },
    { type: 'in-doubt', step: 'copy', host: 'db1', choice: 'done', by: 'jo@laptop', auto: false },
    { type: 'in-doubt', step: 'copy', host: 'db3', choice: 'abort', by: 'jo@laptop', auto: false },
  ],
  'run-finished': [
    { type: 'run-finished', result: 'interrupted', durationMs: 60_000, message: 'stopped by the operator' },
    { type: 'run-finished', result: 'failed', durationMs: 120_000, message: "step 'copy' failed" },
  ],
};

/** the samples as one journal: commands with their intents; the interruption and resume before the end */
function sampleEvents(): RunEvent[] {
  const { 'run-started': start, 'run-finished': fins, resumed, 'in-doubt': inDoubt, ...rest } = SAMPLES;
  const [interrupted, failed] = fins;
  const middle = Object.values(rest)
    .flat()
    .flatMap((e) => (e.type === 'exec-finished' || e.type === 'exec-error' ? command(e) : [e]));
  return [...start, ...middle, interrupted, ...resumed, ...inDoubt, failed];
}

async function journal(id: string, events: RunEvent[]): Promise<JournalRecord[]> {
  let t = Date.parse('2026-11-21T10:00:00Z');
  const j = await FileJournal.create(state, id, { now: () => new Date((t += 1500)) });
  for (const e of events) await j.append(e);
  await j.close();
  return readRun(state, id).records;
}

type Line = { where: string; text: string; level: string };

/** a stream that keeps what is written to it, written at once */
function sink(): NodeJS.WritableStream & { text: string } {
  const s = { text: '', write: (chunk: string) => ((s.text += chunk), true) };
  return s as unknown as NodeJS.WritableStream & { text: string };
}

const LEVEL_OF_COLOR: Record<string, string> = { '32': 'ok', '33': 'warn', '31': 'error' };

/** what the plain reporter prints for each record: its first line, without time and clock */
function terminalLines(records: JournalRecord[]): Line[] {
  const out = sink();
  const reporter = new PlainReporter(out, { color: true });
  return records.map((r) => {
    out.text = '';
    reporter.event(r);
    reporter.close();
    const first = out.text.split('\n')[0];
    const painted = /^\x1b\[(\d+)m(.*)\x1b\[0m$/.exec(first);
    const m = /^\S+Z \+\S+(?: \(\d+% RTO\))? (?:\[([^\]]*)\] )?(.*)$/.exec(painted ? painted[2] : first)!;
    return { where: m[1] ?? '', text: m[2], level: painted ? LEVEL_OF_COLOR[painted[1]] : 'info' };
  });
}

/** the rows `lifeboat log -v` prints (one per record here: no notes, nothing in doubt) */
async function logRows(id: string): Promise<string[]> {
  const stdout = sink();
  const io = { stdout, stderr: sink(), stdin: undefined, env: { NO_COLOR: '1' }, cwd: tmp };
  await logCommand(id, { stateDir: state, verbose: true }, io as unknown as CliIO);
  return stdout.text.split('\n').filter((l) => /^\d\d:\d\d:\d\d {2}\+/.test(l));
}

const where = (e: { step?: string; host?: string }) => [e.step, e.host].filter(Boolean).join(' @ ');

describe('a journal record in words', () => {
  it('the terminal, the log and the report say the same for every record type', async () => {
    const id = '20261121-100000-pg-a0a0';
    const records = await journal(id, sampleEvents());
    const terminal = terminalLines(records);
    const log = timeline(records, { verbose: true });
    const rows = await logRows(id);
    const report = reportModel(records, { version: '0.1.0' }).timeline;
    expect(log.map((e) => e.seq)).toEqual(records.map((r) => r.seq));
    expect(rows).toHaveLength(records.length);
    // the report leaves out the intents whose result it shows
    const shown = records.map((r, i) => ({ r, t: terminal[i] })).filter(({ r }) => r.type !== 'intent');
    expect(report).toHaveLength(shown.length);
    records.forEach((r, i) => {
      const t = terminal[i];
      const label = `${r.type} #${r.seq}`;
      expect({ where: where(log[i]), text: log[i].text, level: log[i].level }, label).toEqual(t);
      expect(rows[i].endsWith(`  ${t.text}`), `${label}: ${rows[i]}`).toBe(true);
    });
    shown.forEach(({ r, t }, i) =>
      expect({ where: report[i].where, text: report[i].text, level: report[i].level }, `${r.type} #${r.seq}`).toEqual(
        t,
      ),
    );
    // every type was said
    expect(new Set(records.map((r) => r.type))).toEqual(new Set(Object.keys(SAMPLES)));
  });

  it('the log and the report end a run that an operator got through with errors as such', async () => {
    const id = '20261121-110000-pg-b0b0';
    const records = await journal(id, [
      SAMPLES['run-started'][0],
      ...command(exec('wait', 'db2', { ok: false, reason: 'exit code 1' })),
      { type: 'failure-decision', step: 'wait', host: 'db2', choice: 'skip', by: 'sam@desk', auto: false },
      { type: 'run-finished', result: 'succeeded', durationMs: 60_000 },
    ]);
    // live, the record says only that the run got to its end; the summary under it says how it went
    expect(terminalLines(records).at(-1)!.text).toBe('run reached its end in 1m00s');
    expect(timeline(records).at(-1)!.text).toBe('run completed with errors in 1m00s');
    expect(reportModel(records, { version: '0' }).timeline.at(-1)!.text).toBe('run completed with errors in 1m00s');
  });

  it('the log shortens long text to fit a terminal; the terminal and the report keep all of it', async () => {
    const reason = `stdout was '${'x'.repeat(100)}', expected 'ready'`;
    const records = await journal('20261121-120000-pg-c0c0', [
      SAMPLES['run-started'][0],
      ...command(exec('wait', 'db2', { ok: false, reason })),
    ]);
    const full = `FAILED: ${reason} (exit 1, 120ms)`;
    expect(terminalLines(records).at(-1)!.text).toBe(full);
    expect(reportModel(records, { version: '0' }).timeline.at(-1)!.text).toBe(full);
    expect(timeline(records).at(-1)!.text).toMatch(/^FAILED: stdout was 'x+… \(exit 1, 120ms\)$/);
  });

  it('says who answered, how a command failed and what was decided in one wording', () => {
    const text = (e: RunEvent) => eventWords(e).text;
    const [confirm, confirmYes] = SAMPLES.confirmed;
    expect(text(confirm)).toBe('confirm "Promote db2?" → yes by sam@desk');
    expect(text(confirmYes)).toBe('confirm "Promote db2?" → yes by sam@desk (--yes)');
    expect(text(SAMPLES['manual-done'][1])).toBe('manual step done by sam@desk (--yes-manual)');
    expect(text(SAMPLES['failure-decision'][1])).toBe('on failure: abort by policy');
    expect(text(SAMPLES['in-doubt'][0])).toBe('in doubt after a stop: run again (idempotent) by policy');
    expect(text(SAMPLES['in-doubt'][1])).toBe('in doubt after a stop: run again by jo@laptop');
    expect(text(SAMPLES['exec-error'][0])).toBe('CONNECTION LOST: connection-lost on db1');
    expect(text(SAMPLES['run-started'][0])).toBe(
      'rehearsal 20261121-100000-pg-a0a0: pg@2.1.0 on lab (rehearsal) by root@laptop, from step promote, to step vip',
    );
    expect(text({ type: 'from-a-newer-lifeboat' } as unknown as RunEvent)).toBe('(from-a-newer-lifeboat)');
  });

  it('the report tables use the same words', async () => {
    const records = await journal('20261121-130000-pg-d0d0', sampleEvents());
    const m = reportModel(records, { version: '0' });
    expect(m.decisions.map((d) => `${d.answer} | ${d.by}`)).toEqual([
      'yes | sam@desk',
      'yes | sam@desk (--yes)',
      'no | sam@desk',
      'done: X-1 | sam@desk',
      'done | sam@desk (--yes-manual)',
      'not done | sam@desk',
      'retry | sam@desk',
      'abort | policy',
      'skip | sam@desk',
      'run again (idempotent) | policy',
      'run again | jo@laptop',
      'left to its skip_if guard | policy',
      'marked done | jo@laptop',
      'abort (decide later) | jo@laptop',
    ]);
    expect(m.rollbacks.map((r) => r.result)).toEqual([
      'rolled back',
      'rollback FAILED: exit code 2',
      'rollback: CONNECTION LOST: connection-lost on db2',
    ]);
    const row = (step: string, host: string) => m.steps.find((s) => s.step === step && s.host === host)!;
    expect(row('copy', 'db4').result).toBe('failed (refused)');
    expect(row('promote', 'db2').note).toBe('captured lsn=0/3000060');
    expect(row('copy', 'db1').note).toBe('in doubt after a stop: marked done by jo@laptop');
  });
});

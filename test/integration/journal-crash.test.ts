// Crash harness: run a runbook through the real CLI against the loopback sshd, SIGKILL it
// at every journal length (and again during the resume), `lifeboat resume`, and check that
// no step ran twice by accident. Each step appends `STEP@HOST` to a counter file on the
// target, so the file is the ground truth of what really ran.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  mkdtempSync,
  mkdirSync,
  writeFileSync,
  readFileSync,
  readdirSync,
  existsSync,
  rmSync,
  openSync,
  closeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir, hostname } from 'node:os';
import path from 'node:path';
import { loopbackOnly, startSshd, type Sshd } from '../helpers/sshd.js';
import { cliPath } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { readJournal } from '../../src/journal/file-journal.js';
import { readRun, timeline } from '../../src/journal/runs.js';
import { acquireLocalLock, readLocalLock, remoteLockCommands, remoteLockDir } from '../../src/journal/lock.js';
import type { JournalRecord } from '../../src/engine/events.js';

// every journal length by default; LIFEBOAT_CRASH_STRIDE=N tries every Nth (quicker local runs)
const STRIDE = Math.max(1, Number(process.env.LIFEBOAT_CRASH_STRIDE) || 1);
// a name of our own: the remote lock lives in the shared /var/lock
const RUNBOOK = `crash-${randomBytes(3).toString('hex')}`;

let sshd: Sshd;
let work: string;
let CLI: string;

beforeAll(async () => {
  // the private build of the current sources (test/helpers/cli.ts): a rebuild of dist/ while
  // the harness runs (minutes) must not swap the CLI under it
  CLI = cliPath();
  sshd = await startSshd();
  work = mkdtempSync(path.join(tmpdir(), 'lb-crash-'));
  // a private tsc build and bundle: minutes when every core is busy (it once timed out at 180 s under load)
}, 900_000);

afterAll(async () => {
  await sshd?.stop();
  rmSync(remoteLockDir(RUNBOOK), { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

/** units whose every run leaves one line in the counter file; idempotent ones may legitimately run again when in doubt */
const UNITS = ['a@h1', 'token@h1', 'both@h1', 'both@h2', 'slow@h2', 'guarded@h1', 'use@h2', 'idem@h2', 'last@h1'];
const IDEMPOTENT = new Set(['both@h1', 'both@h2', 'idem@h2']);

function runbookYaml(slowSeconds: string, tokenSleep = ''): string {
  return `lifeboat: 1
kind: runbook
name: ${RUNBOOK}
version: 1.0.0
title: Crash harness
tier: routine
objectives: { rto: 5m }
roles:
  first: h1
  second: h2
lock: { on: first }
steps:
  - id: pre
    phase: preflight
    on: first
    run: test -d /tmp
  - id: a
    on: first
    run: echo a@h1 >> {{ vars.ctr }}
  - id: token
    on: first
    env: { LB_CRASH_HARNESS: ${RUNBOOK} }
    run: echo token@h1 >> {{ vars.ctr }};${tokenSleep ? ` sleep ${tokenSleep};` : ''} echo tok-$$-$RANDOM
    capture: token
  - id: both
    on: [first, second]
    strategy: parallel
    idempotent: true
    run: echo both@{{ host.name }} >> {{ vars.ctr }}
  - id: slow
    on: second
    env: { LB_CRASH_HARNESS: ${RUNBOOK} }
    run: sleep ${slowSeconds}; echo slow@h2 >> {{ vars.ctr }}
  - id: guarded
    on: first
    skip_if: grep -qx guarded@h1 {{ vars.ctr }}
    run: echo guarded@h1 >> {{ vars.ctr }}
  - id: gate
    confirm: Go on with the last steps?
  - id: use-token
    on: second
    run: echo use@h2 {{ captured.token }} >> {{ vars.ctr }}
  - id: idem
    on: second
    idempotent: true
    run: echo idem@h2 >> {{ vars.ctr }}
  - id: last
    on: first
    run: echo last@h1 >> {{ vars.ctr }}
`;
}

interface Project {
  root: string;
  ctr: string;
  state: string;
}

function makeProject(label: string, slowSeconds = '0.4', tokenSleep = ''): Project {
  const root = path.join(work, label);
  mkdirSync(path.join(root, 'runbooks'), { recursive: true });
  mkdirSync(path.join(root, 'inventories'));
  const ctr = path.join(root, 'counter');
  writeFileSync(
    path.join(root, 'site.yaml'),
    `lifeboat: 1\nkind: site\norganisation: Crash Lab\nrecovery_order: [${RUNBOOK}]\n`,
  );
  writeFileSync(
    path.join(root, 'inventories/lab.yaml'),
    `lifeboat: 1
kind: inventory
name: lab
environment: rehearsal
defaults: { user: ${sshd.user}, port: ${sshd.port}, identity_file: ${sshd.clientKeyPath} }
hosts:
  h1: { address: 127.0.0.1 }
  h2: { address: ${loopbackOnly(sshd, '127.0.0.2')} }
known_hosts: ${sshd.knownHostsPath}
connect_timeout: 5s
vars:
  ctr: ${ctr}
`,
  );
  writeFileSync(path.join(root, `runbooks/${RUNBOOK}.yaml`), runbookYaml(slowSeconds, tokenSleep));
  return { root, ctr, state: path.join(root, '.lifeboat') };
}

const countLines = (file: string): number => {
  try {
    const b = readFileSync(file);
    let n = 0;
    for (const c of b) if (c === 0x0a) n++;
    return n;
  } catch {
    return 0;
  }
};

function journalFile(p: Project): string | undefined {
  try {
    const ids = readdirSync(path.join(p.state, 'runs')).sort();
    return ids.length ? path.join(p.state, 'runs', ids[ids.length - 1], 'journal.jsonl') : undefined;
  } catch {
    return undefined;
  }
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  killed: boolean;
  log: string;
}

/** Start the CLI; SIGKILL it once its journal holds `killAt` records (never, when undefined). */
async function cli(p: Project, args: string[], killAt?: number, timeoutMs = 30_000): Promise<Outcome> {
  const logPath = path.join(p.root, `cli-${Date.now()}-${randomBytes(2).toString('hex')}.log`);
  const fd = openSync(logPath, 'w');
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    cwd: p.root,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, CI: '1', NO_COLOR: '1' },
  });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  let killed = false;
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const deadline = Date.now() + timeoutMs;
  if (killAt !== undefined) {
    while (!done && Date.now() < deadline) {
      const f = journalFile(p);
      if (f && countLines(f) >= killAt) {
        child.kill('SIGKILL');
        killed = true;
        break;
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()));
  const r = await exited;
  clearTimeout(timer);
  return { ...r, killed, log: readFileSync(logPath, 'utf8') };
}

/** processes of the slow step still running on the "host" (they carry LB_CRASH_HARNESS in their environment) */
function orphans(): number[] {
  const mark = `LB_CRASH_HARNESS=${RUNBOOK}`;
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(mark)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * After a kill, a command already sent finishes on its own: its session outlives the
 * connection (setsid). Wait for it, as an operator would look before answering.
 */
async function settle(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((sshd.sessionPids().length || orphans().length) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
}

/** the journal's text so far ('' before it exists) */
function journalText(p: Project): string {
  const f = journalFile(p);
  try {
    return f ? readFileSync(f, 'utf8') : '';
  } catch {
    return '';
  }
}

function counter(p: Project): string[] {
  try {
    return readFileSync(p.ctr, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

const unitOfLine = (line: string) => line.split(' ')[0];

/** a pid that certainly is not running any more */
function deadPid(): number {
  return Number(
    spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout,
  );
}

/**
 * What a careful operator answers for in-doubt steps without a guard: look at the host
 * (here: the counter file) and say done when the command's effect is there, else re-run.
 * The token step captures what it prints: "done" would need that value, which died with the
 * killed process (lifeboat refuses "done" without it), so its only way on is to run it again —
 * a deliberate re-run, journaled as the operator's answer. (Under load the kill lands later
 * after the record count is reached, so the token has often run by then: this answer used to
 * be "done", and the resume stopped at the in-doubt capture step.)
 */
function inDoubtAnswer(p: Project): string[] {
  const { summary } = readRun(p.state, readdirSync(path.join(p.state, 'runs'))[0]);
  const ask = summary.inDoubt.filter((u) => u.purpose === 'run' && !['both', 'idem', 'guarded'].includes(u.step));
  if (!ask.length) return [];
  const lines = new Set(counter(p).map(unitOfLine));
  const u = ask[0];
  const unit = u.step === 'use-token' ? 'use@h2' : `${u.step}@${u.host}`;
  // preflight has no effect to look for: running it again is harmless
  return ['--in-doubt', u.step === 'pre' || u.step === 'token' ? 'rerun' : lines.has(unit) ? 'done' : 'rerun'];
}

interface Tally {
  crashPoints: Set<number>;
  resumes: number;
  completed: number;
  doubleRuns: string[];
  idempotentReruns: number;
  inDoubtSeen: number;
  failures: string[];
}

/** resume until the run finishes (each resume may itself be killed once at +killResumeAfter records) */
async function resumeToEnd(p: Project, t: Tally, label: string, killResumeAfter?: number): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const id = readdirSync(path.join(p.state, 'runs'))[0];
    const s = readRun(p.state, id).summary;
    if (s.state === 'succeeded' || s.state === 'completed-with-errors') return;
    if (s.inDoubt.length) t.inDoubtSeen++;
    const file = journalFile(p)!;
    const killAt = i === 0 && killResumeAfter !== undefined ? countLines(file) + killResumeAfter : undefined;
    const r = await cli(p, ['resume', '--yes', '--plain', ...inDoubtAnswer(p)], killAt);
    t.resumes++;
    if (r.killed) {
      await settle();
      t.crashPoints.add(-countLines(file));
      continue;
    }
    // a step in doubt marked done on the operator's word: the run ends completed with errors (exit 1)
    if (r.code !== 0 && readRun(p.state, id).summary.state === 'completed-with-errors') return;
    if (r.code !== 0) {
      t.failures.push(`${label}: resume exited ${r.code ?? r.signal}:\n${r.log.split('\n').slice(-15).join('\n')}`);
      return;
    }
  }
}

function check(p: Project, t: Tally, label: string): void {
  const id = readdirSync(path.join(p.state, 'runs'))[0];
  const file = path.join(p.state, 'runs', id, 'journal.jsonl');
  const j = readJournal(file);
  if (j.problems.length) t.failures.push(`${label}: journal problems: ${j.problems.join('; ')}`);
  const { summary, records } = readRun(p.state, id);
  // lifeboat did not see a command marked done after a crash finish: the run completed with errors, never "succeeded"
  const vouched = records.some((r) => r.type === 'in-doubt' && r.choice === 'done');
  if (summary.state !== (vouched ? 'completed-with-errors' : 'succeeded')) {
    t.failures.push(`${label}: run ended ${summary.state}`);
    rmSync(remoteLockDir(RUNBOOK), { recursive: true, force: true });
    return;
  }
  t.completed++;
  // the timeline can always be told
  expect(timeline(records).length).toBeGreaterThan(0);
  // how often each unit was in doubt over all resumes: idempotent ones may have re-run that often
  const doubts = new Map<string, number>();
  for (const r of records)
    if (r.type === 'resumed')
      for (const u of r.inDoubt) doubts.set(`${u.step}@${u.host}`, (doubts.get(`${u.step}@${u.host}`) ?? 0) + 1);
  // and how often the operator chose, knowing it may have run, to run it again (never by policy)
  const reruns = new Map<string, number>();
  for (const r of records)
    if (r.type === 'in-doubt' && r.choice === 'rerun' && !r.auto)
      reruns.set(`${r.step}@${r.host}`, (reruns.get(`${r.step}@${r.host}`) ?? 0) + 1);
  const lines = counter(p);
  for (const unit of UNITS) {
    const n = lines.filter((l) => unitOfLine(l) === unit).length;
    const allowed = IDEMPOTENT.has(unit)
      ? 1 + (doubts.get(unit) ?? 0)
      : unit === 'token@h1'
        ? 1 + (reruns.get('token@h1') ?? 0)
        : 1;
    if (n === 0) t.failures.push(`${label}: ${unit} never ran`);
    if (n > allowed) t.doubleRuns.push(`${label}: ${unit} ran ${n}×`);
    if (IDEMPOTENT.has(unit) && n > 1) t.idempotentReruns += n - 1;
  }
  // the captured value survived the crash: the token the later step used is the one journaled
  const captured = records
    .filter(
      (r): r is JournalRecord & { type: 'exec-finished' } =>
        r.type === 'exec-finished' && r.step === 'token' && !!r.captured,
    )
    .map((r) => r.captured!.value);
  const used = lines.find((l) => l.startsWith('use@h2 '))?.split(' ')[1];
  const tokenLine = lines.find((l) => l.startsWith('token@h1'));
  if (tokenLine && (!used || !captured.includes(used)))
    t.failures.push(`${label}: used token ${used} is not the captured ${captured.join(',') || '(none)'}`);
  if (existsSync(remoteLockDir(RUNBOOK))) {
    t.failures.push(`${label}: remote lock left behind`);
    rmSync(remoteLockDir(RUNBOOK), { recursive: true, force: true });
  }
  // a crash after the last record may leave the local lock: it must not stand in the next run's way
  try {
    acquireLocalLock(p.state, RUNBOOK, { runId: 'next', operator: 'o' }).release();
  } catch (e) {
    t.failures.push(`${label}: the next run is refused: ${(e as Error).message}`);
  }
}

const newTally = (): Tally => ({
  crashPoints: new Set(),
  resumes: 0,
  completed: 0,
  doubleRuns: [],
  idempotentReruns: 0,
  inDoubtSeen: 0,
  failures: [],
});

function report(name: string, t: Tally, total: number): void {
  const kills = [...t.crashPoints].filter((n) => n >= 0).sort((a, b) => a - b);
  const resumeKills = [...t.crashPoints].filter((n) => n < 0).length;
  const line = `[journal-crash] ${name}: full run = ${total} records; crash points (records at SIGKILL) = ${kills.length} distinct [${kills.join(',')}]; resume kills = ${resumeKills}; resumes = ${t.resumes}; runs completed = ${t.completed}; in-doubt situations = ${t.inDoubtSeen}; idempotent re-runs = ${t.idempotentReruns}; double runs = ${t.doubleRuns.length}; failures = ${t.failures.length}`;
  console.log(line);
  writeFileSync(
    path.join(tmpdir(), `lifeboat-journal-crash-${RUNBOOK}-${name}.txt`),
    `${line}\n${t.failures.join('\n')}\n${t.doubleRuns.join('\n')}\n`,
  );
}

describe('crash and resume', () => {
  let total = 0;

  it('a run without a crash writes the reference journal', async () => {
    const p = makeProject('reference');
    const r = await cli(p, ['run', RUNBOOK, '-i', 'lab', '--yes', '--plain']);
    expect(r.code, r.log).toBe(0);
    total = countLines(journalFile(p)!);
    expect(counter(p).map(unitOfLine).sort()).toEqual([...UNITS].sort());
    expect(total).toBeGreaterThan(20);
  }, 60_000);

  it('SIGKILL at every journal length, then resume: every step ran exactly once', async () => {
    const t = newTally();
    for (let n = 1; n <= total; n += STRIDE) {
      const p = makeProject(`kill-${n}`);
      const r = await cli(p, ['run', RUNBOOK, '-i', 'lab', '--yes', '--plain'], n);
      if (!r.killed) {
        t.failures.push(`kill-${n}: run ended before the kill (${r.code})`);
        continue;
      }
      await settle();
      t.crashPoints.add(countLines(journalFile(p)!));
      await resumeToEnd(p, t, `kill-${n}`);
      check(p, t, `kill-${n}`);
      rmSync(p.root, { recursive: true, force: true });
    }
    report('every-record', t, total);
    expect(t.failures).toEqual([]);
    expect(t.doubleRuns).toEqual([]);
    expect(t.completed).toBe(Math.ceil(total / STRIDE));
  }, 600_000);

  it('SIGKILL again during the resume, then resume once more', async () => {
    const t = newTally();
    for (let n = 2; n <= total; n += 3 * STRIDE) {
      const p = makeProject(`twice-${n}`);
      const r = await cli(p, ['run', RUNBOOK, '-i', 'lab', '--yes', '--plain'], n);
      if (!r.killed) continue;
      await settle();
      t.crashPoints.add(countLines(journalFile(p)!));
      await resumeToEnd(p, t, `twice-${n}`, 1 + (n % 4));
      check(p, t, `twice-${n}`);
      rmSync(p.root, { recursive: true, force: true });
    }
    report('resume-killed', t, total);
    expect(t.failures).toEqual([]);
    expect(t.doubleRuns).toEqual([]);
    expect(t.completed).toBeGreaterThan(0);
  }, 600_000);

  it('killed mid-command: the step is in doubt, the log says so, resume settles it once', async () => {
    rmSync(remoteLockDir(RUNBOOK), { recursive: true, force: true });
    const p = makeProject('mid-command', '2');
    const child = cli(p, ['run', RUNBOOK, '-i', 'lab', '--yes', '--plain']);
    // wait for the intent of the slow step, then kill while `sleep` runs on the host
    const deadline = Date.now() + 20_000;
    let killedMid = false;
    while (Date.now() < deadline) {
      if (journalText(p).includes('"type":"intent","step":"slow"')) {
        // the intent is written before the command is sent: wait until it runs on the host
        await waitFor(() => orphans().length > 0, 'the slow step running on the host', 10_000, 10);
        const pid = Number(readLocalLock(p.state, RUNBOOK)?.owner?.pid);
        process.kill(pid, 'SIGKILL');
        killedMid = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(killedMid).toBe(true);
    await child;
    const id = readdirSync(path.join(p.state, 'runs'))[0];
    const before = readRun(p.state, id);
    expect(before.summary.state).toBe('crashed');
    expect(before.summary.inDoubt).toEqual([{ step: 'slow', host: 'h2', purpose: 'run', attempt: 1 }]);
    const log = spawnSync(process.execPath, [CLI, 'log', id], {
      cwd: p.root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(log.status).toBe(0);
    expect(log.stdout).toMatch(/h2 +P?\d+\. slow +sent, no result recorded: IN DOUBT/);
    // without an answer a script must not guess: resume refuses to act on the in-doubt step
    await settle();
    const refused = await cli(p, ['resume', '--yes', '--plain']);
    expect(refused.code).not.toBe(0);
    const ran = counter(p).filter((l) => l === 'slow@h2').length;
    expect(ran).toBeLessThanOrEqual(1);
    // the operator looks at the host and answers: done when the effect is there, else run it again
    const t = newTally();
    const r = await cli(p, ['resume', id, '--yes', '--plain', '--in-doubt', ran ? 'done' : 'rerun']);
    // "done" on the operator's word: the run completes, with errors (exit 1); a re-run succeeds
    expect(r.code, r.log).toBe(ran ? 1 : 0);
    check(p, t, 'mid-command');
    expect(t.failures).toEqual([]);
    expect(t.doubleRuns).toEqual([]);
  }, 120_000);

  it('a capture step in doubt whose command had run: resume never goes on without the value', async () => {
    rmSync(remoteLockDir(RUNBOOK), { recursive: true, force: true });
    const p = makeProject('capture-in-doubt', '0.1', '1');
    const child = cli(p, ['run', RUNBOOK, '-i', 'lab', '--yes', '--plain']);
    const deadline = Date.now() + 20_000;
    let killed = false;
    while (Date.now() < deadline && !killed) {
      if (journalText(p).includes('"type":"intent","step":"token"')) {
        // the token line is on the host, the command still sleeps: its output will never arrive
        while (Date.now() < deadline && !counter(p).includes('token@h1')) await new Promise((r) => setTimeout(r, 5));
        process.kill(Number(readLocalLock(p.state, RUNBOOK)?.owner?.pid), 'SIGKILL');
        killed = true;
      } else await new Promise((r) => setTimeout(r, 5));
    }
    expect(killed).toBe(true);
    await child;
    await settle();
    expect(counter(p)).toContain('token@h1');
    // the operator looks: the command ran. But what did it print?
    const r = await cli(p, ['resume', '--yes', '--plain', '--in-doubt', 'done']);
    const used = counter(p).find((l) => l.startsWith('use@h2'));
    if (r.code === 0) {
      // the value was recovered (asked for, or the step re-run): the later step used a real one
      expect(used).toMatch(/^use@h2 tok-\d+-\d+$/);
    } else {
      // or resume refused to treat a capture step as done without its value, before going on:
      // the step that needs the value was never reached (not failed on an unknown value)
      expect(used, r.log).toBeUndefined();
      expect(journalText(p), r.log).not.toContain('"step":"use-token"');
      expect(r.log).toMatch(/captur/i);
    }
  }, 120_000);

  it('locks left by a crash after the last record do not block the next run', async () => {
    rmSync(remoteLockDir(RUNBOOK), { recursive: true, force: true });
    const p = makeProject('after-finish');
    const r1 = await cli(p, ['run', RUNBOOK, '-i', 'lab', '--yes', '--plain']);
    expect(r1.code, r1.log).toBe(0);
    const id = readdirSync(path.join(p.state, 'runs'))[0];
    // what a SIGKILL between run-finished and the releases leaves: both locks, naming the finished run
    spawnSync('bash', ['-c', remoteLockCommands(RUNBOOK, id, 'root@laptop').acquire]);
    writeFileSync(
      path.join(p.state, 'locks', `${RUNBOOK}.lock`),
      JSON.stringify({
        runId: id,
        operator: 'root@laptop',
        pid: deadPid(),
        host: hostname(),
        started: new Date().toISOString(),
      }),
      { mode: 0o600 },
    );
    writeFileSync(p.ctr, '');
    const r2 = await cli(p, ['run', RUNBOOK, '-i', 'lab', '--yes', '--plain']);
    expect(r2.code, r2.log).toBe(0);
    expect(counter(p).map(unitOfLine).sort()).toEqual([...UNITS].sort());
    expect(existsSync(remoteLockDir(RUNBOOK))).toBe(false);
  }, 120_000);

  it('a second run of the same runbook is refused and names the first', async () => {
    rmSync(remoteLockDir(RUNBOOK), { recursive: true, force: true });
    const p = makeProject('concurrent', '8');
    let firstDone = false;
    const first = cli(p, ['run', RUNBOOK, '-i', 'lab', '--yes', '--plain']).finally(() => {
      firstDone = true;
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !firstDone && !journalText(p).includes('"type":"intent","step":"slow"'))
      await new Promise((r) => setTimeout(r, 10));
    expect(firstDone, 'the first run ended before its slow step').toBe(false);
    const firstId = readdirSync(path.join(p.state, 'runs'))[0];
    // same laptop: the local lock
    const second = spawnSync(process.execPath, [CLI, 'run', RUNBOOK, '-i', 'lab', '--yes', '--plain'], {
      cwd: p.root,
      encoding: 'utf8',
      env: { ...process.env, CI: '1', NO_COLOR: '1' },
    });
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(firstId);
    expect(second.stderr).toMatch(/locked/);
    // another laptop (its own state folder): the lock on the target host
    const other = spawnSync(
      process.execPath,
      [CLI, 'run', RUNBOOK, '-i', 'lab', '--yes', '--plain', '--state-dir', path.join(work, 'other-laptop')],
      { cwd: p.root, encoding: 'utf8', env: { ...process.env, CI: '1', NO_COLOR: '1' } },
    );
    expect(firstDone, 'the first run ended before the other laptop tried: inconclusive').toBe(false);
    expect(other.status, other.stdout + other.stderr).toBe(1);
    expect(other.stderr).toContain(`locked on h1 by run ${firstId}`);
    const done = await first;
    expect(done.code, done.log).toBe(0);
    expect(counter(p).filter((l) => l === 'a@h1')).toHaveLength(1);
    // the refused runs left nothing running on the hosts: only the first one's lines
    expect(counter(p).map(unitOfLine).sort()).toEqual([...UNITS].sort());
  }, 120_000);
});

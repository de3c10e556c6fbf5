// `lifeboat run` in a real pseudo-terminal (tmux) against a real loopback sshd: the prompts an
// operator answers with the keyboard, the live view, Ctrl-C, and `lifeboat resume` afterwards.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { tty, stopTmux, type Tty } from '../helpers/tty.js';
import { useSshdProjects, runbookYaml, remoteProcesses, pgrep, type Project } from '../helpers/project.js';

const lab = useSshdProjects();
const sessions: Tty[] = [];
const project = lab.project;
const open = (p: Project, args: string[]) => {
  const t = tty(p, args);
  sessions.push(t);
  return t;
};

beforeAll(async () => {
  execFileSync('tmux', ['-V']); // fails the file at once when tmux is missing
}, 180_000);
afterEach(() => {
  for (const t of sessions.splice(0)) t.kill();
});
afterAll(async () => {
  stopTmux();
});

/** the live view's final frame */
const lastFrame = (screen: string) => screen.slice(screen.lastIndexOf('RTO clock'));

const gated = runbookYaml({
  name: 'gated',
  steps: `
  - id: before
    on: t
    run: touch {{ vars.dir }}/before
  - id: go-ahead
    confirm: Fail over to {{ roles.t }} now?
  - id: after
    on: t
    run: touch {{ vars.dir }}/after
`,
});

describe('confirm gates in a terminal', () => {
  it('Enter alone takes the default (No) and aborts; nothing after the gate runs', async () => {
    const p = project();
    p.write('rb.yaml', gated);
    const t = open(p, ['run', 'gated', '-i', 'lab']);
    await t.waitFor(/Fail over to h1 now\? \(y\/N\)/);
    expect(p.has('before')).toBe(true);
    // the question is asked inside its step, with its context
    expect(t.screen()).toMatch(/^ {2}\S 2\. go-ahead\n +› ▲ point of no return — step go-ahead$/m);
    t.keys('Enter');
    expect(await t.exitCode()).toBe(1);
    const screen = t.screen();
    expect(screen).toMatch(/confirm "Fail over to h1 now\?" → no/);
    expect(p.has('after')).toBe(false);
    expect(p.journals()[0].find((l) => l.type === 'confirmed')).toMatchObject({
      step: 'go-ahead',
      answer: false,
      auto: false,
    });
  });

  it('y + Enter answers yes and the run goes on', async () => {
    const p = project();
    p.write('rb.yaml', gated);
    const t = open(p, ['run', 'gated', '-i', 'lab']);
    await t.waitFor(/Fail over to h1 now\? \(y\/N\)/);
    t.keys('y');
    t.keys('Enter');
    expect(await t.exitCode(), t.screen()).toBe(0);
    expect(p.has('after')).toBe(true);
    expect(t.screen()).toMatch(/SUCCEEDED: gated@1\.0\.0/);
    expect(p.journals()[0].find((l) => l.type === 'confirmed')).toMatchObject({ answer: true, auto: false });
  });
});

describe('the RTO clock while a question is open', () => {
  it('keeps counting (the outage does not stop for the operator), and past the RTO says so in words', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'slow-answer',
        rto: '3s',
        steps: `
  - id: go-ahead
    confirm: Cut over now?
`,
      }),
    );
    const t = open(p, ['run', 'slow-answer', '-i', 'lab']);
    await t.waitFor(/Cut over now\? \(y\/N\)/);
    const clock = (s: string) => /RTO clock (\S+) of 3\.0s/.exec(s.slice(s.lastIndexOf('RTO clock')))?.[1];
    const first = clock(t.screen());
    expect(first).toBeDefined();
    // the question is still open; the clock moves on, then passes the RTO
    await t.waitFor(/RTO clock \S+ of 3\.0s \(\d+%\) — OVER THE RTO by \S+/, 15_000);
    expect(clock(t.screen())).not.toBe(first);
    expect(t.screen()).toMatch(/Cut over now\? \(y\/N\)/);
    t.keys('y', 'Enter');
    expect(await t.exitCode(), t.screen()).toBe(0);
  });
});

describe('a failing step with on_failure: ask', () => {
  it('choosing "roll back" with the arrow keys undoes the completed steps newest first; the live view shows the RTO clock', async () => {
    const p = project();
    const undo = (n: number) => `
  - id: change-${n}
    on: t
    run: echo do-${n} >> {{ vars.dir }}/log
    rollback: echo undo-${n} >> {{ vars.dir }}/log`;
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'undoable',
        rto: '15m',
        steps: `${undo(1)}${undo(2)}${undo(3)}
  - id: go-ahead
    confirm: Cut over now?
  - id: breaks
    on: t
    on_failure: ask
    run: echo 'replica lag too high' >&2; exit 9
  - id: never
    on: t
    run: echo never >> {{ vars.dir }}/log
`,
      }),
    );
    const t = open(p, ['run', 'undoable', '-i', 'lab']);
    await t.waitFor(/Cut over now\? \(y\/N\)/);
    // the live view, with its RTO clock against the runbook's 15m
    expect(t.screen()).toMatch(/RTO clock \S+ of 15m00s \(\d+%\)/);
    t.keys('y', 'Enter');
    await t.waitFor(/What now\?/);
    const menu = t.screen();
    expect(menu).toMatch(/step breaks on h1 failed:.*exit code 9: replica lag too high/);
    // the steps before the failure, as they ended, above the question
    expect(menu).toMatch(/^ {2}✔ 3\. change-3 \[h1\]$/m);
    expect(menu).toMatch(/roll back the completed steps \(newest first\), then stop/);
    // abort (default) → retry → skip → roll back
    t.keys('Down', 'Down', 'Down');
    await t.waitFor(/❯ roll back the completed steps/);
    t.keys('Enter');
    expect(await t.exitCode()).toBe(1);
    expect(p.read('log')).toBe('do-1\ndo-2\ndo-3\nundo-3\nundo-2\nundo-1\n');
    const screen = t.screen();
    expect(screen).toMatch(/rolling back 3 steps: change-3@h1, change-2@h1, change-1@h1/);
    expect(screen).toMatch(/RTO clock/);
    expect(screen).toMatch(/^ROLLED-BACK: undoable@1\.0\.0/m);
    // the last frame shows the failed step as failed, not with a spinner, and the one after it as not run
    expect(lastFrame(screen)).toMatch(/^ {2}✖ 5\. breaks \[h1\]$/m);
    expect(lastFrame(screen)).toMatch(/^ {2}\S 6\. never \[h1\]\n +↓ not run$/m);
    expect(p.journals()[0].find((l) => l.type === 'failure-decision')).toMatchObject({
      step: 'breaks',
      choice: 'rollback',
      auto: false,
    });
  });
});

describe('a failure in the live view', () => {
  it("regression: shows the last lines of stderr and stdout under the failure, not only the last line (the cause is on stderr's first line)", async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'tail',
        steps: `
  - id: start-service
    on: t
    on_failure: continue
    run: "echo starting; echo 'FATAL: port 5432 already in use' >&2; echo 'see the log for more' >&2; exit 1"
  - id: go-ahead
    confirm: Go on anyway?
`,
      }),
    );
    const t = open(p, ['run', 'tail', '-i', 'lab']);
    await t.waitFor(/Go on anyway\? \(y\/N\)/);
    // while the next question is open, the failure's cause is on the screen
    const screen = t.screen();
    expect(screen).toMatch(/^\s+FATAL: port 5432 already in use$/m);
    expect(screen).toMatch(/^\s+see the log for more$/m);
    t.keys('Enter');
    expect(await t.exitCode()).toBe(1);
  });
});

describe('Ctrl-C', () => {
  it('during a long step shows the interrupt menu; "stop the running commands now" ends the run interrupted; resume finishes it', async () => {
    const p = project();
    const SLEEP = 'sleep 287';
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'long',
        steps: `
  - id: first
    on: t
    run: echo first >> {{ vars.dir }}/log
  - id: slow
    on: t
    idempotent: true
    run: test -f {{ vars.dir }}/fast || ${SLEEP}; echo slow >> {{ vars.dir }}/log
  - id: last
    on: t
    run: echo last >> {{ vars.dir }}/log
`,
      }),
    );
    // the whole process table: a process that lost its parent (re-parented to init) counts too
    expect(pgrep(`^${SLEEP}$`)).toEqual([]);
    const t = open(p, ['run', 'long', '-i', 'lab']);
    await waitFor(
      () => remoteProcesses(lab.sshd.pid, new RegExp(`\\b${SLEEP}\\b`)).length > 0,
      'the remote sleep to start',
      30_000,
    );
    t.keys('C-c');
    await t.waitFor(/Interrupted\..*Running: slow on h1/s);
    await t.waitFor(/Stop now\?/);
    expect(t.screen()).toMatch(/let the running step finish, then stop/);
    t.keys('Down');
    await t.waitFor(/❯ stop the running commands now/);
    t.keys('Enter');
    expect(await t.exitCode()).toBe(1);
    const screen = t.screen();
    expect(screen).toMatch(/interrupted by .*: stopping the running commands/);
    expect(screen).toMatch(/^INTERRUPTED: long@1\.0\.0/m);
    expect(screen).toMatch(/lifeboat resume \S+/);
    expect(lastFrame(screen)).not.toMatch(/^ *[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] 2\. slow/m);
    // the echoed ^C does not garble the redrawn frame
    for (const l of screen.split('\n').filter((x) => x.includes('RTO clock')))
      expect(l).toMatch(/^\S RTO clock \S+ of 10m00s/);
    await waitFor(() => pgrep(`^${SLEEP}$`).length === 0, 'the remote sleep to be killed', 5000).catch(() => undefined);
    // the whole process table: a process that lost its parent (re-parented to init) counts too
    expect(pgrep(`^${SLEEP}$`)).toEqual([]);
    expect(p.read('log')).toBe('first\n');

    // later: resume (no terminal) re-runs the idempotent step that was stopped, then the rest
    writeFileSync(path.join(p.work, 'fast'), '');
    const r = await p.cli(['resume', '--plain']);
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toMatch(/resuming run \S+-long-/);
    expect(r.stdout).toMatch(/in doubt after a stop: run again \(idempotent\) by policy/);
    expect(p.read('log')).toBe('first\nslow\nlast\n');
    expect(r.stdout).toMatch(/^SUCCEEDED: long@1\.0\.0/m);
    // one run, continued: the journal holds both parts
    const runs = p.journals();
    expect(runs).toHaveLength(1);
    expect(runs[0].filter((l) => l.type === 'run-finished').map((l) => l.result)).toEqual(['interrupted', 'succeeded']);
  });
});

describe('the live view of a runbook taller than the terminal', () => {
  it('stays within the screen (one frame, a window around the current step), not a copy per redraw in the scrollback', async () => {
    const p = project();
    const steps = Array.from(
      { length: 70 },
      (_, i) => `
  - id: s${i}
    on: t
    run: sleep 0.05; echo s${i} >> {{ vars.dir }}/log`,
    ).join('');
    p.write('rb.yaml', runbookYaml({ name: 'tall', steps }));
    const t = open(p, ['run', 'tall', '-i', 'lab']);
    // while it runs: the window around the current step, with what is above and below it counted
    await t.waitFor(/… \d+ more lines? above[\s\S]*… \d+ more below/, 60_000);
    expect(await t.exitCode(60_000), t.screen()).toBe(0);
    expect(p.read('log')?.trim().split('\n')).toHaveLength(70);
    const screen = t.screen();
    // one frame is left when the run ends; the terminal is 50 rows
    expect(screen.split('\n').filter((l) => l.includes('RTO clock'))).toHaveLength(1);
    const frame = lastFrame(screen).split('\n');
    expect(
      frame.slice(
        0,
        frame.findIndex((l) => /^step\s+host/.test(l)),
      ),
    ).not.toHaveLength(0);
    // the last frame, printed once when the run ends, has every step
    expect(lastFrame(screen)).toMatch(/^ {2}✔ 1\. s0 \[h1\]$/m);
    expect(lastFrame(screen)).toMatch(/^ {2}✔ 70\. s69 \[h1\]$/m);
  });
});

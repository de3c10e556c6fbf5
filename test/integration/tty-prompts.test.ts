// More prompts in a real pseudo-terminal (tmux): manual steps that record a typed value,
// secrets typed at a prompt, "retry" after a failure, Ctrl-C that lets the step finish, and
// the production check of a runbook never rehearsed.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { tty, stopTmux, type Tty } from '../helpers/tty.js';
import { useSshdProjects, runbookYaml, remoteProcesses, type Project } from '../helpers/project.js';

const lab = useSshdProjects();
const sessions: Tty[] = [];
const project = lab.project;
const open = (p: Project, args: string[], env: Record<string, string> = {}) => {
  const t = tty(p, args, env);
  sessions.push(t);
  return t;
};

beforeAll(async () => {
  execFileSync('tmux', ['-V']);
}, 180_000);
afterEach(() => {
  for (const t of sessions.splice(0)) t.kill();
});
afterAll(async () => {
  stopTmux();
});

describe('manual steps', () => {
  it('the operator types the value to record, confirms Done, and the value lands in a later command', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'by-hand',
        steps: `
  - id: read-serial
    title: Read the serial number off the spare disk
    manual: |
      Open the spare cabinet.
      Read the serial number on the disk label.
    record: serial
  - id: use-serial
    on: t
    run: echo {{ captured.serial }} > {{ vars.dir }}/serial
`,
      }),
    );
    const t = open(p, ['run', 'by-hand', '-i', 'lab']);
    await t.waitFor(/Type the value to record as serial:/);
    const screen = t.screen();
    expect(screen).toMatch(/manual step read-serial: Read the serial number off the spare disk/);
    // the instructions are shown inside the step's task, above the question
    expect(screen).toMatch(/^ +› +Read the serial number on the disk label\.$/m);
    t.type('WD-7781 x');
    t.keys('Enter');
    await t.waitFor(/Done\? \(y\/N\)/);
    t.keys('y', 'Enter');
    expect(await t.exitCode(), t.screen()).toBe(0);
    expect(p.read('serial')).toBe('WD-7781 x\n');
    expect(p.journals()[0].find((l) => l.type === 'manual-done')).toMatchObject({
      done: true,
      value: 'WD-7781 x',
      auto: false,
    });
  });
});

describe('secrets typed at a prompt', () => {
  it('are not echoed, reach the command, and are masked in the live view with --verbose and in the journal', async () => {
    const SECRET = 'Typed-S3cret-987';
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'typed',
        extra: 'secrets:\n  api_key: { prompt: "API key for the DNS provider:" }',
        steps: `
  - id: use
    on: t
    run: echo key={{ secrets.api_key }}; printf %s {{ secrets.api_key }} > {{ vars.dir }}/key
  - id: pause
    confirm: Seen the output?
`,
      }),
    );
    const t = open(p, ['run', 'typed', '-i', 'lab', '--verbose']);
    await t.waitFor(/API key for the DNS provider:/);
    t.type(SECRET);
    t.keys('Enter');
    await t.waitFor(/Seen the output\? \(y\/N\)/);
    expect(t.screen()).toMatch(/^ +› h1 \| key=\S+$/m);
    t.keys('y', 'Enter');
    expect(await t.exitCode(), t.screen()).toBe(0);
    expect(p.read('key')).toBe(SECRET);
    expect(t.screen()).not.toContain(SECRET);
    const runs = path.join(p.stateDir, 'runs');
    for (const id of readdirSync(runs))
      expect(readFileSync(path.join(runs, id, 'journal.jsonl'), 'utf8')).not.toContain(SECRET);
  });
});

describe('on_failure: ask', () => {
  it('"retry the step" runs it again, and the run goes on once it passes', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'flaky',
        steps: `
  - id: needs-file
    on: t
    run: test -f {{ vars.dir }}/fixed
  - id: after
    on: t
    run: touch {{ vars.dir }}/after
`,
      }),
    );
    const t = open(p, ['run', 'flaky', '-i', 'lab']);
    await t.waitFor(/What now\?/);
    // the operator fixes the cause, then retries
    writeFileSync(path.join(p.work, 'fixed'), '');
    t.keys('Down');
    await t.waitFor(/❯ retry the step/);
    t.keys('Enter');
    expect(await t.exitCode(), t.screen()).toBe(0);
    expect(p.has('after')).toBe(true);
    expect(
      p
        .journals()[0]
        .filter((l) => l.type === 'intent' && l.step === 'needs-file')
        .map((l) => l.attempt),
    ).toEqual([1, 2]);
  });

  it('Enter alone takes the default (abort): nothing is rolled back, nothing after runs', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'abort-default',
        steps: `
  - id: change
    on: t
    run: echo do >> {{ vars.dir }}/log
    rollback: echo undo >> {{ vars.dir }}/log
  - id: breaks
    on: t
    run: exit 1
  - id: after
    on: t
    run: echo after >> {{ vars.dir }}/log
`,
      }),
    );
    const t = open(p, ['run', 'abort-default', '-i', 'lab']);
    await t.waitFor(/What now\?/);
    expect(t.screen()).toMatch(/❯ abort the run/);
    t.keys('Enter');
    expect(await t.exitCode()).toBe(1);
    expect(p.read('log')).toBe('do\n');
    expect(t.screen()).toMatch(/^ABORTED: abort-default@1\.0\.0/m);
  });
});

describe('never claim more than happened', () => {
  it('regression: "skip it and go on" in a rehearsal completes with errors (exit 1, history, log, drills not current); the prompt shows the cause and the whole output', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'svc',
        tier: 'critical',
        steps: `
  - id: start-service
    on: t
    run: "echo starting; for i in $(seq 1 30); do echo progress $i; done; echo 'FATAL: port 5432 already in use' >&2; echo 'see the log for more' >&2; exit 1"
  - id: after
    on: t
    run: touch {{ vars.dir }}/after
`,
      }),
    );
    const t = open(p, ['rehearse', 'svc', '-i', 'lab'], { PAGER: 'cat' });
    await t.waitFor(/What now\?/);
    // the cause is on stderr's first line, not its last; stdout's last lines are there too
    let screen = t.screen();
    expect(screen).toMatch(/FATAL: port 5432 already in use/);
    expect(screen).toMatch(/progress 30/);
    expect(screen).not.toMatch(/progress 3$/m);
    t.keys('Down', 'Down', 'Down');
    await t.waitFor(/❯ show the whole output/);
    t.keys('Enter');
    screen = await t.waitFor(/progress 3$/m);
    expect(screen).toMatch(/^\s*progress 1$/m);
    await t.waitFor(/What now\?[^\n]*\n[^\n]*❯ abort the run/);
    t.keys('Down', 'Down');
    await t.waitFor(/❯ skip it and go on/);
    t.keys('Enter');
    expect(await t.exitCode(), t.screen()).toBe(1);
    expect(p.has('after')).toBe(true);
    screen = t.screen();
    expect(screen).toMatch(/^start-service\s+h1\s+FAILED-SKIPPED\b/m);
    expect(screen).toMatch(/^COMPLETED WITH ERRORS: svc@1\.0\.0/m);
    expect(screen).toMatch(/start-service on h1 failed \(exit code 1: see the log for more\) and was skipped by /);
    const history = readFileSync(path.join(p.stateDir, 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      result: 'completed-with-errors',
      steps: [
        { id: 'start-service', host: 'h1', result: 'failed-skipped' },
        { id: 'after', host: 'h1', result: 'ok' },
      ],
    });
    const drills = await p.cli(['drills']);
    expect(drills.code, drills.out).toBe(1);
    expect(drills.stdout).toMatch(
      /^svc\s+critical\s.*completed-with-errors.*\bnever: never passed \(last attempt completed with errors/m,
    );
    const log = await p.cli(['log']);
    expect(log.stdout).toMatch(/^result: COMPLETED WITH ERRORS/m);
    expect(log.stdout).toMatch(/start-service on h1 failed .* and was skipped by/);
    const runs = await p.cli(['runs']);
    expect(runs.stdout).toMatch(/\bcompleted-with-errors\b/);
    const logv = await p.cli(['log', '-v']);
    expect(logv.stdout).toMatch(/^\s+FATAL: port 5432 already in use$/m);
  });
});

describe('Ctrl-C, then "let the running step finish"', () => {
  it('the step completes, the run stops before the next one, and resume carries on', async () => {
    const p = project();
    const SLEEP = 'sleep 2.71';
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'gentle',
        steps: `
  - id: slow
    on: t
    run: ${SLEEP}; echo slow >> {{ vars.dir }}/log
  - id: next
    on: t
    run: echo next >> {{ vars.dir }}/log
`,
      }),
    );
    const t = open(p, ['run', 'gentle', '-i', 'lab']);
    await waitFor(
      () => remoteProcesses(lab.sshd.pid, new RegExp(`\\b${SLEEP}\\b`)).length > 0,
      'the remote sleep to start',
      30_000,
    );
    t.keys('C-c');
    await t.waitFor(/Stop now\?/);
    expect(t.screen()).toMatch(/❯ let the running step finish, then stop/);
    t.keys('Enter');
    expect(await t.exitCode()).toBe(1);
    expect(p.read('log')).toBe('slow\n');
    expect(t.screen()).toMatch(/^INTERRUPTED: gentle@1\.0\.0/m);
    const r = await p.cli(['resume', '--plain']);
    expect(r.code, r.out).toBe(0);
    expect(p.read('log')).toBe('slow\nnext\n');
    // the finished step was not run again
    expect(r.stdout).not.toMatch(/\[slow @ h1\] \$/);
  });
});

describe('production run of a runbook never rehearsed, in a terminal', () => {
  it('asks once more; Enter (No) runs nothing', async () => {
    const p = project({ inventory: { name: 'production', environment: 'production' } });
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'unrehearsed',
        steps: `
  - id: change
    on: t
    run: touch {{ vars.dir }}/changed
`,
      }),
    );
    const t = open(p, ['run', 'unrehearsed', '-i', 'production']);
    await t.waitFor(/Run it on production anyway\? \(y\/N\)/);
    expect(t.screen()).toMatch(/the rehearsal of unrehearsed@1\.0\.0 is not current: never rehearsed/);
    t.keys('Enter');
    expect(await t.exitCode()).toBe(1);
    expect(t.screen()).toMatch(/not run: the rehearsal is not current/);
    expect(p.has('changed')).toBe(false);
  });
});

describe('Ctrl-C at a question', () => {
  it('at a confirm gate: the run ends interrupted (no internal error) and resume asks again', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'gate-cc',
        steps: `
  - id: before
    on: t
    run: echo before >> {{ vars.dir }}/log
  - id: gate
    confirm: Go ahead?
  - id: after
    on: t
    run: echo after >> {{ vars.dir }}/log
`,
      }),
    );
    const t = open(p, ['run', 'gate-cc', '-i', 'lab']);
    await t.waitFor(/Go ahead\? \(y\/N\)/);
    t.keys('C-c');
    expect(await t.exitCode()).toBe(1);
    const screen = t.screen();
    expect(screen).not.toMatch(/internal error/);
    expect(screen).toMatch(/^INTERRUPTED: gate-cc@1\.0\.0 .*stopped by the operator at a question \(Ctrl-C\)/m);
    expect(p.read('log')).toBe('before\n');
    // resume in a terminal: the gate asks again; the live view shows the step done before as done
    const t2 = open(p, ['resume']);
    await t2.waitFor(/Go ahead\? \(y\/N\)/);
    // the view redraws on its own clock: wait for the frame that shows the restored step, with a deadline
    await t2.waitFor(/^ {2}✔ 1\. before \[h1\]$/m);
    t2.keys('y', 'Enter');
    expect(await t2.exitCode(), t2.screen()).toBe(0);
    expect(p.read('log')).toBe('before\nafter\n');
  });

  it('at a secret prompt before the run: nothing runs, a clear message, no internal error', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'secret-cc',
        extra: 'secrets:\n  pw: { prompt: "Password for the vault:" }',
        steps: `
  - id: use
    on: t
    env: { PW: "{{ secrets.pw }}" }
    run: touch {{ vars.dir }}/ran
`,
      }),
    );
    const t = open(p, ['run', 'secret-cc', '-i', 'lab']);
    await t.waitFor(/Password for the vault:/);
    t.keys('C-c');
    expect(await t.exitCode()).toBe(1);
    expect(t.screen()).toMatch(/lifeboat: stopped at a question \(Ctrl-C\): nothing was run/);
    expect(t.screen()).not.toMatch(/internal error/);
    expect(p.has('ran')).toBe(false);
  });

  it('in the interrupt menu (a second Ctrl-C) stops at once, and the journal still resumes', async () => {
    const p = project();
    const SLEEP = 'sleep 3.14';
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'twice',
        steps: `
  - id: slow
    on: t
    idempotent: true
    run: ${SLEEP}; echo slow >> {{ vars.dir }}/log
  - id: next
    on: t
    run: echo next >> {{ vars.dir }}/log
`,
      }),
    );
    const t = open(p, ['run', 'twice', '-i', 'lab']);
    await waitFor(
      () => remoteProcesses(lab.sshd.pid, new RegExp(`\\b${SLEEP}\\b`)).length > 0,
      'the remote sleep to start',
      30_000,
    );
    t.keys('C-c');
    await t.waitFor(/Stop now\?/);
    t.keys('C-c');
    expect(await t.exitCode()).toBe(130);
    expect(t.screen()).toMatch(/stopped at once; the journal is intact/);
    const r = await p.cli(['resume', '--plain']);
    expect(r.code, r.out).toBe(0);
    expect(p.read('log')).toMatch(/next\n$/);
  });
});

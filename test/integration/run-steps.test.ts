// `lifeboat run` through the real CLI against a real loopback sshd: what each step field does,
// seen from outside (exit code, terminal output, journal, files on the target).
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { waitFor, sleep } from '../helpers/wait.js';
import { useSshdProjects, runbookYaml, resultOf, summaryLine, pgrep } from '../helpers/project.js';

const lab = useSshdProjects();
const project = lab.project;

describe('expectations', () => {
  it('exit lists, exact / regex / contains stdout and stderr tests pass when they hold', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'expect-ok',
        steps: `
  - id: exit-list
    on: t
    run: exit 3
    expect: { exit: [0, 3] }
  - id: exact
    on: t
    run: "printf '  hello  \\n'"
    expect: { stdout: hello }
  - id: regex
    on: t
    run: echo version 15.4
    expect: { stdout: { match: "^version \\\\d+\\\\.\\\\d+$" } }
  - id: contains
    on: t
    run: echo one two three
    expect: { stdout: { contains: "two th" } }
  - id: on-stderr
    on: t
    run: echo warn-42 >&2
    expect: { stderr: { match: "warn-\\\\d+" } }
`,
      }),
    );
    const r = await p.run('expect-ok');
    expect(r.code, r.out).toBe(0);
    for (const id of ['exit-list', 'exact', 'regex', 'contains', 'on-stderr'])
      expect(resultOf(r.stdout, id, 'h1'), id).toBe('ok');
    expect(summaryLine(r.stdout)).toMatch(/^SUCCEEDED: expect-ok@1\.0\.0/);
  });

  it.each([
    ['exit', 'exit 4', '{ exit: [0, 3] }', /exit code 4 \(expected 0 or 3\)/],
    ['stdout-exact', 'echo goodbye', '{ stdout: hello }', /stdout was 'goodbye', expected 'hello'/],
    [
      'stdout-regex',
      'echo version x',
      '{ stdout: { match: "^version \\\\d+$" } }',
      /stdout was 'version x', expected text matching/,
    ],
    ['stdout-contains', 'echo abc', '{ stdout: { contains: zzz } }', /expected text containing 'zzz'/],
    ['stderr', 'echo quiet >&2', '{ stderr: loud }', /stderr was 'quiet', expected 'loud'/],
  ])(
    'a %s expectation that does not hold fails the run (exit 1) with the reason, as a command failure',
    async (name, run, exp, reason) => {
      const p = project();
      p.write(
        'rb.yaml',
        runbookYaml({
          name: `expect-${name}`,
          steps: `
  - id: check
    on: t
    run: ${run}
    expect: ${exp}
  - id: after
    on: t
    run: touch {{ vars.dir }}/after
`,
        }),
      );
      const r = await p.run(`expect-${name}`);
      expect(r.code, r.out).toBe(1);
      expect(resultOf(r.stdout, 'check', 'h1')).toBe('FAILED');
      // the summary row carries the reason
      expect(r.stdout.split('\n').find((l) => l.startsWith('check '))).toMatch(reason);
      expect(summaryLine(r.stdout)).toMatch(/^FAILED: .*step 'check' failed/);
      expect(r.stdout).not.toMatch(/unreachable/i);
      expect(p.has('after')).toBe(false);
    },
  );

  it('a failing command exits 1 with its exit code and last stderr line in the summary, not as unreachable', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'fails',
        steps: `
  - id: broken
    on: t
    run: echo 'disk full on /srv' >&2; exit 7
`,
      }),
    );
    const r = await p.run('fails');
    expect(r.code, r.out).toBe(1);
    expect(r.stdout).toMatch(/^broken\s+h1\s+FAILED\s+\S+\s+exit code 7: disk full on \/srv$/m);
    expect(r.stdout).toMatch(/\[broken @ h1\] FAILED: exit code 7/);
    expect(r.stdout).not.toMatch(/unreachable/i);
    const j = p.journals()[0];
    expect(j.find((l) => l.type === 'exec-finished' && l.step === 'broken')).toMatchObject({ ok: false, exitCode: 7 });
    expect(j.some((l) => l.type === 'host-state' && l.reachable === false)).toBe(false);
  });
});

describe('polling, timeouts and retries', () => {
  it('until + interval polls until a file appears (after three polls found it missing)', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'poll',
        steps: `
  - id: wait-ready
    on: t
    run: cat {{ vars.dir }}/ready 2>/dev/null || echo missing
    until: { stdout: ready }
    interval: 300ms
    timeout: 30s
`,
      }),
    );
    // the file appears once three polls found it missing
    const running = p.run('poll');
    await waitFor(
      () => (p.journals()[0] ?? []).filter((l) => l.type === 'exec-finished' && l.step === 'wait-ready').length >= 3,
      'three polls',
      30_000,
      50,
    );
    writeFileSync(path.join(p.work, 'ready'), 'ready\n');
    const r = await running;
    expect(r.code, r.out).toBe(0);
    expect(resultOf(r.stdout, 'wait-ready', 'h1')).toBe('ok');
    const polls = p.journals()[0].filter((l) => l.type === 'exec-finished' && l.step === 'wait-ready');
    // several "not yet" before the one that held
    expect(polls.length).toBeGreaterThanOrEqual(3);
    expect(polls.slice(0, -1).every((l) => l.pollAgain === true && l.ok === false)).toBe(true);
    expect(polls[polls.length - 1]).toMatchObject({ ok: true });
    expect(r.stdout).toMatch(/\[wait-ready @ h1\] not yet: stdout was 'missing', expected 'ready' \(/);
  });

  it('until gives up at its timeout', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'poll-never',
        steps: `
  - id: wait-never
    on: t
    run: cat {{ vars.dir }}/never 2>/dev/null || echo missing
    until: { stdout: ready }
    interval: 500ms
    timeout: 3s
`,
      }),
    );
    const r = await p.run('poll-never');
    expect(r.code, r.out).toBe(1);
    expect(r.stdout).toMatch(
      /^wait-never\s+h1\s+FAILED\s+\S+\s+stdout was 'missing', expected 'ready'; gave up after 3s/m,
    );
    const polls = p.journals()[0].filter((l) => l.type === 'exec-finished' && l.step === 'wait-never');
    expect(polls.length).toBeGreaterThanOrEqual(2);
    // it polled for (about) the whole timeout before giving up
    const started = Date.parse(
      String(p.journals()[0].find((l) => l.type === 'step-started' && l.step === 'wait-never')!.at),
    );
    expect(Date.parse(polls[polls.length - 1].at) - started).toBeGreaterThanOrEqual(2500);
  });

  it('timeout kills the remote command: sleep 300 with timeout 2s fails as timed out and leaves no process', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'too-slow',
        steps: `
  - id: slow
    on: t
    run: sleep 300
    timeout: 2s
  - id: after
    on: t
    run: touch {{ vars.dir }}/after
`,
      }),
    );
    const r = await p.run('too-slow');
    expect(r.code, r.out).toBe(1);
    expect(r.stdout).toMatch(/^slow\s+h1\s+FAILED\s+\S+\s+timed out/m);
    expect(r.stdout).not.toMatch(/unreachable/i);
    expect(p.has('after')).toBe(false);
    // the signal travels through sshd: allow it a moment, far less than the 300 s the sleep would last
    // the whole process table: a process that lost its parent (re-parented to init) counts too
    const left = () => pgrep('^sleep 300$');
    await waitFor(() => left().length === 0, 'sleep 300 to be gone', 5000).catch(() => undefined);
    expect(left()).toEqual([]);
  });

  it('timeout also kills what ignores SIGTERM, background children, and commands run through sudo', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'stubborn',
        steps: `
  - id: stubborn
    on: t
    sudo: true
    run: trap '' TERM; (sleep 303 &); sleep 304
    timeout: 2s
`,
      }),
    );
    const r = await p.run('stubborn');
    expect(r.code, r.out).toBe(1);
    expect(r.stdout).toMatch(/^stubborn\s+h1\s+FAILED\s+\S+\s+timed out/m);
    // the background sleep is orphaned (its parent shell exits): not below the sshd any more, so by name
    const left = () => [...pgrep('^sleep 304$'), ...pgrep('^sleep 303$')];
    await waitFor(() => left().length === 0, 'the sleeps to be gone', 5000).catch(() => undefined);
    expect(left()).toEqual([]);
  });

  it('retries with retry_delay re-run a failing step (a counter file on the target)', async () => {
    const p = project();
    const counter = (name: string) =>
      `n=$(cat {{ vars.dir }}/${name} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {{ vars.dir }}/${name}; test $n -ge 3`;
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'retry',
        steps: `
  - id: third-time
    on: t
    run: ${counter('count-ok')}
    retries: 3
    retry_delay: 1s
`,
      }),
    );
    p.write(
      'rb2.yaml',
      runbookYaml({
        name: 'retry-short',
        steps: `
  - id: gives-up
    on: t
    run: ${counter('count-short')}
    retries: 1
    retry_delay: 500ms
`,
      }),
    );
    const r = await p.run('retry');
    expect(r.code, r.out).toBe(0);
    expect(p.read('count-ok')?.trim()).toBe('3');
    const intents = p.journals()[0].filter((l) => l.type === 'intent' && l.step === 'third-time');
    expect(intents.map((l) => l.attempt)).toEqual([1, 2, 3]);
    const fins = p.journals()[0].filter((l) => l.type === 'exec-finished' && l.step === 'third-time');
    // retry_delay: each retry starts at least ~1 s after the previous attempt ended
    for (let i = 1; i < intents.length; i++)
      expect(Date.parse(intents[i].at) - Date.parse(fins[i - 1].at)).toBeGreaterThanOrEqual(900);
    expect(r.stdout).toMatch(/\[third-time @ h1\] attempt 2: \$/);

    const r2 = await p.run('retry-short');
    expect(r2.code, r2.out).toBe(1);
    expect(p.read('count-short')?.trim()).toBe('2');
    expect(resultOf(r2.stdout, 'gives-up', 'h1')).toBe('FAILED');
  });
});

describe('captures, conditions, guards and includes', () => {
  it('a captured value reaches later commands and `when`; skip_if skips a step already done', async () => {
    const p = project();
    writeFileSync(path.join(p.work, 'already-done'), '');
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'flow',
        steps: `
  - id: read-lsn
    on: t
    run: echo '  0/3000060  '
    capture: lsn
  - id: use-lsn
    on: t
    run: echo {{ captured.lsn }} > {{ vars.dir }}/lsn
  - id: when-true
    on: t
    when: { value: "{{ captured.lsn }}", equals: 0/3000060 }
    run: touch {{ vars.dir }}/when-true
  - id: when-false
    on: t
    when: { value: "{{ captured.lsn }}", matches: "^1/" }
    run: touch {{ vars.dir }}/when-false
  - id: guarded-done
    on: t
    skip_if: test -f {{ vars.dir }}/already-done
    run: touch {{ vars.dir }}/guarded-done-ran
  - id: guarded-todo
    on: t
    skip_if: test -f {{ vars.dir }}/not-there
    run: touch {{ vars.dir }}/guarded-todo-ran
`,
      }),
    );
    const r = await p.run('flow');
    expect(r.code, r.out).toBe(0);
    expect(p.read('lsn')).toBe('0/3000060\n');
    expect(p.has('when-true')).toBe(true);
    expect(p.has('when-false')).toBe(false);
    expect(resultOf(r.stdout, 'when-false', 'h1')).toBe('skipped');
    expect(r.stdout).toMatch(/\[when-false\] skipped: .*does not match/);
    expect(p.has('guarded-done-ran')).toBe(false);
    expect(resultOf(r.stdout, 'guarded-done', 'h1')).toBe('skipped');
    expect(r.stdout).toMatch(/\[guarded-done @ h1\] skip_if guard held: step skipped/);
    expect(p.has('guarded-todo-ran')).toBe(true);
    expect(r.stdout).toMatch(/\[read-lsn @ h1\] ok .*captured lsn=0\/3000060/);
  });

  it("include runs another runbook's steps in place, with `with:` overriding its vars", async () => {
    const p = project();
    p.write(
      'sub.yaml',
      runbookYaml({
        name: 'write-word',
        extra: 'vars:\n  word: default-word',
        steps: `
  - id: write
    on: t
    run: echo {{ vars.word }} >> {{ vars.dir }}/words
`,
      }),
    );
    p.write(
      'main.yaml',
      runbookYaml({
        name: 'includer',
        steps: `
  - id: first
    on: t
    run: echo first >> {{ vars.dir }}/words
  - id: inc
    include: write-word
    with: { word: from-parent }
  - id: last
    on: t
    run: echo last >> {{ vars.dir }}/words
`,
      }),
    );
    const r = await p.run('includer');
    expect(r.code, r.out).toBe(0);
    expect(p.read('words')).toBe('first\nfrom-parent\nlast\n');
    expect(resultOf(r.stdout, 'inc/write', 'h1')).toBe('ok');
  });
});

describe('gates and manual steps without a person', () => {
  const gated = runbookYaml({
    name: 'gated',
    steps: `
  - id: before
    on: t
    run: touch {{ vars.dir }}/before
  - id: point-of-no-return
    confirm: Promote the standby now?
  - id: after
    on: t
    run: touch {{ vars.dir }}/after
`,
  });

  it('without --yes a confirm gate fails the run, naming the gate; nothing after it runs', async () => {
    const p = project();
    p.write('rb.yaml', gated);
    const r = await p.run('gated');
    expect(r.code, r.out).toBe(1);
    expect(r.stdout).toMatch(
      /step 'point-of-no-return' asks "Promote the standby now\?" and nobody is there to answer/,
    );
    expect(r.stdout).toMatch(/--yes/);
    expect(p.has('before')).toBe(true);
    expect(p.has('after')).toBe(false);
    expect(summaryLine(r.stdout)).toMatch(/^ABORTED/);
  });

  it('with --yes the gate passes (journaled as answered by --yes)', async () => {
    const p = project();
    p.write('rb.yaml', gated);
    const r = await p.run('gated', ['--yes']);
    expect(r.code, r.out).toBe(0);
    expect(p.has('after')).toBe(true);
    expect(p.journals()[0].find((l) => l.type === 'confirmed')).toMatchObject({
      step: 'point-of-no-return',
      answer: true,
      auto: true,
    });
  });

  it('resume RUN-ID --yes later takes the aborted run up at the gate; its clock counts from the first start', async () => {
    const p = project();
    p.write('rb.yaml', gated);
    const r = await p.run('gated');
    expect(r.code, r.out).toBe(1);
    const id = /`lifeboat resume (\S+)` to continue/.exec(r.stdout)?.[1];
    expect(id, r.out).toBeDefined();
    // the time between the two is what is under test: a real pause, not a stand-in for an event
    await sleep(1500);
    const again = await p.cli(['resume', id!, '--plain', '--yes']);
    expect(again.code, again.out).toBe(0);
    expect(p.has('after')).toBe(true);
    expect(again.stdout).not.toMatch(/\[before @ h1\] \$/);
    // every line of the resumed part is at least 1.5 s after the run's first start
    const clocks = [...again.stdout.matchAll(/^\S+Z \+(\d\d):(\d\d)\.\d/gm)].map(
      (m) => Number(m[1]) * 60 + Number(m[2]),
    );
    expect(clocks.length).toBeGreaterThan(3);
    expect(Math.min(...clocks), again.stdout).toBeGreaterThanOrEqual(1);
    expect(summaryLine(again.stdout)).toMatch(/^SUCCEEDED: gated@1\.0\.0 in [1-9]/);
  });

  it('resume with no run id takes the newest run, never an older one by surprise', async () => {
    const p = project();
    p.write('rb.yaml', gated);
    const aborted = await p.run('gated');
    expect(aborted.code, aborted.out).toBe(1);
    const id = /`lifeboat resume (\S+)` to continue/.exec(aborted.stdout)?.[1];
    // a later run that succeeded is the newest: there is nothing to resume, and the older aborted run is not taken
    p.write('rb.yaml', gated.replace('confirm: Promote the standby now?', 'run: "true"\n    on: t'));
    expect((await p.run('gated')).code).toBe(0);
    const none = await p.cli(['resume', '--plain', '--yes']);
    expect(none.code, none.out).toBe(1);
    expect(none.stderr).toMatch(/the newest run, \S+, has succeeded: nothing to resume/);
    expect(p.has('after')).toBe(true);
    // named, the older run is resumed
    p.write('rb.yaml', gated);
    const named = await p.cli(['resume', id!, '--plain', '--yes']);
    expect(named.code, named.out).toBe(0);
    expect(summaryLine(named.stdout)).toMatch(/^SUCCEEDED: gated@1\.0\.0/);
  });

  const manual = runbookYaml({
    name: 'manual',
    steps: `
  - id: read-code
    manual: Read the code on the PDU display.
    record: pdu_code
  - id: use-code
    on: t
    run: echo {{ captured.pdu_code }} > {{ vars.dir }}/code
`,
  });

  it('a manual step needs --yes-manual (--yes is not enough)', async () => {
    const p = project();
    p.write('rb.yaml', manual);
    const r = await p.run('manual', ['--yes']);
    expect(r.code, r.out).toBe(1);
    expect(r.stdout).toMatch(/manual step 'read-code' needs a person.*--yes-manual/);
    expect(p.has('code')).toBe(false);
  });

  it('a manual step that records a value needs --answer STEP=VALUE', async () => {
    const p = project();
    p.write('rb.yaml', manual);
    const r = await p.run('manual', ['--yes-manual']);
    expect(r.code, r.out).toBe(1);
    expect(r.stdout).toMatch(/--answer read-code=VALUE/);
    expect(p.has('code')).toBe(false);
  });

  it('--yes-manual --answer STEP=VALUE: the value lands in a later command', async () => {
    const p = project();
    p.write('rb.yaml', manual);
    const r = await p.run('manual', ['--yes-manual', '--answer', 'read-code=A7-391']);
    expect(r.code, r.out).toBe(0);
    expect(p.read('code')).toBe('A7-391\n');
    expect(p.journals()[0].find((l) => l.type === 'manual-done')).toMatchObject({
      done: true,
      value: 'A7-391',
      record: 'pdu_code',
    });
  });
});

describe('secrets', () => {
  const SECRET = 'hunter2-Sekr3t-value';
  const rb = runbookYaml({
    name: 'secretive',
    extra: 'secrets:\n  token: { env: LB_TEST_TOKEN }',
    steps: `
  - id: use
    on: t
    env: { TOKEN: "{{ secrets.token }}" }
    run: echo "token is $TOKEN"; echo {{ secrets.token }} >&2; printf %s {{ secrets.token }} > {{ vars.dir }}/token
  - id: leak-in-failure
    on: t
    run: echo bad token {{ secrets.token }} >&2; exit 2
`,
  });

  for (const verbose of [false, true]) {
    it(`are masked in the terminal output${verbose ? ' with --verbose' : ''}, the summary and the journal`, async () => {
      const p = project();
      p.write('rb.yaml', rb);
      const r = await p.run('secretive', verbose ? ['--verbose'] : [], { env: { LB_TEST_TOKEN: SECRET } });
      expect(r.code, r.out).toBe(1);
      // the secret did arrive on the target
      expect(p.read('token'), r.out).toBe(SECRET);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      expect(r.stdout).toMatch(/leak-in-failure\s+h1\s+FAILED\s+\S+\s+exit code 2: bad token \S+/);
      if (verbose) {
        // the output lines are there, masked
        expect(r.stdout).toMatch(/use@h1 \| token is \S+/);
        expect(r.stdout).toMatch(/use@h1 ! \S+/);
      }
      const runs = path.join(p.stateDir, 'runs');
      for (const id of readdirSync(runs)) {
        for (const f of readdirSync(path.join(runs, id))) {
          const text = readFileSync(path.join(runs, id, f), 'utf8');
          expect(text, `${id}/${f}`).not.toContain(SECRET);
        }
      }
      expect(JSON.stringify(p.journals())).toMatch(/token is /);
    });
  }
});

describe('run --from', () => {
  it('skips earlier main steps (preflight still runs) and records why in the journal', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'from',
        steps: `
  - id: check
    phase: preflight
    on: t
    run: touch {{ vars.dir }}/check
  - id: a
    on: t
    run: touch {{ vars.dir }}/a
  - id: b
    on: t
    run: touch {{ vars.dir }}/b
  - id: c
    on: t
    run: touch {{ vars.dir }}/c
`,
      }),
    );
    const r = await p.run('from', ['--from', 'b']);
    expect(r.code, r.out).toBe(0);
    expect(['check', 'a', 'b', 'c'].filter((f) => p.has(f))).toEqual(['check', 'b', 'c']);
    const j = p.journals()[0];
    expect(j[0]).toMatchObject({ type: 'run-started', fromStep: 'b' });
    expect(j.find((l) => l.type === 'step-skipped' && l.step === 'a')).toMatchObject({ reason: 'from' });
    expect(j.some((l) => l.type === 'step-skipped' && l.step === 'check')).toBe(false);
    expect(resultOf(r.stdout, 'a', 'h1')).toBe('skipped');

    const bad = await p.run('from', ['--from', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--from nope: no such step/);
  });
});

describe('run --to', () => {
  it('runs the preflight and the steps up to and including STEP, skips the rest and records why; --from with it runs the part between', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'upto',
        steps: `
  - id: check
    phase: preflight
    on: t
    run: touch {{ vars.dir }}/check
  - id: a
    on: t
    run: touch {{ vars.dir }}/a
  - id: b
    on: t
    run: touch {{ vars.dir }}/b
  - id: c
    on: t
    run: touch {{ vars.dir }}/c
`,
      }),
    );
    const r = await p.run('upto', ['--to', 'b']);
    expect(r.code, r.out).toBe(0);
    expect(['check', 'a', 'b', 'c'].filter((f) => p.has(f))).toEqual(['check', 'a', 'b']);
    const j = p.journals()[0];
    expect(j[0]).toMatchObject({ type: 'run-started', toStep: 'b' });
    expect(j.find((l) => l.type === 'step-skipped' && l.step === 'c')).toMatchObject({
      reason: 'to',
      note: 'after --to b',
    });
    expect(resultOf(r.stdout, 'c', 'h1')).toBe('skipped');

    const backwards = await p.run('upto', ['--from', 'c', '--to', 'a']);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toMatch(/--to a comes before --from c/);
    const bad = await p.run('upto', ['--to', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--to nope: no such step/);
  });
});

// The engine with fake ports: decide/apply drive every step semantic without I/O.
import { describe, it, expect } from 'vitest';
import { initState, apply, UnitStatus, StepStatus } from '../../src/engine/state.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { TransportError } from '../../src/ports.js';
import { type JournalRecord, type RunStartedEvent } from '../../src/engine/events.js';
import { runIt, RB, FakeOperator, type Script } from '../helpers/engine-harness.js';

describe('engine', () => {
  it('runs steps in order, preflight first, and captures output for later steps', async () => {
    const { state, transport } = await runIt(
      RB(`
  - { id: lsn, on: standby, run: get-lsn, capture: lsn }
  - { id: use, on: standby, run: "use {{ captured.lsn }}" }
  - { id: pre, phase: preflight, on: standby, run: check }`),
      (_h, cmd) => (cmd === 'get-lsn' ? { stdout: '0/3000060\n' } : {}),
    );
    expect(state.status).toBe('succeeded');
    expect(transport.calls.map((c) => c.command)).toEqual(['check', 'get-lsn', 'use 0/3000060']);
    expect(state.captured.lsn).toBe('0/3000060');
  });

  it('polls until the expectation holds, and gives up at the timeout', async () => {
    const ok = await runIt(
      RB(`
  - { id: w, on: standby, run: poll, until: { stdout: f }, interval: 2s, timeout: 1m }`),
      (_h, _c, n) => ({ stdout: n < 4 ? 't' : 'f' }),
    );
    expect(ok.state.status).toBe('succeeded');
    expect(ok.transport.calls.length).toBe(4);
    const bad = await runIt(
      RB(`
  - { id: w, on: standby, run: poll, until: { stdout: f }, interval: 10s, timeout: 30s }`),
      () => ({ stdout: 't' }),
    );
    expect(bad.state.status).toBe('failed');
    expect(bad.transport.calls.length).toBeGreaterThanOrEqual(3);
    expect(bad.transport.calls.length).toBeLessThanOrEqual(4);
    expect(bad.state.units['w@db2'].reason).toMatch(/gave up after/);
  });

  it('a command stopped without confirmation says it may still be running, in every wording of a stop', async () => {
    const stopped = { exitCode: null, timedOut: true, mayStillRun: true };
    const run = await runIt(
      RB(`
  - { id: slow, on: standby, run: sleep 300, timeout: 2s }`),
      () => stopped,
    );
    expect(run.state.status).toBe('failed');
    expect(run.state.units['slow@db2'].reason).toBe('timed out; may still be running (stop not confirmed)');
    const poll = await runIt(
      RB(`
  - { id: w, on: standby, run: poll, until: { stdout: f }, timeout: 30s }`),
      () => stopped,
    );
    expect(poll.state.units['w@db2'].reason).toBe('did not hold within 30s; may still be running (stop not confirmed)');
    const guard = await runIt(
      RB(`
  - { id: g, on: standby, run: x, skip_if: check }`),
      (_h, cmd) => (cmd === 'check' ? { exitCode: null, canceled: true, mayStillRun: true } : {}),
    );
    const guardEv = guard.journal.records.find((r) => r.type === 'exec-finished' && r.purpose === 'skip_if');
    expect(guardEv).toMatchObject({ reason: 'stopped by the operator; may still be running (stop not confirmed)' });
    // a confirmed stop says only that it stopped
    const plain = await runIt(
      RB(`
  - { id: slow, on: standby, run: sleep 300, timeout: 2s }`),
      () => ({ exitCode: null, timedOut: true }),
    );
    expect(plain.state.units['slow@db2'].reason).toBe('timed out');
  });

  it('retries a failed command up to `retries` times', async () => {
    const { state, transport } = await runIt(
      RB(`
  - { id: r, on: standby, run: flaky, retries: 2, retry_delay: 1s }`),
      (_h, _c, n) => ({ exitCode: n < 3 ? 1 : 0 }),
    );
    expect(state.status).toBe('succeeded');
    expect(transport.calls.length).toBe(3);
  });

  it('checks exit codes and stdout as the step expects', async () => {
    const { state } = await runIt(
      RB(`
  - { id: e, on: standby, run: x, expect: { exit: [0, 3], stdout: { match: "^ready$" } } }`),
      () => ({ exitCode: 3, stdout: 'not\nready\n' }),
    );
    expect(state.status).toBe('succeeded');
    const bad = await runIt(
      RB(`
  - { id: e, on: standby, run: x, expect: { stdout: ok } }`),
      () => ({ stdout: 'nope' }),
    );
    expect(bad.state.status).toBe('failed');
    expect(bad.state.units['e@db2'].reason).toMatch(/stdout was 'nope', expected 'ok'/);
  });

  it('skip_if that holds skips the step; one that fails runs it', async () => {
    const { state, transport } = await runIt(
      RB(`
  - { id: vip, on: [standby, db3], run: add-vip, skip_if: has-vip }`),
      (h, cmd) => (cmd === 'has-vip' ? { exitCode: h === 'db2' ? 0 : 1 } : {}),
    );
    expect(state.units['vip@db2'].status).toBe(UnitStatus.Skipped);
    expect(state.units['vip@db3'].status).toBe(UnitStatus.Ok);
    expect(transport.calls.filter((c) => c.command === 'add-vip').map((c) => c.host)).toEqual(['db3']);
    // one host ran it: the step is ok; skipped on every host: the step is skipped
    expect(state.steps.vip.status).toBe(StepStatus.Ok);
    const all = await runIt(
      RB(`
  - { id: vip, on: [standby, db3], run: add-vip, skip_if: has-vip }`),
      (_h, cmd) => (cmd === 'has-vip' ? { exitCode: 0 } : {}),
    );
    expect(all.state.steps.vip.status).toBe(StepStatus.Skipped);
    expect(all.state.status).toBe('succeeded');
  });

  it('skips the steps of a may_be_down host that is unreachable, and `when: unreachable` runs the other path', async () => {
    const { state, transport } = await runIt(
      RB(`
  - { id: fence, on: primary, run: stop-pg }
  - { id: pdu, on: standby, run: pdu-off, when: { unreachable: primary } }
  - { id: nope, on: standby, run: never, when: { reachable: primary } }`),
      () => ({}),
      { down: ['db1'] },
    );
    expect(state.status).toBe('succeeded');
    expect(state.units['fence@db1'].status).toBe(UnitStatus.Skipped);
    expect(state.units['fence@db1'].note).toMatch(/as expected/);
    expect(transport.calls.map((c) => c.command)).toEqual(['pdu-off']);
    expect(state.steps.nope.status).toBe('skipped');
  });

  it('an unreachable host that is not expected down fails the step as unreachable, not as a command failure', async () => {
    const { state, journal } = await runIt(
      RB(`
  - { id: s, on: standby, run: x }`),
      () => ({}),
      { down: ['db2'] },
    );
    expect(state.status).toBe('failed');
    const err = journal.records.find((r) => r.type === 'exec-error');
    expect(err && 'kind' in err && err.kind).toBe('unreachable');
  });

  it('connection lost mid-command fails the step as connection-lost and is not retried unless idempotent', async () => {
    const lost = () => new TransportError('connection-lost', 'db2', 'connection lost while a command ran');
    const a = await runIt(
      RB(`
  - { id: s, on: standby, run: x, retries: 3 }`),
      lost,
    );
    expect(a.transport.calls.length).toBe(1);
    expect(a.state.units['s@db2'].reason).toMatch(/connection lost/);
    const b = await runIt(
      RB(`
  - { id: s, on: standby, run: x, retries: 3, idempotent: true }`),
      (_h, _c, n) => (n < 2 ? lost() : {}),
    );
    expect(b.state.status).toBe('succeeded');
  });

  it('on_failure: continue goes on; the default without a person aborts', async () => {
    const c = await runIt(
      RB(`
  - { id: a, on: standby, run: fail, on_failure: continue }
  - { id: b, on: standby, run: ok }`),
      (_h, cmd) => ({ exitCode: cmd === 'fail' ? 1 : 0 }),
    );
    expect(c.state.status).toBe('succeeded');
    expect(c.state.steps.a.status).toBe('failed');
    const d = await runIt(
      RB(`
  - { id: a, on: standby, run: fail }
  - { id: b, on: standby, run: ok }`),
      (_h, cmd) => ({ exitCode: cmd === 'fail' ? 1 : 0 }),
    );
    expect(d.state.status).toBe('failed');
    expect(d.transport.calls.map((x) => x.command)).toEqual(['fail']);
  });

  it('ask: retry, then rollback of the completed steps in reverse order', async () => {
    const op = new FakeOperator({ failure: ['retry', 'rollback'] });
    const { state, transport } = await runIt(
      RB(`
  - { id: one, on: standby, run: do-1, rollback: undo-1 }
  - { id: two, on: db3, run: do-2, rollback: undo-2 }
  - { id: nor, on: standby, run: do-nr }
  - { id: bad, on: standby, run: boom }`),
      (_h, cmd) => ({ exitCode: cmd === 'boom' ? 1 : 0 }),
      { operator: op, interactive: true },
    );
    expect(op.asked).toEqual(['failure:bad', 'failure:bad']);
    expect(transport.calls.map((c) => c.command)).toEqual([
      'do-1',
      'do-2',
      'do-nr',
      'boom',
      'boom',
      'undo-2',
      'undo-1',
    ]);
    expect(state.status).toBe('rolled-back');
  });

  it('a gate answered no stops the run before the step; manual steps record typed values', async () => {
    const no = await runIt(
      RB(`
  - { id: p, on: standby, run: promote, confirm: "Promote {{ roles.standby }}?" }`),
      () => ({}),
      { operator: new FakeOperator({ confirm: false }) },
    );
    expect(no.state.status).toBe('aborted');
    expect(no.transport.calls).toEqual([]);
    expect(no.operator.asked).toEqual(['confirm:Promote db2?']);
    const m = await runIt(
      RB(`
  - { id: m, manual: "Read the serial", record: serial }
  - { id: u, on: standby, run: "echo {{ captured.serial }}" }`),
      () => ({}),
      { operator: new FakeOperator({ manual: 'AB 12' }) },
    );
    expect(m.state.status).toBe('succeeded');
    expect(m.transport.calls[0].command).toBe("echo 'AB 12'");
  });

  it('parallel steps respect max_parallel; serial runs one host at a time and stops at the first failure', async () => {
    let running = 0;
    let peak = 0;
    const slow: Script = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return {};
    };
    await runIt(
      RB(`
  - { id: p, on: [db1, db2, db3], run: x, max_parallel: 2 }`),
      slow,
    );
    expect(peak).toBe(2);
    const s = await runIt(
      RB(`
  - { id: s, on: [db2, db3, db1], run: x, strategy: serial }`),
      (h) => ({ exitCode: h === 'db2' ? 1 : 0 }),
    );
    expect(s.transport.calls.map((c) => c.host)).toEqual(['db2']);
  });

  it('includes expand with their own vars, `with:` overriding', async () => {
    const child = `
lifeboat: 1
kind: runbook
name: vip-move
version: 1.0.0
title: VIP
tier: routine
roles: { target: db3 }
vars: { dev: eth0 }
steps:
  - { id: add, on: target, run: "ip addr add {{ vars.vip }} dev {{ vars.dev }}" }`;
    const { state, transport } = await runIt(
      RB(`
  - { id: move, include: vip-move, with: { dev: eth1 } }`),
      () => ({}),
      { extra: [child] },
    );
    expect(state.status).toBe('succeeded');
    expect(transport.calls).toEqual([{ host: 'db3', command: 'ip addr add 198.18.0.100/24 dev eth1', env: {} }]);
  });

  it('secrets reach the command but never the journal', async () => {
    const { journal, transport } = await runIt(
      RB(
        `
  - { id: s, on: standby, run: "login {{ secrets.pw }}", env: { PGPASSWORD: "{{ secrets.pw }}" } }`,
        'secrets: { pw: { env: PW } }',
      ),
      () => ({ stdout: 'the password is hunter2-xyz', stderr: 'aHVudGVyMi14eXo=' }),
      { secrets: { pw: 'hunter2-xyz' } },
    );
    expect(transport.calls[0].command).toBe('login hunter2-xyz');
    expect(transport.calls[0].env).toEqual({ PGPASSWORD: 'hunter2-xyz' });
    const text = JSON.stringify(journal.records);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('aHVudGVyMi14eXo');
    expect(text).toContain('<from PW>');
  });

  it('replaying the journal rebuilds the state; a command in flight at a crash is in doubt and settled by policy', async () => {
    const rb = RB(`
  - { id: a, on: standby, run: do-a, capture: v }
  - { id: b, on: standby, run: do-b }
  - { id: c, on: standby, run: do-c, idempotent: true }`);
    const first = await runIt(rb, () => ({ stdout: 'val' }));
    // cut the journal right after b's intent: b was sent, nobody knows whether it finished
    const cut = first.journal.records.findIndex((r) => r.type === 'intent' && r.step === 'b');
    const kept = first.journal.records.slice(0, cut + 1);
    const plan = first.plan;
    const journal = new MemoryJournal();
    journal.records.push(...kept);
    const state = initState(plan, kept[0] as JournalRecord & RunStartedEvent, { defaultOnFailure: 'ask' });
    for (const r of kept.slice(1)) apply(state, plan, r);
    expect(state.units['b@db2'].status).toBe(UnitStatus.Running);
    expect(state.captured.v).toBe('val');
    await journal
      .append({ type: 'resumed', operator: 'x', inDoubt: [{ step: 'b', host: 'db2' }] })
      .then((r) => apply(state, plan, r));
    const op = new FakeOperator({ inDoubt: 'done' });
    const second = await runIt(rb, () => ({}), { state, journal, operator: op, plan, interactive: true });
    expect(op.asked).toEqual(['in-doubt:b']);
    expect(second.transport.calls.map((c) => c.command)).toEqual(['do-c']);
    expect(second.state.status).toBe('succeeded');
  });
});

describe('engine: a dropped connection', () => {
  it('leaves a non-idempotent step in doubt on resume instead of re-running it', async () => {
    const rb = RB(`
  - { id: a, on: standby, run: do-a }`);
    const first = await runIt(
      rb,
      () => new TransportError('connection-lost', 'db2', 'connection lost while a command ran'),
    );
    expect(first.state.status).toBe('failed');
    const plan = first.plan;
    const journal = new MemoryJournal();
    journal.records.push(...first.journal.records);
    const state = initState(plan, journal.records[0] as JournalRecord & RunStartedEvent, { defaultOnFailure: 'ask' });
    for (const r of journal.records.slice(1)) apply(state, plan, r);
    await journal.append({ type: 'resumed', operator: 'x', inDoubt: [] }).then((r) => apply(state, plan, r));
    expect(state.units['a@db2'].status).toBe(UnitStatus.InDoubt);
    const op = new FakeOperator({ inDoubt: 'done' });
    const second = await runIt(rb, () => ({}), { state, journal, operator: op, plan, interactive: true });
    expect(op.asked).toEqual(['in-doubt:a']);
    expect(second.transport.calls).toEqual([]);
    expect(second.state.status).toBe('succeeded');
  });
});

describe('engine: in doubt on a capturing step', () => {
  it('"done" takes the captured value from the operator, and later steps use it', async () => {
    const rb = RB(`
  - { id: tok, on: standby, run: make-token, capture: token }
  - { id: use, on: standby, run: "use {{ captured.token }}" }`);
    const first = await runIt(rb, () => ({ stdout: 'T-1' }));
    const cut = first.journal.records.findIndex((r) => r.type === 'intent' && r.step === 'tok');
    const kept = first.journal.records.slice(0, cut + 1);
    const journal = new MemoryJournal();
    journal.records.push(...kept);
    const plan = first.plan;
    const state = initState(plan, kept[0] as JournalRecord & RunStartedEvent, { defaultOnFailure: 'ask' });
    for (const r of kept.slice(1)) apply(state, plan, r);
    await journal
      .append({ type: 'resumed', operator: 'x', inDoubt: [{ step: 'tok', host: 'db2' }] })
      .then((r) => apply(state, plan, r));
    const op = new FakeOperator({ inDoubt: 'done', manual: 'T-typed' });
    const second = await runIt(rb, () => ({}), { state, journal, operator: op, plan, interactive: true });
    expect(op.asked).toEqual(['in-doubt:tok', 'manual:tok']);
    expect(second.transport.calls.map((c) => c.command)).toEqual(['use T-typed']);
  });
});

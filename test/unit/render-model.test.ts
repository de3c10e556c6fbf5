import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { loadProject, type Project } from '../../src/load/project.js';
import { resolvePlan } from '../../src/plan/resolve.js';
import { planModel, PlanModelError } from '../../src/render/plan-model.js';
import type { StepView } from '../../src/render/plan-model/step.js';
import { plainWords } from '../../src/render/words.js';
import { stepNumbers } from '../../src/plan/numbering.js';
import type { HistoryRecord } from '../../src/rehearsal/status.js';

const ROOT = path.resolve('test/fixtures/plan/acme');
const NOW = new Date('2026-11-20T10:00:00Z');
const load = (): Project => loadProject([ROOT], { root: ROOT });
const model = (history: HistoryRecord[] = [], project = load(), inv = 'production') =>
  planModel(project, project.site!, inv, history, { now: NOW, version: '9.9.9' });
const step = (m: ReturnType<typeof model>, runbook: string, id: string): StepView => {
  const rb = m.runbooks.find((r) => r.name === runbook)!;
  const s = [...rb.preconditions, ...rb.steps].find((x) => x.id === id);
  if (!s) throw new Error(`no step ${runbook}/${id}`);
  return s;
};

describe('planModel', () => {
  it('keeps the site order as written (phases, not re-sorted by tier) and one row per service', () => {
    const m = model();
    // vip-move is "important" and db-failover "critical": the site puts vip-move first, so does the plan
    expect(m.runbooks.map((r) => [r.section, r.name])).toEqual([
      ['5.1', 'vip-move'],
      ['5.2', 'db-failover'],
      ['5.3', 'files-resync'],
      ['5.4', 'wiki-restore'],
    ]);
    expect(m.phases.map((p) => [p.name, p.entries.map((e) => e.choices.map((c) => c.runbook))])).toEqual([
      ['Network', [['vip-move']]],
      ['Data', [['db-failover'], ['files-resync']]],
      ['Internal wiki', [['wiki-restore']]],
    ]);
    expect(m.tiers.map((t) => [t.tier, t.services.map((s) => s.id)])).toEqual([
      ['critical', ['customer-db']],
      ['important', ['address', 'files']],
      ['routine', ['wiki']],
    ]);
    // the service's facts are the one source: the runbook header shows them, not the runbook's own
    const db = m.runbooks.find((r) => r.name === 'db-failover')!;
    expect(db).toMatchObject({
      service: 'Customer database',
      tier: 'critical',
      rto: '30m',
      rpo: '5m',
      owner: 'Sam Patel',
      useWhen: ['The order screen says "database unavailable"'],
      notWhen: ['db1 answers but is slow'],
    });
    expect(m.services.find((s) => s.id === 'customer-db')).toMatchObject({
      dependsOn: ['Service address'],
      verify: ['The order screen opens a customer record'],
    });
    expect(m.situations.map((s) => [s.runbook.section, s.runbook.runbook])).toEqual([
      ['5.2', 'db-failover'],
      ['5.4', 'wiki-restore'],
    ]);
    expect(m.contents.filter((c) => c.level === 2).map((c) => c.anchor)).toEqual(m.runbooks.map((r) => r.anchor));
  });

  it('marks alternatives and says in each runbook when the other one is right', () => {
    const project = load();
    const site = project.site!;
    const data = {
      ...site.data,
      recovery_order: [
        {
          phase: 'Data',
          runbooks: [
            {
              one_of: [
                { runbook: 'db-failover', when: 'the primary is lost' },
                { runbook: 'files-resync', when: 'only files are lost' },
              ],
            },
            'wiki-restore',
          ],
        },
        'vip-move',
      ],
    };
    const m = planModel(project, { ...site, data } as typeof site, 'production', [], { now: NOW });
    expect(m.phases[0].entries.map((e) => e.alternatives)).toEqual([true, false]);
    const db = m.runbooks.find((r) => r.name === 'db-failover')!;
    expect(db.useWhen).toContain('the primary is lost');
    expect(db.notWhen).toContain(
      'only files are lost: use 5.2 Copy the shares back to the replica instead'.replace(
        'Copy the shares back to the replica',
        m.runbooks.find((r) => r.name === 'files-resync')!.title,
      ),
    );
  });

  it('prints POINT OF NO RETURN only where nothing can undo the step', () => {
    const m = model();
    const pnr = m.runbooks.flatMap((r) =>
      [...r.preconditions, ...r.steps].filter((s) => s.pointOfNoReturn).map((s) => `${r.name}/${s.id}`),
    );
    // promote: asks, no rollback, not idempotent. add-address asks but has a rollback; the
    // fence question guards a step that asks for itself
    expect(pnr).toEqual(['db-failover/promote']);
    expect(step(m, 'vip-move', 'add-address')).toMatchObject({
      confirm: 'Is the old holder of the address switched off or disconnected?',
      pointOfNoReturn: false,
    });
  });

  it('numbers steps with the one numbering function', () => {
    const m = model();
    const db = m.runbooks.find((r) => r.name === 'db-failover')!;
    const numbers = stepNumbers(resolvePlan(load(), 'db-failover', 'production', { env: {} }));
    expect(Object.fromEntries([...db.preconditions, ...db.steps].map((s) => [s.id, s.number]))).toEqual(
      Object.fromEntries(numbers),
    );
    expect(db.preconditions[0].number).toBe('P1');
    expect(db.steps[0].number).toBe('1');
  });

  it('names the key file and where credentials live beside each break-glass command', () => {
    const m = model();
    const fs2 = m.hosts.find((h) => h.name === 'fs2')!;
    expect(fs2.ssh).toMatch(/^ssh -i ~\/'.ssh\/id acme' -o IdentitiesOnly=yes /);
    expect(fs2).toMatchObject({ keyFile: '~/.ssh/id acme', credentials: 'Vault entry fs2' });
    expect(m.hosts.find((h) => h.name === 'db1')).toMatchObject({
      keyFile: undefined,
      credentials: 'Safe in the ops office, envelope 2',
    });
  });

  it('shows every command as it runs against the inventory, with secrets replaced by where they come from', () => {
    const m = model();
    const repl = step(m, 'db-failover', 'replication-user');
    expect(repl.commands).toEqual([
      { hosts: ['db2'], command: "psql -h 198.18.0.12 -U replicator -d postgres -tAc 'select 1'" },
    ]);
    expect(repl.env).toEqual([{ name: 'PGPASSWORD', value: '<from ACME_PG_REPL_PASSWORD>' }]);
    expect(step(m, 'db-failover', 'fence-by-pdu').env[0].value).toBe('<from file ~/.config/acme/pdu-password>');
    expect(step(m, 'db-failover', 'promote').confirm).toBe('Promote db2 to primary? This cannot be undone.');
    expect(step(m, 'db-failover', 'log-position').commands[0].command).toBe(
      'logger -t failover promoted at <captured replay_lsn> on db2',
    );
  });

  it('never holds a secret value, even when it is in the environment', () => {
    const saved = process.env.ACME_PG_REPL_PASSWORD;
    process.env.ACME_PG_REPL_PASSWORD = 'hunter2-very-secret';
    try {
      expect(JSON.stringify(model())).not.toContain('hunter2-very-secret');
    } finally {
      if (saved === undefined) delete process.env.ACME_PG_REPL_PASSWORD;
      else process.env.ACME_PG_REPL_PASSWORD = saved;
    }
  });

  it('numbers preconditions and steps separately and marks included steps', () => {
    const rb = model().runbooks.find((r) => r.name === 'db-failover')!;
    expect(rb.preconditions.map((s) => `${s.number} ${s.id}`)).toEqual([
      'P1 standby-replaying',
      'P2 archive-present',
      'P3 move-address/arping-present',
    ]);
    expect(rb.steps.map((s) => s.number)).toEqual(rb.steps.map((_, i) => String(i + 1)));
    const add = rb.steps.find((s) => s.id === 'move-address/add-address')!;
    expect(add).toMatchObject({ from: 'vip-move', sudo: 'as root (sudo)', limits: ['safe to run twice'] });
    expect(add.skipIf).toEqual([{ hosts: ['db2'], command: 'ip -o addr show dev eth0 | grep -qF 198.18.0.100/24' }]);
    expect(add.rollback).toEqual([{ hosts: ['db2'], command: 'ip addr del 198.18.0.100/24 dev eth0' }]);
    expect(rb.includes).toEqual(['vip-move']);
  });

  it('puts success, limits and conditions in words', () => {
    const m = model();
    expect(plainWords(step(m, 'db-failover', 'standby-replaying').success!)).toBe('prints `t`');
    expect(plainWords(step(m, 'db-failover', 'writable').success!)).toBe(
      'repeats every 2s until it prints `f`, for at most 2 minutes',
    );
    expect(step(m, 'db-failover', 'fence-primary').limits).toEqual([
      'gives up after 1 minute',
      'if it fails, carry on with the next step',
    ]);
    expect(step(m, 'db-failover', 'fence-primary').notes).toEqual([
      'db1 may be down: if it cannot be reached, skip this step and note it.',
    ]);
    expect(step(m, 'db-failover', 'fence-by-pdu').when).toEqual([
      'only when primary (db1, 198.18.0.11) cannot be reached',
    ]);
    expect(plainWords(step(m, 'files-resync', 'full-check').when[0])).toBe(
      'only when `full` is `full`: with this inventory it runs',
    );
    expect(plainWords(step(m, 'db-failover', 'log-position').when[0])).toBe(
      'only when `<captured replay_lsn>` is not empty',
    );
    expect(plainWords(step(m, 'files-resync', 'sync').success!)).toBe('exit code 0 or 24');
    expect(step(m, 'vip-move', 'announce').limits).toEqual(['retried up to 2 times, 1 second apart']);
  });

  it('prints manual steps and gates without commands', () => {
    const s = step(model(), 'db-failover', 'primary-is-fenced');
    expect(s).toMatchObject({
      kind: 'manual',
      commands: [],
      hosts: [],
      confirm: 'Is the old primary off or unreachable for good?',
    });
    expect(s.manual).toContain('Two primaries means split brain');
  });

  it('groups hosts that run the same command', () => {
    const s = step(model(), 'files-resync', 'rsync-present');
    expect(s.commands).toEqual([{ hosts: ['fs2', 'fs1'], command: 'rsync --version | head -n 1' }]);
    expect(s.hosts).toEqual(['fs2 (198.18.0.22)', 'fs1 (198.18.0.21)']);
    expect(s.strategy).toBe('one host after the other');
  });

  it('maps roles to hosts and marks the one that may be down', () => {
    const rb = model().runbooks.find((r) => r.name === 'db-failover')!;
    expect(rb.roles).toEqual([
      { role: 'primary', host: 'db1', address: '198.18.0.11', mayBeDown: true },
      { role: 'standby', host: 'db2', address: '198.18.0.12', mayBeDown: false },
    ]);
    expect(rb.otherHosts).toEqual(['this machine (local)']);
    expect(rb.secrets.map((s) => s.source)).toEqual([
      'environment variable ACME_PG_REPL_PASSWORD',
      'file ~/.config/acme/pdu-password',
    ]);
  });

  it('gives a break-glass ssh command per host, through its jump host, with the known_hosts file', () => {
    const m = model();
    const db1 = m.hosts.find((h) => h.name === 'db1')!;
    expect(db1.ssh).toBe(
      'ssh -o UserKnownHostsFile=~/.ssh/known_hosts_acme -J jump@198.18.0.5:2222 root@198.18.0.11 -p 22',
    );
    expect(db1).toMatchObject({
      mayBeDown: true,
      hostKey: 'SHA256:ZGIxRmluZ2VycHJpbnRFeGFtcGxlVmFsdWUwMDAwMDA',
      usedBy: ['db-failover'],
    });
    const bastion = m.hosts.find((h) => h.name === 'bastion')!;
    expect(bastion.ssh).toBe('ssh -o UserKnownHostsFile=~/.ssh/known_hosts_acme jump@198.18.0.5 -p 2222');
    expect(bastion.jumpFor).toEqual(['db1', 'db2', 'fs1', 'fs2', 'wiki1']);
    expect(m.hosts.find((h) => h.name === 'fs2')!.ssh).toContain('root@198.18.0.22 -p 2200');
    // the lab has no jump host and its known_hosts path keeps its ${VAR:-default} for the reader
    const lab = model([], load(), 'lab');
    expect(lab.hosts.find((h) => h.name === 'db1')!.ssh).toBe(
      'ssh -o UserKnownHostsFile=${LIFEBOAT_LAB:-/tmp/lifeboat-lab}/known_hosts root@198.18.0.111 -p 22',
    );
  });

  it('reads rehearsal status from the history by the runbook digest', () => {
    const project = load();
    const digest = (n: string) => resolvePlan(project, n, 'lab').digest;
    const rec = (
      r: Pick<HistoryRecord, 'runbook' | 'version' | 'digest' | 'finished_at' | 'duration_ms'>,
    ): HistoryRecord => ({
      inventory: 'lab',
      inventory_digest: 'i',
      mode: 'rehearsal',
      host_keys: {},
      operator: 'ops',
      started_at: r.finished_at,
      result: 'passed',
      steps: [],
      run_id: 'r',
      ...r,
    });
    const h: HistoryRecord[] = [
      rec({
        runbook: 'db-failover',
        version: '2.1.0',
        digest: digest('db-failover'),
        finished_at: '2026-11-01T09:00:00Z',
        duration_ms: 5600,
      }),
      rec({
        runbook: 'files-resync',
        version: '1.3.0',
        digest: 'an-older-version',
        finished_at: '2026-10-01T09:00:00Z',
        duration_ms: 5600,
      }),
      rec({
        runbook: 'vip-move',
        version: '1.0.3',
        digest: digest('vip-move'),
        finished_at: '2026-01-01T09:00:00Z',
        duration_ms: 2200,
      }),
    ];
    const m = model(h, project);
    expect(m.runbooks.map((r) => [r.name, r.status.state, r.status.text])).toEqual([
      ['vip-move', 'stale', 'stale since 2026-04-01'],
      ['db-failover', 'current', 'current (passed 2026-11-01)'],
      ['files-resync', 'stale', 'stale since 2026-10-01 (runbook changed after that rehearsal)'],
      ['wiki-restore', 'never', 'never rehearsed'],
    ]);
  });

  it('has a digest over every input file that changes with any of them', () => {
    const a = model();
    expect(a.inputs.map((f) => f.path)).toEqual([
      'db-failover.yaml',
      'files-resync.yaml',
      'inventories/production.yaml',
      'site.yaml',
      'vip-move.yaml',
      'wiki-restore.yaml',
    ]);
    expect(model().digest).toBe(a.digest);
    const project = load();
    const b = planModel(project, project.site!, 'production', [], {
      now: NOW,
      extraInputs: [{ path: 'templates/x.hbs', sha256: 'ff' }],
    });
    expect(b.digest).not.toBe(a.digest);
    expect(b.digestShort).toBe(b.digest.slice(0, 12));
    expect(model([], load(), 'lab').digest).not.toBe(a.digest);
  });

  it('refuses, naming the runbook, when a runbook does not resolve against the inventory', () => {
    const project = load();
    delete project.inventories.get('production')!.data.hosts.wiki1;
    expect(() => model([], project)).toThrow(PlanModelError);
    try {
      model([], project);
    } catch (e) {
      expect((e as PlanModelError).problems.join('\n')).toMatch(/wiki-restore.*wiki1/);
    }
    expect(() => planModel(project, project.site!, 'nope', [])).toThrow(/no inventory named 'nope'/);
  });
});

describe('conditions on values', () => {
  it('shows an empty value by its template and says whether the step runs with this inventory', () => {
    const project = loadProject([ROOT], { root: ROOT });
    project.inventories.get('production')!.data.vars = { mode: '' };
    const m = planModel(project, project.site!, 'production', [], { now: NOW });
    const s = m.runbooks.find((r) => r.name === 'files-resync')!.steps.find((x) => x.id === 'full-check')!;
    expect(plainWords(s.when[0])).toBe(
      'only when `{{ vars.mode }}` (empty here) is `full`: with this inventory it is skipped',
    );
    expect(s.skippedHere).toBe(true);
    expect(
      model()
        .runbooks.flatMap((r) => r.steps)
        .filter((x) => x.skippedHere),
    ).toEqual([]);
  });
});

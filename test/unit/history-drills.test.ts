import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, cpSync, readFileSync, writeFileSync, statSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import {
  appendHistory,
  readHistoryRecords,
  historyFromJournal,
  historyPath,
  type HistoryRecord,
} from '../../src/rehearsal/history.js';
import { drillsCommand } from '../../src/commands/drills.js';
import { drillRows } from '../../src/rehearsal/drills.js';
import { loadWithRoot } from '../../src/load/project.js';
import { resolvePlan } from '../../src/plan/resolve.js';
import type { JournalRecord } from '../../src/engine/events.js';
import type { CliIO } from '../../src/cli/io.js';

let tmp: string;
let root: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lb-hist-'));
  root = path.join(tmp, 'site');
  cpSync(path.resolve('test/fixtures/plan/acme'), root, { recursive: true });
  rmSync(path.join(root, '.lifeboat'), { recursive: true, force: true });
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const NOW = new Date('2026-11-21T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();

function digestOf(runbook: string): string {
  return resolvePlan(loadWithRoot([root]), runbook, 'lab').digest;
}

function entry(over: Partial<HistoryRecord>): HistoryRecord {
  return {
    runbook: 'db-failover',
    version: '2.1.0',
    digest: 'x',
    inventory: 'lab',
    inventory_digest: 'i',
    environment: 'rehearsal',
    mode: 'rehearsal',
    host_keys: { db2: 'SHA256:abc' },
    operator: 'root@laptop',
    started_at: daysAgo(3),
    finished_at: daysAgo(3),
    result: 'passed',
    duration_ms: 252_000,
    rto_ms: 1_800_000,
    steps: [{ id: 'promote', host: 'db2', result: 'ok', duration_ms: 300 }],
    run_id: '20261118-120000-db-failover-abcd',
    ...over,
  };
}

function fakeIO(cwd: string): CliIO & { out: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d) => {
    text += d;
  });
  return { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: { NO_COLOR: '1' }, cwd, out: () => text };
}

describe('rehearsal history', () => {
  it('appends whole fsynced lines to a 0644 file and reads them back', async () => {
    const old = process.umask(0o077);
    try {
      await appendHistory(root, entry({}));
      await appendHistory(root, entry({ runbook: 'vip-move' }));
    } finally {
      process.umask(old);
    }
    const file = historyPath(root);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const { entries, skipped } = readHistoryRecords(root);
    expect(entries.map((e) => e.runbook)).toEqual(['db-failover', 'vip-move']);
    expect(entries[0].host_keys).toEqual({ db2: 'SHA256:abc' });
    expect(skipped).toBe(0);
    // the journals beside it stay out of git, the history goes in
    expect(readFileSync(path.join(root, '.lifeboat', '.gitignore'), 'utf8')).toContain('runs/');
  });

  it('never glues a new line onto a torn one', async () => {
    await appendHistory(root, entry({}));
    appendFileSync(historyPath(root), '{"runbook":"db-fail');
    await appendHistory(root, entry({ runbook: 'vip-move' }));
    const { entries, skipped } = readHistoryRecords(root);
    expect(entries.map((e) => e.runbook)).toEqual(['db-failover', 'vip-move']);
    expect(skipped).toBe(1);
  });

  it('builds the entry from a journal', () => {
    const at = (s: number) => new Date(Date.parse('2026-11-21T10:00:00Z') + s * 1000).toISOString();
    const recs = [
      {
        seq: 1,
        at: at(0),
        type: 'run-started',
        runId: 'R',
        runbook: 'db-failover',
        version: '2.1.0',
        title: 't',
        digest: 'dg',
        files: [],
        inventory: 'lab',
        inventoryDigest: 'idg',
        environment: 'rehearsal',
        operator: 'root@laptop',
        lifeboatVersion: '0.1.0',
        vars: {},
        rtoMs: 1_800_000,
        mode: 'rehearsal',
      },
      { seq: 2, at: at(1), type: 'step-started', step: 'promote' },
      {
        seq: 3,
        at: at(2),
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
      { seq: 4, at: at(2), type: 'step-finished', step: 'promote', result: 'ok', durationMs: 1000 },
      { seq: 5, at: at(3), type: 'step-finished', step: 'confirm-gate', result: 'ok', durationMs: 10 },
      { seq: 6, at: at(4), type: 'run-finished', result: 'succeeded', durationMs: 4000 },
    ] as JournalRecord[];
    const h = historyFromJournal(recs, { hostKeys: { db2: 'SHA256:k' } });
    expect(h).toMatchObject({
      runbook: 'db-failover',
      digest: 'dg',
      inventory_digest: 'idg',
      mode: 'rehearsal',
      result: 'passed',
      duration_ms: 4000,
      run_id: 'R',
      host_keys: { db2: 'SHA256:k' },
    });
    expect(h?.steps).toEqual([
      { id: 'promote', host: 'db2', result: 'ok', duration_ms: 300 },
      { id: 'confirm-gate', result: 'ok', duration_ms: 10 },
    ]);
    expect(historyFromJournal(recs.slice(0, 5))).toBeUndefined();
  });
});

describe('lifeboat drills', () => {
  it('current, changed, expired, failed, never; exit 1 while a critical runbook is not current', async () => {
    const db = digestOf('db-failover');
    await appendHistory(root, entry({ digest: db, finished_at: daysAgo(3) }));
    await appendHistory(
      root,
      entry({
        runbook: 'files-resync',
        version: '1.3.0',
        digest: 'old',
        finished_at: daysAgo(10),
        rto_ms: 4 * 3_600_000,
      }),
    );
    await appendHistory(
      root,
      entry({
        runbook: 'vip-move',
        version: '1.0.3',
        digest: digestOf('vip-move'),
        finished_at: daysAgo(100),
        rto_ms: 300_000,
      }),
    );
    await appendHistory(
      root,
      entry({ runbook: 'wiki-restore', version: '0.3.0', digest: 'w', finished_at: daysAgo(1), result: 'failed' }),
    );
    const project = loadWithRoot([root]);
    const rows = drillRows(project, readHistoryRecords(root).entries, NOW);
    const by = Object.fromEntries(rows.map((r) => [r.runbook, r]));
    expect(by['db-failover'].state).toBe('current');
    expect(by['files-resync']).toMatchObject({ state: 'stale' });
    expect(by['files-resync'].reason).toBe(
      'runbook changed since the rehearsal 10 days ago at version 1.3.0 (now 1.4.0)',
    );
    expect(by['vip-move'].reason).toMatch(/rehearsed 100 days ago, more than rehearse_every \(90d\)/);
    expect(by['wiki-restore']).toMatchObject({ state: 'never' });
    // the site's recovery order, as written
    expect(rows.map((r) => r.runbook)).toEqual(['vip-move', 'db-failover', 'files-resync', 'wiki-restore']);

    const io = fakeIO(root);
    expect(await drillsCommand(undefined, { now: NOW }, io)).toBe(0);
    expect(io.out()).toMatch(
      /db-failover\s+critical\s+2026-11-18 \(3 days ago\)\s+2\.1\.0\s+passed\s+4m12s of 30m00s RTO: within RTO\s+current/,
    );

    // a newer failed rehearsal of the critical runbook: not current, exit 1
    await appendHistory(root, entry({ digest: db, finished_at: daysAgo(1), result: 'failed' }));
    const io2 = fakeIO(root);
    expect(await drillsCommand(root, { now: NOW }, io2)).toBe(1);
    expect(io2.out()).toContain('stale: the last rehearsal failed 1 day ago');
    expect(io2.out()).toContain('1 critical runbook(s) without a current rehearsal: db-failover');
  });

  it('a changed critical runbook makes drills fail, and production runs do not count', async () => {
    await appendHistory(root, entry({ digest: digestOf('db-failover'), finished_at: daysAgo(3) }));
    const file = path.join(root, 'db-failover.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('Use when the **primary**', 'Use when the primary'));
    await appendHistory(root, entry({ digest: digestOf('db-failover'), finished_at: daysAgo(2), mode: 'production' }));
    const io = fakeIO(root);
    expect(await drillsCommand(undefined, { now: NOW, json: true }, io)).toBe(1);
    const out = JSON.parse(io.out());
    expect(out.criticalNotCurrent).toEqual(['db-failover']);
    expect(out.runbooks.find((r: { runbook: string }) => r.runbook === 'db-failover').reason).toBe(
      'runbook changed since the rehearsal 3 days ago at version 2.1.0 (same version number: bump it)',
    );
  });

  it('never rehearsed critical runbook: exit 1', async () => {
    const io = fakeIO(root);
    expect(await drillsCommand(undefined, { now: NOW }, io)).toBe(1);
    expect(io.out()).toMatch(/db-failover\s+critical\s+never\s+never: never rehearsed/);
  });
});

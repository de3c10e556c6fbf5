// The runner and the file journal: one write and one sync for the intents of a decision (group commit).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolvePlan } from '../../src/plan/resolve.js';
import { initState } from '../../src/engine/state.js';
import { Runner } from '../../src/engine/runner.js';
import { FileJournal, newRunId, readJournal, nodeJournalFs, type JournalFs } from '../../src/journal/file-journal.js';
import { oneTransportForAll } from '../../src/transport/registry.js';
import { mustSync, type JournalRecord, type RunStartedEvent } from '../../src/engine/events.js';
import { project, FakeTransport, FakeOperator, silent, fakeClock } from '../helpers/engine-harness.js';

describe('engine: group commit of intents', () => {
  it('a parallel step on 20 hosts journals its 20 intents with one fdatasync, and sends no command before that sync returned', async () => {
    const hosts = Array.from({ length: 20 }, (_, i) => `w${String(i + 1).padStart(2, '0')}`);
    const inv = `
lifeboat: 1
kind: inventory
name: fleet
environment: rehearsal
hosts:
${hosts.map((h, i) => `  ${h}: { address: 198.18.1.${i + 1} }`).join('\n')}
`;
    const steps = ['a', 'b', 'c', 'd', 'e'];
    const rb = `
lifeboat: 1
kind: runbook
name: fleet
version: 1.0.0
title: Fleet
tier: critical
steps:
${steps.map((s) => `  - { id: ${s}, on: [${hosts.join(', ')}], run: do-${s}, strategy: parallel }`).join('\n')}
`;
    const plan = resolvePlan(project(rb, [inv]), 'fleet', 'fleet');
    // what happened, in order: journal writes (the intents in each), fdatasyncs, commands sent
    const log: string[] = [];
    const fs: JournalFs = {
      ...nodeJournalFs,
      write: async (fd, data, off, len) => {
        const lines = data
          .subarray(off, off + len)
          .toString('utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { type: string; step?: string; host?: string });
        const intents = lines.filter((r) => r.type === 'intent').map((r) => `${r.step}@${r.host}`);
        log.push(`write ${intents.join(' ')}`.trim());
        return nodeJournalFs.write(fd, data, off, len);
      },
      fdatasync: async (fd) => {
        // a slow disk: a command sent before the sync returns shows in the log before it
        await new Promise((r) => setTimeout(r, 15));
        await nodeJournalFs.fdatasync(fd);
        log.push('synced');
      },
    };
    const tmp = mkdtempSync(path.join(tmpdir(), 'lb-engine-'));
    try {
      const journal = await FileJournal.create(path.join(tmp, '.lifeboat'), newRunId('fleet'), { fs, sync: mustSync });
      const clock = fakeClock();
      const transport = new FakeTransport((host, cmd) => {
        log.push(`send ${cmd.replace('do-', '')}@${host}`);
        return {};
      });
      const started = (await journal.append({
        type: 'run-started',
        runId: 'r1',
        runbook: 'fleet',
        version: '1.0.0',
        title: 'Fleet',
        digest: plan.digest,
        files: [],
        inventory: 'fleet',
        inventoryDigest: '',
        operator: 'tester@box',
        lifeboatVersion: '0',
        vars: {},
        mode: 'run',
      })) as JournalRecord & RunStartedEvent;
      const state = initState(plan, started, { defaultOnFailure: 'abort' });
      await new Runner(
        plan,
        state,
        { transports: oneTransportForAll(transport), journal, operator: new FakeOperator(), reporter: silent, clock },
        { secrets: {} },
      ).run();
      await journal.close();
      expect(state.status).toBe('succeeded');
      expect(transport.calls).toHaveLength(100);

      const writes = log.filter((l) => l.startsWith('write '));
      for (const s of steps) {
        // the step's 20 intents went to the file in one write, followed by one sync
        const w = log.indexOf(`write ${hosts.map((h) => `${s}@${h}`).join(' ')}`);
        expect(w, `one write with the 20 intents of ${s}`).toBeGreaterThanOrEqual(0);
        expect(log[w + 1]).toBe('synced');
        expect(writes.filter((l) => l.includes(`${s}@`))).toHaveLength(1);
        // each command only after its own intent was written and synced
        for (const h of hosts) {
          const sent = log.indexOf(`send ${s}@${h}`);
          expect(sent, `${s} on ${h} sent after its intent's sync`).toBeGreaterThan(w + 1);
        }
      }
      // one sync per step (its intents), plus run-started, run-finished and close: not one per command
      expect(log.filter((l) => l === 'synced')).toHaveLength(steps.length + 3);
      expect(readJournal(journal.path).records.filter((r) => r.type === 'intent')).toHaveLength(100);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

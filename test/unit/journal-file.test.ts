import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import {
  mkdtempSync,
  rmSync,
  readFileSync,
  writeFileSync,
  appendFileSync,
  statSync,
  symlinkSync,
  chmodSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  FileJournal,
  newRunId,
  isRunId,
  readJournal,
  parseJournal,
  journalPath,
  nodeJournalFs,
  JournalError,
  type JournalFs,
} from '../../src/journal/file-journal.js';
import { StateDirError } from '../../src/journal/safe-fs.js';
import { mustSync } from '../../src/engine/events.js';
import type { RunEvent } from '../../src/engine/events.js';

let tmp: string;
let state: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lb-journal-'));
  state = path.join(tmp, '.lifeboat');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const started = (runId: string): RunEvent => ({
  type: 'run-started',
  runId,
  runbook: 'pg',
  version: '1.0.0',
  title: 'PG',
  digest: 'd',
  files: [],
  inventory: 'lab',
  inventoryDigest: 'i',
  operator: 'root@laptop',
  lifeboatVersion: '0.1.0',
  vars: {},
  mode: 'run',
});
const stepStarted = (step: string): RunEvent => ({ type: 'step-started', step });

describe('newRunId', () => {
  it('is sortable, readable and valid', () => {
    const id = newRunId('postgres-promote-standby', new Date('2026-11-21T23:05:09Z'));
    expect(id).toMatch(/^20261121-230509-postgres-promote-standby-[0-9a-f]{4}$/);
    expect(isRunId(id)).toBe(true);
    expect(newRunId('a', new Date('2026-01-01T00:00:00Z')) < newRunId('a', new Date('2026-01-01T00:00:01Z'))).toBe(
      true,
    );
    expect(isRunId('../../etc')).toBe(false);
  });
});

describe('FileJournal', () => {
  it('assigns seq and at, writes JSONL, continues seq after reopen', async () => {
    const id = newRunId('pg');
    const j = await FileJournal.create(state, id);
    const r1 = await j.append(started(id));
    const r2 = await j.append(stepStarted('a'));
    expect([r1.seq, r2.seq]).toEqual([1, 2]);
    expect(Date.parse(r1.at)).not.toBeNaN();
    await j.close();
    const j2 = await FileJournal.open(state, id);
    expect(j2.existing.map((r) => r.seq)).toEqual([1, 2]);
    expect((await j2.append(stepStarted('b'))).seq).toBe(3);
    await j2.close();
    const { records, torn, problems } = readJournal(journalPath(state, id));
    expect(records.map((r) => [r.seq, r.type])).toEqual([
      [1, 'run-started'],
      [2, 'step-started'],
      [3, 'step-started'],
    ]);
    expect(torn).toBe(false);
    expect(problems).toEqual([]);
  });

  it('keeps concurrent appends in call order, all present', async () => {
    const id = newRunId('pg');
    const j = await FileJournal.create(state, id);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => j.append(stepStarted(`s${i}`))));
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    await j.close();
    const { records } = readJournal(journalPath(state, id));
    expect(records).toHaveLength(200);
    expect(records.map((r) => (r as { step: string }).step)).toEqual(Array.from({ length: 200 }, (_, i) => `s${i}`));
  });

  it('ignores a torn last line and truncates it on reopen', async () => {
    const id = newRunId('pg');
    const j = await FileJournal.create(state, id);
    await j.append(started(id));
    await j.append(stepStarted('a'));
    await j.close();
    const file = journalPath(state, id);
    const good = readFileSync(file).length;
    appendFileSync(file, '{"seq":3,"at":"2026-11-21T00:00:00.000Z","type":"step-sta');
    const read = readJournal(file);
    expect(read.torn).toBe(true);
    expect(read.problems).toEqual([]);
    expect(read.records).toHaveLength(2);
    expect(read.validBytes).toBe(good);
    const j2 = await FileJournal.open(state, id);
    expect(statSync(file).size).toBe(good);
    expect((await j2.append(stepStarted('b'))).seq).toBe(3);
    await j2.close();
    const after = readJournal(file);
    expect(after.torn).toBe(false);
    expect(after.records.map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('treats a newline-terminated garbage last line (NULs) as torn', () => {
    const ok = '{"seq":1,"at":"2026-11-21T00:00:00.000Z","type":"step-started","step":"a"}\n';
    const r = parseJournal(Buffer.concat([Buffer.from(ok), Buffer.alloc(10), Buffer.from('\n')]));
    expect(r.torn).toBe(true);
    expect(r.records).toHaveLength(1);
    expect(r.validBytes).toBe(ok.length);
  });

  it('reports a bad line in the middle and refuses to reopen unless forced', async () => {
    const id = newRunId('pg');
    const j = await FileJournal.create(state, id);
    await j.append(started(id));
    await j.close();
    const file = journalPath(state, id);
    appendFileSync(file, 'garbage\n{"seq":3,"at":"2026-11-21T00:00:00.000Z","type":"step-started","step":"x"}\n');
    const read = readJournal(file);
    expect(read.problems).toEqual([expect.stringMatching(/^line 2: not valid JSON/)]);
    expect(read.records.map((r) => r.seq)).toEqual([1, 3]);
    await expect(FileJournal.open(state, id)).rejects.toThrow(/unreadable line/);
    const forced = await FileJournal.open(state, id, { force: true });
    expect(forced.problems).toHaveLength(1);
    expect((await forced.append(stepStarted('y'))).seq).toBe(4);
    await forced.close();
  });

  it('reports seq going backwards', () => {
    const line = (seq: number) => `{"seq":${seq},"at":"2026-11-21T00:00:00.000Z","type":"step-started","step":"a"}\n`;
    const r = parseJournal(Buffer.from(line(1) + line(2) + line(2) + line(3)));
    expect(r.problems).toEqual(['line 3: seq 2 does not follow 2']);
  });

  it('creates folders 0700 and the journal 0600 whatever the umask', async () => {
    const old = process.umask(0o000);
    try {
      const id = newRunId('pg');
      const j = await FileJournal.create(state, id);
      await j.close();
      expect(statSync(state).mode & 0o777).toBe(0o700);
      expect(statSync(path.join(state, 'runs')).mode & 0o777).toBe(0o700);
      expect(statSync(path.join(state, 'runs', id)).mode & 0o777).toBe(0o700);
      expect(statSync(journalPath(state, id)).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  it('refuses a state folder that is a symlink', async () => {
    const real = path.join(tmp, 'elsewhere');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, state);
    await expect(FileJournal.create(state, newRunId('pg'))).rejects.toThrow(StateDirError);
    await expect(FileJournal.create(state, newRunId('pg'))).rejects.toThrow(/symbolic link/);
  });

  it('refuses a journal that is a symlink', async () => {
    const id = newRunId('pg');
    const j = await FileJournal.create(state, id);
    await j.close();
    const file = journalPath(state, id);
    const other = path.join(tmp, 'other.jsonl');
    writeFileSync(other, '', { mode: 0o600 });
    rmSync(file);
    symlinkSync(other, file);
    await expect(FileJournal.open(state, id)).rejects.toThrow(/symbolic link/);
  });

  it('refuses a group-writable state folder or journal, naming the fix', async () => {
    const id = newRunId('pg');
    const j = await FileJournal.create(state, id);
    await j.close();
    const file = journalPath(state, id);
    chmodSync(file, 0o620);
    const err = await FileJournal.open(state, id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateDirError);
    expect((err as StateDirError).message).toContain(file);
    expect((err as StateDirError).hint).toBe(`chmod 600 ${file}`);
    chmodSync(file, 0o600);
    chmodSync(state, 0o770);
    await expect(FileJournal.create(state, newRunId('pg'))).rejects.toThrow(/writable by group/);
  });

  it('fsyncs every append before resolving, and the folders on create', async () => {
    const calls: string[] = [];
    const spy: JournalFs = {
      ...nodeJournalFs,
      write: async (...a) => {
        calls.push('write');
        return nodeJournalFs.write(...a);
      },
      fdatasync: async (fd) => {
        calls.push('fdatasync');
        return nodeJournalFs.fdatasync(fd);
      },
      fsyncDir: async (d) => {
        calls.push(`fsyncDir ${path.basename(d)}`);
        return nodeJournalFs.fsyncDir(d);
      },
    };
    const id = newRunId('pg');
    const j = await FileJournal.create(state, id, { fs: spy });
    expect(calls).toEqual([`fsyncDir ${id}`, 'fsyncDir runs']);
    calls.length = 0;
    await j.append(stepStarted('a'));
    expect(calls).toEqual(['write', 'fdatasync']);
    await j.append(stepStarted('b'));
    expect(calls).toEqual(['write', 'fdatasync', 'write', 'fdatasync']);
    await j.close();
  });

  it('with `sync: mustSync`, writes every record but syncs only intents and run boundaries, and syncs at close', async () => {
    const calls: string[] = [];
    const spy: JournalFs = {
      ...nodeJournalFs,
      write: async (...a) => {
        calls.push('write');
        return nodeJournalFs.write(...a);
      },
      fdatasync: async (fd) => {
        calls.push('fdatasync');
        return nodeJournalFs.fdatasync(fd);
      },
      fsyncDir: async (d) => nodeJournalFs.fsyncDir(d),
    };
    const j = await FileJournal.create(state, newRunId('pg'), { fs: spy, sync: mustSync });
    await j.append(stepStarted('a'));
    await j.append({ type: 'intent', step: 'a', host: 'db1', attempt: 1, command: 'true', purpose: 'run' });
    expect(calls).toEqual(['write', 'write', 'fdatasync']);
    calls.length = 0;
    await j.append(stepStarted('b'));
    await j.close();
    expect(calls).toEqual(['write', 'fdatasync']);
    expect(readJournal(j.path).records.map((r) => r.type)).toEqual(['step-started', 'intent', 'step-started']);
  });

  it('does not resolve an append whose fsync has not returned, and fails stop after an error', async () => {
    let release!: () => void;
    let fail = false;
    const spy: JournalFs = {
      ...nodeJournalFs,
      fdatasync: async (fd) => {
        if (fail) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
        await new Promise<void>((r) => {
          release = r;
        });
        return nodeJournalFs.fdatasync(fd);
      },
    };
    const id = newRunId('pg');
    const j = await FileJournal.create(state, id, { fs: spy });
    let done = false;
    const p = j.append(stepStarted('a')).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    release();
    await p;
    expect(done).toBe(true);
    fail = true;
    await expect(j.append(stepStarted('b'))).rejects.toThrow(/could not write the journal: EIO/);
    fail = false;
    await expect(j.append(stepStarted('c'))).rejects.toThrow(JournalError);
    await j.close();
  });

  it('applies the redact hook to every string field, never to the type', async () => {
    const id = newRunId('pg');
    const j = await FileJournal.create(state, id, { redact: (s) => s.replaceAll('hunter2', '***') });
    await j.append({
      type: 'exec-finished',
      step: 'login',
      host: 'db2',
      attempt: 1,
      purpose: 'run',
      exitCode: 0,
      timedOut: false,
      canceled: false,
      signal: null,
      durationMs: 5,
      stdoutTail: 'password is hunter2',
      stderrTail: '',
      ok: true,
      captured: { name: 'pw', value: 'hunter2' },
    });
    await j.append({ type: 'intent', step: 'x', host: 'db2', attempt: 1, command: "echo 'hunter2'", purpose: 'run' });
    await j.close();
    const text = readFileSync(journalPath(state, id), 'utf8');
    expect(text).not.toContain('hunter2');
    const { records } = readJournal(journalPath(state, id));
    expect(records[0]).toMatchObject({
      type: 'exec-finished',
      stdoutTail: 'password is ***',
      captured: { value: '***' },
      exitCode: 0,
    });
    expect(records[1]).toMatchObject({ type: 'intent', command: "echo '***'" });
  });

  it('refuses to create a run that exists, and to open one that does not', async () => {
    const id = newRunId('pg');
    await (await FileJournal.create(state, id)).close();
    await expect(FileJournal.create(state, id)).rejects.toThrow(/exists already/);
    await expect(FileJournal.open(state, newRunId('pg'))).rejects.toThrow(/no journal for run/);
  });
});

// Group commit: appends made together share one write and one fdatasync, without giving up
// order, the sync before an intent resolves, or fail-stop.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  FileJournal,
  newRunId,
  readJournal,
  nodeJournalFs,
  JournalError,
  type JournalFs,
} from '../../src/journal/file-journal.js';
import { mustSync, type RunEvent } from '../../src/engine/events.js';

let tmp: string;
let state: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lb-group-'));
  state = path.join(tmp, '.lifeboat');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const stepStarted = (step: string): RunEvent => ({ type: 'step-started', step });
const intent = (host: string): RunEvent => ({
  type: 'intent',
  step: 'p',
  host,
  attempt: 1,
  command: 'restart',
  purpose: 'run',
});
const gate = () => {
  let open!: () => void;
  const p = new Promise<void>((r) => {
    open = r;
  });
  return { p, open };
};

/** the real fs, with every write (its lines) and fdatasync logged */
function spyFs(over: Partial<JournalFs> = {}) {
  const log: string[] = [];
  const fs: JournalFs = {
    ...nodeJournalFs,
    write: async (fd, data, off, len) => {
      log.push(
        `write ${
          data
            .subarray(off, off + len)
            .toString('utf8')
            .split('\n')
            .filter(Boolean).length
        }`,
      );
      return (over.write ?? nodeJournalFs.write)(fd, data, off, len);
    },
    fdatasync: async (fd) => {
      log.push('fdatasync');
      return (over.fdatasync ?? nodeJournalFs.fdatasync)(fd);
    },
  };
  return { fs, log };
}

describe('FileJournal group commit', () => {
  it('N appends in one tick: one write, one fdatasync, seqs 1..N in file order', async () => {
    const { fs, log } = spyFs();
    const j = await FileJournal.create(state, newRunId('pg'), { fs, sync: mustSync });
    const hosts = Array.from({ length: 20 }, (_, i) => `h${i}`);
    const recs = await Promise.all(hosts.map((h) => j.append(intent(h))));
    expect(log).toEqual(['write 20', 'fdatasync']);
    expect(recs.map((r) => r.seq)).toEqual(hosts.map((_, i) => i + 1));
    expect(j.lastSeq).toBe(20);
    await j.close();
    const { records, torn, problems } = readJournal(j.path);
    expect([torn, problems]).toEqual([false, []]);
    expect(records.map((r) => [r.seq, (r as { host: string }).host])).toEqual(hosts.map((h, i) => [i + 1, h]));
  });

  it('without a sync option every batch is synced, still once', async () => {
    const { fs, log } = spyFs();
    const j = await FileJournal.create(state, newRunId('pg'), { fs });
    await Promise.all([j.append(stepStarted('a')), j.append(stepStarted('b')), j.append(stepStarted('c'))]);
    expect(log).toEqual(['write 3', 'fdatasync']);
    await j.close();
  });

  it('a batch of records that need no sync is written without one; one intent among them syncs the batch', async () => {
    const { fs, log } = spyFs();
    const j = await FileJournal.create(state, newRunId('pg'), { fs, sync: mustSync });
    await Promise.all(['a', 'b', 'c', 'd'].map((s) => j.append(stepStarted(s))));
    expect(log).toEqual(['write 4']);
    log.length = 0;
    await Promise.all([j.append(stepStarted('e')), j.append(intent('h1')), j.append(stepStarted('f'))]);
    expect(log).toEqual(['write 3', 'fdatasync']);
    await j.close();
  });

  it('resolves no append of a batch before its fdatasync returned', async () => {
    const g = gate();
    const { fs, log } = spyFs({
      fdatasync: async (fd) => {
        await g.p;
        return nodeJournalFs.fdatasync(fd);
      },
    });
    const j = await FileJournal.create(state, newRunId('pg'), { fs, sync: mustSync });
    const done: number[] = [];
    const all = Promise.all(
      [j.append(stepStarted('a')), j.append(intent('h1')), j.append(intent('h2'))].map((p) =>
        p.then((r) => {
          done.push(r.seq);
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['write 3', 'fdatasync']);
    expect(done).toEqual([]);
    g.open();
    await all;
    expect(done).toEqual([1, 2, 3]);
    await j.close();
  });

  it('lines appended while a batch is being written form the next batch, in order', async () => {
    const g = gate();
    let first = true;
    const { fs, log } = spyFs({
      write: async (fd, d, o, l) => {
        if (first) {
          first = false;
          await g.p;
        }
        return nodeJournalFs.write(fd, d, o, l);
      },
    });
    const j = await FileJournal.create(state, newRunId('pg'), { fs, sync: mustSync });
    const a = j.append(intent('h1'));
    await new Promise((r) => setTimeout(r, 10)); // the flusher is now inside the first write
    const rest = ['h2', 'h3', 'h4'].map((h) => j.append(intent(h)));
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(['write 1']);
    g.open();
    await Promise.all([a, ...rest]);
    expect(log).toEqual(['write 1', 'fdatasync', 'write 3', 'fdatasync']);
    await j.close();
    expect(readJournal(j.path).records.map((r) => [r.seq, (r as { host: string }).host])).toEqual([
      [1, 'h1'],
      [2, 'h2'],
      [3, 'h3'],
      [4, 'h4'],
    ]);
  });

  it('continues short writes until the whole batch is in the file', async () => {
    const { fs, log } = spyFs({ write: (fd, d, o, l) => nodeJournalFs.write(fd, d, o, Math.min(l, 7)) });
    const j = await FileJournal.create(state, newRunId('pg'), { fs, sync: mustSync });
    await Promise.all([j.append(intent('h1')), j.append(intent('h2'))]);
    expect(log.filter((c) => c === 'fdatasync')).toHaveLength(1);
    expect(log.length).toBeGreaterThan(10);
    await j.close();
    expect(readJournal(j.path).records.map((r) => r.seq)).toEqual([1, 2]);
  });

  it('a failed write rejects the whole batch, what was queued meanwhile and every later append; nothing more is written', async () => {
    const g = gate();
    let fail = false;
    const { fs, log } = spyFs({
      write: async (fd, d, o, l) => {
        if (!fail) return nodeJournalFs.write(fd, d, o, l);
        await g.p;
        // half the batch reaches the file, then the disk is full
        if (o === 0) return nodeJournalFs.write(fd, d, o, Math.floor(l / 2));
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    });
    const j = await FileJournal.create(state, newRunId('pg'), { fs, sync: mustSync });
    await Promise.all([j.append(stepStarted('a')), j.append(intent('h0'))]);
    fail = true;
    const batch = [j.append(intent('h1')), j.append(intent('h2')), j.append(intent('h3'))];
    await new Promise((r) => setTimeout(r, 10));
    const queued = j.append(intent('h4')); // while the failing batch is being written
    g.open();
    for (const p of batch) await expect(p).rejects.toThrow(/could not write the journal: ENOSPC/);
    await expect(queued).rejects.toThrow(JournalError);
    const size = statSync(j.path).size;
    const calls = log.length;
    fail = false;
    await expect(j.append(stepStarted('b'))).rejects.toThrow(/not writable after an earlier failure/);
    await new Promise((r) => setTimeout(r, 10));
    expect(log.length).toBe(calls);
    expect(log.slice(2).filter((c) => c === 'fdatasync')).toEqual([]);
    await j.close();
    expect(statSync(j.path).size).toBe(size);
    // what reached the file is a prefix of the batch (whole lines, then a torn one) and nothing after it
    const read = readJournal(j.path);
    expect(read.records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(read.torn).toBe(true);
    const text = readFileSync(j.path, 'utf8');
    for (const h of ['"host":"h3"', '"host":"h4"', '"step":"b"']) expect(text).not.toContain(h);
  });

  it('a failed fdatasync rejects its batch and stops the journal', async () => {
    const { fs } = spyFs({
      fdatasync: async () => {
        throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
      },
    });
    const j = await FileJournal.create(state, newRunId('pg'), { fs, sync: mustSync });
    const r = await Promise.allSettled([j.append(stepStarted('a')), j.append(intent('h1'))]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    await expect(j.append(stepStarted('b'))).rejects.toThrow(/not writable/);
    await j.close();
  });

  it('close() waits for the queued lines and syncs them; appends after close are refused', async () => {
    const { fs, log } = spyFs();
    const j = await FileJournal.create(state, newRunId('pg'), { fs, sync: mustSync });
    const pending = ['a', 'b', 'c'].map((s) => j.append(stepStarted(s)));
    await j.close();
    expect(log).toEqual(['write 3', 'fdatasync']);
    expect((await Promise.all(pending)).map((r) => r.seq)).toEqual([1, 2, 3]);
    await expect(j.append(stepStarted('d'))).rejects.toThrow(/closed/);
    expect(readJournal(j.path).records).toHaveLength(3);
  });

  it('redacts every record of a batch', async () => {
    const j = await FileJournal.create(state, newRunId('pg'), {
      redact: (s) => s.replaceAll('hunter2', '***'),
      sync: mustSync,
    });
    await Promise.all([
      j.append({ type: 'intent', step: 'x', host: 'db2', attempt: 1, command: 'login hunter2', purpose: 'run' }),
      j.append(stepStarted('hunter2')),
    ]);
    await j.close();
    expect(readFileSync(j.path, 'utf8')).not.toContain('hunter2');
  });
});

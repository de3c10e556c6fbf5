// Journal cost: the per-step cost of FileJournal with fdatasync on every record (as shipped),
// without any (an injected fs whose fdatasync does nothing), and with fdatasync only on
// `intent` records (one per step: the write-ahead rule needs no more; see docs/BENCHMARKS.md). A step writes 4 records: step-started,
// intent, exec-finished, step-finished. The fan-out case is a parallel step on 20 hosts as the runner journals it:
// the 20 intents appended in one tick, then the 20 results, with the runs' `sync: mustSync`.
// Prints JSON; run.mjs calls measureJournal().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function stepRecords(i) {
  const step = `s${i}`;
  return [
    { type: 'step-started', step },
    { type: 'intent', step, host: 'h1', attempt: 1, command: 'true', purpose: 'run' },
    {
      type: 'exec-finished',
      step,
      host: 'h1',
      attempt: 1,
      purpose: 'run',
      exitCode: 0,
      timedOut: false,
      canceled: false,
      signal: null,
      durationMs: 3,
      stdout: '',
      stderr: '',
    },
    { type: 'step-finished', step, result: 'ok', durationMs: 4 },
  ];
}

/** fsync: 'all' (as shipped), 'none', or 'intent' (only records that precede a command: what a write-ahead log needs) */
function journalFs(mod, fsync) {
  if (fsync === 'all') return {};
  let lastWasIntent = false;
  return {
    fs: {
      ...mod.nodeJournalFs,
      write: (fd, data, off, len) => {
        lastWasIntent = data.includes('"type":"intent"');
        return mod.nodeJournalFs.write(fd, data, off, len);
      },
      fdatasync: (fd) => (fsync === 'intent' && lastWasIntent ? mod.nodeJournalFs.fdatasync(fd) : Promise.resolve()),
      fsyncDir: fsync === 'none' ? async () => {} : mod.nodeJournalFs.fsyncDir,
    },
  };
}

async function oneRound(mod, steps, fsync, dir) {
  const opts = journalFs(mod, fsync);
  const runId = mod.newRunId(`bench-${fsync}`);
  const j = await mod.FileJournal.create(dir, runId, { redact: (s) => s, ...opts });
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) for (const r of stepRecords(i)) await j.append(r);
  const ms = performance.now() - t0;
  await j.close();
  return ms / steps;
}

/** a parallel step on `hosts` hosts: returns ms per step and fdatasyncs per step */
async function fanoutRound(mod, mustSync, steps, hosts, dir) {
  let syncs = 0;
  const fs = {
    ...mod.nodeJournalFs,
    fdatasync: (fd) => {
      syncs++;
      return mod.nodeJournalFs.fdatasync(fd);
    },
  };
  const j = await mod.FileJournal.create(dir, mod.newRunId('bench-fanout'), { redact: (s) => s, sync: mustSync, fs });
  const names = Array.from({ length: hosts }, (_, h) => `h${h}`);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const step = `s${i}`;
    await j.append({ type: 'step-started', step });
    await Promise.all(
      names.map((host) => j.append({ type: 'intent', step, host, attempt: 1, command: 'true', purpose: 'run' })),
    );
    await Promise.all(
      names.map((host) =>
        j.append({
          type: 'exec-finished',
          step,
          host,
          attempt: 1,
          purpose: 'run',
          exitCode: 0,
          timedOut: false,
          canceled: false,
          signal: null,
          durationMs: 3,
          stdout: '',
          stderr: '',
        }),
      ),
    );
    await j.append({ type: 'step-finished', step, result: 'ok', durationMs: 4 });
  }
  const ms = performance.now() - t0;
  const perStep = syncs / steps;
  await j.close();
  return { ms: ms / steps, syncs: perStep };
}

export async function measureJournal({ steps = 200, rounds = 5, baseDir, root = ROOT, fanoutHosts = 20 } = {}) {
  const mod = await import(pathToFileURL(path.join(root, 'dist/src/journal/file-journal.js')).href);
  const { mustSync } = await import(pathToFileURL(path.join(root, 'dist/src/engine/events.js')).href);
  // on the disk the runs use (not a tmpfs): fsync must cost what it costs there
  const dir = mkdtempSync(path.join(baseDir ?? tmpdir(), 'lb-journal-'));
  const out = {
    steps,
    rounds,
    recordsPerStep: 4,
    fsyncMsPerStep: [],
    noFsyncMsPerStep: [],
    intentFsyncMsPerStep: [],
    fanoutHosts,
    fanoutMsPerStep: [],
    fanoutFdatasyncsPerStep: 0,
  };
  try {
    for (let r = 0; r < rounds; r++) {
      out.fsyncMsPerStep.push(await oneRound(mod, steps, 'all', dir));
      out.noFsyncMsPerStep.push(await oneRound(mod, steps, 'none', dir));
      out.intentFsyncMsPerStep.push(await oneRound(mod, steps, 'intent', dir));
      const f = await fanoutRound(mod, mustSync, Math.max(10, Math.round(steps / 10)), fanoutHosts, dir);
      out.fanoutMsPerStep.push(f.ms);
      out.fanoutFdatasyncsPerStep = f.syncs;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  out.medianFsyncMsPerStep = med(out.fsyncMsPerStep);
  out.medianNoFsyncMsPerStep = med(out.noFsyncMsPerStep);
  out.medianIntentFsyncMsPerStep = med(out.intentFsyncMsPerStep);
  out.fsyncCostMsPerStep = out.medianFsyncMsPerStep - out.medianNoFsyncMsPerStep;
  out.medianFanoutMsPerStep = med(out.fanoutMsPerStep);
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await measureJournal({ baseDir: process.argv[2] }), null, 2));
}

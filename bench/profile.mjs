#!/usr/bin/env node
// CPU profiles of a lifeboat run: K trivial steps on one host and S steps on N hosts at once,
// against the bench's loopback sshd. Writes .cpuprofile files (open them in Chrome DevTools)
// and prints the functions with the most self time, grouped by source file.
//   node bench/profile.mjs [OUTDIR=bench/results/profile] [K=200] [N=100] [S=5]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchSshd } from './lib/sshd.mjs';
import { writeProject, seqRunbook, fanRunbook } from './lib/project.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/src/bin.cjs');
const [out = path.join(ROOT, 'bench/results/profile'), K = '200', N = '100', S = '5'] = process.argv.slice(2);
mkdirSync(out, { recursive: true });

/** self time per function and per file, from a V8 .cpuprofile */
function summarize(file, top = 25) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = p.timeDeltas;
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (dt[i] ?? 0));
  const fn = new Map();
  const byFile = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(ROOT + '/', '');
    const where = url.includes('node_modules/')
      ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1')
      : url || `(${n.callFrame.functionName || 'native'})`;
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${where}${url && !url.includes('node_modules/') ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    byFile.set(where, (byFile.get(where) ?? 0) + us);
    total += us;
  }
  const rows = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) => `${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`,
      );
  return `total sampled: ${(total / 1000).toFixed(0)} ms\n\nby file / package:\n${rows(byFile).join('\n')}\n\nby function (self time):\n${rows(fn).join('\n')}`;
}

const sshd = await startBenchSshd(Number(N));
const work = mkdtempSync(path.join(os.tmpdir(), 'lb-prof-'));
try {
  const proj = writeProject(work, sshd, Number(N), [Number(N)]);
  writeFileSync(path.join(proj.fanRoot, 'runbooks', `prof-seq.yaml`), seqRunbook('prof-seq', Number(K), 'true'));
  writeFileSync(
    path.join(proj.fanRoot, 'runbooks', `prof-fan.yaml`),
    fanRunbook('prof-fan', Number(N), Number(S), 'true'),
  );
  for (const [name, rb] of [
    [`seq-${K}`, 'prof-seq'],
    [`fan-${N}x${S}`, 'prof-fan'],
  ]) {
    const dir = path.join(out, name);
    rmSync(dir, { recursive: true, force: true });
    const t0 = process.hrtime.bigint();
    const r = spawnSync(
      process.execPath,
      [
        '--cpu-prof',
        '--cpu-prof-dir',
        dir,
        '--cpu-prof-interval',
        '200',
        CLI,
        'run',
        `runbooks/${rb}.yaml`,
        '-i',
        'bench',
        '--yes',
        '--plain',
        '--state-dir',
        path.join(work, 'state'),
      ],
      { cwd: proj.fanRoot, encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) {
      console.error(r.stdout.slice(-2000), r.stderr.slice(-2000));
      throw new Error(`${name}: exit ${r.status}`);
    }
    const prof = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    const text = `# ${name}: wall ${wall.toFixed(0)} ms, load ${readFileSync('/proc/loadavg', 'utf8').trim()}\n${summarize(path.join(dir, prof))}\n`;
    writeFileSync(path.join(out, `${name}.txt`), text);
    console.log(text);
  }
} finally {
  await sshd.stop();
  rmSync(work, { recursive: true, force: true });
}

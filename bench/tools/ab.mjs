#!/usr/bin/env node
// Interleaved A/B timing: runs each command once per round, in turn, so a machine that gets
// busier or quieter during the test affects every command alike (hyperfine runs one command's
// series after the other's). Prints the best and the median wall time of each.
// Usage: node bench/tools/ab.mjs ROUNDS 'command A' 'command B' [...]
import { spawnSync } from 'node:child_process';

const rounds = Number(process.argv[2]);
const cmds = process.argv.slice(3);
if (!rounds || !cmds.length) {
  console.error("usage: node bench/tools/ab.mjs ROUNDS 'command A' 'command B' ...");
  process.exit(2);
}
const times = cmds.map(() => []);
// two warm-up rounds (page cache, sshd) are not counted
for (let r = 0; r < rounds + 2; r++) {
  for (const [i, c] of cmds.entries()) {
    const t0 = performance.now();
    const p = spawnSync('sh', ['-c', `${c} >/dev/null 2>&1`]);
    const dt = performance.now() - t0;
    if (p.status !== 0) { console.error(`${c}: exit ${p.status}`); process.exit(1); }
    if (r >= 2) times[i].push(dt);
  }
}
for (const [i, c] of cmds.entries()) {
  const s = times[i].sort((a, b) => a - b);
  console.log(`${s[0].toFixed(0).padStart(6)} ms best ${s[s.length >> 1].toFixed(0).padStart(6)} ms median   ${c}`);
}

#!/usr/bin/env node
// Interleaved A/B timing: runs each command once per round, in turn, so a machine that gets
// busier or quieter during the test affects every command alike (hyperfine runs one command's
// series after the other's). Prints the best and the median wall time, and the mean CPU, of each.
// Usage: node bench/tools/ab.mjs ROUNDS 'command A' 'command B' [...]  (plain command lines)
import { interleaved } from '../lib/interleaved.mjs';

const rounds = Number(process.argv[2]);
const cmds = process.argv.slice(3);
if (!rounds || !cmds.length) {
  console.error("usage: node bench/tools/ab.mjs ROUNDS 'command A' 'command B' ...");
  process.exit(2);
}
// two warm-up rounds (page cache, sshd) are not counted
const r = interleaved(
  cmds.map((c) => [c, c]),
  { rounds, warmup: 2 },
);
for (const c of cmds) {
  const t = r[c];
  console.log(
    `${t.min.toFixed(0).padStart(6)} ms best ${t.median.toFixed(0).padStart(6)} ms median ${(t.user + t.system).toFixed(0).padStart(6)} ms CPU   ${c}`,
  );
}

// Timing several commands interleaved (bench/run.mjs, bench/tools/ab.mjs).
import { spawnSync } from 'node:child_process';

export const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Like hyperfine over several commands, but interleaved: each round runs every command once,
 * in turn, so a stretch of time when the shared machine is busy hits all of them alike and
 * their ratio stays honest (hyperfine runs one command's whole series, then the next one's).
 * Wall, user and system time of each run from bash's `time` (millisecond resolution).
 */
export function interleaved(commands, { rounds, warmup = 1, cwd, env } = {}) {
  const out = Object.fromEntries(commands.map(([name]) => [name, { times: [], cpu: [] }]));
  for (let r = 0; r < warmup + rounds; r++) {
    for (const [name, cmd] of commands) {
      // the command is a plain command line (no shell syntax); its output goes nowhere, time's to stdout
      const p = spawnSync(
        'bash',
        ['-c', `TIMEFORMAT='%3R %3U %3S'; set -o pipefail; { time ${cmd} >/dev/null 2>&1 ; } 2>&1`],
        { cwd, env: env ?? process.env, encoding: 'utf8' },
      );
      const m = /(\d+\.\d+) (\d+\.\d+) (\d+\.\d+)\s*$/.exec(p.stdout ?? '');
      if (p.status !== 0 || !m)
        throw new Error(`${name} failed (exit ${p.status}): ${cmd}\n${(p.stdout ?? '').slice(-1500)}`);
      if (r < warmup) continue;
      out[name].times.push(Number(m[1]) * 1000);
      out[name].cpu.push({ user: Number(m[2]) * 1000, system: Number(m[3]) * 1000 });
    }
  }
  const mean = (a) => a.reduce((t, v) => t + v, 0) / a.length;
  return Object.fromEntries(
    Object.entries(out).map(([name, { times, cpu }]) => [
      name,
      {
        median: median(times),
        min: Math.min(...times),
        mean: mean(times),
        user: mean(cpu.map((c) => c.user)),
        system: mean(cpu.map((c) => c.system)),
        times,
      },
    ]),
  );
}

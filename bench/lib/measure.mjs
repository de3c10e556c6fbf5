// Runs one command under `/usr/bin/time -v` and samples its whole process tree from /proc:
// wall time, client CPU (user+sys of every waited-for descendant, from time -v) and the peak
// of the tree's summed RSS (and PSS, which does not count pages shared between forks twice).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const PAGE_KIB = 4;
const PID_MAX = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));

/** pid → ppid for every process now alive with a pid ≥ minPid (descendants are newer than their root) */
function parents(minPid) {
  const map = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) < minPid) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      // comm may hold spaces and parentheses: the fields after the last ')' are fixed
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      map.set(Number(d), Number(rest[1]));
    } catch {
      /* gone */
    }
  }
  return map;
}

function descendants(root) {
  // descendants get newer pids than their root until pids wrap at pid_max: scan only the
  // newer ones (cheap) unless the root is close to the wrap
  const ppid = parents(root < PID_MAX - 10_000 ? root : 0);
  const kids = new Map();
  for (const [pid, pp] of ppid) {
    if (!kids.has(pp)) kids.set(pp, []);
    kids.get(pp).push(pid);
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    for (const c of kids.get(p) ?? []) stack.push(c);
  }
  return out;
}

function memOf(pid) {
  let rss = 0,
    pss = 0;
  try {
    rss = Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]) * PAGE_KIB;
  } catch {
    return { rss: 0, pss: 0 };
  }
  try {
    pss = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'))?.[1] ?? 0);
  } catch {
    pss = rss;
  }
  return { rss, pss };
}

/**
 * @param {string[]} argv command and arguments
 * @param {{cwd?: string, env?: NodeJS.ProcessEnv, intervalMs?: number, timeoutMs?: number}} opts
 * @returns {Promise<{wallMs:number,userMs:number,sysMs:number,cpuMs:number,peakRssKiB:number,peakPssKiB:number,maxProcs:number,maxRssOneKiB:number,exitCode:number|null,stderrTail:string}>}
 */
export function measure(argv, opts = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'lb-measure-'));
  const out = path.join(dir, 'time.txt');
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-v', '-o', out, ...argv], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  let peakRss = 0,
    peakPss = 0,
    maxProcs = 0;
  const sample = () => {
    // the tree below /usr/bin/time, without time itself
    const pids = descendants(child.pid).filter((p) => p !== child.pid);
    let rss = 0,
      pss = 0;
    for (const p of pids) {
      const m = memOf(p);
      rss += m.rss;
      pss += m.pss;
    }
    peakRss = Math.max(peakRss, rss);
    peakPss = Math.max(peakPss, pss);
    maxProcs = Math.max(maxProcs, pids.length);
  };
  const timer = setInterval(sample, opts.intervalMs ?? 50);
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      const wallMs = performance.now() - t0;
      clearInterval(timer);
      clearTimeout(killer);
      let text = '';
      try {
        text = readFileSync(out, 'utf8');
      } catch {
        /* killed */
      }
      rmSync(dir, { recursive: true, force: true });
      const num = (re) => Number(re.exec(text)?.[1] ?? NaN);
      const userMs = num(/User time \(seconds\): ([\d.]+)/) * 1000;
      const sysMs = num(/System time \(seconds\): ([\d.]+)/) * 1000;
      const exit = num(/Exit status: (\d+)/);
      resolve({
        wallMs,
        userMs,
        sysMs,
        cpuMs: userMs + sysMs,
        peakRssKiB: peakRss,
        peakPssKiB: peakPss,
        maxProcs,
        maxRssOneKiB: num(/Maximum resident set size \(kbytes\): (\d+)/),
        exitCode: Number.isNaN(exit) ? code : exit,
        stderrTail: stderr.slice(-800),
      });
    });
  });
}

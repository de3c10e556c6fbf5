// A throwaway lifeboat project wired to the loopback test sshd, the built CLI run in it as a
// child process (no terminal: plain output, scripted answers), and a tmux driver for runs in
// a real pseudo-terminal. Every inventory host is 127.0.0.N on the sshd's port, so all hosts
// share this machine's filesystem: steps write under `{{ vars.dir }}` (a per-project folder),
// per host where it matters (`{{ vars.dir }}/{{ host.name }}…`).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sshd } from '../../helpers/sshd.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let CLI: string | undefined = process.env.LIFEBOAT_TEST_CLI;

function filesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesOf(path.join(dir, e.name)) : [path.join(dir, e.name)])).sort();
}

/**
 * The CLI the tests run: LIFEBOAT_TEST_CLI (e.g. a deliberately broken build, to see the tests
 * fail), else a private build of the current sources, shared by the test files through a
 * folder named after the sources' hash. Others rebuild dist/ while tests run; a CLI swapped
 * half-way through a test would fail it for nothing. Call it in beforeAll (a build takes ~30 s).
 * Under CI (one `npm test`, nothing rebuilds) the tests use dist/ as built.
 */
export function cliPath(): string {
  if (CLI) return CLI;
  // CI builds once (`npm test`) and nobody rebuilds under the tests there
  if (process.env.CI && process.env.CI !== 'false' && existsSync(path.join(ROOT, 'dist/lifeboat.cjs'))) return (CLI = path.join(ROOT, 'dist/src/bin.cjs'));
  const h = createHash('sha256');
  for (const f of [...filesOf(path.join(ROOT, 'src')), path.join(ROOT, 'tsconfig.json'), path.join(ROOT, 'package.json'), path.join(ROOT, 'scripts/bundle.mjs')]) h.update(f).update(readFileSync(f));
  const dir = path.join(tmpdir(), `lb-test-cli-${h.digest('hex').slice(0, 16)}`);
  // the command as installed: the launcher, the bundle and its code cache (scripts/bundle.mjs)
  const cli = path.join(dir, 'dist/src/bin.cjs');
  if (!existsSync(cli)) {
    // one build at a time (the test files start together); same layout as the package
    const links = ['package.json', 'schemas', 'templates', 'node_modules'].map((f) => `ln -s ${ROOT}/${f} "$T/${f}"`).join(' && ');
    const script = `test -f ${cli} && exit 0; T=$(mktemp -d ${dir}.XXXX) && ${links} && ` +
      `"${process.execPath}" ${ROOT}/node_modules/typescript/bin/tsc -p ${ROOT}/tsconfig.json --outDir "$T/dist"; ` +
      `"${process.execPath}" ${ROOT}/scripts/bundle.mjs "$T/dist" && test -f "$T/dist/lifeboat.cjs" && mv "$T" ${dir}`;
    const b = spawnSync('flock', [path.join(tmpdir(), 'lb-test-cli.lock'), 'sh', '-c', script], { encoding: 'utf8' });
    if (!existsSync(cli)) throw new Error(`private build failed:\n${b.stdout}${b.stderr}`);
  }
  CLI = cli;
  return cli;
}

export interface CliResult { code: number; stdout: string; stderr: string; out: string }

export interface CliOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
}

const q = (s: string) => JSON.stringify(s);

export interface HostSpec { address?: string; port?: number }

export interface InventorySpec {
  name?: string;
  environment?: 'rehearsal' | 'production';
  /** host name → address (and port); default `h1`…`hN` at 127.0.0.1…N */
  hosts?: Record<string, HostSpec>;
  /** a known_hosts path (default: the harness's, which knows 127.0.0.1…30) */
  knownHosts?: string;
  connectTimeout?: string;
  vars?: Record<string, string>;
}

export interface ProjectOptions {
  /** number of hosts h1…hN (127.0.0.1…N) of the default inventory `lab` (default 1) */
  hosts?: number;
  /** the default inventory (name `lab`, rehearsal) replaced or adjusted */
  inventory?: InventorySpec;
  /** more inventory files */
  inventories?: InventorySpec[];
  /** site fields appended to site.yaml */
  site?: string;
}

export interface Project {
  dir: string;
  /** the folder steps write into on the targets (the same machine) */
  work: string;
  stateDir: string;
  write(rel: string, text: string): string;
  /** a file under `work` (or undefined when missing) */
  read(rel: string): string | undefined;
  has(rel: string): boolean;
  /** the built CLI in the project folder, no terminal, CI=true */
  cli(args: string[], o?: CliOptions): Promise<CliResult>;
  /** `run RUNBOOK -i lab --plain` plus extra arguments */
  run(runbook: string, extra?: string[], o?: CliOptions): Promise<CliResult>;
  /** journal records of every run in the state folder, oldest run first */
  journals(): JournalLine[][];
  remove(): void;
}

export interface JournalLine { type: string; step?: string; host?: string; seq: number; at: string; [k: string]: unknown }

export function inventoryYaml(sshd: Sshd, inv: InventorySpec, defaultHosts = 1): string {
  const hosts = inv.hosts ?? Object.fromEntries(Array.from({ length: defaultHosts }, (_, i) => [`h${i + 1}`, { address: `127.0.0.${i + 1}` }]));
  const lines = [
    'lifeboat: 1',
    'kind: inventory',
    `name: ${inv.name ?? 'lab'}`,
    `environment: ${inv.environment ?? 'rehearsal'}`,
    `defaults: { user: ${sshd.user}, port: ${sshd.port}, identity_file: ${q(sshd.clientKeyPath)} }`,
    `known_hosts: ${q(inv.knownHosts ?? sshd.knownHostsPath)}`,
    `connect_timeout: ${inv.connectTimeout ?? '5s'}`,
    'hosts:',
    ...Object.entries(hosts).map(([n, h]) => `  ${n}: { ${[h.address ? `address: ${q(h.address)}` : '', h.port ? `port: ${h.port}` : ''].filter(Boolean).join(', ')} }`),
  ];
  if (inv.vars && Object.keys(inv.vars).length) lines.push('vars:', ...Object.entries(inv.vars).map(([k, v]) => `  ${k}: ${q(v)}`));
  return lines.join('\n') + '\n';
}

export interface RunbookSpec {
  name: string;
  version?: string;
  tier?: 'critical' | 'important' | 'routine';
  rto?: string;
  /** YAML of the `roles:` mapping body (indented by 2), default `t: h1` */
  roles?: string;
  /** extra top-level YAML (vars:, secrets:, …) */
  extra?: string;
  /** the steps, YAML list items indented by 2 */
  steps: string;
}

/** A runbook file. Every runbook gets a var `dir` (the project's work folder, set by the inventory). */
export function runbookYaml(r: RunbookSpec): string {
  return [
    'lifeboat: 1',
    'kind: runbook',
    `name: ${r.name}`,
    `version: ${r.version ?? '1.0.0'}`,
    `title: ${r.name} drill`,
    'service: Test service',
    `tier: ${r.tier ?? 'routine'}`,
    `objectives: { rto: ${r.rto ?? '10m'}, rpo: 5m }`,
    'owner: ops@example.com',
    'roles:',
    r.roles ?? '  t: h1',
    r.extra?.trimEnd() ?? '',
    'steps:',
    r.steps.replace(/^\n+/, '').trimEnd(),
    '',
  ].filter((l, i, a) => l !== '' || i === a.length - 1).join('\n');
}

export function makeProject(sshd: Sshd, o: ProjectOptions = {}): Project {
  const dir = mkdtempSync(path.join(tmpdir(), 'lb-run-'));
  const work = path.join(dir, 'work');
  mkdirSync(work);
  const stateDir = path.join(dir, '.lifeboat');
  // the site lists every runbook written so far in recovery_order (it is required)
  const runbooks = new Set<string>();
  const writeSite = () => writeFileSync(path.join(dir, 'site.yaml'),
    `lifeboat: 1\nkind: site\norganisation: Run Test Ltd\nrecovery_order: [${[...runbooks].join(', ')}]\n${o.site ?? ''}`);
  const write = (rel: string, text: string) => {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
    const name = /^kind: runbook$/m.test(text) ? /^name: (\S+)$/m.exec(text)?.[1] : undefined;
    if (name && !runbooks.has(name)) { runbooks.add(name); writeSite(); }
    return p;
  };
  writeSite();
  const withDir = (inv: InventorySpec): InventorySpec => ({ ...inv, vars: { dir: work, ...inv.vars } });
  write('inventories/lab.yaml', inventoryYaml(sshd, withDir({ ...o.inventory }), o.hosts ?? 1));
  for (const inv of o.inventories ?? []) write(`inventories/${inv.name}.yaml`, inventoryYaml(sshd, withDir(inv), o.hosts ?? 1));
  const cli = (args: string[], co: CliOptions = {}) => lifeboat(args, dir, co);
  return {
    dir, work, stateDir, write,
    read: (rel) => { const p = path.join(work, rel); return existsSync(p) ? readFileSync(p, 'utf8') : undefined; },
    has: (rel) => existsSync(path.join(work, rel)),
    cli,
    run: (runbook, extra = [], co = {}) => cli(['run', runbook, '-i', 'lab', '--plain', ...extra], co),
    journals: () => {
      const runs = path.join(stateDir, 'runs');
      if (!existsSync(runs)) return [];
      // a run folder is made before its journal file: a run that is starting has no journal yet
      return readdirSync(runs).sort().map((id) => path.join(runs, id, 'journal.jsonl')).filter((f) => existsSync(f))
        .map((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as JournalLine));
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The built CLI as a child process without a terminal (stdin closed, CI=true, no colour). */
export function lifeboat(args: string[], cwd: string, o: CliOptions = {}): Promise<CliResult> {
  const cli = cliPath();
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [cli, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, CI: 'true', NO_COLOR: '1', LANG: 'C.UTF-8', ...o.env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: o.timeoutMs ?? 55_000,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr), out: `${stdout}\n--- stderr ---\n${stderr}` });
    });
    child.stdin?.end();
  });
}

/** The summary table's result column for a step (and host): ok, FAILED, skipped, pending … */
export function resultOf(stdout: string, step: string, host?: string): string | undefined {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  const re = new RegExp(`^${esc(step)}\\s+${host ? esc(host) : '\\S+'}\\s+(\\S+)`, 'm');
  return re.exec(stdout)?.[1];
}

/** The final summary line: "SUCCEEDED: name@1.0.0 in …", "COMPLETED WITH ERRORS: …", "FAILED: …", "ABORTED: …". */
export function summaryLine(stdout: string): string | undefined {
  return /^(SUCCEEDED|COMPLETED WITH ERRORS|FAILED|ABORTED|ROLLED-BACK|INTERRUPTED)\b[^\n]*$/m.exec(stdout)?.[0];
}

/** pgrep -f PATTERN: pids (empty when none) */
export function pgrep(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Processes started through the given sshd (its descendants) whose command line matches `re`:
 * what a step left running on the target, without confusing it with anybody else's processes.
 */
export function remoteProcesses(sshdPid: number, re: RegExp): { pid: number; args: string }[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).split('\n').flatMap((l) => {
    const m = /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(l);
    return m ? [{ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] }] : [];
  });
  const under = new Set([sshdPid]);
  // parents are usually listed before children, but not always: repeat until nothing changes
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rows) if (!under.has(r.pid) && under.has(r.ppid)) { under.add(r.pid); grew = true; }
  }
  return rows.filter((r) => r.pid !== sshdPid && under.has(r.pid) && re.test(r.args)).map(({ pid, args }) => ({ pid, args }));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value or the time is up (then throw with `what`). */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${typeof last === 'string' ? `; last:\n${last}` : ''}`);
}

// ---- a real pseudo-terminal through tmux ----

export interface Tty {
  name: string;
  /** the visible screen and its scrollback, as text */
  screen(): string;
  /** send keys as tmux names them: 'y', 'Enter', 'Down', 'C-c' … */
  keys(...keys: string[]): void;
  /** type literal text */
  type(text: string): void;
  /** wait until the screen matches, return the screen */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** the CLI's exit code, once it printed EXIT=N */
  exitCode(timeoutMs?: number): Promise<number>;
  kill(): void;
}

let ttySeq = 0;
// a tmux server of this test process alone: with a shared one, another file killing its last
// session ends the server under our `new-session` ("server exited unexpectedly")
const TMUX_NAME = `lbtest-${process.pid}`;
const TMUX = ['-L', TMUX_NAME, '-f', '/dev/null'];
const tmux = (args: string[], o: Parameters<typeof execFileSync>[2] = {}) => execFileSync('tmux', [...TMUX, ...args], { env: { ...process.env, TMUX: '' }, ...o });

/** Stop this process's tmux server (afterAll of a file that used tty()). */
export function stopTmux(): void {
  try { tmux(['kill-server'], { stdio: 'ignore' }); } catch { /* not running */ }
  // tmux leaves its socket file behind
  rmSync(path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, TMUX_NAME), { force: true });
}

/** Start `lifeboat ARGS…` (the private build) in a detached 160x50 tmux session in the project folder. */
export function tty(p: Project, args: string[], env: Record<string, string> = {}): Tty {
  const name = `lbtest-${process.pid}-${++ttySeq}`;
  const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const envs = Object.entries({ HOME: p.dir, LANG: 'C.UTF-8', TERM: 'xterm-256color', ...env }).map(([k, v]) => `${k}=${sh(v)}`).join(' ');
  // CI must not be set, or the CLI treats the terminal as unattended
  const cmd = `cd ${sh(p.dir)} && env -u CI ${envs} ${sh(process.execPath)} ${sh(cliPath())} ${args.map(sh).join(' ')}; echo EXIT=$?; sleep 60`;
  tmux(['new-session', '-d', '-s', name, '-x', '160', '-y', '50', cmd]);
  const t: Tty = {
    name,
    screen: () => {
      try {
        return String(tmux(['capture-pane', '-p', '-J', '-S', '-2000', '-t', name], { encoding: 'utf8' }));
      } catch {
        return '';
      }
    },
    keys: (...keys) => { tmux(['send-keys', '-t', name, ...keys]); },
    type: (text) => { tmux(['send-keys', '-l', '-t', name, text]); },
    waitFor: (re, timeoutMs = 20_000) => waitFor(() => { const s = t.screen(); return re.test(s) ? s : ''; }, `${re} on the terminal:\n${t.screen()}`, timeoutMs),
    exitCode: async (timeoutMs = 30_000) => Number(/^EXIT=(\d+)/m.exec(await t.waitFor(/^EXIT=\d+/m, timeoutMs))![1]),
    kill: () => { try { tmux(['kill-session', '-t', name], { stdio: 'ignore' }); } catch { /* gone */ } },
  };
  return t;
}

// A throwaway lifeboat project wired to the loopback test sshd, the built CLI run in it as a
// child process (no terminal: plain output, scripted answers; tty.ts has runs in a real
// pseudo-terminal). Every inventory host is 127.0.0.N on the sshd's port, so all hosts
// share this machine's filesystem: steps write under `{{ vars.dir }}` (a per-project folder),
// per host where it matters (`{{ vars.dir }}/{{ host.name }}…`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Sshd, SshdOptions } from './sshd.js';
import { lifeboat, type CliResult } from './cli.js';
import { sshdSuite, type SshdSuite } from './suite.js';

export interface CliOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
}

const q = (s: string) => JSON.stringify(s);

export interface HostSpec {
  address?: string;
  port?: number;
}

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

export interface JournalLine {
  type: string;
  step?: string;
  host?: string;
  seq: number;
  at: string;
  [k: string]: unknown;
}

export function inventoryYaml(sshd: Sshd, inv: InventorySpec, defaultHosts = 1): string {
  const hosts =
    inv.hosts ??
    Object.fromEntries(Array.from({ length: defaultHosts }, (_, i) => [`h${i + 1}`, { address: `127.0.0.${i + 1}` }]));
  const lines = [
    'lifeboat: 1',
    'kind: inventory',
    `name: ${inv.name ?? 'lab'}`,
    `environment: ${inv.environment ?? 'rehearsal'}`,
    `defaults: { user: ${sshd.user}, port: ${sshd.port}, identity_file: ${q(sshd.clientKeyPath)} }`,
    `known_hosts: ${q(inv.knownHosts ?? sshd.knownHostsPath)}`,
    `connect_timeout: ${inv.connectTimeout ?? '5s'}`,
    'hosts:',
    ...Object.entries(hosts).map(
      ([n, h]) =>
        `  ${n}: { ${[h.address ? `address: ${q(h.address)}` : '', h.port ? `port: ${h.port}` : ''].filter(Boolean).join(', ')} }`,
    ),
  ];
  if (inv.vars && Object.keys(inv.vars).length)
    lines.push('vars:', ...Object.entries(inv.vars).map(([k, v]) => `  ${k}: ${q(v)}`));
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
  ]
    .filter((l, i, a) => l !== '' || i === a.length - 1)
    .join('\n');
}

export function makeProject(sshd: Sshd, o: ProjectOptions = {}): Project {
  const dir = mkdtempSync(path.join(tmpdir(), 'lb-run-'));
  const work = path.join(dir, 'work');
  mkdirSync(work);
  const stateDir = path.join(dir, '.lifeboat');
  // the site lists every runbook written so far in recovery_order (it is required)
  const runbooks = new Set<string>();
  const writeSite = () =>
    writeFileSync(
      path.join(dir, 'site.yaml'),
      `lifeboat: 1\nkind: site\norganisation: Run Test Ltd\nrecovery_order: [${[...runbooks].join(', ')}]\n${o.site ?? ''}`,
    );
  const write = (rel: string, text: string) => {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
    const name = /^kind: runbook$/m.test(text) ? /^name: (\S+)$/m.exec(text)?.[1] : undefined;
    if (name && !runbooks.has(name)) {
      runbooks.add(name);
      writeSite();
    }
    return p;
  };
  writeSite();
  const withDir = (inv: InventorySpec): InventorySpec => ({ ...inv, vars: { dir: work, ...inv.vars } });
  write('inventories/lab.yaml', inventoryYaml(sshd, withDir({ ...o.inventory }), o.hosts ?? 1));
  for (const inv of o.inventories ?? [])
    write(`inventories/${inv.name}.yaml`, inventoryYaml(sshd, withDir(inv), o.hosts ?? 1));
  const cli = (args: string[], co: CliOptions = {}) =>
    lifeboat(args, { cwd: dir, timeoutMs: co.timeoutMs, env: { CI: 'true', ...co.env } });
  return {
    dir,
    work,
    stateDir,
    write,
    read: (rel) => {
      const p = path.join(work, rel);
      return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
    },
    has: (rel) => existsSync(path.join(work, rel)),
    cli,
    run: (runbook, extra = [], co = {}) => cli(['run', runbook, '-i', 'lab', '--plain', ...extra], co),
    journals: () => {
      const runs = path.join(stateDir, 'runs');
      if (!existsSync(runs)) return [];
      // a run folder is made before its journal file: a run that is starting has no journal yet
      return readdirSync(runs)
        .sort()
        .map((id) => path.join(runs, id, 'journal.jsonl'))
        .filter((f) => existsSync(f))
        .map((f) =>
          readFileSync(f, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as JournalLine),
        );
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
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
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .flatMap((l) => {
      const m = /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(l);
      return m ? [{ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] }] : [];
    });
  const under = new Set([sshdPid]);
  // parents are usually listed before children, but not always: repeat until nothing changes
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rows)
      if (!under.has(r.pid) && under.has(r.ppid)) {
        under.add(r.pid);
        grew = true;
      }
  }
  return rows
    .filter((r) => r.pid !== sshdPid && under.has(r.pid) && re.test(r.args))
    .map(({ pid, args }) => ({ pid, args }));
}

/** The sshd and projects of a test file (suite.ts). */
export const useSshdProjects = (o: { sshd?: SshdOptions } = {}): SshdSuite<ProjectOptions, Project> =>
  sshdSuite(makeProject, o.sshd);

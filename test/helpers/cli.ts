// The one way every test tier runs the built CLI: `lifeboat(args, options)` as a child process
// without a terminal (stdin closed: plain output, scripted answers only).
//
// Exit convention, as Node reports a child's exit: `code` is the exit status, or null when the
// process was killed by a signal (then `signal` names it; `timedOut` says it was our timeout).
// A killed CLI never looks like one that exited 1.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let CLI: string | undefined = process.env.LIFEBOAT_TEST_CLI;

function filesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesOf(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
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
  if (process.env.CI && process.env.CI !== 'false' && existsSync(path.join(ROOT, 'dist/lifeboat.cjs')))
    return (CLI = path.join(ROOT, 'dist/src/bin.cjs'));
  const h = createHash('sha256');
  for (const f of [
    ...filesOf(path.join(ROOT, 'src')),
    path.join(ROOT, 'tsconfig.json'),
    path.join(ROOT, 'package.json'),
    path.join(ROOT, 'scripts/bundle.mjs'),
  ])
    h.update(f).update(readFileSync(f));
  const dir = path.join(tmpdir(), `lb-test-cli-${h.digest('hex').slice(0, 16)}`);
  // the command as installed: the launcher, the bundle and its code cache (scripts/bundle.mjs)
  const cli = path.join(dir, 'dist/src/bin.cjs');
  if (!existsSync(cli)) {
    // one build at a time (the test files start together); same layout as the package
    const links = ['package.json', 'schemas', 'templates', 'node_modules']
      .map((f) => `ln -s ${ROOT}/${f} "$T/${f}"`)
      .join(' && ');
    const script =
      `test -f ${cli} && exit 0; T=$(mktemp -d ${dir}.XXXX) && ${links} && ` +
      `"${process.execPath}" ${ROOT}/node_modules/typescript/bin/tsc -p ${ROOT}/tsconfig.json --outDir "$T/dist"; ` +
      `"${process.execPath}" ${ROOT}/scripts/bundle.mjs "$T/dist" && test -f "$T/dist/lifeboat.cjs" && mv "$T" ${dir}`;
    const b = spawnSync('flock', [path.join(tmpdir(), 'lb-test-cli.lock'), 'sh', '-c', script], { encoding: 'utf8' });
    if (!existsSync(cli)) throw new Error(`private build failed:\n${b.stdout}${b.stderr}`);
  }
  CLI = cli;
  return cli;
}

export interface CliResult {
  /** the exit status; null when a signal killed the process */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** killed because it outlived `timeoutMs` */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for assertion messages */
  out: string;
  ms: number;
}

export interface CliOptions {
  cwd: string;
  /** added to the environment (which is minimal unless `inheritEnv`: PATH, HOME=cwd, NO_COLOR, LANG) */
  env?: Record<string, string>;
  /** start from this process's environment instead of the minimal one */
  inheritEnv?: boolean;
  /** run the CLI under this umask (through `sh -c 'umask …; exec node …'`) */
  umask?: string;
  /** SIGKILL after this long (default 55 s) */
  timeoutMs?: number;
  /** another launcher than cliPath() (the end-to-end drills run dist/ as `npm test` built it) */
  cli?: string;
}

/** The built CLI as a child process without a terminal. */
export function lifeboat(args: string[], o: CliOptions): Promise<CliResult> {
  const cli = o.cli ?? cliPath();
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  const [cmd, argv] =
    o.umask !== undefined
      ? ['sh', ['-c', `umask ${o.umask}; exec "$0" "$@"`, process.execPath, cli, ...args]]
      : [process.execPath, [cli, ...args]];
  const base = o.inheritEnv
    ? { ...process.env }
    : { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: o.cwd, LANG: 'C.UTF-8' };
  return runProcess(cmd, argv, { cwd: o.cwd, env: { ...base, NO_COLOR: '1', ...o.env }, timeoutMs: o.timeoutMs });
}

/**
 * Any command as lifeboat() runs the CLI (stdin closed, output collected, SIGKILL at the
 * deadline), with the same result and exit convention: for what wraps the CLI (the kit's
 * executable in a namespace, a shell around it).
 */
export function runProcess(
  cmd: string,
  argv: string[],
  o: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs ?? 55_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        code,
        signal,
        timedOut,
        stdout,
        stderr,
        out: `${stdout}\n--- stderr ---\n${stderr}`,
        ms: Math.round(performance.now() - t0),
      });
    });
  });
}

// `lifeboat kit -o DIR`: the go-bag. A folder that recovers the site when everything else is
// down: a single executable lifeboat for linux-x64 (a Node.js single executable application
// made from the bundle and its code cache, so no Node.js and no node_modules are needed), the
// project's files, the printed plan made from exactly those files, EMERGENCY.txt, and a
// manifest with the kit's digest (decision 0023).
import { spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { packageRoot, packageVersion } from '../render/assets.js';
import { loadWithRoot, type Project } from '../load/project.js';
import { validateProject } from '../load/validate.js';
import { hasErrors, formatDiagnostic } from '../model/diagnostic.js';
import { expandPath } from '../util/expand.js';
import { ExitError, EXIT } from '../cli/exit.js';
import { formatManifest, hashTree, kitDigest, listFiles, KIT_DIGEST, MANIFEST } from './manifest.js';
import { planDigestsFile, renderKitPlan, PLAN_DIR } from './plan.js';
import { emergencyText, type KnownHostsCopy } from './emergency.js';
import type { PlanModel } from '../render/plan-model.js';
import { siteFileDigests } from './freshness.js';

/** the platforms a kit is built for: the machine's own (the executable is a copy of its node) */
export const KIT_PLATFORMS = ['linux-x64'] as const;
/**
 * The fuse Node's SEA support looks for in the binary (documented with `postject`). Never
 * written as one literal: the bundle goes into the executable, and postject refuses a binary
 * in which the fuse appears twice.
 */
const SEA_FUSE = ['NODE_SEA_FUSE', 'fce680ab2cc467b6e072b8b5df1996b2'].join('_');

export interface KitOptions {
  /** the site folder (holds site.yaml) */
  root: string;
  out: string;
  tar?: string;
  /** production inventories to include by name (rehearsal ones always are) */
  inventories: string[];
  env: NodeJS.ProcessEnv;
  now?: Date;
  /** progress lines */
  log: (line: string) => void;
}

export interface KitResult {
  dir: string;
  digest: string;
  plans: { inventory: string; digest: string }[];
  inventories: string[];
  /** the site's runbooks and site.yaml in the kit → sha256 (what makes a kit stale) */
  projectFiles: Record<string, string>;
  files: number;
  bytes: number;
  executableBytes: number;
  ms: number;
  codeCache: 'accepted' | 'rejected';
  tar?: string;
}

export function kitPlatform(): string {
  return `${process.platform}-${process.arch}`;
}

/** Why this machine cannot build a kit, if it cannot. */
export function cannotBuild(): string | undefined {
  const sea = require_('node:sea') as { isSea?: () => boolean; getRawAsset?: unknown };
  if (sea.isSea?.())
    return "this lifeboat is itself a kit's executable: build kits with lifeboat installed with Node.js (npm)";
  if (!(KIT_PLATFORMS as readonly string[]).includes(kitPlatform()))
    return `kits are built for ${KIT_PLATFORMS.join(', ')} only, on that platform (this is ${kitPlatform()})`;
  if (typeof sea.getRawAsset !== 'function')
    return `kits need Node.js 20.12 or later (single executable assets); this is ${process.version}`;
  return undefined;
}

// a require for Node's own modules and postject, from lifeboat's package (works in the bundle and the module tree)
const require_ = (id: string): unknown => createRequire(path.join(packageRoot(), 'package.json'))(id);

function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => {
      out += d;
    });
    c.stderr.on('data', (d) => {
      out += d;
    });
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, out }));
  });
}

/** The project's YAML files that go into the kit: everything but the inventories not chosen. */
function projectFiles(project: Project, inventories: Set<string>): string[] {
  const left = new Set(
    [...project.inventories].filter(([n]) => !inventories.has(n)).map(([, l]) => path.resolve(l.file.file)),
  );
  return [...project.files.keys()]
    .map((f) => path.resolve(f))
    .filter((f) => !left.has(f))
    .sort();
}

export function chooseInventories(project: Project, asked: string[]): string[] {
  const names = [...project.inventories.keys()].sort();
  for (const n of asked) {
    if (!project.inventories.has(n))
      throw new ExitError(
        EXIT.USAGE,
        `no inventory named '${n}' (found: ${names.join(', ') || 'none'})`,
        'give --inventory NAME of an inventory of the site',
      );
  }
  const chosen = names.filter(
    (n) => project.inventories.get(n)!.data.environment !== 'production' || asked.includes(n),
  );
  if (!chosen.length)
    throw new ExitError(
      EXIT.USAGE,
      'no inventory to print the plan for: the site has only production inventories',
      `include one with --inventory ${names[0] ?? 'NAME'}`,
    );
  return chosen;
}

/** The SEA: the blob (bundle, code cache, version as assets) injected into a copy of this node. */
async function buildExecutable(work: string, exe: string, version: string, log: (l: string) => void): Promise<void> {
  const pkg = packageRoot();
  const dist = path.join(pkg, 'dist');
  const bundle = path.join(dist, 'lifeboat.cjs');
  const main = path.join(dist, 'src', 'kit', 'sea-main.cjs');
  const modules = path.join(dist, 'kit-modules.cjs');
  for (const f of [bundle, `${bundle}.cache`, main, modules]) {
    if (!existsSync(f))
      throw new ExitError(
        EXIT.PROBLEMS,
        `${f} is missing: a kit is made from the built CLI`,
        'run npm run build first',
      );
  }
  writeFileSync(path.join(work, 'version'), `${version}\n`);
  const config = path.join(work, 'sea-config.json');
  const blob = path.join(work, 'sea.blob');
  writeFileSync(
    config,
    JSON.stringify({
      main,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
      assets: {
        'lifeboat.cjs': bundle,
        'lifeboat.cjs.cache': `${bundle}.cache`,
        'modules.cjs': modules,
        version: path.join(work, 'version'),
      },
    }),
  );
  const made = await run(process.execPath, ['--experimental-sea-config', config], { cwd: work });
  if (made.code !== 0)
    throw new ExitError(EXIT.INTERNAL, `node --experimental-sea-config failed (exit ${made.code}): ${made.out.trim()}`);
  const node = readFileSync(process.execPath);
  if (!node.includes(`${SEA_FUSE}:0`))
    throw new ExitError(
      EXIT.PROBLEMS,
      `${process.execPath} cannot become a single executable (no SEA fuse: a Node.js built without it, or one already made into an application)`,
      'build the kit with an official Node.js 20 binary',
    );
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  let cli: string;
  try {
    cli = path.join(
      path.dirname(createRequire(path.join(pkg, 'package.json')).resolve('postject/package.json')),
      'dist',
      'cli.js',
    );
  } catch {
    throw new ExitError(
      EXIT.PROBLEMS,
      "the postject package is missing: it writes the kit's executable",
      "npm install (postject is one of lifeboat's dependencies)",
    );
  }
  log('injecting the CLI into a copy of node (postject)…');
  const injected = await run(process.execPath, [cli, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
  if (injected.code !== 0)
    throw new ExitError(
      EXIT.INTERNAL,
      `postject failed (exit ${injected.code}): ${injected.out.trim().split('\n').slice(-5).join('\n')}`,
    );
}

/**
 * Copy each chosen inventory's known_hosts files: into the project copy when they are in the site folder, else
 * known_hosts/INVENTORY/.
 */
function copyKnownHosts(
  project: Project,
  inventories: string[],
  dir: string,
  env: NodeJS.ProcessEnv,
): KnownHostsCopy[] {
  const out: KnownHostsCopy[] = [];
  for (const name of inventories) {
    const inv = project.inventories.get(name)!.data;
    const list = Array.isArray(inv.known_hosts) ? inv.known_hosts : [inv.known_hosts ?? '~/.ssh/known_hosts'];
    for (const written of list) {
      const file = path.resolve(project.root, expandPath(written, env));
      const rel = path.relative(project.root, file);
      const inside = !rel.startsWith('..') && !path.isAbsolute(rel);
      const kitPath = inside
        ? `project/${rel.split(path.sep).join('/')}`
        : `known_hosts/${name}/${path.basename(file)}`;
      const present = existsSync(file) && statSync(file).isFile();
      if (present) {
        mkdirSync(path.dirname(path.join(dir, kitPath)), { recursive: true });
        copyFileSync(file, path.join(dir, kitPath));
      }
      out.push({ inventory: name, written, resolved: file, kitPath: present ? kitPath : undefined, inside });
    }
  }
  return out;
}

/** The site, loaded and validated: a kit is made only from runbooks without errors. */
function loadSite(root: string): Project {
  const project = loadWithRoot([root]);
  if (!project.site)
    throw new ExitError(EXIT.USAGE, `no site.yaml found in or above ${root}: a kit is made for a site`);
  const diagnostics = validateProject(project);
  if (hasErrors(diagnostics)) {
    const first = diagnostics
      .filter((d) => d.severity === 'error')
      .slice(0, 5)
      .map((d) => formatDiagnostic(d))
      .join('\n');
    throw new ExitError(
      EXIT.PROBLEMS,
      `not making a kit from runbooks with errors:\n${first}`,
      'lifeboat validate shows them all',
    );
  }
  return project;
}

/** The project into DIR/project: its YAML (chosen inventories only) and the rehearsal history. */
function copyProject(project: Project, inventories: string[], projectDir: string): void {
  for (const f of projectFiles(project, new Set(inventories))) {
    const rel = path.relative(project.root, f);
    if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
    mkdirSync(path.dirname(path.join(projectDir, rel)), { recursive: true });
    copyFileSync(f, path.join(projectDir, rel));
  }
  const history = path.join(project.root, '.lifeboat', 'history.jsonl');
  if (existsSync(history)) {
    mkdirSync(path.join(projectDir, '.lifeboat'), { recursive: true, mode: 0o700 });
    copyFileSync(history, path.join(projectDir, '.lifeboat', 'history.jsonl'));
  }
}

/** lifeboat's own files, which the executable reads beside itself. */
function copyLifeboatFiles(dir: string, version: string): void {
  const pkg = packageRoot();
  // dereferenced: an installed package may hold them as links (npm link, a test build)
  cpSync(path.join(pkg, 'schemas'), path.join(dir, 'schemas'), { recursive: true, dereference: true });
  cpSync(path.join(pkg, 'templates'), path.join(dir, 'templates'), { recursive: true, dereference: true });
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'lifeboat',
        version,
        private: true,
        description: "lifeboat kit: the files the kit's executable reads beside itself",
      },
      null,
      2,
    ) + '\n',
  );
}

/** The executable must run, and should start from its code cache: whether it did. */
async function smokeTest(exe: string, env: NodeJS.ProcessEnv): Promise<KitResult['codeCache']> {
  const smoke = await run(exe, ['schema', 'common'], { env: { ...env, LIFEBOAT_KIT_CACHE_REPORT: '1' } });
  if (smoke.code !== 0)
    throw new ExitError(
      EXIT.INTERNAL,
      `the kit's executable does not run (exit ${smoke.code}): ${smoke.out.slice(-1000)}`,
    );
  return smoke.out.includes('code cache accepted') ? 'accepted' : 'rejected';
}

/** The plan for each inventory (HTML and PDF, which must agree), from the kit's own copy of the files. */
async function printPlans(
  dir: string,
  kitProject: Project,
  inventories: string[],
  opts: KitOptions,
): Promise<{ inventory: string; digest: string; model: PlanModel }[]> {
  const plans: { inventory: string; digest: string; model: PlanModel }[] = [];
  mkdirSync(path.join(dir, PLAN_DIR));
  for (const inventory of inventories) {
    const html = await renderKitPlan(dir, kitProject, inventory, 'html', { now: opts.now, env: opts.env });
    const pdf = await renderKitPlan(dir, kitProject, inventory, 'pdf', { now: opts.now, env: opts.env });
    if (html.digest !== pdf.digest) throw new Error('the HTML and PDF plans have different digests');
    writeFileSync(path.join(dir, PLAN_DIR, `dr-plan-${inventory}.html`), html.output);
    writeFileSync(path.join(dir, PLAN_DIR, `dr-plan-${inventory}.pdf`), pdf.output);
    plans.push({ inventory, digest: html.digest, model: html.model });
  }
  writeFileSync(path.join(dir, planDigestsFile), plans.map((p) => `${p.digest}  ${p.inventory}\n`).join(''));
  return plans;
}

/** The manifest over everything in DIR, and the kit's digest. */
async function writeManifest(dir: string): Promise<{ digest: string; files: string[]; bytes: number }> {
  const { files } = listFiles(dir);
  const hashes = await hashTree(dir, files);
  const manifest = formatManifest(hashes);
  writeFileSync(path.join(dir, MANIFEST), manifest);
  const digest = kitDigest(manifest);
  writeFileSync(path.join(dir, KIT_DIGEST), `${digest}\n`);
  const bytes = files.reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
  return { digest, files, bytes };
}

/** The finished kit folder OUT as a tar (gzipped for .tgz/.tar.gz), written beside its name and renamed. */
async function writeTar(out: string, given: string, log: (line: string) => void): Promise<string> {
  const tar = path.resolve(given);
  log(`writing ${given}…`);
  const tmp = `${tar}.tmp`;
  const gz = /\.(tgz|tar\.gz)$/.test(tar) ? ['-z'] : [];
  const t = await run('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    ...gz,
    '-C',
    path.dirname(out),
    '-cf',
    tmp,
    path.basename(out),
  ]);
  if (t.code !== 0) {
    rmSync(tmp, { force: true });
    throw new ExitError(EXIT.PROBLEMS, `tar failed (exit ${t.code}): ${t.out.trim()}`);
  }
  renameSync(tmp, tar);
  return tar;
}

export async function buildKit(opts: KitOptions): Promise<KitResult> {
  const started = Date.now();
  const why = cannotBuild();
  if (why) throw new ExitError(EXIT.PROBLEMS, why);
  const out = path.resolve(opts.out);
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length)) {
    throw new ExitError(
      EXIT.USAGE,
      `${opts.out} already exists and is not an empty folder`,
      'choose a new folder for the kit, or remove the old one',
    );
  }
  const project = loadSite(opts.root);
  const inventories = chooseInventories(project, opts.inventories);
  const version = packageVersion();

  mkdirSync(path.dirname(out), { recursive: true });
  // built beside its final name and renamed: a kit folder is never half made
  const dir = mkdtempSync(path.join(path.dirname(out), `.${path.basename(out)}.tmp-`));
  const work = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-kit-'));
  try {
    // the project: its YAML (chosen inventories only), the rehearsal history, the known_hosts files
    const projectDir = path.join(dir, 'project');
    copyProject(project, inventories, projectDir);
    const knownHosts = copyKnownHosts(project, inventories, dir, opts.env);
    copyLifeboatFiles(dir, version);

    opts.log(`building the executable for ${KIT_PLATFORMS.join(', ')}…`);
    const exe = path.join(dir, 'lifeboat');
    await buildExecutable(work, exe, version, opts.log);
    const codeCache = await smokeTest(exe, opts.env);

    opts.log(`printing the plan for ${inventories.join(', ')} (HTML and PDF)…`);
    const kitProject = loadWithRoot([projectDir]);
    const plans = await printPlans(dir, kitProject, inventories, opts);
    writeFileSync(
      path.join(dir, 'EMERGENCY.txt'),
      emergencyText({ project: kitProject, inventories, knownHosts, version, plans, now: opts.now ?? new Date() }),
    );

    const { digest, files, bytes } = await writeManifest(dir);
    const executableBytes = statSync(exe).size;

    if (existsSync(out)) rmSync(out, { recursive: true });
    renameSync(dir, out);
    const tar = opts.tar ? await writeTar(out, opts.tar, opts.log) : undefined;
    return {
      dir: out,
      digest,
      plans: plans.map(({ inventory, digest: d }) => ({ inventory, digest: d })),
      inventories,
      projectFiles: Object.fromEntries(siteFileDigests(project)),
      files: files.length + 2,
      bytes,
      executableBytes,
      ms: Date.now() - started,
      codeCache,
      tar,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

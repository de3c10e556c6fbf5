// What every command that runs a runbook does first: find and load the files, refuse on any
// error in what the run uses, resolve the plan, and get the secrets.
import { existsSync, statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadWithRoot, loadForRun, addInventoryFile, findRoot, type Project } from '../load/project.js';
import { checkSemantics } from '../load/check-semantics.js';
import { checkInventoryPaths } from '../load/inventory-paths.js';
import { lintProject } from '../load/lint.js';
import { formatDiagnostic, hasErrors, sortDiagnostics, summarize, type Diagnostic } from '../model/diagnostic.js';
import { resolvePlan, ResolveError, inventorySshConfig } from '../plan/resolve.js';
import type { SshHost } from '../ports.js';
import type { ResolvedPlan } from '../model/plan.js';
import type { Operator } from '../ports.js';
import { ExitError, EXIT } from '../cli/exit.js';
import { useColor, type CliIO } from '../cli/io.js';
import { expandPath } from '../util/expand.js';

export interface Prepared {
  project: Project;
  plan: ResolvedPlan;
  root: string;
  warnings: Diagnostic[];
}

const isPath = (s: string) => /[/\\]|\.ya?ml$/i.test(s) || existsSync(s);

/** the runbooks a runbook includes, transitively (for which diagnostics block the run) */
function includesOf(project: Project, name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  for (const s of project.runbooks.get(name)?.data.steps ?? []) if (s.include) includesOf(project, s.include, seen);
  return seen;
}

export async function prepare(
  runbookArg: string,
  inventoryArg: string,
  io: CliIO,
  o: { dryRun?: boolean } = {},
): Promise<Prepared> {
  const { project, runbookName } = loadRunbook(runbookArg, io);
  const inventoryName = isPath(inventoryArg) ? addInventory(project, inventoryArg, io) : inventoryArg;
  if (!project.runbooks.has(runbookName))
    throw new ExitError(
      EXIT.USAGE,
      `no runbook named '${runbookName}' under ${project.root}`,
      `known: ${[...project.runbooks.keys()].join(', ') || 'none'}`,
    );
  if (!project.inventories.has(inventoryName))
    throw new ExitError(
      EXIT.USAGE,
      `no inventory named '${inventoryName}' under ${project.root}`,
      `known: ${[...project.inventories.keys()].join(', ') || 'none'}; or give a path with -i`,
    );
  const relevant = refuseErrors(project, runbookName, inventoryName, io);
  // inventory paths that depend on the operator's environment are checked now (validation cannot);
  // a dry run reads no key and connects nowhere
  const missing = o.dryRun ? [] : checkInventoryPaths(project.inventories.get(inventoryName)!, io.env);
  if (missing.length) {
    printDiagnostics(missing, project, io);
    throw new ExitError(EXIT.PROBLEMS, `the inventory names files that do not exist: nothing was run`);
  }
  let plan: ResolvedPlan;
  try {
    plan = await resolveWithSsh(project, runbookName, inventoryName, io.env);
  } catch (e) {
    if (e instanceof ResolveError)
      throw new ExitError(
        EXIT.PROBLEMS,
        `${e.file ? `${e.file}${e.line ? `:${e.line}:${e.col}` : ''}: ` : ''}${e.message}: nothing was run`,
      );
    throw e;
  }
  return { project, plan, root: project.root, warnings: relevant.filter((d) => d.severity === 'warning') };
}

/**
 * The project a run reads, and the runbook's name: a runbook file (with what it uses; the whole project only when
 * that is unclear), or a name looked up in the project around the current folder.
 */
function loadRunbook(runbookArg: string, io: CliIO): { project: Project; runbookName: string } {
  if (!isPath(runbookArg)) {
    const root = findRoot(io.cwd);
    return { project: loadForRun(root, { name: runbookArg }) ?? loadWithRoot([root]), runbookName: runbookArg };
  }
  if (!existsSync(runbookArg) || !statSync(runbookArg).isFile())
    throw new ExitError(EXIT.USAGE, `runbook file not found: ${runbookArg}`);
  // a run reads what it uses (the whole project only when that is unclear): see loadForRun
  const project = loadForRun(findRoot(runbookArg), { file: runbookArg }) ?? loadWithRoot([runbookArg]);
  const rel = path.relative(io.cwd, path.resolve(runbookArg)) || runbookArg;
  const loaded = [...project.runbooks.values()].find((r) => path.resolve(r.file.file) === path.resolve(rel));
  if (!loaded) {
    printDiagnostics(
      project.diagnostics.filter((d) => path.resolve(d.file) === path.resolve(rel)),
      project,
      io,
    );
    throw new ExitError(EXIT.PROBLEMS, `${runbookArg} is not a valid runbook: nothing was run`);
  }
  return { project, runbookName: loaded.data.name };
}

/** An inventory file given by path, added to the project: its name. */
function addInventory(project: Project, inventoryArg: string, io: CliIO): string {
  if (!existsSync(inventoryArg)) throw new ExitError(EXIT.USAGE, `inventory file not found: ${inventoryArg}`);
  const rel = path.relative(io.cwd, path.resolve(inventoryArg)) || inventoryArg;
  // a lifeboat inventory, or an Ansible one in INI or YAML form (decision 0027)
  addInventoryFile(project, rel);
  const inv = [...project.inventories.values()].find((i) => path.resolve(i.file.file) === path.resolve(rel));
  if (!inv) {
    const sources = new Set([rel, ...(project.ansibleSources?.get(rel) ?? [])].map((f) => path.resolve(f)));
    printDiagnostics(
      sortDiagnostics(project.diagnostics.filter((d) => sources.has(path.resolve(d.file)))),
      project,
      io,
    );
    throw new ExitError(EXIT.PROBLEMS, `${inventoryArg} is not a valid inventory: nothing was run`);
  }
  return inv.data.name;
}

/** Refuse a run whose files have errors (only the files this run uses can block it); the diagnostics of those files. */
function refuseErrors(project: Project, runbookName: string, inventoryName: string, io: CliIO): Diagnostic[] {
  const usedInventory = project.inventories.get(inventoryName)!;
  const used = new Set<string>(usedInventory.ansible?.sources ?? [usedInventory.file.file]);
  for (const n of includesOf(project, runbookName)) {
    const r = project.runbooks.get(n);
    if (r) used.add(r.file.file);
  }
  const all = sortDiagnostics([
    ...project.diagnostics,
    ...checkSemantics(project),
    ...lintProject(project, { git: false }),
  ]);
  const relevant = all.filter((d) => used.has(d.file));
  if (hasErrors(relevant)) {
    printDiagnostics(relevant, project, io);
    throw new ExitError(
      EXIT.PROBLEMS,
      `the runbook has errors (${summarize(relevant)}): nothing was run`,
      'fix them, check with `lifeboat validate`, and run again',
    );
  }
  return relevant;
}

/**
 * Resolve the plan; hosts without an address are looked up where OpenSSH would connect, all at
 * once (a first pass finds which hosts the plan uses). A plan whose hosts all have addresses
 * never starts `ssh`.
 */
async function resolveWithSsh(
  project: Project,
  runbookName: string,
  inventoryName: string,
  env: NodeJS.ProcessEnv,
): Promise<ResolvedPlan> {
  const inv = project.inventories.get(inventoryName)!;
  const wanted: Array<{ name: string; user?: string; port?: number }> = [];
  const first = resolvePlan(project, runbookName, inventoryName, {
    env,
    sshConfigLookup: (q) => {
      wanted.push(q);
      return {};
    },
  });
  if (!wanted.length) return first;
  const { SshResolver } = await import('../transport/ssh-resolve.js');
  const resolver = new SshResolver({ configPath: inventorySshConfig(inv.data, env, path.dirname(inv.file.file)), env });
  try {
    await resolver.prefetch(wanted);
  } catch (e) {
    throw new ResolveError(
      'hosts without an address are resolved by ' +
        `${resolver.kind === 'openssh' ? '`ssh -G`' : 'the built-in ssh_config resolver'}` +
        `, which failed: ${(e as Error).message}`,
      inv.file.file,
    );
  }
  return resolvePlan(project, runbookName, inventoryName, {
    env,
    sshConfigLookup: (q): Partial<SshHost> => resolver.host(q),
  });
}

export function printDiagnostics(list: Diagnostic[], project: Project, io: CliIO) {
  const sources = new Map([...project.files].map(([k, v]) => [k, v.text]));
  for (const d of list) io.stderr.write(formatDiagnostic(d, { sources, color: useColor(io, io.stderr) }) + '\n\n');
}

/** Secret values from env, a private file, or a prompt. Never printed. */
export async function resolveSecrets(
  plan: ResolvedPlan,
  io: CliIO,
  operator: Operator | undefined,
  warn: (s: string) => void,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, src] of Object.entries(plan.secrets)) {
    if ('env' in src) {
      const v = io.env[src.env];
      if (v === undefined || v === '')
        throw new ExitError(
          EXIT.PROBLEMS,
          `secret '${name}': environment variable ${src.env} is not set`,
          `export ${src.env}=… before the run (it is never printed or journaled)`,
        );
      out[name] = v;
    } else if ('file' in src) {
      const p = path.resolve(path.dirname(plan.runbook.file), expandPath(src.file, io.env));
      let st;
      try {
        st = statSync(p);
      } catch {
        throw new ExitError(EXIT.PROBLEMS, `secret '${name}': file ${p} not found`);
      }
      if ((st.mode & 0o077) !== 0)
        warn(
          `warning: secret '${name}' comes from ${p}, which others can read (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${p}`,
        );
      out[name] = readFileSync(p, 'utf8').replace(/\r?\n$/, '');
    } else {
      if (!operator)
        throw new ExitError(
          EXIT.PROBLEMS,
          `secret '${name}' is asked by prompt and nobody is there to type it`,
          'run in a terminal, or give it through env/file',
        );
      out[name] = await operator.secret({ name, prompt: src.prompt });
    }
  }
  return out;
}

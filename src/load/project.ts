// Loads a set of files and folders into a Project: every runbook, inventory and site found,
// each schema-checked, with all diagnostics collected (nothing thrown).
import { readdirSync, statSync, existsSync, realpathSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../model/diagnostic.js';
import type { Runbook, Inventory, Site } from '../model/types.js';
import { readYamlFile, MAX_FILE_BYTES, type YamlFile } from './read-yaml.js';
import { checkSchema, detectKind, type Kind } from './check-schema.js';
import { compareText } from '../util/compare.js';
import { sniffAnsible, isAnsibleYamlShape, loadAnsible } from './ansible/load.js';
import { parseDocument } from 'yaml';

export interface Loaded<T> {
  kind: Kind;
  file: YamlFile;
  data: T;
  valid: boolean;
  /** an Ansible inventory given with -i, read as a lifeboat one (decision 0027) */
  ansible?: AnsibleOrigin;
}

export interface AnsibleOrigin {
  format: 'ini' | 'yaml';
  /** per host, per field: the file:line:col and var that set it */
  origins: Record<string, Record<string, string>>;
  /** per host: its name in the Ansible inventory and its groups */
  hosts: Record<string, { ansibleName: string; groups: string[] }>;
  /** hosts with ansible_connection=local */
  local: Set<string>;
  /** every file read for it, the inventory first (host_vars/, group_vars/ after) */
  sources: string[];
  /** what the inventory's digest is taken over: every file read, so a changed group_vars file counts */
  digestText: string;
}

export interface Project {
  /** folder that holds site.yaml (or the first folder given) */
  root: string;
  runbooks: Map<string, Loaded<Runbook>>;
  inventories: Map<string, Loaded<Inventory>>;
  site?: Loaded<Site>;
  /** every file read, by path, for diagnostics with source lines */
  files: Map<string, YamlFile>;
  diagnostics: Diagnostic[];
  /** names of runbooks in files that could not be read as YAML (from their `name:` line): not reported missing */
  unreadable?: Set<string>;
  /** the files an Ansible inventory given by path was read from, by the inventory's path (decision 0027) */
  ansibleSources?: Map<string, string[]>;
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.lifeboat', 'dist']);

export function expandPaths(paths: string[]): { files: string[]; missing: string[]; outside: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const outside: string[] = [];
  const walk = (dir: string, top: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => compareText(a.name, b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p, top);
        continue;
      }
      if (!/\.ya?ml$/i.test(e.name)) continue;
      // a link found in a folder is read only if it stays inside it: a committed `x.yaml -> /etc/shadow` must not be
      // printed in diagnostics
      if (e.isSymbolicLink()) {
        let real: string | undefined;
        try {
          real = realpathSync(p);
        } catch {
          real = undefined;
        }
        if (!real || (real !== top && !real.startsWith(top + path.sep)) || !statSync(real).isFile()) {
          outside.push(p);
          continue;
        }
      }
      files.push(p);
    }
  };
  for (const p of paths) {
    if (!existsSync(p)) {
      missing.push(p);
      continue;
    }
    if (statSync(p).isDirectory()) walk(p, realpathSync(p));
    else files.push(p);
  }
  return { files: [...new Set(files)], missing, outside: [...new Set(outside)] };
}

function outsideLink(file: string): Diagnostic {
  return {
    file,
    line: 0,
    col: 0,
    severity: 'error',
    code: 'file-unreadable',
    message: 'a symbolic link that leads out of the project folder (or nowhere): not read',
    hint: 'copy the file into the project, or give its path on the command line',
  };
}

/** the folder a runbook's includes and site are looked up in: nearest ancestor with site.yaml */
export function findRoot(start: string): string {
  let dir = path.resolve(start);
  try {
    if (!statSync(dir).isDirectory()) dir = path.dirname(dir);
  } catch {
    dir = path.dirname(dir);
  }
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'site.yaml'))) return d;
    if (path.dirname(d) === d) break;
  }
  // run from a repository's top: its runbooks/ folder is the project
  if (existsSync(path.join(dir, 'runbooks', 'site.yaml'))) return path.join(dir, 'runbooks');
  return dir;
}

export function loadProject(paths: string[], opts: { root?: string } = {}): Project {
  const { files, missing, outside } = expandPaths(paths);
  const project: Project = {
    root: opts.root ?? findRoot(paths[0] ?? '.'),
    runbooks: new Map(),
    inventories: new Map(),
    files: new Map(),
    diagnostics: [],
  };
  for (const m of missing)
    project.diagnostics.push({
      file: m,
      line: 0,
      col: 0,
      severity: 'error',
      code: 'file-unreadable',
      message: 'no such file or folder',
      hint: 'check the path',
    });
  for (const o of outside) project.diagnostics.push(outsideLink(o));
  // a file named on its own may be an Ansible inventory (decision 0027); found in a folder, it is not read
  const given = new Set(
    paths
      .filter((p) => {
        try {
          return statSync(p).isFile();
        } catch {
          return false;
        }
      })
      .map((p) => path.resolve(p)),
  );
  for (const f of files)
    if (given.has(path.resolve(f))) addInventoryFile(project, f);
    else addFile(project, f);
  return project;
}

/** how a file is named in diagnostics: relative to cwd when below it, else absolute */
export const displayPath = (f: string) => {
  const rel = path.relative(process.cwd(), path.resolve(f));
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(f);
};

export function addFile(project: Project, f: string): Loaded<unknown> | undefined {
  const shown = displayPath(f);
  if (project.files.has(shown)) return undefined;
  const r = readYamlFile(shown);
  project.diagnostics.push(...r.diagnostics);
  if (!r.file) {
    // a YAML syntax error is one mistake: other files that name this runbook are not wrong too
    const name = peekName(shown);
    if (name) (project.unreadable ??= new Set()).add(name);
    return undefined;
  }
  const top = r.file.data as Record<string, unknown> | null;
  if (
    top &&
    typeof top === 'object' &&
    !Array.isArray(top) &&
    !('lifeboat' in top) &&
    !('kind' in top) &&
    isAnsibleYamlShape(top)
  ) {
    // read only when given with -i (addInventoryFile): it says nothing about the runbooks beside it
    project.diagnostics.push({
      file: r.file.file,
      line: 1,
      col: 1,
      severity: 'warning',
      code: 'ansible-inventory-skipped',
      message: 'an Ansible inventory: read only when given with -i',
      hint: `check it with \`lifeboat validate ${r.file.file}\` or use it with \`-i ${r.file.file}\``,
    });
    return undefined;
  }
  project.files.set(r.file.file, r.file);
  const kind = detectKind(r.file);
  if (typeof kind !== 'string') {
    project.diagnostics.push(kind);
    return undefined;
  }
  const schemaDiags = checkSchema(r.file, kind);
  project.diagnostics.push(...schemaDiags);
  const loaded = { kind, file: r.file, data: r.file.data as any, valid: schemaDiags.length === 0 };
  const name: unknown = (r.file.data as any)?.name;
  if (kind === 'site') {
    if (project.site) {
      const s = r.file.spanOf(['kind']);
      project.diagnostics.push({
        file: r.file.file,
        line: s.line,
        col: s.col,
        severity: 'error',
        code: 'duplicate-site',
        message: `a second site file (the first is ${project.site.file.file})`,
        hint: 'keep one site.yaml per set of runbooks',
      });
    } else project.site = loaded;
    return loaded;
  }
  if (typeof name !== 'string') return loaded;
  const map = kind === 'runbook' ? project.runbooks : project.inventories;
  const prev = map.get(name);
  if (prev) {
    const s = r.file.spanOf(['name']);
    project.diagnostics.push({
      file: r.file.file,
      line: s.line,
      col: s.col,
      severity: 'error',
      code: 'duplicate-name',
      message: `${kind} name '${name}' is already used by ${prev.file.file}`,
      hint: `names are unique: rename one of them`,
    });
    return loaded;
  }
  map.set(name, loaded as any);
  return loaded;
}

/**
 * An inventory file given by path (-i, or validated on its own): a lifeboat inventory, or an
 * Ansible inventory in INI or YAML form read as one (decision 0027). An Ansible inventory with
 * errors is not added; its diagnostics are, and project.ansibleSources names its files.
 */
export function addInventoryFile(project: Project, f: string): Loaded<unknown> | undefined {
  const shown = displayPath(f);
  const known = [...project.inventories.values()].find((l) => path.resolve(l.file.file) === path.resolve(shown));
  if (known) return known;
  let text: string;
  try {
    const st = statSync(shown);
    if (!st.isFile() || st.size > MAX_FILE_BYTES) return addFile(project, f);
    text = readFileSync(shown, 'utf8');
  } catch {
    return addFile(project, f);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const format = sniffAnsible(shown, text);
  if (!format) return project.files.has(shown) ? undefined : addFile(project, f);
  // a walk of the folder may have skipped it already: its note goes, it is read now
  project.diagnostics = project.diagnostics.filter(
    (d) => !(d.file === shown && d.code === 'ansible-inventory-skipped'),
  );
  let yf: YamlFile | undefined;
  if (format === 'yaml') {
    const r = readYamlFile(shown);
    if (!r.file) {
      project.diagnostics.push(...r.diagnostics);
      return undefined;
    }
    yf = r.file;
  }
  const { parsed, lifeboat } = loadAnsible(shown, text, format, yf);
  const sources = [shown, ...parsed.extraFiles.map((x) => x.file)];
  (project.ansibleSources ??= new Map()).set(shown, sources);
  const file = ansibleFile(shown, text, lifeboat.data, lifeboat.positions, lifeboat.hosts);
  project.files.set(shown, file);
  for (const x of parsed.extraFiles) if (!project.files.has(x.file)) project.files.set(x.file, x);
  const problems = [...parsed.diagnostics, ...lifeboat.diagnostics];
  // the result holds to the inventory schema like any other (a mistake here is lifeboat's)
  const schema = problems.some((d) => d.severity === 'error') ? [] : checkSchema(file, 'inventory');
  project.diagnostics.push(...problems, ...schema);
  if ([...problems, ...schema].some((d) => d.severity === 'error')) return undefined;
  const loaded: Loaded<Inventory> = {
    kind: 'inventory',
    file,
    data: lifeboat.data,
    valid: true,
    ansible: {
      format,
      origins: lifeboat.origins,
      local: lifeboat.local,
      sources,
      hosts: Object.fromEntries(
        Object.entries(lifeboat.hosts).map(([k, v]) => [k, { ansibleName: v.ansibleName, groups: v.groups }]),
      ),
      digestText: [text, ...parsed.extraFiles.map((x) => `\0${x.file}\0${x.text}`)].join(''),
    },
  };
  const prev = project.inventories.get(lifeboat.data.name);
  if (prev) {
    project.diagnostics.push({
      file: shown,
      line: 1,
      col: 1,
      severity: 'error',
      code: 'duplicate-name',
      message: `inventory name '${lifeboat.data.name}' (from the file name) is already used by ${prev.file.file}`,
      hint: 'set lifeboat_name=OTHER-NAME in the vars of all, or rename the file',
    });
    return undefined;
  }
  project.inventories.set(lifeboat.data.name, loaded);
  return loaded;
}

/** The YamlFile an Ansible inventory stands as: its own text for source lines, positions mapped back to it. */
function ansibleFile(
  file: string,
  text: string,
  data: Inventory,
  positions: Map<string, { file: string; line: number; col: number; endCol?: number }>,
  hosts: Record<string, { at: { file: string; line: number; col: number } }>,
): YamlFile {
  const doc = parseDocument(JSON.stringify(data));
  const here = (p: { file: string; line: number; col: number; endCol?: number } | undefined) =>
    p && p.file === file ? { line: p.line, col: p.col, endLine: p.line, endCol: p.endCol ?? p.col } : undefined;
  return {
    file,
    text,
    doc,
    data,
    spanOf: (p) => {
      const key = p.map(String).join('.');
      const host = p[0] === 'hosts' && typeof p[1] === 'string' ? hosts[p[1]]?.at : undefined;
      return here(positions.get(key)) ?? here(host) ?? { line: 1, col: 1, endLine: 1, endCol: 1 };
    },
  };
}

/** Also load the rest of the root folder (for includes, the site and named inventories). */
export function loadWithRoot(paths: string[]): Project {
  const root = findRoot(paths[0] ?? '.');
  const project = loadProject(paths, { root });
  // compared as absolute paths: a file given as /abs/x.yaml and found again as ../x.yaml is the same file
  const given = new Set([...project.files.keys()].map((k) => path.resolve(k)));
  // diagnostics of files pulled in only for context are kept too: an include of a broken runbook is an error
  const { files, outside } = expandPaths([root]);
  for (const o of outside)
    if (!project.diagnostics.some((d) => d.file === o && d.code === 'file-unreadable'))
      project.diagnostics.push(outsideLink(o));
  for (const f of files) {
    if (!given.has(path.resolve(f))) addFile(project, f);
  }
  return project;
}

// ---- what a run reads ------------------------------------------------------------------------

const KIND_LINE = /^kind:[ \t]*(["']?)([a-z]+)\1[ \t]*(?:#.*)?$/gm;
const NAME_LINE = /^name:[ \t]*(["']?)([a-z0-9][a-z0-9-]*)\1[ \t]*(?:#.*)?$/gm;
const PEEK_LIMIT = 1 << 20;

/** a `name:` line at the top level of a file that is not valid YAML */
function peekName(file: string): string | undefined {
  try {
    const names = [...readFileSync(file, 'utf8').matchAll(NAME_LINE)];
    return names.length === 1 ? names[0][2] : undefined;
  } catch {
    return undefined;
  }
}

/** A runbook's kind and name from its top-level lines, without parsing it; undefined when unsure. */
function peekRunbookName(file: string): string | undefined {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > PEEK_LIMIT) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // one plain block-style document only: anything else is read in full
  if (/^(?:---|\.\.\.|%)/m.test(text) || /^\s*(?:#.*\n\s*)*[{[]/.test(text)) return undefined;
  const kinds = [...text.matchAll(KIND_LINE)];
  const names = [...text.matchAll(NAME_LINE)];
  if (kinds.length !== 1 || names.length !== 1 || kinds[0][2] !== 'runbook') return undefined;
  return names[0][2];
}

/**
 * The part of a project a run needs: the site, every inventory (rehearsal checks compare them),
 * the runbook and the runbooks it includes, transitively; other runbooks are not read. A runbook
 * is found by a look at its `kind:` and `name:` lines; when that cannot tell for sure which file
 * holds a needed runbook (none, two, or written unusually) this returns undefined and the caller
 * loads the whole project, as `validate` does. Diagnostics of the files read are the same as in
 * a whole-project load; diagnostics that only other runbooks could cause are not made.
 */
export function loadForRun(root: string, want: { file?: string; name?: string }): Project | undefined {
  const { files, outside } = expandPaths([root]);
  const project: Project = { root, runbooks: new Map(), inventories: new Map(), files: new Map(), diagnostics: [] };
  for (const o of outside) project.diagnostics.push(outsideLink(o));
  const given = want.file ? path.resolve(want.file) : undefined;
  let name = want.name;
  if (want.file) {
    const loaded = addFile(project, want.file);
    const n: unknown = (loaded?.data as { name?: unknown } | undefined)?.name;
    if (!loaded || loaded.kind !== 'runbook' || typeof n !== 'string') return undefined;
    name = n;
  }
  if (!name) return undefined;
  // every file but the runbooks recognised from their first lines, in the order a full load reads them
  const byName = new Map<string, string[]>();
  for (const f of files) {
    if (path.resolve(f) === given) continue;
    const rb = peekRunbookName(f);
    if (rb === undefined) {
      addFile(project, f);
      continue;
    }
    byName.set(rb, [...(byName.get(rb) ?? []), f]);
  }
  const queue = [name];
  const done = new Set<string>();
  while (queue.length) {
    const n = queue.shift()!;
    if (done.has(n)) continue;
    done.add(n);
    const candidates = byName.get(n) ?? [];
    if (project.runbooks.has(n)) {
      if (candidates.length) return undefined;
    } else {
      if (candidates.length !== 1) return undefined;
      addFile(project, candidates[0]);
      if (project.runbooks.get(n)?.file.file !== displayPath(candidates[0])) return undefined;
    }
    const steps: unknown = project.runbooks.get(n)!.data?.steps;
    if (Array.isArray(steps)) for (const s of steps) if (typeof s?.include === 'string') queue.push(s.include);
  }
  return project;
}

// Checks that need more than the schema: references between steps, roles, inventories,
// templates and runbooks. Each check has its own code (docs/DIAGNOSTICS.md) and points at
// the offending node; template problems point inside the YAML string at the `{{`.
import { checkInventoryPaths } from './inventory-paths.js';
import type { Diagnostic, Severity } from '../model/diagnostic.js';
import type { Runbook, Step, Condition, Expect, Inventory } from '../model/types.js';
import type { Project, Loaded } from './project.js';
import type { YamlFile, YamlPath } from './read-yaml.js';
import { parseTemplate, SITE_VAR_VALUE, type TemplateRef } from '../plan/template.js';
import { closest, didYouMean } from '../util/suggest.js';
import { recoveryPhases, phaseOf, type OrderPath } from '../plan/recovery-order.js';

// ---------------------------------------------------------------------------------------------
// positions

const lineStartCache = new WeakMap<YamlFile, number[]>();

function lineStarts(f: YamlFile): number[] {
  let ls = lineStartCache.get(f);
  if (!ls) {
    ls = [0];
    for (let i = 0; i < f.text.length; i++) if (f.text[i] === '\n') ls.push(i + 1);
    lineStartCache.set(f, ls);
  }
  return ls;
}

const toOffset = (f: YamlFile, line: number, col: number): number => (lineStarts(f)[line - 1] ?? 0) + col - 1;

function toLineCol(f: YamlFile, offset: number): { line: number; col: number } {
  const ls = lineStarts(f);
  let lo = 0;
  let hi = ls.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ls[mid] <= offset) lo = mid; else hi = mid - 1;
  }
  return { line: lo + 1, col: offset - ls[lo] + 1 };
}

// offsets of `{{` in text, scanning without overlap (the same scan on value and source keeps them in step)
function braceOffsets(text: string, from = 0, to = text.length): number[] {
  const out: number[] = [];
  for (let i = text.indexOf('{{', from); i >= 0 && i < to; i = text.indexOf('{{', i + 2)) out.push(i);
  return out;
}

interface BraceIndex { source: string; lineStarts: number[]; inValue: number[]; inSource: number[] }
const braceCache = new WeakMap<YamlFile, Map<string, BraceIndex>>();

// the `{{` offsets of one value and of its node's source text, computed once per field
function braceIndex(f: YamlFile, path: YamlPath, source: string): BraceIndex {
  let byPath = braceCache.get(f);
  if (!byPath) braceCache.set(f, (byPath = new Map()));
  const key = JSON.stringify(path);
  const hit = byPath.get(key);
  if (hit && hit.source === source) return hit;
  const span = f.spanOf(path);
  const ls = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === '\n') ls.push(i + 1);
  const idx = { source, lineStarts: ls, inValue: braceOffsets(source), inSource: braceOffsets(f.text, toOffset(f, span.line, span.col), toOffset(f, span.endLine, span.endCol)) };
  byPath.set(key, idx);
  return idx;
}

/**
 * Where a place inside a template value (1-based line, 0-based column, as Handlebars reports
 * it) sits in the YAML source. The value may be plain, quoted or a block scalar, so instead of
 * re-implementing YAML folding we count `{{` openings: the n-th one in the value is the n-th
 * one in the node's source text.
 */
export function templatePosition(f: YamlFile, path: YamlPath, source: string, line: number, column: number): { line: number; col: number; endCol?: number } {
  const bi = braceIndex(f, path, source);
  const at = (bi.lineStarts[line - 1] ?? 0) + column;
  // binary search: how many `{{` open before `at`
  let lo = 0;
  let hi = bi.inValue.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (bi.inValue[mid] < at) lo = mid + 1; else hi = mid; }
  const o = bi.inSource[lo];
  if (o === undefined) { const span = f.spanOf(path); return { line: span.line, col: span.col }; }
  const pos = toLineCol(f, o);
  const close = f.text.indexOf('}}', o);
  const nl = f.text.indexOf('\n', o);
  const endCol = close >= 0 && (nl < 0 || close < nl) ? pos.col + (close - o) + (f.text[close + 2] === '}' ? 3 : 2) : undefined;
  return { ...pos, endCol };
}

export function diagAt(f: YamlFile, path: YamlPath, key: boolean, severity: Severity, code: string, message: string, hint?: string): Diagnostic {
  const s = f.spanOf(path, key);
  return { file: f.file, line: s.line, col: s.col, endLine: s.endLine, endCol: s.endCol, severity, code, message, hint };
}

// ---------------------------------------------------------------------------------------------
// small helpers shared with the DR lint

export const stepName = (s: Step, i: number) => (typeof s?.id === 'string' ? `step '${s.id}'` : `step ${i + 1}`);
export const targetsOf = (s: Step): string[] => (s.on === undefined ? [] : Array.isArray(s.on) ? s.on : [s.on]);
export const roleHost = (spec: unknown): string | undefined => (typeof spec === 'string' ? spec : (spec as { host?: string } | undefined)?.host);
export const HOST_FIELDS = ['name', 'address', 'user', 'port'];

/** The template-bearing fields of a step, with their YAML paths; `shell` ones are quoted on insertion. */
export function templateFields(s: Step, i: number): { path: YamlPath; source: string; field: string; shell: boolean }[] {
  const out: { path: YamlPath; source: string; field: string; shell: boolean }[] = [];
  const base: YamlPath = ['steps', i];
  for (const k of ['run', 'skip_if', 'rollback'] as const) if (typeof s[k] === 'string') out.push({ path: [...base, k], source: s[k]!, field: k, shell: true });
  for (const k of ['confirm', 'manual'] as const) if (typeof s[k] === 'string') out.push({ path: [...base, k], source: s[k]!, field: k, shell: false });
  for (const [k, v] of Object.entries(s.env ?? {})) out.push({ path: [...base, 'env', k], source: v, field: `env.${k}`, shell: false });
  const w = s.when === undefined ? [] : Array.isArray(s.when) ? s.when : [s.when];
  w.forEach((c, j) => {
    if (typeof c?.value === 'string') out.push({ path: Array.isArray(s.when) ? [...base, 'when', j, 'value'] : [...base, 'when', 'value'], source: c.value, field: 'when.value', shell: false });
  });
  if (typeof s.title === 'string') out.push({ path: [...base, 'title'], source: s.title, field: 'title', shell: false });
  // what a command's output is compared with: a value captured earlier (a checksum taken on the source) is the common case
  for (const k of ['expect', 'until'] as const) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const m = s[k]?.[stream];
      if (typeof m === 'string') out.push({ path: [...base, k, stream], source: m, field: `${k}.${stream}`, shell: false });
      else if (m && typeof m === 'object' && typeof m.contains === 'string') out.push({ path: [...base, k, stream, 'contains'], source: m.contains, field: `${k}.${stream}.contains`, shell: false });
    }
  }
  return out;
}

/**
 * The one rule of which step fields take templates: those of templateFields. Every other
 * string of a step is used as written, so a `{{` there is an error, not silent literal text.
 */
export function nonTemplateStrings(s: Step, i: number): { path: YamlPath; field: string }[] {
  const takes = new Set(templateFields(s, i).map((t) => t.path.join('\0')));
  const out: { path: YamlPath; field: string }[] = [];
  const walk = (v: unknown, path: YamlPath) => {
    if (typeof v === 'string') { if (v.includes('{{') && !takes.has(path.join('\0'))) out.push({ path, field: path.slice(2).join('.') }); return; }
    if (Array.isArray(v)) { v.forEach((x, j) => walk(x, [...path, j])); return; }
    if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(s, ['steps', i]);
  return out;
}

/**
 * The strings outside steps that contain `{{`: a runbook's own fields (title, description,
 * vars, lock, …), every inventory field and every site field are used as written, so a `{{`
 * there would stay literal text. `skip` names top-level keys checked elsewhere.
 */
export function literalBraces(data: unknown, skip: readonly string[] = []): YamlPath[] {
  const out: YamlPath[] = [];
  const walk = (v: unknown, path: YamlPath) => {
    if (typeof v === 'string') {
      // prose may show a template as written inside a Markdown code span (`{{ vars.pg_bin }}/pg_ctl`); a var's value may not
      const text = path[0] === 'vars' ? v : v.replace(CODE_SPAN, '');
      if (text.includes('{{')) out.push(path);
      return;
    }
    if (Array.isArray(v)) { v.forEach((x, j) => walk(x, [...path, j])); return; }
    if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (!(path.length === 0 && skip.includes(k))) walk(x, [...path, k]);
  };
  walk(data, []);
  return out;
}
const CODE_SPAN = /(`+)[^`]*?\1/g;

const LITERAL_HINT = 'templates work only in a step\'s run, skip_if, rollback, confirm, manual, title, env values, when.value and the expect/until stdout/stderr values; vars, inventories and the site are used as written — write the value itself (docs/LANGUAGE.md)';

const siteTakesVar = (path: YamlPath) => path.length === 3 && path[0] === 'network' && path[2] === 'address';

function checkLiteralBraces(f: YamlFile, data: unknown, what: string, out: Diagnostic[], skip: readonly string[] = [], takesVar: (p: YamlPath) => boolean = () => false): void {
  const value = (path: YamlPath) => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)?.[k], data);
  for (const path of literalBraces(data, skip)) {
    if (takesVar(path)) {
      if (SITE_VAR_VALUE.test(String(value(path)))) continue;
      out.push(diagAt(f, path, false, 'error', 'template-not-allowed', `${what} ${path.join('.')}: only a whole value \`{{ vars.NAME }}\` is read here (the inventory's var); other {{ … }} would stay literal text`, 'write the address itself, or exactly "{{ vars.NAME }}" naming a var every inventory sets'));
      continue;
    }
    out.push(diagAt(f, path, false, 'error', 'template-not-allowed', `${what} ${path.join('.')}: this field does not take templates; the {{ … }} would stay literal text`, LITERAL_HINT));
  }
}

/** every name a runbook's steps capture (capture: and record:), following includes */
export function capturesOf(project: Project, rb: Runbook, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(rb.name)) return out;
  seen.add(rb.name);
  for (const s of rb.steps) {
    if (s.capture) out.add(s.capture);
    if (s.record) out.add(s.record);
    const child = s.include ? project.runbooks.get(s.include) : undefined;
    if (child?.valid) for (const c of capturesOf(project, child.data, seen)) out.add(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

export function checkSemantics(project: Project): Diagnostic[] {
  const out: Diagnostic[] = [];
  const inventories = [...project.inventories.values()].filter((i) => i.valid);
  for (const rb of project.runbooks.values()) {
    if (!rb.valid) continue;
    checkRunbook(project, rb, inventories, out);
    checkLiteralBraces(rb.file, rb.data, `runbook '${rb.data.name}'`, out, ['steps']);
  }
  for (const inv of inventories) {
    checkInventory(inv, out);
    out.push(...checkInventoryPaths(inv));
    checkLiteralBraces(inv.file, inv.data, `inventory '${inv.data.name}'`, out);
  }
  if (project.site?.valid) {
    checkSite(project, out);
    checkLiteralBraces(project.site.file, project.site.data, 'site', out, [], siteTakesVar);
  }
  checkIncludeCycles(project, out);
  return out;
}

function checkRunbook(project: Project, rb: Loaded<Runbook>, inventories: Loaded<Inventory>[], out: Diagnostic[]): void {
  const f = rb.file;
  const r = rb.data;
  const roles = r.roles ?? {};
  const roleNames = Object.keys(roles);
  const push = (path: YamlPath, code: string, message: string, hint?: string, key = false, severity: Severity = 'error') => out.push(diagAt(f, path, key, severity, code, message, hint));
  const invNames = inventories.map((i) => `'${i.data.name}'`).join(', ');
  // host names are only known from inventories: without one, a name that is no role is checked for typos only
  const inAllInventories = (h: string) => inventories.every((i) => h in i.data.hosts);
  const inAnyInventory = (h: string) => inventories.some((i) => h in i.data.hosts);
  const allHosts = [...new Set(inventories.flatMap((i) => Object.keys(i.data.hosts)))];

  // roles bound to hosts every inventory has
  for (const [role, spec] of Object.entries(roles)) {
    const host = roleHost(spec);
    if (!host || host === 'local') continue;
    for (const inv of inventories) {
      if (!(host in inv.data.hosts)) {
        push(typeof spec === 'string' ? ['roles', role] : ['roles', role, 'host'], 'unknown-host',
          `role '${role}' is bound to host '${host}', which inventory '${inv.data.name}' (${inv.file.file}) does not have${didYouMean(host, Object.keys(inv.data.hosts))}`,
          `add host '${host}' to every inventory (a runbook must run on lab and production alike), or bind the role to an existing host`);
      }
    }
  }

  /** a target of on:, unreachable:, reachable: or lock.on: a role, an inventory host, or local */
  const checkTarget = (path: YamlPath, target: string, what: string, allowLocal = true) => {
    if (target in roles || (allowLocal && target === 'local')) return;
    if (target === 'local') {
      push(path, 'unknown-target', `${what} 'local' (the operator's machine) cannot be used here`, 'name a role from `roles:` or an inventory host');
      return;
    }
    const candidates = [...roleNames, ...allHosts, ...(allowLocal ? ['local'] : [])];
    if (inventories.length === 0) {
      // no inventory loaded: only a near-miss of a role name is certainly wrong
      const near = closest(target, roleNames);
      if (near) push(path, 'unknown-target', `${what} '${target}' is not a role of this runbook — did you mean '${near}'?`, 'name a role from `roles:`, an inventory host, or local');
      return;
    }
    if (inAllInventories(target)) return;
    if (inAnyInventory(target)) {
      const lacking = inventories.filter((i) => !(target in i.data.hosts)).map((i) => `'${i.data.name}'`).join(', ');
      push(path, 'unknown-host', `${what} '${target}' is a host of some inventories but not of ${lacking}`, 'bind it to a role, or add the host to every inventory');
      return;
    }
    push(path, 'unknown-target', `${what} '${target}' is neither a role of this runbook, a host of inventory ${invNames}, nor local${didYouMean(target, candidates)}`, 'name a role from `roles:`, an inventory host, or local');
  };

  if (r.lock) checkTarget(['lock', 'on'], r.lock.on, 'lock.on', false);

  // vars: the runbook's defaults, or a value every inventory provides (inventory vars override defaults)
  const runbookVars = new Set(Object.keys(r.vars ?? {}));
  const varDefined = (name: string): true | string => {
    if (runbookVars.has(name)) return true;
    if (inventories.length && inventories.every((i) => i.data.vars && name in i.data.vars)) return true;
    if (!inventories.length) {
      // no inventory loaded: the value may come from one, so only a near-miss of a default is certainly wrong
      const near = closest(name, runbookVars);
      return near ? `{{ vars.${name} }} is not a var of this runbook — did you mean '${near}'? (no inventory was loaded to look in)` : true;
    }
    const having = inventories.filter((i) => i.data.vars && name in i.data.vars).map((i) => `'${i.data.name}'`);
    const lacking = inventories.filter((i) => !(i.data.vars && name in i.data.vars)).map((i) => `'${i.data.name}'`);
    if (having.length) return `{{ vars.${name} }} is set in inventory ${having.join(', ')} but not in ${lacking.join(', ')}, and the runbook has no default`;
    return `{{ vars.${name} }} is not defined${didYouMean(name, [...runbookVars, ...inventories.flatMap((i) => Object.keys(i.data.vars ?? {}))])}`;
  };
  const secrets = Object.keys(r.secrets ?? {});

  const ids = new Map<string, number>();
  const captured = new Set<string>();
  r.steps.forEach((s, i) => {
    const sp: YamlPath = ['steps', i];
    const name = stepName(s, i);
    if (ids.has(s.id)) {
      push([...sp, 'id'], 'duplicate-id', `step id '${s.id}' is used twice (first as step ${ids.get(s.id)! + 1})`, 'step ids are unique in a runbook: journals and resume refer to them');
    } else ids.set(s.id, i);

    // shape rules the schema cannot say
    const actions = (['run', 'manual', 'include'] as const).filter((k) => s[k] !== undefined);
    if (actions.length > 1) push([...sp, actions[1]], 'conflicting-actions', `${name} has both '${actions[0]}' and '${actions[1]}'`, 'a step does one thing: run a command, ask a person (manual) or include a runbook; split it into two steps', true);
    const targets = targetsOf(s);
    if (s.run !== undefined && targets.length === 0) push([...sp, 'run'], 'run-without-on', `${name} has a command but no 'on:'`, "say where it runs: a role, an inventory host, or 'local'", true);
    if (s.with !== undefined && s.include === undefined) push([...sp, 'with'], 'with-without-include', `${name}: 'with:' only applies to include steps`, 'move these values to the runbook\'s vars, or remove them', true);
    if (s.capture !== undefined && s.run === undefined) push([...sp, 'capture'], 'capture-without-run', `${name}: 'capture:' needs a command ('run:') whose output it stores`, 'for a value a person types, use `manual:` with `record:`', true);
    if (s.measures !== undefined && s.capture === undefined) push([...sp, 'measures'], 'measures-without-capture', `${name}: 'measures: ${s.measures}' reads the step's captured output, but the step has no 'capture:'`, 'add `capture: NAME` to a run step that prints the data-loss window in seconds (or a duration such as 2m)', true);
    if (s.until !== undefined && s.run === undefined) push([...sp, 'until'], 'until-without-run', `${name}: 'until:' polls a command, but the step has no 'run:'`, 'add the command to poll, or remove until', true);
    if (s.record !== undefined && s.manual === undefined) push([...sp, 'record'], 'record-without-manual', `${name}: 'record:' asks a person for a value and needs 'manual:' instructions`, 'add `manual:` telling the operator what to type, or use `capture:` on a run step', true);
    if ((s.strategy !== undefined || s.max_parallel !== undefined) && targets.length < 2) {
      const k = s.strategy !== undefined ? 'strategy' : 'max_parallel';
      push([...sp, k], 'strategy-single-host', `${name}: '${k}' only means something when 'on:' lists several hosts`, 'remove it, or list the hosts in `on:`', true);
    }

    // targets
    if (Array.isArray(s.on)) s.on.forEach((t, j) => checkTarget([...sp, 'on', j], t, 'on:'));
    else if (typeof s.on === 'string') checkTarget([...sp, 'on'], s.on, 'on:');

    // include
    if (s.include !== undefined) {
      const child = project.runbooks.get(s.include);
      if (!child && project.unreadable?.has(s.include)) {
        // its file has a YAML error, reported there
      } else if (!child) {
        push([...sp, 'include'], 'unknown-runbook', `${name} includes '${s.include}', which is not a runbook of this project${didYouMean(s.include, project.runbooks.keys())}`, 'include a runbook by its `name:`, and validate the folder that holds it');
      } else if (child.valid && s.with) {
        const childVars = new Set(Object.keys(child.data.vars ?? {}));
        for (const k of Object.keys(s.with)) {
          if (!childVars.has(k)) push([...sp, 'with', k], 'undefined-var', `${name}: runbook '${s.include}' has no var '${k}' to set${didYouMean(k, childVars)}`, `an included runbook declares a default for each var it takes, in its own \`vars:\``, true);
        }
      }
    }

    // conditions
    const conds: { c: Condition; path: YamlPath }[] = s.when === undefined ? [] : Array.isArray(s.when) ? s.when.map((c, j) => ({ c, path: [...sp, 'when', j] })) : [{ c: s.when, path: [...sp, 'when'] }];
    for (const { c, path } of conds) {
      const kinds = (['unreachable', 'reachable', 'value'] as const).filter((k) => c[k] !== undefined);
      const ops = (['equals', 'not_equals', 'matches'] as const).filter((k) => c[k] !== undefined);
      if (kinds.length !== 1) {
        push(path, 'bad-condition', kinds.length ? `${name}: a condition tests one thing, but this one has ${kinds.join(' and ')}` : `${name}: a condition needs 'unreachable:', 'reachable:' or 'value:'`, 'write one condition per list item: `when: [{ unreachable: primary }, { value: "{{ vars.x }}", equals: y }]`');
      } else if (kinds[0] === 'value' && ops.length !== 1) {
        push(path, 'bad-condition', ops.length ? `${name}: 'value:' takes exactly one of equals / not_equals / matches, not ${ops.join(' and ')}` : `${name}: 'value:' needs one of equals / not_equals / matches`, 'e.g. `when: { value: "{{ captured.role }}", equals: primary }`');
      } else if (kinds[0] !== 'value' && ops.length) {
        push(path, 'bad-condition', `${name}: '${ops[0]}' only goes with 'value:', not with '${kinds[0]}:'`, 'split it into two conditions');
      } else if (kinds[0] !== 'value') {
        checkTarget([...path, kinds[0]], c[kinds[0]] as string, `${kinds[0]}:`, false);
      }
      if (typeof c.matches === 'string') checkRegex(f, [...path, 'matches'], c.matches, out);
    }
    for (const k of ['expect', 'until'] as const) {
      const e: Expect | undefined = s[k];
      for (const stream of ['stdout', 'stderr'] as const) {
        const m = e?.[stream];
        if (m && typeof m === 'object' && typeof m.match === 'string') checkRegex(f, [...sp, k, stream, 'match'], m.match, out);
      }
    }

    // templates
    for (const nt of nonTemplateStrings(s, i)) {
      out.push(diagAt(f, nt.path, false, 'error', 'template-not-allowed', `${name} ${nt.field}: this field does not take templates; the {{ … }} would stay literal text`, 'templates work in run, skip_if, rollback, confirm, manual, title, env values, when.value and the expect/until stdout/stderr values (docs/LANGUAGE.md)'));
    }
    const hasHost = s.run !== undefined && targets.length > 0;
    for (const tf of templateFields(s, i)) {
      const t = parseTemplate(tf.source);
      const at = (line: number, column: number) => templatePosition(f, tf.path, tf.source, line, column);
      for (const p of t.problems) {
        const pos = at(p.line, p.column);
        out.push({ file: f.file, line: pos.line, col: pos.col, severity: 'error', code: p.code, message: `${name} ${tf.field}: ${p.message}`, hint: p.code === 'template-syntax' ? 'write values as {{ vars.name }}; a literal {{ cannot appear in a runbook field' : 'runbook templates insert values only: move the logic into `when:` or into the command' });
      }
      for (const ref of t.refs) {
        const pos = at(ref.line, ref.column);
        const d = (code: string, message: string, hint?: string, severity: Severity = 'error') => out.push({ file: f.file, line: pos.line, col: pos.col, endLine: pos.endCol ? pos.line : undefined, endCol: pos.endCol, severity, code, message, hint });
        const problem = refProblem(ref, { varDefined, roles: roleNames, secrets, captured, hasHost, hostNames: (h) => h in roles || (inventories.length ? inAllInventories(h) : true), allHosts: [...roleNames, ...allHosts] });
        if (problem) d('undefined-var', `${name} ${tf.field}: ${problem.message}`, problem.hint);
        else if (tf.field === 'title' && ['captured', 'secrets', 'host'].includes(ref.parts[0])) {
          d('template-not-allowed', `${name} title: {{ ${ref.path} }} is not known when the plan is printed`, 'a title takes {{ vars.* }}, {{ roles.* }} and {{ hosts.* }}; show run-time values in the command or the manual text');
        }
        const v = envName(ref.parts);
        if (tf.shell && ref.inQuotes && !ref.raw) {
          // the quotes may be needed for the text around the value (spaces, $, *): keep them, and bring the value in as a variable
          d('template-in-quotes', `${name} ${tf.field}: {{ ${ref.path} }} sits inside quotes of the command's own`, `pass it through env: (env: { ${v}: "{{ ${ref.path} }}" }) and write $${v} where it stood, in double quotes ("…$${v}…"): a value inserted inside quotes is quoted twice and breaks as soon as it holds a quote`);
        }
        if (tf.shell && ref.inHeredoc && !ref.raw) {
          d('template-in-heredoc', `${name} ${tf.field}: {{ ${ref.path} }} sits inside a here-document, where shell quoting does not apply`, `pass it through env: (env: { ${v}: "{{ ${ref.path} }}" }) and write $${v} in the here-document: a value inserted there could end it or run $( ) in an unquoted <<EOF`);
        }
      }
    }
    if (s.capture) captured.add(s.capture);
    if (s.record) captured.add(s.record);
    const child = s.include ? project.runbooks.get(s.include) : undefined;
    if (child?.valid) for (const c of capturesOf(project, child.data)) captured.add(c);
  });
}

/** the environment variable a value goes through: its last name part, upper-case */
function envName(parts: string[]): string {
  const v = parts[parts.length - 1].toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return /^[0-9]/.test(v) ? `V_${v}` : v;
}

interface RefScope {
  varDefined: (name: string) => true | string;
  roles: string[];
  secrets: string[];
  captured: Set<string>;
  hasHost: boolean;
  hostNames: (name: string) => boolean;
  allHosts: string[];
}

function refProblem(ref: TemplateRef, sc: RefScope): { message: string; hint?: string } | undefined {
  const [head, a, b, ...more] = ref.parts;
  const shown = `{{ ${ref.path} }}`;
  const one = (what: string) => (a === undefined || b !== undefined ? { message: `${shown}: write ${what}` } : undefined);
  switch (head) {
    case 'vars': {
      const bad = one('{{ vars.NAME }}');
      if (bad) return bad;
      const ok = sc.varDefined(a);
      return ok === true ? undefined : { message: ok, hint: 'give it a default in the runbook\'s `vars:`, or set it in every inventory\'s `vars:`' };
    }
    case 'roles': {
      const bad = one('{{ roles.ROLE }}');
      if (bad) return bad;
      return sc.roles.includes(a) ? undefined : { message: `${shown}: no role '${a}' in this runbook${didYouMean(a, sc.roles)}`, hint: 'declare it under `roles:`' };
    }
    case 'secrets': {
      const bad = one('{{ secrets.NAME }}');
      if (bad) return bad;
      return sc.secrets.includes(a) ? undefined : { message: `${shown}: secret '${a}' is not declared${didYouMean(a, sc.secrets)}`, hint: 'declare it under `secrets:` with env, file or prompt' };
    }
    case 'captured': {
      const bad = one('{{ captured.NAME }}');
      if (bad) return bad;
      return sc.captured.has(a) ? undefined : { message: `${shown}: no earlier step captures '${a}'`, hint: 'add `capture: NAME` to an earlier run step (or `record: NAME` to a manual step)' };
    }
    case 'host': {
      if (a === undefined || b !== undefined || !HOST_FIELDS.includes(a)) return { message: `${shown}: write {{ host.FIELD }} with FIELD one of ${HOST_FIELDS.join(', ')}${a ? didYouMean(a, HOST_FIELDS) : ''}` };
      return sc.hasHost ? undefined : { message: `${shown}: this field has no host of its own ('host' is the host a run step runs on)`, hint: 'use {{ hosts.NAME.FIELD }} with a role or host name' };
    }
    case 'hosts': {
      if (a === undefined || b === undefined || more.length || !HOST_FIELDS.includes(b)) return { message: `${shown}: write {{ hosts.NAME.FIELD }} with FIELD one of ${HOST_FIELDS.join(', ')}${b ? didYouMean(b, HOST_FIELDS) : ''}` };
      return sc.hostNames(a) ? undefined : { message: `${shown}: '${a}' is neither a role of this runbook nor a host of every inventory${didYouMean(a, sc.allHosts)}` };
    }
    default:
      return { message: `${shown}: unknown value; templates see vars, roles, hosts, host, captured and secrets${didYouMean(head, ['vars', 'roles', 'hosts', 'host', 'captured', 'secrets'])}` };
  }
}

function checkRegex(f: YamlFile, path: YamlPath, source: string, out: Diagnostic[]): void {
  try {
    new RegExp(source);
  } catch (e) {
    out.push(diagAt(f, path, false, 'error', 'bad-regex', `invalid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`, 'regular expressions use JavaScript syntax; escape literal characters like ( [ . with a backslash, or use `contains:`'));
  }
}

function checkInventory(inv: Loaded<Inventory>, out: Diagnostic[]): void {
  const f = inv.file;
  const hosts = inv.data.hosts;
  const names = Object.keys(hosts);
  if (inv.data.environment === undefined) {
    out.push(diagAt(f, ['kind'], true, 'warning', 'no-environment', `inventory '${inv.data.name}' does not say whether it is production or rehearsal`, inv.ansible
      ? 'set lifeboat_environment=production or lifeboat_environment=rehearsal in the vars of all: a rehearsal refuses production inventories'
      : 'add `environment: production` or `environment: rehearsal`: a rehearsal refuses production inventories'));
  }
  const jumpOf = (h: string): string | undefined => hosts[h]?.jump ?? (h !== inv.data.defaults?.jump ? inv.data.defaults?.jump : undefined);
  if (inv.data.defaults?.jump !== undefined && !(inv.data.defaults.jump in hosts)) {
    out.push(diagAt(f, ['defaults', 'jump'], false, 'error', 'unknown-host', `defaults.jump: '${inv.data.defaults.jump}' is not a host of this inventory${didYouMean(inv.data.defaults.jump, names)}`, 'jump hosts are inventory hosts: add it under `hosts:`'));
  }
  const reported = new Set<string>();
  for (const [name, h] of Object.entries(hosts)) {
    if (h.jump !== undefined && !(h.jump in hosts)) {
      out.push(diagAt(f, ['hosts', name, 'jump'], false, 'error', 'unknown-host', `host '${name}' jumps through '${h.jump}', which is not a host of this inventory${didYouMean(h.jump, names)}`, 'jump hosts are inventory hosts: add it under `hosts:`'));
      continue;
    }
    // follow the jump chain; a repeat is a loop
    const chain = [name];
    for (let j = jumpOf(name); j !== undefined && j in hosts; j = jumpOf(j)) {
      if (chain.includes(j)) {
        const loop = chain.slice(chain.indexOf(j));
        const key = [...loop].sort().join(',');
        if (!reported.has(key) && loop.includes(name)) {
          reported.add(key);
          const path: YamlPath = hosts[name].jump !== undefined ? ['hosts', name, 'jump'] : ['defaults', 'jump'];
          out.push(diagAt(f, path, false, 'error', 'jump-loop', `jump hosts form a loop: ${[...loop, j].join(' → ')}`, 'one host of the chain must be reachable directly (no jump:)'));
        }
        break;
      }
      chain.push(j);
    }
  }
}

function checkSite(project: Project, out: Diagnostic[]): void {
  const site = project.site!;
  const f = site.file;
  const known = (name: string, path: YamlPath, what: string, key = false) => {
    // a runbook whose file has a YAML error is reported there once, not again here
    if (project.runbooks.has(name) || project.unreadable?.has(name)) return true;
    out.push(diagAt(f, path, key, 'error', 'unknown-runbook', `${what} names '${name}', which is not a runbook of this project${didYouMean(name, project.runbooks.keys())}`, 'use the runbook\'s `name:`, and validate the folder that holds it'));
    return false;
  };
  const phases = recoveryPhases(site.data);
  const seen = new Map<string, OrderPath>();
  for (const p of phases) {
    for (const e of p.entries) {
      for (const c of e.choices) {
        const first = seen.get(c.runbook);
        if (first) {
          out.push(diagAt(f, c.path, false, 'error', 'duplicate-runbook', `recovery_order lists '${c.runbook}' twice (first at line ${f.spanOf(first).line})`, 'list each runbook once; alternatives go in one `one_of`'));
          continue;
        }
        seen.set(c.runbook, c.path);
        known(c.runbook, c.path, 'recovery_order');
      }
    }
  }
  for (const [name, rb] of project.runbooks) {
    // runbooks only ever included by others need no place of their own
    const included = [...project.runbooks.values()].some((o) => o.valid && o.data.steps.some((s) => s.include === name));
    if (!seen.has(name) && !included) {
      out.push(diagAt(f, ['recovery_order'], true, 'warning', 'not-in-recovery-order', `runbook '${name}' (${rb.file.file}) is not in recovery_order`, 'add it, so the DR plan says when to run it'));
    }
  }
  (site.data.situations ?? []).forEach((sit, i) => known(sit.runbook, ['situations', i, 'runbook'], 'situations'));
  (site.data.network ?? []).forEach((n, i) => { for (const rb of Object.keys(n.after ?? {})) known(rb, ['network', i, 'after', rb], `network '${n.name}'`, true); });
  const services = site.data.services ?? {};
  const phaseIndex = phaseOf(phases);
  // a service is back when the first of its runbooks in the order has run
  const serviceAt = (id: string) => Math.min(...services[id].runbooks.map((r) => phaseIndex.get(r) ?? Infinity));
  for (const [id, svc] of Object.entries(services)) {
    svc.runbooks.forEach((rb, i) => known(rb, ['services', id, 'runbooks', i], `service '${id}'`));
    (svc.depends_on ?? []).forEach((dep, i) => {
      const path: YamlPath = ['services', id, 'depends_on', i];
      if (!services[dep]) {
        out.push(diagAt(f, path, false, 'error', 'unknown-service', `service '${id}' depends on '${dep}', which is not a service of this site${didYouMean(dep, Object.keys(services))}`, 'name a key of `services:`'));
        return;
      }
      const mine = serviceAt(id);
      const theirs = serviceAt(dep);
      if (Number.isFinite(mine) && theirs > mine) {
        out.push(diagAt(f, path, false, 'error', 'dependency-after-dependent', `service '${id}' depends on '${dep}', but recovery_order recovers '${dep}' ${Number.isFinite(theirs) ? `in phase ${theirs + 1}, after '${id}' (phase ${mine + 1})` : 'nowhere (none of its runbooks is in it)'}`, `move a runbook of '${dep}' to an earlier phase than '${id}''s, or drop the dependency`));
      }
    });
  }
  // dependency cycles, reported once each where they close
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string) => {
    state.set(id, 'active');
    stack.push(id);
    (services[id].depends_on ?? []).forEach((dep, i) => {
      if (!services[dep]) return;
      if (state.get(dep) === 'active') {
        const cycle = [...stack.slice(stack.indexOf(dep)), dep];
        out.push(diagAt(f, ['services', id, 'depends_on', i], false, 'error', 'dependency-cycle', `services depend on each other in a loop: ${cycle.join(' → ')}`, 'one of them must come back without the other; drop that dependency'));
      } else if (!state.has(dep)) visit(dep);
    });
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of Object.keys(services)) if (!state.has(id)) visit(id);
}

function checkIncludeCycles(project: Project, out: Diagnostic[]): void {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string) => {
    const rb = project.runbooks.get(name);
    if (!rb?.valid) { state.set(name, 'done'); return; }
    state.set(name, 'active');
    stack.push(name);
    rb.data.steps.forEach((s, i) => {
      if (!s.include || !project.runbooks.has(s.include)) return;
      if (state.get(s.include) === 'active') {
        const cycle = [...stack.slice(stack.indexOf(s.include)), s.include];
        out.push(diagAt(rb.file, ['steps', i, 'include'], false, 'error', 'include-cycle', `${stepName(s, i)} closes an include cycle: ${cycle.join(' → ')}`, 'a runbook cannot include itself, directly or through others'));
      } else if (!state.has(s.include)) visit(s.include);
    });
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of [...project.runbooks.keys()].sort()) if (!state.has(name)) visit(name);
}


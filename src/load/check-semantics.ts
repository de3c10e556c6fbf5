// Checks that need more than the schema: references between steps, roles, inventories,
// templates and runbooks, one file of load/rules/ per concern. Each check has its own code
// (docs/DIAGNOSTICS.md) and points at the offending node; template problems point inside the
// YAML string at the `{{`.
import { checkInventoryPaths } from './inventory-paths.js';
import type { Diagnostic, Severity } from '../model/diagnostic.js';
import type { Runbook, Condition, Expect, Inventory, Step } from '../model/types.js';
import type { Project, Loaded } from './project.js';
import type { YamlFile, YamlPath } from './read-yaml.js';
import { parseTemplate, type TemplateRef } from '../plan/template.js';
import { closest, didYouMean } from '../util/suggest.js';
import { diagAt, diagAtTemplate, templatePosition } from './positions.js';
import { templateFields, nonTemplateStrings, checkLiteralBraces, siteTakesVar } from './rules/template-fields.js';
import { checkInventory } from './rules/inventory.js';
import { checkSite } from './rules/site.js';
import { checkIncludeCycles } from './rules/includes.js';
import { checkEstimates } from './rules/estimates.js';
import { stepName, targetsOf, roleHost, HOST_FIELDS } from './rules/common.js';

// The rules of inventories, the site, includes and where templates are allowed are in rules/;
// a runbook's own references (roles, hosts, vars, captures, conditions) are checked here.

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
    checkEstimates(rb, out);
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

/** One runbook being checked: its file, its names, the inventories, and where diagnostics go. */
interface RunbookCheck {
  project: Project;
  f: YamlFile;
  r: Runbook;
  roles: NonNullable<Runbook['roles']>;
  roleNames: string[];
  inventories: Loaded<Inventory>[];
  /** every host name of any inventory */
  allHosts: string[];
  runbookVars: Set<string>;
  secrets: string[];
  out: Diagnostic[];
  push: (path: YamlPath, code: string, message: string, hint?: string, key?: boolean, severity?: Severity) => void;
}

function checkRunbook(
  project: Project,
  rb: Loaded<Runbook>,
  inventories: Loaded<Inventory>[],
  out: Diagnostic[],
): void {
  const f = rb.file;
  const r = rb.data;
  const roles = r.roles ?? {};
  const c: RunbookCheck = {
    project,
    f,
    r,
    roles,
    roleNames: Object.keys(roles),
    inventories,
    out,
    allHosts: [...new Set(inventories.flatMap((i) => Object.keys(i.data.hosts)))],
    runbookVars: new Set(Object.keys(r.vars ?? {})),
    secrets: Object.keys(r.secrets ?? {}),
    push: (path, code, message, hint, key = false, severity = 'error') =>
      out.push(diagAt(f, path, key, severity, code, message, hint)),
  };
  checkRoleHosts(c);
  if (r.lock) checkTarget(c, ['lock', 'on'], r.lock.on, 'lock.on', false);

  const ids = new Map<string, number>();
  const captured = new Set<string>();
  r.steps.forEach((s, i) => {
    const sp: YamlPath = ['steps', i];
    const name = stepName(s, i);
    if (ids.has(s.id)) {
      c.push(
        [...sp, 'id'],
        'duplicate-id',
        `step id '${s.id}' is used twice (first as step ${ids.get(s.id)! + 1})`,
        'step ids are unique in a runbook: journals and resume refer to them',
      );
    } else ids.set(s.id, i);
    checkStepShape(c, s, sp, name);
    if (Array.isArray(s.on)) s.on.forEach((t, j) => checkTarget(c, [...sp, 'on', j], t, 'on:'));
    else if (typeof s.on === 'string') checkTarget(c, [...sp, 'on'], s.on, 'on:');
    if (s.include !== undefined) checkInclude(c, s, sp, name);
    checkConditions(c, s, sp, name);
    checkStepTemplates(c, s, i, name, captured);
    if (s.capture) captured.add(s.capture);
    if (s.record) captured.add(s.record);
    const child = s.include ? project.runbooks.get(s.include) : undefined;
    if (child?.valid) for (const n of capturesOf(project, child.data)) captured.add(n);
  });
}

// host names are only known from inventories: without one, a name that is no role is checked for typos only
const inAllInventories = (c: RunbookCheck, h: string) => c.inventories.every((i) => h in i.data.hosts);
const inAnyInventory = (c: RunbookCheck, h: string) => c.inventories.some((i) => h in i.data.hosts);

/** roles bound to hosts every inventory has */
function checkRoleHosts(c: RunbookCheck): void {
  for (const [role, spec] of Object.entries(c.roles)) {
    const host = roleHost(spec);
    if (!host || host === 'local') continue;
    for (const inv of c.inventories) {
      if (!(host in inv.data.hosts)) {
        c.push(
          typeof spec === 'string' ? ['roles', role] : ['roles', role, 'host'],
          'unknown-host',
          `role '${role}' is bound to host '${host}', which inventory '${inv.data.name}' (${inv.file.file}) ` +
            `does not have${didYouMean(host, Object.keys(inv.data.hosts))}`,
          `add host '${host}' to every inventory (a runbook must run on lab and production alike), or bind the role to an existing host`,
        );
      }
    }
  }
}

/** a target of on:, unreachable:, reachable: or lock.on: a role, an inventory host, or local */
function checkTarget(c: RunbookCheck, path: YamlPath, target: string, what: string, allowLocal = true): void {
  const { push, roleNames, inventories } = c;
  if (target in c.roles || (allowLocal && target === 'local')) return;
  if (target === 'local') {
    push(
      path,
      'unknown-target',
      `${what} 'local' (the operator's machine) cannot be used here`,
      'name a role from `roles:` or an inventory host',
    );
    return;
  }
  if (inventories.length === 0) {
    // no inventory loaded: only a near-miss of a role name is certainly wrong
    const near = closest(target, roleNames);
    if (near)
      push(
        path,
        'unknown-target',
        `${what} '${target}' is not a role of this runbook — did you mean '${near}'?`,
        'name a role from `roles:`, an inventory host, or local',
      );
    return;
  }
  if (inAllInventories(c, target)) return;
  if (inAnyInventory(c, target)) {
    const lacking = inventories
      .filter((i) => !(target in i.data.hosts))
      .map((i) => `'${i.data.name}'`)
      .join(', ');
    push(
      path,
      'unknown-host',
      `${what} '${target}' is a host of some inventories but not of ${lacking}`,
      'bind it to a role, or add the host to every inventory',
    );
    return;
  }
  const invNames = inventories.map((i) => `'${i.data.name}'`).join(', ');
  // only for a target that is wrong: every host of every inventory, for the did-you-mean
  const candidates = [...roleNames, ...c.allHosts, ...(allowLocal ? ['local'] : [])];
  push(
    path,
    'unknown-target',
    `${what} '${target}' is neither a role of this runbook, a host of inventory ${invNames}, nor local${didYouMean(target, candidates)}`,
    'name a role from `roles:`, an inventory host, or local',
  );
}

/** vars: the runbook's defaults, or a value every inventory provides (inventory vars override defaults) */
function varDefined(c: RunbookCheck, name: string): true | string {
  const { runbookVars, inventories } = c;
  if (runbookVars.has(name)) return true;
  if (inventories.length && inventories.every((i) => i.data.vars && name in i.data.vars)) return true;
  if (!inventories.length) {
    // no inventory loaded: the value may come from one, so only a near-miss of a default is certainly wrong
    const near = closest(name, runbookVars);
    return near
      ? `{{ vars.${name} }} is not a var of this runbook — did you mean '${near}'? (no inventory was loaded to look in)`
      : true;
  }
  const having = inventories.filter((i) => i.data.vars && name in i.data.vars).map((i) => `'${i.data.name}'`);
  const lacking = inventories.filter((i) => !(i.data.vars && name in i.data.vars)).map((i) => `'${i.data.name}'`);
  if (having.length)
    return `{{ vars.${name} }} is set in inventory ${having.join(', ')} but not in ${lacking.join(', ')}, and the runbook has no default`;
  return `{{ vars.${name} }} is not defined${didYouMean(name, [...runbookVars, ...inventories.flatMap((i) => Object.keys(i.data.vars ?? {}))])}`;
}

/** shape rules the schema cannot say */
function checkStepShape(c: RunbookCheck, s: Step, sp: YamlPath, name: string): void {
  const { push } = c;
  const actions = (['run', 'manual', 'include'] as const).filter((k) => s[k] !== undefined);
  if (actions.length > 1)
    push(
      [...sp, actions[1]],
      'conflicting-actions',
      `${name} has both '${actions[0]}' and '${actions[1]}'`,
      'a step does one thing: run a command, ask a person (manual) or include a runbook; split it into two steps',
      true,
    );
  const targets = targetsOf(s);
  if (s.run !== undefined && targets.length === 0)
    push(
      [...sp, 'run'],
      'run-without-on',
      `${name} has a command but no 'on:'`,
      "say where it runs: a role, an inventory host, or 'local'",
      true,
    );
  if (s.with !== undefined && s.include === undefined)
    push(
      [...sp, 'with'],
      'with-without-include',
      `${name}: 'with:' only applies to include steps`,
      "move these values to the runbook's vars, or remove them",
      true,
    );
  if (s.capture !== undefined && s.run === undefined)
    push(
      [...sp, 'capture'],
      'capture-without-run',
      `${name}: 'capture:' needs a command ('run:') whose output it stores`,
      'for a value a person types, use `manual:` with `record:`',
      true,
    );
  if (s.measures !== undefined && s.capture === undefined)
    push(
      [...sp, 'measures'],
      'measures-without-capture',
      `${name}: 'measures: ${s.measures}' reads the step's captured output, but the step has no 'capture:'`,
      'add `capture: NAME` to a run step that prints the data-loss window in seconds (or a duration such as 2m)',
      true,
    );
  if (s.until !== undefined && s.run === undefined)
    push(
      [...sp, 'until'],
      'until-without-run',
      `${name}: 'until:' polls a command, but the step has no 'run:'`,
      'add the command to poll, or remove until',
      true,
    );
  if (s.record !== undefined && s.manual === undefined)
    push(
      [...sp, 'record'],
      'record-without-manual',
      `${name}: 'record:' asks a person for a value and needs 'manual:' instructions`,
      'add `manual:` telling the operator what to type, or use `capture:` on a run step',
      true,
    );
  if ((s.strategy !== undefined || s.max_parallel !== undefined) && targets.length < 2) {
    const k = s.strategy !== undefined ? 'strategy' : 'max_parallel';
    push(
      [...sp, k],
      'strategy-single-host',
      `${name}: '${k}' only means something when 'on:' lists several hosts`,
      'remove it, or list the hosts in `on:`',
      true,
    );
  }
}

function checkInclude(c: RunbookCheck, s: Step, sp: YamlPath, name: string): void {
  const { project } = c;
  const include = s.include!;
  const child = project.runbooks.get(include);
  if (!child && project.unreadable?.has(include)) {
    // its file has a YAML error, reported there
  } else if (!child) {
    c.push(
      [...sp, 'include'],
      'unknown-runbook',
      `${name} includes '${include}', which is not a runbook of this project${didYouMean(include, project.runbooks.keys())}`,
      'include a runbook by its `name:`, and validate the folder that holds it',
    );
  } else if (child.valid && s.with) {
    const childVars = new Set(Object.keys(child.data.vars ?? {}));
    for (const k of Object.keys(s.with)) {
      if (!childVars.has(k))
        c.push(
          [...sp, 'with', k],
          'undefined-var',
          `${name}: runbook '${include}' has no var '${k}' to set${didYouMean(k, childVars)}`,
          `an included runbook declares a default for each var it takes, in its own \`vars:\``,
          true,
        );
    }
  }
}

/** `when:` conditions, and the regular expressions of conditions and output tests */
function checkConditions(c: RunbookCheck, s: Step, sp: YamlPath, name: string): void {
  const { push, f, out } = c;
  const conds: { c: Condition; path: YamlPath }[] =
    s.when === undefined
      ? []
      : Array.isArray(s.when)
        ? s.when.map((w, j) => ({ c: w, path: [...sp, 'when', j] }))
        : [{ c: s.when, path: [...sp, 'when'] }];
  for (const { c: cond, path } of conds) {
    const kinds = (['unreachable', 'reachable', 'value'] as const).filter((k) => cond[k] !== undefined);
    const ops = (['equals', 'not_equals', 'matches'] as const).filter((k) => cond[k] !== undefined);
    if (kinds.length !== 1) {
      push(
        path,
        'bad-condition',
        kinds.length
          ? `${name}: a condition tests one thing, but this one has ${kinds.join(' and ')}`
          : `${name}: a condition needs 'unreachable:', 'reachable:' or 'value:'`,
        'write one condition per list item: `when: [{ unreachable: primary }, { value: "{{ vars.x }}", equals: y }]`',
      );
    } else if (kinds[0] === 'value' && ops.length !== 1) {
      push(
        path,
        'bad-condition',
        ops.length
          ? `${name}: 'value:' takes exactly one of equals / not_equals / matches, not ${ops.join(' and ')}`
          : `${name}: 'value:' needs one of equals / not_equals / matches`,
        'e.g. `when: { value: "{{ captured.role }}", equals: primary }`',
      );
    } else if (kinds[0] !== 'value' && ops.length) {
      push(
        path,
        'bad-condition',
        `${name}: '${ops[0]}' only goes with 'value:', not with '${kinds[0]}:'`,
        'split it into two conditions',
      );
    } else if (kinds[0] !== 'value') {
      checkTarget(c, [...path, kinds[0]], cond[kinds[0]] as string, `${kinds[0]}:`, false);
    }
    if (typeof cond.matches === 'string') checkRegex(f, [...path, 'matches'], cond.matches, out);
  }
  for (const k of ['expect', 'until'] as const) {
    const e: Expect | undefined = s[k];
    for (const stream of ['stdout', 'stderr'] as const) {
      const m = e?.[stream];
      if (m && typeof m === 'object' && typeof m.match === 'string')
        checkRegex(f, [...sp, k, stream, 'match'], m.match, out);
    }
  }
}

/** where templates may stand, and what each `{{ }}` names */
function checkStepTemplates(c: RunbookCheck, s: Step, i: number, name: string, captured: Set<string>): void {
  const { f, out, roles, roleNames, inventories } = c;
  for (const nt of nonTemplateStrings(s, i)) {
    out.push(
      diagAt(
        f,
        nt.path,
        false,
        'error',
        'template-not-allowed',
        `${name} ${nt.field}: this field does not take templates; the {{ … }} would stay literal text`,
        'templates work in run, skip_if, rollback, confirm, manual, title, env values, when.value and the expect/until stdout/stderr values (docs/LANGUAGE.md)',
      ),
    );
  }
  const hasHost = s.run !== undefined && targetsOf(s).length > 0;
  const scope: RefScope = {
    varDefined: (n) => varDefined(c, n),
    roles: roleNames,
    secrets: c.secrets,
    captured,
    hasHost,
    hostNames: (h) => h in roles || (inventories.length ? inAllInventories(c, h) : true),
    allHosts: [...roleNames, ...c.allHosts],
  };
  for (const tf of templateFields(s, i)) {
    const t = parseTemplate(tf.source);
    for (const p of t.problems) {
      const pos = templatePosition(f, tf.path, tf.source, p.line, p.column);
      out.push({
        file: f.file,
        line: pos.line,
        col: pos.col,
        severity: 'error',
        code: p.code,
        message: `${name} ${tf.field}: ${p.message}`,
        hint:
          p.code === 'template-syntax'
            ? 'write values as {{ vars.name }}; a literal {{ cannot appear in a runbook field'
            : 'runbook templates insert values only: move the logic into `when:` or into the command',
      });
    }
    for (const ref of t.refs) checkTemplateRef(c, tf, ref, name, scope);
  }
}

type TemplateField = ReturnType<typeof templateFields>[number];

/**
 * One `{{ }}` of a template field: a value that exists, known when the field is used, and not
 * inside the command's own quotes or a here-document.
 */
function checkTemplateRef(c: RunbookCheck, tf: TemplateField, ref: TemplateRef, name: string, scope: RefScope): void {
  const { f, out } = c;
  const d = (code: string, message: string, hint?: string, severity: Severity = 'error') =>
    out.push(diagAtTemplate(f, tf, ref, severity, code, message, hint));
  const problem = refProblem(ref, scope);
  if (problem) d('undefined-var', `${name} ${tf.field}: ${problem.message}`, problem.hint);
  else if (tf.field === 'title' && ['captured', 'secrets', 'host'].includes(ref.parts[0])) {
    d(
      'template-not-allowed',
      `${name} title: {{ ${ref.path} }} is not known when the plan is printed`,
      'a title takes {{ vars.* }}, {{ roles.* }} and {{ hosts.* }}; show run-time values in the command or the manual text',
    );
  }
  const v = envName(ref.parts);
  if (tf.shell && ref.inQuotes && !ref.raw) {
    // the quotes may be needed for the text around the value (spaces, $, *): keep them, and bring the value in as a
    // variable
    d(
      'template-in-quotes',
      `${name} ${tf.field}: {{ ${ref.path} }} sits inside quotes of the command's own`,
      `pass it through env: (env: { ${v}: "{{ ${ref.path} }}" }) and write $${v} where it stood, ` +
        `in double quotes ("…$${v}…"): a value inserted inside quotes is quoted twice ` +
        'and breaks as soon as it holds a quote',
    );
  }
  if (tf.shell && ref.inHeredoc && !ref.raw) {
    d(
      'template-in-heredoc',
      `${name} ${tf.field}: {{ ${ref.path} }} sits inside a here-document, where shell quoting does not apply`,
      `pass it through env: (env: { ${v}: "{{ ${ref.path} }}" }) and write $${v} in the here-document: ` +
        'a value inserted there could end it or run $( ) in an unquoted <<EOF',
    );
  }
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
  const one = (what: string) =>
    a === undefined || b !== undefined ? { message: `${shown}: write ${what}` } : undefined;
  switch (head) {
    case 'vars': {
      const bad = one('{{ vars.NAME }}');
      if (bad) return bad;
      const ok = sc.varDefined(a);
      return ok === true
        ? undefined
        : { message: ok, hint: "give it a default in the runbook's `vars:`, or set it in every inventory's `vars:`" };
    }
    case 'roles': {
      const bad = one('{{ roles.ROLE }}');
      if (bad) return bad;
      return sc.roles.includes(a)
        ? undefined
        : {
            message: `${shown}: no role '${a}' in this runbook${didYouMean(a, sc.roles)}`,
            hint: 'declare it under `roles:`',
          };
    }
    case 'secrets': {
      const bad = one('{{ secrets.NAME }}');
      if (bad) return bad;
      return sc.secrets.includes(a)
        ? undefined
        : {
            message: `${shown}: secret '${a}' is not declared${didYouMean(a, sc.secrets)}`,
            hint: 'declare it under `secrets:` with env, file or prompt',
          };
    }
    case 'captured': {
      const bad = one('{{ captured.NAME }}');
      if (bad) return bad;
      return sc.captured.has(a)
        ? undefined
        : {
            message: `${shown}: no earlier step captures '${a}'`,
            hint: 'add `capture: NAME` to an earlier run step (or `record: NAME` to a manual step)',
          };
    }
    case 'host': {
      if (a === undefined || b !== undefined || !HOST_FIELDS.includes(a))
        return {
          message: `${shown}: write {{ host.FIELD }} with FIELD one of ${HOST_FIELDS.join(', ')}${a ? didYouMean(a, HOST_FIELDS) : ''}`,
        };
      return sc.hasHost
        ? undefined
        : {
            message: `${shown}: this field has no host of its own ('host' is the host a run step runs on)`,
            hint: 'use {{ hosts.NAME.FIELD }} with a role or host name',
          };
    }
    case 'hosts': {
      if (a === undefined || b === undefined || more.length || !HOST_FIELDS.includes(b))
        return {
          message: `${shown}: write {{ hosts.NAME.FIELD }} with FIELD one of ${HOST_FIELDS.join(', ')}${b ? didYouMean(b, HOST_FIELDS) : ''}`,
        };
      return sc.hostNames(a)
        ? undefined
        : {
            message: `${shown}: '${a}' is neither a role of this runbook nor a host of every inventory${didYouMean(a, sc.allHosts)}`,
          };
    }
    default:
      return {
        message:
          `${shown}: unknown value; templates see vars, roles, hosts, host, captured and secrets` +
          `${didYouMean(head, ['vars', 'roles', 'hosts', 'host', 'captured', 'secrets'])}`,
      };
  }
}

function checkRegex(f: YamlFile, path: YamlPath, source: string, out: Diagnostic[]): void {
  try {
    new RegExp(source);
  } catch (e) {
    out.push(
      diagAt(
        f,
        path,
        false,
        'error',
        'bad-regex',
        `invalid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`,
        'regular expressions use JavaScript syntax; escape literal characters like ( [ . with a backslash, or use `contains:`',
      ),
    );
  }
}

// The one rule of which fields take templates (decision 0016): the template fields of a step,
// the other strings of a step, and every string outside steps, where a `{{` is refused.
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Step } from '../../model/types.js';
import type { YamlFile, YamlPath } from '../read-yaml.js';
import { SITE_VAR_VALUE } from '../../plan/template.js';
import { diagAt } from '../positions.js';

/** The template-bearing fields of a step, with their YAML paths; `shell` ones are quoted on insertion. */
export function templateFields(
  s: Step,
  i: number,
): { path: YamlPath; source: string; field: string; shell: boolean }[] {
  const out: { path: YamlPath; source: string; field: string; shell: boolean }[] = [];
  const base: YamlPath = ['steps', i];
  for (const k of ['run', 'skip_if', 'rollback'] as const)
    if (typeof s[k] === 'string') out.push({ path: [...base, k], source: s[k]!, field: k, shell: true });
  for (const k of ['confirm', 'manual'] as const)
    if (typeof s[k] === 'string') out.push({ path: [...base, k], source: s[k]!, field: k, shell: false });
  for (const [k, v] of Object.entries(s.env ?? {}))
    out.push({ path: [...base, 'env', k], source: v, field: `env.${k}`, shell: false });
  const w = s.when === undefined ? [] : Array.isArray(s.when) ? s.when : [s.when];
  w.forEach((c, j) => {
    if (typeof c?.value === 'string')
      out.push({
        path: Array.isArray(s.when) ? [...base, 'when', j, 'value'] : [...base, 'when', 'value'],
        source: c.value,
        field: 'when.value',
        shell: false,
      });
  });
  if (typeof s.title === 'string')
    out.push({ path: [...base, 'title'], source: s.title, field: 'title', shell: false });
  // what a command's output is compared with: a value captured earlier (a checksum taken on the source) is the common
  // case
  for (const k of ['expect', 'until'] as const) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const m = s[k]?.[stream];
      if (typeof m === 'string')
        out.push({ path: [...base, k, stream], source: m, field: `${k}.${stream}`, shell: false });
      else if (m && typeof m === 'object' && typeof m.contains === 'string')
        out.push({
          path: [...base, k, stream, 'contains'],
          source: m.contains,
          field: `${k}.${stream}.contains`,
          shell: false,
        });
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
    if (typeof v === 'string') {
      if (v.includes('{{') && !takes.has(path.join('\0'))) out.push({ path, field: path.slice(2).join('.') });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, j) => walk(x, [...path, j]));
      return;
    }
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
      // prose may show a template as written inside a Markdown code span (`{{ vars.pg_bin }}/pg_ctl`); a var's value
      // may not
      const text = path[0] === 'vars' ? v : v.replace(CODE_SPAN, '');
      if (text.includes('{{')) out.push(path);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, j) => walk(x, [...path, j]));
      return;
    }
    if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) if (!(path.length === 0 && skip.includes(k))) walk(x, [...path, k]);
  };
  walk(data, []);
  return out;
}
const CODE_SPAN = /(`+)[^`]*?\1/g;

const LITERAL_HINT =
  "templates work only in a step's run, skip_if, rollback, confirm, manual, title, env values, when.value " +
  'and the expect/until stdout/stderr values; vars, inventories and the site are used as written — ' +
  'write the value itself (docs/LANGUAGE.md)';

export const siteTakesVar = (path: YamlPath) => path.length === 3 && path[0] === 'network' && path[2] === 'address';

export function checkLiteralBraces(
  f: YamlFile,
  data: unknown,
  what: string,
  out: Diagnostic[],
  skip: readonly string[] = [],
  takesVar: (p: YamlPath) => boolean = () => false,
): void {
  const value = (path: YamlPath) => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)?.[k], data);
  for (const path of literalBraces(data, skip)) {
    if (takesVar(path)) {
      if (SITE_VAR_VALUE.test(String(value(path)))) continue;
      out.push(
        diagAt(
          f,
          path,
          false,
          'error',
          'template-not-allowed',
          `${what} ${path.join('.')}: only a whole value \`{{ vars.NAME }}\` is read here (the inventory's var); other {{ … }} would stay literal text`,
          'write the address itself, or exactly "{{ vars.NAME }}" naming a var every inventory sets',
        ),
      );
      continue;
    }
    out.push(
      diagAt(
        f,
        path,
        false,
        'error',
        'template-not-allowed',
        `${what} ${path.join('.')}: this field does not take templates; the {{ … }} would stay literal text`,
        LITERAL_HINT,
      ),
    );
  }
}

// Templates in runbooks: Handlebars syntax, but only plain value insertions ({{ vars.x }}),
// rendered by walking the parsed tree. In shell fields every inserted value is shell-quoted;
// `{{{ x }}}` inserts raw text. Unknown values are errors, never empty strings.
import { createRequire } from 'node:module';
import type Handlebars from 'handlebars';
// only the parser (~20 ms to load) instead of all of Handlebars (~90 ms): templates are walked, never compiled
const { parse: parseHandlebars } = createRequire(import.meta.url)(
  'handlebars/dist/cjs/handlebars/compiler/base.js',
) as Pick<typeof Handlebars, 'parse'>;
import { shellQuote } from '../util/shell-quote.js';

type HbsNode = hbs.AST.Statement;

export interface TemplateRef {
  /** dotted path as written, e.g. `vars.pgdata` */
  path: string;
  parts: string[];
  raw: boolean;
  /** 1-based line and 0-based column inside the template text */
  line: number;
  column: number;
  /** the insertion sits inside quotes of the command's own */
  inQuotes: boolean;
  /** the insertion sits in a here-document body, where shell quoting does not apply */
  inHeredoc: boolean;
}

export interface TemplateProblem {
  message: string;
  line: number;
  column: number;
  code: 'template-syntax' | 'template-logic';
}

export interface Template {
  source: string;
  refs: TemplateRef[];
  problems: TemplateProblem[];
  body: HbsNode[];
}

const cache = new Map<string, Template>();

export function parseTemplate(source: string): Template {
  const hit = cache.get(source);
  if (hit) return hit;
  const t: Template = { source, refs: [], problems: [], body: [] };
  if (!source.includes('{{')) {
    t.body = [{ type: 'ContentStatement', value: source } as unknown as HbsNode];
    cache.set(source, t);
    return t;
  }
  let ast: hbs.AST.Program;
  try {
    ast = parseHandlebars(source);
  } catch (e) {
    t.problems.push(syntaxProblem(e as Error));
    cache.set(source, t);
    return t;
  }
  readStatements(t, ast.body);
  t.body = ast.body;
  cache.set(source, t);
  return t;
}

/** Handlebars' parse error: it speaks of its parser's tokens; say what is wrong in the runbook's terms */
function syntaxProblem(e: Error): TemplateProblem {
  const msg = String(e.message);
  const m = /line (\d+)/.exec(msg);
  const got = /got '(\w+)'/.exec(msg)?.[1];
  const words =
    got === 'INVALID' || got === 'EOF'
      ? 'a {{ is not closed by }}'
      : got === 'CLOSE' || got === 'CLOSE_UNESCAPED'
        ? 'a {{ }} is empty or not closed properly'
        : msg
            .split('\n')
            .slice(-1)[0]
            .replace(/^Expecting .*got/, 'unexpected');
  return {
    code: 'template-syntax',
    message: `malformed template: ${words}`,
    line: m ? Number(m[1]) : 1,
    column: 0,
  };
}

/** A parsed template's statements: each plain value insertion a ref (with its shell context), the rest problems. */
function readStatements(t: Template, body: HbsNode[]): void {
  const source = t.source;
  const quoteState = quoteMap(source);
  const heredocState = heredocMap(source, quoteState);
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === '\n') lineStarts.push(i + 1);
  for (const s of body) {
    if (s.type === 'ContentStatement') continue;
    if (s.type === 'CommentStatement') continue;
    const loc = s.loc.start;
    if (s.type === 'MustacheStatement') {
      const m = s as hbs.AST.MustacheStatement;
      if (m.path.type === 'PathExpression' && m.params.length === 0 && !m.hash) {
        const p = m.path as hbs.AST.PathExpression;
        const offset = (lineStarts[loc.line - 1] ?? 0) + loc.column;
        t.refs.push({
          path: p.original,
          parts: p.parts,
          raw: !m.escaped,
          line: loc.line,
          column: loc.column,
          inQuotes: quoteState[offset] ?? false,
          inHeredoc: heredocState[offset] ?? false,
        });
        continue;
      }
    }
    t.problems.push(statementProblem(s as hbs.AST.MustacheStatement, loc));
  }
}

/** a statement that is not a plain value: a typo (`{{ vars. }}`), or a helper or block */
function statementProblem(m: hbs.AST.MustacheStatement, loc: hbs.AST.Position): TemplateProblem {
  if (
    m.type === 'MustacheStatement' &&
    m.params?.some((x) => x.type === 'PathExpression' && (x as hbs.AST.PathExpression).original === '.')
  ) {
    // `{{ vars. }}` parses as a helper call with `.` as its argument: it is a typo, not logic
    return {
      code: 'template-syntax',
      message: 'malformed template: a value name ends with a dot',
      line: loc.line,
      column: loc.column,
    };
  }
  return {
    code: 'template-logic',
    message:
      'only plain values like {{ vars.name }} are allowed in runbook templates (no helpers or blocks); use `when:` for conditions',
    line: loc.line,
    column: loc.column,
  };
}

/**
 * For each offset: is it inside '…' or "…" of the shell text around it. `$( … )` and
 * backticks open a fresh, unquoted context even inside double quotes, as in bash.
 */
function quoteMap(src: string): boolean[] {
  const out: boolean[] = new Array(src.length).fill(false);
  // context stack: quotes, or a command substitution with its open-paren depth
  type Ctx = { k: "'" | '"' | '`' } | { k: '$('; depth: number };
  const stack: Ctx[] = [];
  const top = () => stack[stack.length - 1];
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    const t = top();
    out[i] = t?.k === "'" || t?.k === '"';
    if (t?.k === "'") {
      if (c === "'") stack.pop();
      continue;
    }
    if (c === '\\') {
      i++;
      if (i < src.length) out[i] = out[i - 1];
      continue;
    }
    if (c === '$' && src[i + 1] === '(') {
      stack.push({ k: '$(', depth: 0 });
      out[i + 1] = false;
      i++;
      continue;
    }
    if (c === '`') {
      if (t?.k === '`') stack.pop();
      else stack.push({ k: '`' });
      continue;
    }
    if (t?.k === '"') {
      if (c === '"') stack.pop();
      continue;
    }
    if (t?.k === '$(') {
      if (c === '(') t.depth++;
      else if (c === ')') {
        if (t.depth === 0) {
          stack.pop();
          continue;
        }
        t.depth--;
      }
    }
    if (c === "'" || c === '"') stack.push({ k: c });
  }
  return out;
}

/**
 * For each offset: is it in the body of a here-document (`<<EOF`, `<<-EOF`, `<<'EOF'`).
 * There quotes are literal text and an unquoted body runs `$( )` and backticks, so a quoted
 * value is no protection. Bodies start on the line after their `<<` and end at the delimiter.
 */
function heredocMap(src: string, quoted: boolean[]): boolean[] {
  const out: boolean[] = new Array(src.length).fill(false);
  if (!src.includes('<<')) return out;
  // every here-document operator, in order (one pass: a long command stays linear)
  const ops: { at: number; delim: string; strip: boolean }[] = [];
  for (const m of src.matchAll(/(?<!<)<<(?!<)(-?)[ \t]*(?:'([^'\n]+)'|"([^"\n]+)"|\\?([A-Za-z_][A-Za-z0-9_]*))/g)) {
    if (!quoted[m.index]) ops.push({ at: m.index, delim: m[2] ?? m[3] ?? m[4], strip: m[1] === '-' });
  }
  let i = 0;
  let next = 0;
  while (next < ops.length) {
    // the bodies of the operators on one line start on the line after it, one after another
    const nl = src.indexOf('\n', ops[next].at);
    const lineEnd = nl < 0 ? src.length : nl;
    const pending: typeof ops = [];
    while (next < ops.length && ops[next].at < lineEnd) {
      if (ops[next].at >= i) pending.push(ops[next]);
      next++;
    }
    i = lineEnd + 1;
    for (const h of pending) {
      while (i < src.length) {
        const e = src.indexOf('\n', i);
        const end = e < 0 ? src.length : e;
        const line = src.slice(i, end);
        if ((h.strip ? line.replace(/^\t+/, '') : line) === h.delim) {
          i = end + 1;
          break;
        }
        for (let k = i; k <= end && k < src.length; k++) out[k] = true;
        i = end + 1;
      }
    }
    // operators inside a body are text, not operators
    while (next < ops.length && ops[next].at < i) next++;
  }
  return out;
}

export type RenderMode =
  /** shell field: values quoted, secrets real */
  | 'shell'
  /** shell field shown to people: values quoted, secrets replaced */
  | 'shell-display'
  /** plain text (questions, instructions): values as they are, secrets real */
  | 'text'
  | 'text-display';

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly ref?: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

export interface RenderContext {
  vars: Record<string, unknown>;
  roles: Record<string, unknown>;
  hosts: Record<string, unknown>;
  host?: Record<string, unknown>;
  captured: Record<string, unknown>;
  secrets: Record<string, unknown>;
  /** how a secret is shown in display modes; default `<secret NAME>` */
  secretLabel?: (name: string) => string;
  /** a captured value not known yet (dry run, plan): shown as this instead of failing */
  pendingCaptured?: (name: string) => string;
}

function lookup(ctx: RenderContext, parts: string[]): { value: unknown; secret?: string; pending?: string } {
  const [head, ...rest] = parts;
  if (head === 'secrets') {
    if (rest.length !== 1 || !(rest[0] in ctx.secrets))
      throw new TemplateError(`unknown value {{ ${parts.join('.')} }}`, parts.join('.'));
    return { value: ctx.secrets[rest[0]], secret: rest[0] };
  }
  if (head === 'captured' && ctx.pendingCaptured && rest.length === 1 && !(rest[0] in ctx.captured)) {
    return { value: undefined, pending: ctx.pendingCaptured(rest[0]) };
  }
  let cur: unknown = (ctx as unknown as Record<string, unknown>)[head];
  if (!['vars', 'roles', 'hosts', 'host', 'captured'].includes(head)) cur = undefined;
  for (const p of rest) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, p)) {
      cur = undefined;
      break;
    }
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null || typeof cur === 'object')
    throw new TemplateError(`unknown value {{ ${parts.join('.')} }}`, parts.join('.'));
  return { value: cur };
}

export function render(t: Template | string, ctx: RenderContext, mode: RenderMode): string {
  const tpl = typeof t === 'string' ? parseTemplate(t) : t;
  if (tpl.problems.length) throw new TemplateError(tpl.problems[0].message);
  const shell = mode === 'shell' || mode === 'shell-display';
  const display = mode === 'shell-display' || mode === 'text-display';
  let out = '';
  for (const s of tpl.body) {
    if (s.type === 'ContentStatement') {
      out += (s as hbs.AST.ContentStatement).value;
      continue;
    }
    if (s.type === 'CommentStatement') continue;
    const m = s as hbs.AST.MustacheStatement;
    const parts = (m.path as hbs.AST.PathExpression).parts;
    const { value, secret, pending } = lookup(ctx, parts);
    if (pending !== undefined) {
      out += pending;
      continue;
    }
    if (secret !== undefined && display) {
      out += (ctx.secretLabel ?? ((n) => `<secret ${n}>`))(secret);
      continue;
    }
    const text = String(value);
    out += shell && m.escaped ? shellQuote(text) : text;
  }
  return out;
}

/** a site's network address may be exactly `{{ vars.NAME }}`: the inventory's value, printed in the plan */
export const SITE_VAR_VALUE = /^\s*\{\{\s*vars\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$/;

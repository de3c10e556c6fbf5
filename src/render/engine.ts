// The document engine shared by every printed document (the DR plan now, a run report
// later): a template set (lifeboat's templates/ plus a company's override folder), a fresh
// Handlebars instance per output kind with its helpers, and the inlined CSS.
//
// Layout of a template folder:  DOC.html.hbs, DOC.md.hbs, style.css,
//   partials/NAME.html.hbs (used as {{> NAME}} in HTML), partials/NAME.md.hbs (in Markdown).
// An override folder holds any of these by the same relative name; only files inside it are
// read (a symlink that leads out of it is refused).
import {
  lstatSync,
  readFileSync,
  readdirSync,
  realpathSync,
  existsSync,
  statSync,
  mkdirSync,
  writeFileSync,
  renameSync,
} from 'node:fs';
import path from 'node:path';
import { sha256 } from '../plan/resolve.js';
import { defaultTemplatesDir } from './assets.js';
import {
  PRINT_FOLD_WIDTH,
  escapeHtml,
  foldCommand,
  markdownToSafeHtml,
  mdBlock,
  mdCell,
  mdCodeBlock,
  mdInline,
  mdInlineCode,
} from './markup.js';
import { wordParts } from './words.js';

export type OutputKind = 'html' | 'md';

export interface TemplateFile {
  /** relative name inside the set, with `/`: `plan.html.hbs`, `partials/step.md.hbs`, `style.css` */
  name: string;
  /** where it was read from */
  file: string;
  text: string;
  /** true when it came from the override folder */
  override: boolean;
}

export class TemplateSetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateSetError';
  }
}

const TEMPLATE_NAME = /^(?:partials\/)?[A-Za-z0-9_-]+(?:\.[a-z]+)?\.(?:hbs|css)$/;

function listSet(dir: string): string[] {
  const out: string[] = [];
  const add = (sub: string) => {
    const d = path.join(dir, sub);
    if (!existsSync(d)) return;
    for (const e of readdirSync(d)) {
      const name = sub ? `${sub}/${e}` : e;
      if (TEMPLATE_NAME.test(name)) out.push(name);
    }
  };
  add('');
  add('partials');
  return out.sort();
}

/** Read a file of the override folder, refusing anything whose real path is outside it. */
function readInside(base: string, name: string): string {
  const file = path.join(base, ...name.split('/'));
  const real = realpathSync(file);
  if (real !== base && !real.startsWith(base + path.sep))
    throw new TemplateSetError(`template ${name} in ${base} leads outside that folder (to ${real}): refused`);
  if (!statSync(real).isFile()) throw new TemplateSetError(`template ${name} in ${base} is not a file`);
  return readFileSync(real, 'utf8');
}

/** lifeboat's templates, with any file of `overrideDir` replacing or adding to them. */
export function loadTemplateSet(opts: { dir?: string; overrideDir?: string } = {}): Map<string, TemplateFile> {
  const dir = opts.dir ?? defaultTemplatesDir();
  const set = new Map<string, TemplateFile>();
  for (const name of listSet(dir)) {
    const file = path.join(dir, name);
    set.set(name, { name, file, text: readFileSync(file, 'utf8'), override: false });
  }
  if (opts.overrideDir) {
    let base: string;
    try {
      base = realpathSync(opts.overrideDir);
    } catch {
      throw new TemplateSetError(`template folder ${opts.overrideDir} does not exist`);
    }
    if (!statSync(base).isDirectory())
      throw new TemplateSetError(`--templates wants a folder; ${opts.overrideDir} is not one`);
    // symlinked sub-folders are not followed: partials/ must be a real folder inside the override
    const partials = path.join(base, 'partials');
    if (existsSync(partials) && lstatSync(partials).isSymbolicLink())
      throw new TemplateSetError(
        `${partials} is a symlink: refused (templates are read only from inside ${opts.overrideDir})`,
      );
    for (const name of listSet(base))
      set.set(name, { name, file: path.join(base, name), text: readInside(base, name), override: true });
  }
  return set;
}

export interface DocEngine {
  kind: OutputKind;
  /** render DOC.KIND.hbs (e.g. `plan`) with a view model */
  render(doc: string, model: object): string;
  /** the template files DOC is made from (main template, partials, CSS), for its input digest */
  inputs(doc: string): { path: string; sha256: string }[];
}

export interface EngineOptions {
  /** keep compiled templates here (keyed by their text): compiling costs ~200 ms a run */
  cacheDir?: string;
}

type HandlebarsNs = typeof import('handlebars');
type Spec = Parameters<HandlebarsNs['template']>[0];

// every template of a kind is compiled the same way; an indented {{> partial}} must never
// indent a <pre> (it would change the commands), so indentation is never added
const compileOptions = (kind: OutputKind) => ({ noEscape: kind === 'md', preventIndent: true, strict: false });

/** the default cache folder: $XDG_CACHE_HOME/lifeboat/templates or ~/.cache/lifeboat/templates */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = env.XDG_CACHE_HOME || (env.HOME ? path.join(env.HOME, '.cache') : undefined);
  return base ? path.join(base, 'lifeboat', 'templates') : undefined;
}

/**
 * A fresh Handlebars instance for one output kind, with the set's partials and helpers.
 * Templates are precompiled once and cached by content; with a warm cache only the
 * Handlebars runtime is loaded.
 */
export async function createEngine(
  set: Map<string, TemplateFile>,
  kind: OutputKind,
  opts: EngineOptions = {},
): Promise<DocEngine> {
  const suffix = `.${kind}.hbs`;
  const files = [...set.values()].filter((f) => f.name.endsWith(suffix));
  const specs = new Map<string, string>();
  let full: HandlebarsNs | undefined;
  const keyOf = (f: TemplateFile) => sha256(`${HBS_CACHE_VERSION}\0${kind}\0${f.text}`);
  for (const f of files) {
    const cached = opts.cacheDir ? readCache(opts.cacheDir, keyOf(f)) : undefined;
    if (cached) {
      specs.set(f.name, cached);
      continue;
    }
    full ??= ((await import('handlebars')) as unknown as { default: HandlebarsNs }).default;
    let spec: string;
    try {
      spec = full.precompile(f.text, compileOptions(kind)) as unknown as string;
    } catch (e) {
      throw new TemplateSetError(`template ${f.name} (${f.file}): ${(e as Error).message}`);
    }
    specs.set(f.name, spec);
    if (opts.cacheDir) writeCache(opts.cacheDir, keyOf(f), spec);
  }
  const runtime = full ?? ((await import('handlebars/runtime.js')) as unknown as { default: HandlebarsNs }).default;
  const hb = runtime.create();
  // a precompiled spec is the JavaScript source of an object literal
  const load = (name: string) => hb.template(new Function(`return ${specs.get(name)};`)() as Spec);
  const parts: TemplateFile[] = [];
  for (const f of files) {
    if (!f.name.startsWith('partials/')) continue;
    hb.registerPartial(f.name.slice('partials/'.length, -suffix.length), load(f.name));
    parts.push(f);
  }
  const css = set.get('style.css');
  if (kind === 'html' && css) parts.push(css);
  registerCommonHelpers(hb);
  if (kind === 'html') registerHtmlHelpers(hb);
  else registerMdHelpers(hb);
  const compiled = new Map<string, HandlebarsTemplateDelegate>();
  return {
    kind,
    render(doc, model) {
      const name = `${doc}${suffix}`;
      if (!set.has(name)) throw new TemplateSetError(`no template ${name}`);
      let t = compiled.get(name);
      if (!t) {
        t = load(name);
        compiled.set(name, t);
      }
      const cssText = kind === 'html' ? safeCss(set.get('style.css')?.text ?? '') : '';
      return t({ ...model, css: cssText }, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
    },
    inputs(doc) {
      const main = set.get(`${doc}${suffix}`);
      return [...(main ? [main] : []), ...parts].map((f) => ({
        path: `${f.override ? 'templates (override)' : 'templates'}/${f.name}`,
        sha256: sha256(f.text),
      }));
    },
  };
}

// bump when compile options or Handlebars change in a way the cache key cannot see
const HBS_CACHE_VERSION = 'hbs-4.7-1';

function readCache(dir: string, key: string): string | undefined {
  try {
    return readFileSync(path.join(dir, `${key}.js`), 'utf8');
  } catch {
    return undefined;
  }
}

function writeCache(dir: string, key: string, spec: string) {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(dir, `${key}.${process.pid}.tmp`);
    writeFileSync(tmp, spec, { mode: 0o600 });
    renameSync(tmp, path.join(dir, `${key}.js`));
  } catch {
    /* a cache that cannot be written only costs time */
  }
}

/** CSS goes into a <style> element: it must not be able to close it. */
function safeCss(css: string): string {
  return css.replace(/<\/style/gi, '<\\/style');
}

function registerCommonHelpers(hb: HandlebarsNs) {
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('not', (a: unknown) => !a);
  hb.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  hb.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  hb.registerHelper('len', (a: unknown) => (Array.isArray(a) ? a.length : 0));
  hb.registerHelper('upper', (s: unknown) => String(s ?? '').toUpperCase());
  hb.registerHelper('concat', (...args: unknown[]) =>
    args
      .slice(0, -1)
      .map((a) => String(a ?? ''))
      .join(''),
  );
  hb.registerHelper('join', (a: unknown, sep: unknown) =>
    Array.isArray(a) ? a.map(String).join(typeof sep === 'string' ? sep : ', ') : '',
  );
}

function registerHtmlHelpers(hb: HandlebarsNs) {
  // the one place raw HTML enters the page: Markdown with its own HTML escaped
  hb.registerHelper('markdown', (text: unknown) => new hb.SafeString(markdownToSafeHtml(String(text ?? ''))));
  // a value inside a CSS string (the page footer): every non-alphanumeric char as a CSS escape
  hb.registerHelper(
    'cssString',
    (text: unknown) =>
      new hb.SafeString(
        '"' + String(text ?? '').replace(/[^A-Za-z0-9 ]/g, (c) => `\\${c.codePointAt(0)!.toString(16)} `) + '"',
      ),
  );
  // the model's words with their code spans typeset
  hb.registerHelper(
    'words',
    (text: unknown) =>
      new hb.SafeString(
        wordParts(String(text ?? ''))
          .map((p, i) => (i % 2 ? `<code>${escapeHtml(p)}</code>` : escapeHtml(p)))
          .join(''),
      ),
  );
  // a long command folded with shell line continuations, so paper shows typeable lines
  hb.registerHelper('fold', (text: unknown) => foldCommand(String(text ?? ''), PRINT_FOLD_WIDTH));
  // a host key fingerprint: one line, or split once after "SHA256:" when the column is narrow
  hb.registerHelper('fp', (text: unknown) => {
    const t = String(text ?? '');
    const i = t.indexOf(':');
    return new hb.SafeString(
      i < 0 ? escapeHtml(t) : `${escapeHtml(t.slice(0, i + 1))}<wbr>${escapeHtml(t.slice(i + 1))}`,
    );
  });
  hb.registerHelper('escape', (text: unknown) => new hb.SafeString(escapeHtml(String(text ?? ''))));
}

function registerMdHelpers(hb: HandlebarsNs) {
  hb.registerHelper('md', (text: unknown) => mdInline(String(text ?? '')));
  hb.registerHelper('words', (text: unknown) =>
    wordParts(String(text ?? ''))
      .map((p, i) => (i % 2 ? mdInlineCode(p) : mdInline(p)))
      .join(''),
  );
  hb.registerHelper('mdBlock', (text: unknown) => mdBlock(String(text ?? '')));
  hb.registerHelper('cell', (text: unknown) => mdCell(String(text ?? '')));
  hb.registerHelper('code', (text: unknown) => mdInlineCode(String(text ?? '')));
  hb.registerHelper('codeBlock', (text: unknown, lang: unknown) =>
    mdCodeBlock(String(text ?? ''), typeof lang === 'string' ? lang : ''),
  );
}

// Where a diagnostic points: a YAML node's span, or the `{{` of a template inside a YAML
// string (plain, quoted or a block scalar), from the positions the YAML parser keeps.
import type { Diagnostic, Severity } from '../model/diagnostic.js';
import type { YamlFile, YamlPath } from './read-yaml.js';

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
    if (ls[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: offset - ls[lo] + 1 };
}

// offsets of `{{` in text, scanning without overlap (the same scan on value and source keeps them in step)
function braceOffsets(text: string, from = 0, to = text.length): number[] {
  const out: number[] = [];
  for (let i = text.indexOf('{{', from); i >= 0 && i < to; i = text.indexOf('{{', i + 2)) out.push(i);
  return out;
}

interface BraceIndex {
  source: string;
  lineStarts: number[];
  inValue: number[];
  inSource: number[];
}
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
  const idx = {
    source,
    lineStarts: ls,
    inValue: braceOffsets(source),
    inSource: braceOffsets(f.text, toOffset(f, span.line, span.col), toOffset(f, span.endLine, span.endCol)),
  };
  byPath.set(key, idx);
  return idx;
}

/**
 * Where a place inside a template value (1-based line, 0-based column, as Handlebars reports
 * it) sits in the YAML source. The value may be plain, quoted or a block scalar, so instead of
 * re-implementing YAML folding we count `{{` openings: the n-th one in the value is the n-th
 * one in the node's source text.
 */
export function templatePosition(
  f: YamlFile,
  path: YamlPath,
  source: string,
  line: number,
  column: number,
): { line: number; col: number; endCol?: number } {
  const bi = braceIndex(f, path, source);
  const at = (bi.lineStarts[line - 1] ?? 0) + column;
  // binary search: how many `{{` open before `at`
  let lo = 0;
  let hi = bi.inValue.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bi.inValue[mid] < at) lo = mid + 1;
    else hi = mid;
  }
  const o = bi.inSource[lo];
  if (o === undefined) {
    const span = f.spanOf(path);
    return { line: span.line, col: span.col };
  }
  const pos = toLineCol(f, o);
  const close = f.text.indexOf('}}', o);
  const nl = f.text.indexOf('\n', o);
  const endCol =
    close >= 0 && (nl < 0 || close < nl) ? pos.col + (close - o) + (f.text[close + 2] === '}' ? 3 : 2) : undefined;
  return { ...pos, endCol };
}

export function diagAt(
  f: YamlFile,
  path: YamlPath,
  key: boolean,
  severity: Severity,
  code: string,
  message: string,
  hint?: string,
): Diagnostic {
  const s = f.spanOf(path, key);
  return {
    file: f.file,
    line: s.line,
    col: s.col,
    endLine: s.endLine,
    endCol: s.endCol,
    severity,
    code,
    message,
    hint,
  };
}

/** A diagnostic at one `{{ }}` of a template field (from its place in the value, as the template parser gives it). */
export function diagAtTemplate(
  f: YamlFile,
  field: { path: YamlPath; source: string },
  at: { line: number; column: number },
  severity: Severity,
  code: string,
  message: string,
  hint?: string,
): Diagnostic {
  const pos = templatePosition(f, field.path, field.source, at.line, at.column);
  return {
    file: f.file,
    line: pos.line,
    col: pos.col,
    endLine: pos.endCol ? pos.line : undefined,
    endCol: pos.endCol,
    severity,
    code,
    message,
    hint,
  };
}

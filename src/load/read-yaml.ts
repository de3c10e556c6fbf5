// Reads one YAML file into plain data while keeping every node's source position,
// so any later check can point at file:line:col. Problems become Diagnostics, never throws.
import { readFileSync, statSync } from 'node:fs';
import {
  parseDocument,
  isMap,
  isSeq,
  isScalar,
  isPair,
  LineCounter,
  type Document,
  type Node,
  type YAMLError,
} from 'yaml';
import type { Diagnostic } from '../model/diagnostic.js';

export type PathSeg = string | number;
export type YamlPath = PathSeg[];

export interface Span {
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

export interface YamlFile {
  file: string;
  text: string;
  doc: Document.Parsed;
  data: unknown;
  /** position of the node at `path`; `key` points at the key of the last segment instead of its value */
  spanOf(path: YamlPath, key?: boolean): Span;
}

/** a runbook is a page of text; anything past this is not one */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;

export interface ReadResult {
  file?: YamlFile;
  diagnostics: Diagnostic[];
}

function fileDiag(file: string, code: string, message: string, hint?: string, line = 0, col = 0): Diagnostic {
  return { file, line, col, severity: 'error', code, message, hint };
}

const YAML_HINTS: Record<string, string> = {
  TAB_AS_INDENT: 'YAML indents with spaces only: replace the tab with spaces',
  DUPLICATE_KEY: 'a key may appear once per mapping: remove or rename one of them',
  BAD_INDENT: 'line the item up with its siblings (spaces only)',
  BAD_ALIAS: 'define the anchor (&name) before using the alias (*name)',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line; check for a missing colon or quote on the line above',
  MISSING_CHAR: 'a quote or bracket is not closed',
  MULTIPLE_DOCS: 'keep one document per file: split it into several files, or remove the extra `---`',
  UNEXPECTED_TOKEN: 'check the indentation and punctuation of this line',
  BLOCK_AS_IMPLICIT_KEY: 'check the indentation: this looks like a mapping nested where a key was expected',
};

export function readYamlFile(file: string): ReadResult {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      diagnostics: [
        fileDiag(
          file,
          'file-unreadable',
          code === 'ENOENT' ? 'file not found' : `cannot read file (${code})`,
          'check the path',
        ),
      ],
    };
  }
  if (st.isDirectory())
    return { diagnostics: [fileDiag(file, 'file-unreadable', 'is a directory, expected a YAML file')] };
  if (!st.isFile())
    return {
      diagnostics: [
        fileDiag(file, 'file-unreadable', 'is not a regular file (a FIFO, socket or device?)', 'point at a .yaml file'),
      ],
    };
  if (st.size > MAX_FILE_BYTES) {
    return {
      diagnostics: [
        fileDiag(
          file,
          'file-too-large',
          `file is ${(st.size / 1048576).toFixed(1)} MiB; a runbook, inventory or site file may be at most ${MAX_FILE_BYTES / 1048576} MiB`,
          'split it into several runbooks',
        ),
      ],
    };
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    return {
      diagnostics: [fileDiag(file, 'file-unreadable', `cannot read file (${(e as NodeJS.ErrnoException).code})`)],
    };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstBadUtf8(bytes);
    const before = bytes.subarray(0, at).toString('latin1');
    const line = before.split('\n').length;
    const col = at - before.lastIndexOf('\n');
    return {
      diagnostics: [
        fileDiag(
          file,
          'not-utf8',
          `file is not UTF-8 (invalid byte 0x${bytes[at]?.toString(16).padStart(2, '0')})`,
          'save the file as UTF-8 (iconv -f latin1 -t utf-8)',
          line,
          col,
        ),
      ],
    };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return parseYamlText(file, text);
}

// offset of the first byte that does not start or continue a valid UTF-8 sequence
function firstBadUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const x = b[i];
    const n = x < 0x80 ? 0 : x >> 5 === 6 ? 1 : x >> 4 === 14 ? 2 : x >> 3 === 30 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return 0;
}

/** the key whose plain value, starting at line:col, holds a `: ` (else undefined) */
function colonInValue(text: string, line: number, col: number): string | undefined {
  const src = text.split('\n')[line - 1] ?? '';
  const key = /([^\s:{},[\]-][^:{},[\]]*?):\s*$/.exec(src.slice(0, col - 1))?.[1];
  const value = src.slice(col - 1);
  return key && /^[^'"|>].*:\s/.test(value) ? key.trim() : undefined;
}

// the next non-blank line is indented more than this one
function deeperNextLine(text: string, line: number): boolean {
  const lines = text.split('\n');
  const ind = (l: string) => l.length - l.trimStart().length;
  const next = lines.slice(line).find((l) => l.trim() !== '');
  return next !== undefined && ind(next) > ind(lines[line - 1] ?? '');
}

const err0 = (doc: Document.Parsed, code: string) => doc.errors.some((e) => e.code === code);

/** every repeated key of every mapping, with the line of its first occurrence */
function duplicateKeys(doc: Document.Parsed, lc: LineCounter): { key: string; line: number; firstLine: number }[] {
  const out: { key: string; line: number; firstLine: number }[] = [];
  const stack: unknown[] = [doc.contents];
  while (stack.length) {
    const n = stack.pop();
    if (isMap(n)) {
      const first = new Map<string, number>();
      for (const it of n.items) {
        if (!isPair(it)) continue;
        stack.push(it.value);
        if (!isScalar(it.key) || !it.key.range) continue;
        const k = String(it.key.value);
        const line = lc.linePos(it.key.range[0]).line;
        const f = first.get(k);
        if (f === undefined) first.set(k, line);
        else out.push({ key: k, line, firstLine: f });
      }
    } else if (isSeq(n)) {
      for (const it of n.items) stack.push(it);
    }
  }
  return out;
}

export function parseYamlText(file: string, text: string): ReadResult {
  if (text.trim() === '' || /^(\s*(#.*)?\n?)*$/.test(text)) {
    return {
      diagnostics: [fileDiag(file, 'empty-file', 'file is empty', 'start it with `lifeboat: 1` and a `kind:`')],
    };
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
    keepSourceTokens: false,
  });
  const diagnostics = syntaxDiagnostics(file, text, doc, lc);
  if (diagnostics.length) return { diagnostics };
  let data: unknown;
  try {
    // maxAliasCount bounds "billion laughs" alias bombs
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    return { diagnostics: [aliasDiagnostic(file, text, lc, e as Error)] };
  }
  return { file: { file, text, doc, data, spanOf: spanFinder(doc, lc) }, diagnostics };
}

/** the parser's errors: every duplicate key, and the first syntax error (the parser is lost after it) */
function syntaxDiagnostics(file: string, text: string, doc: Document.Parsed, lc: LineCounter): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const dupKeys = err0(doc, 'DUPLICATE_KEY') ? duplicateKeys(doc, lc) : [];
  const lines = new Set<number>();
  // after the first syntax error the parser is lost: what it reports further down follows from it
  const first = doc.errors.findIndex((e) => e.code !== 'DUPLICATE_KEY');
  const later = first < 0 ? 0 : doc.errors.slice(first + 1).filter((e) => e.code !== 'DUPLICATE_KEY').length;
  for (const err of doc.errors.filter((e, i) => (e.code === 'DUPLICATE_KEY' ? first < 0 || i < first : i === first))) {
    const p = lc.linePos(err.pos[0]);
    // one message per line: yaml often reports a bad indentation twice in different words
    if (lines.has(p.line) && err.code !== 'DUPLICATE_KEY') continue;
    lines.add(p.line);
    diagnostics.push(syntaxDiagnostic(file, text, err, p, dupKeys));
  }
  if (later) {
    const d = diagnostics.find((x) => x.code !== 'yaml-duplicate-key');
    if (d) d.hint = `${d.hint ? `${d.hint}; ` : ''}the rest of the file is checked once this is fixed`;
  }
  return diagnostics;
}

/** one parser error at `p`, in the words of the mistake that usually causes it */
function syntaxDiagnostic(
  file: string,
  text: string,
  err: YAMLError,
  p: { line: number; col: number },
  dupKeys: { key: string; line: number; firstLine: number }[],
): Diagnostic {
  let msg = `YAML: ${err.message.split('\n')[0].replace(/ at line \d+, column \d+.*$/, '')}`;
  if (err.code === 'DUPLICATE_KEY') {
    const dk = dupKeys.find((k) => k.line === p.line) ?? dupKeys.find((k) => Math.abs(k.line - p.line) <= 1);
    if (dk) msg = `YAML: duplicate key '${dk.key}' (first at line ${dk.firstLine})`;
  } else if (err.code === 'MULTIPLE_DOCS') {
    msg =
      'YAML: the file holds several documents (a second `---`); lifeboat reads one runbook, inventory or site per file';
  } else if (err.code === 'BLOCK_AS_IMPLICIT_KEY' && colonInValue(text, p.line, p.col)) {
    // the common case: a command like `awk -F': '` written as a plain value
    const key = colonInValue(text, p.line, p.col)!;
    return {
      file,
      line: p.line,
      col: p.col,
      severity: 'error',
      code: 'yaml-colon-in-value',
      message: `YAML: the value of '${key}' contains ': ' (a colon and a space), which YAML reads as the start of another key`,
      hint: `quote the whole value, or write it as a block: \`${key}: |\` with the text on the next lines, indented`,
    };
  } else if (err.code === 'BLOCK_AS_IMPLICIT_KEY' && deeperNextLine(text, p.line)) {
    msg = `YAML: line ${p.line + 1} is indented deeper than the key above it, so YAML reads it as part of this value`;
  } else if (/call stack/i.test(msg)) {
    msg = 'YAML: nested too deeply to read';
  }
  return {
    file,
    line: p.line,
    col: p.col,
    severity: 'error',
    code: `yaml-${err.code.toLowerCase().replace(/_/g, '-')}`,
    message: msg,
    hint: YAML_HINTS[err.code],
  };
}

/** an alias bomb, or an alias to no anchor: turning the document into data failed */
function aliasDiagnostic(file: string, text: string, lc: LineCounter, e: Error): Diagnostic {
  const msg = e.message;
  const bomb = /alias count|resource exhaustion/i.test(msg);
  // point at the alias itself: the yaml library reports no position for it
  const name = /: (\S+)$/.exec(msg)?.[1];
  const at =
    !bomb && name ? text.search(new RegExp(`\\*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`)) : -1;
  const pos = at >= 0 ? lc.linePos(at) : { line: 1, col: 1 };
  return fileDiag(
    file,
    bomb ? 'yaml-alias-bomb' : 'yaml-alias',
    bomb
      ? 'YAML: too many aliases (an alias bomb?)'
      : `YAML: alias *${name ?? '?'} refers to no anchor (&${name ?? '?'}) defined before it`,
    bomb ? 'expand the aliases by hand; lifeboat resolves at most 50' : YAML_HINTS.BAD_ALIAS,
    pos.line,
    pos.col,
  );
}

/** the position of the node at a path of the document (of its key, with `key`); the nearest parent found else */
function spanFinder(doc: Document.Parsed, lc: LineCounter): YamlFile['spanOf'] {
  const span = (node: Node | null | undefined): Span => {
    const r = node?.range;
    if (!r) return { line: 1, col: 1, endLine: 1, endCol: 1 };
    const a = lc.linePos(r[0]);
    const b = lc.linePos(r[1]);
    return { line: a.line, col: a.col, endLine: b.line, endCol: b.col };
  };
  return (path: YamlPath, key = false): Span => {
    let node: unknown = doc.contents;
    let last: Span = span(doc.contents as Node | null);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const isLast = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find(
          (it) => isPair(it) && (isScalar(it.key) ? String(it.key.value) === String(seg) : false),
        );
        if (!pair) return last;
        if (isLast && key) return span(pair.key as Node);
        node = pair.value;
        last = pair.value ? span(pair.value as Node) : span(pair.key as Node);
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (!item) return last;
        node = item;
        last = span(item as Node);
      } else {
        return last;
      }
    }
    return last;
  };
}

// One diagnostic type for every problem found in the user's files, and one formatter
// (file:line:col: severity: message [code], the source line and a caret).
import { compareText } from '../util/compare.js';
import { paint } from '../util/text.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  file: string;
  /** 1-based; 0 when the problem concerns the whole file */
  line: number;
  /** 1-based */
  col: number;
  endLine?: number;
  endCol?: number;
  severity: Severity;
  /** stable, documented code such as `schema`, `unknown-field`, `duplicate-id` */
  code: string;
  message: string;
  /** what to do about it */
  hint?: string;
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    compareText(a.file, b.file) ||
    a.line - b.line ||
    a.col - b.col ||
    compareText(a.code, b.code) ||
    compareText(a.message, b.message)
  );
}

export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort(compareDiagnostics);
}

export function hasErrors(list: Diagnostic[]): boolean {
  return list.some((d) => d.severity === 'error');
}

export interface FormatOptions {
  /** file contents by path, for the source line and caret */
  sources?: Map<string, string>;
  color?: boolean;
}

export function formatDiagnostic(d: Diagnostic, opts: FormatOptions = {}): string {
  const c = opts.color ?? false;
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  const sev = d.severity === 'error' ? paint(c, '31;1', 'error') : paint(c, '33;1', 'warning');
  // a hostile file must not reach the terminal with escape sequences (clear screen, fake lines, window titles)
  const message = d.message.replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (x) => `\\u${x.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  let out = `${paint(c, '1', where)}: ${sev}: ${message} ${paint(c, '2', `[${d.code}]`)}`;
  const text = opts.sources?.get(d.file);
  if (text !== undefined && d.line > 0) {
    const src = text.split(/\r?\n/)[d.line - 1];
    if (src !== undefined) {
      const shown = src.replace(/\t/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '\ufffd');
      const gutter = String(d.line).padStart(4);
      const width = d.endLine === d.line && d.endCol && d.endCol > d.col ? d.endCol - d.col : 1;
      const caretWidth = Math.max(1, Math.min(width, shown.length - d.col + 1));
      out +=
        `\n${paint(c, '2', `${gutter} |`)} ${shown}\n` +
        `${paint(c, '2', `${' '.repeat(gutter.length)} |`)} ${' '.repeat(Math.max(0, d.col - 1))}` +
        `${paint(c, d.severity === 'error' ? '31' : '33', '^'.repeat(caretWidth))}`;
    }
  }
  if (d.hint) out += `\n     = ${d.hint}`;
  return out;
}

export function summarize(list: Diagnostic[]): string {
  const e = list.filter((d) => d.severity === 'error').length;
  const w = list.length - e;
  return `${e} error${e === 1 ? '' : 's'}, ${w} warning${w === 1 ? '' : 's'}`;
}

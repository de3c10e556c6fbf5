// dr-lookalike: characters a wiki or word processor puts where the shell wants ASCII (curly
// quotes, dashes, no-break and zero-width spaces, fullwidth forms).
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Runbook, Step } from '../../model/types.js';
import type { Loaded } from '../project.js';
import { stepName } from './common.js';
import { templateFields } from './template-fields.js';

export function lintLookalikes(rb: Loaded<Runbook>, s: Step, i: number, out: Diagnostic[]): void {
  const f = rb.file;
  for (const tf of templateFields(s, i)) {
    if (!tf.shell) continue;
    const found = lookalike(tf.source);
    if (!found) continue;
    const pos = charPosition(f, ['steps', i, tf.field], found.char);
    out.push({
      file: f.file,
      line: pos.line,
      col: pos.col,
      endLine: pos.line,
      endCol: pos.col + 1,
      severity: 'warning',
      code: 'dr-lookalike',
      message:
        `${stepName(s, i)} ${tf.field}: ${found.what} where the shell expects ${found.ascii}` +
        `${found.more ? ` (and ${found.more} more such character${found.more === 1 ? '' : 's'})` : ''}` +
        ': copied from a wiki or a document?',
      hint:
        found.ascii === 'nothing'
          ? 'delete it: it is invisible, and the shell reads it as part of a word'
          : `type it again as ${found.ascii}: the shell does not read ${found.what.replace(/ \(U\+[0-9A-F]+\)$/, '')} as one`,
    });
  }
}

const LOOKALIKES: Record<string, [string, string]> = {
  '\u2018': ['a left single quotation mark ‘', "'"],
  '\u2019': ['a right single quotation mark ’', "'"],
  '\u201c': ['a left double quotation mark “', '"'],
  '\u201d': ['a right double quotation mark ”', '"'],
  '\u2013': ['an en dash –', '-'],
  '\u2014': ['an em dash —', '-'],
  '\u2212': ['a minus sign −', '-'],
  '\u00a0': ['a no-break space', 'a space'],
  '\u202f': ['a narrow no-break space', 'a space'],
  '\u200b': ['a zero-width space', 'nothing'],
  '\u200c': ['a zero-width non-joiner', 'nothing'],
  '\u200d': ['a zero-width joiner', 'nothing'],
  '\u2060': ['a word joiner', 'nothing'],
  '\ufeff': ['a byte-order mark', 'nothing'],
  '\u2028': ['a line separator', 'a newline'],
  '\u2029': ['a paragraph separator', 'a newline'],
};

/** The first look-alike character in a command, what it is, and how many more there are. */
function lookalike(text: string): { char: string; what: string; ascii: string; more: number } | undefined {
  let first: { char: string; what: string; ascii: string } | undefined;
  let count = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    let hit: [string, string] | undefined = LOOKALIKES[ch];
    // fullwidth forms (U+FF01–FF5E) of ASCII punctuation and letters: `；`, `｜`, `ｒｍ`
    if (!hit && code >= 0xff01 && code <= 0xff5e) hit = [`a fullwidth ${ch}`, String.fromCharCode(code - 0xfee0)];
    if (!hit) continue;
    count++;
    first ??= { char: ch, what: `${hit[0]} (U+${code.toString(16).toUpperCase().padStart(4, '0')})`, ascii: hit[1] };
  }
  return first && { ...first, more: count - 1 };
}

/**
 * Where a character of a field's value first appears in the file (the field's start when it is written as an escape).
 */
function charPosition(f: Loaded<Runbook>['file'], p: (string | number)[], ch: string): { line: number; col: number } {
  const span = f.spanOf(p);
  const lines = f.text.split('\n');
  let start = 0;
  for (let l = 0; l < span.line - 1; l++) start += lines[l].length + 1;
  start += span.col - 1;
  let end = 0;
  for (let l = 0; l < span.endLine - 1 && l < lines.length; l++) end += lines[l].length + 1;
  end += span.endCol - 1;
  const at = f.text.indexOf(ch, start);
  if (at < 0 || at >= Math.max(end, start + 1)) return { line: span.line, col: span.col };
  const before = f.text.slice(0, at);
  const line = before.split('\n').length;
  return { line, col: at - before.lastIndexOf('\n') };
}

// dr-reparsed: a value handed to a second shell (eval, sh -c, su -c, ssh HOST CMD) is parsed
// again: the quoting is undone once.
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Runbook, Step } from '../../model/types.js';
import type { Loaded } from '../project.js';
import { parseTemplate } from '../../plan/template.js';
import { diagAtTemplate } from '../positions.js';
import { stepName } from './common.js';
import { templateFields } from './template-fields.js';

export function lintReparsed(rb: Loaded<Runbook>, s: Step, i: number, out: Diagnostic[]): void {
  const f = rb.file;
  for (const tf of templateFields(s, i)) {
    if (!tf.shell) continue;
    const starts = [0];
    for (let k = 0; k < tf.source.length; k++) if (tf.source[k] === '\n') starts.push(k + 1);
    for (const ref of parseTemplate(tf.source).refs) {
      if (ref.raw || ref.inQuotes || ref.inHeredoc) continue;
      const who = reparsedBy(tf.source.slice(0, (starts[ref.line - 1] ?? 0) + ref.column));
      if (!who) continue;
      const v = ref.parts[ref.parts.length - 1].toUpperCase().replace(/[^A-Z0-9_]/g, '_');
      out.push(
        diagAtTemplate(
          f,
          tf,
          ref,
          'warning',
          'dr-reparsed',
          `${stepName(s, i)} ${tf.field}: {{ ${ref.path} }} is handed to ${who}, ` +
            'which parses it as shell again: the quoting is undone and the value can run commands',
          who === 'ssh'
            ? 'run the step on that host with `on:` instead of ssh from another one'
            : `pass it through env: (env: { ${v}: "{{ ${ref.path} }}" }) and write "$${v}" in the command instead`,
        ),
      );
    }
  }
}

/**
 * Whether the words just before an insertion hand it to a second shell: `eval`, `sh -c`
 * (bash, dash, zsh, ksh; also after sudo), `su … -c`, `runuser … -c`, or a remote command of
 * `ssh HOST`. Looks at the simple command the insertion is part of.
 */
function reparsedBy(before: string): string | undefined {
  // earlier insertions count as one word each
  // the line the insertion is on is enough (and keeps long commands linear)
  before = before.slice(Math.max(before.lastIndexOf('\n') + 1, before.length - 2000));
  const cmd =
    before
      .replace(/\{\{\{?[^}]*\}?\}\}/g, 'V')
      .split(/&&|\|\||[;|&\n(`{]|\$\(|\b(?:then|do|else)\b/)
      .pop() ?? '';
  const words = cmd.trim().split(/\s+/).filter(Boolean);
  const base = (x: string | undefined) => (x ?? '').replace(/^.*\//, '');
  // the command word: after `!`, sudo, exec, env, timeout and the like, their options and VAR=value
  let w = 0;
  while (
    w < words.length &&
    (/^(!|sudo|exec|command|builtin|time|nice|nohup|env|timeout|doas)$/.test(base(words[w])) ||
      words[w].startsWith('-') ||
      /^\w+=/.test(words[w]) ||
      /^\d+[smhd]?$/.test(words[w]))
  )
    w++;
  if (w >= words.length) return undefined;
  const word = base(words[w]);
  const last = words[words.length - 1];
  if (word === 'eval') return 'eval';
  // `trap ACTION SIGNAL…`: the action is run as shell when the signal comes
  if (word === 'trap' && w === words.length - 1) return 'trap';
  // `sh -c SCRIPT ARG…`: only SCRIPT is parsed again; ARGs become $1… (the safe way to pass values)
  if (/^(ba|da|z|k|)sh$/.test(word) && w < words.length - 1 && /^-[a-z]*c[a-z]*$/.test(last)) return `${word} -c`;
  if ((word === 'su' || word === 'runuser') && w < words.length - 1 && (last === '-c' || last === '--command'))
    return `${word} -c`;
  if (word === 'ssh') {
    // ssh [options] HOST COMMAND…: the words after HOST are joined and run by the remote shell
    let k = w + 1;
    while (k < words.length && words[k].startsWith('-')) k += /^-[bcDEeFIiJLlmOoPpQRSWw]$/.test(words[k]) ? 2 : 1;
    if (k < words.length - 1 || (k === words.length - 1 && /\s$/.test(before))) return 'ssh';
  }
  return undefined;
}

// What a failure shows of a command's output: its last lines, not only the last one (the cause
// is often printed on stderr before something else). Pure; every view that shows a failure uses it.
import { printable } from '../util/printable.js';

/** lines of a tail longer than this are cut (a minified blob must not fill the screen) */
const MAX_LINE = 300;

/**
 * The last `n` lines of `text`, redacted, with terminal escapes made visible. A carriage
 * return keeps what a terminal would show (the text after it); trailing blank lines are dropped.
 */
export function outputTail(text: string, n = 10, redact: (s: string) => string = (s) => s): string {
  const lines = redact(text)
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l.slice(l.lastIndexOf('\r') + 1));
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  const last = lines.slice(-Math.max(1, n)).map((l) => printable(l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}…` : l));
  return (lines.length > last.length ? [`… (${lines.length - last.length} earlier lines)`] : [])
    .concat(last)
    .join('\n');
}

/** stderr's and stdout's tails, each labelled; empty when both are empty. */
export function failureTail(out: { stdout?: string; stderr?: string }, n = 10, redact?: (s: string) => string): string {
  const parts: string[] = [];
  const err = outputTail(out.stderr ?? '', n, redact);
  const std = outputTail(out.stdout ?? '', n, redact);
  if (err) parts.push(`stderr:\n${indent(err)}`);
  if (std) parts.push(`stdout:\n${indent(std)}`);
  return parts.join('\n');
}

const indent = (s: string) =>
  s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

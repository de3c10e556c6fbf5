// Step semantics in plain words, for a person following the printed plan by hand.
import type { Expectation, OutputTest } from '../model/plan.js';

const UNITS: [number, string][] = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1000, 'second'],
  [1, 'millisecond'],
];

/** 120000 → "2 minutes", 5400000 → "1 hour 30 minutes", 1500 → "1 second 500 milliseconds" */
export function durationWords(ms: number): string {
  if (ms <= 0) return '0 seconds';
  const parts: string[] = [];
  let rest = ms;
  for (const [size, name] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
      rest -= n * size;
    }
  }
  return parts.join(' ');
}

// the runbook's own notation for a duration (one function, also used outside the plan)
export { durationShort } from '../util/duration.js';

// Code spans inside words (`prints ⟨t⟩`) are marked with two control characters that YAML
// text cannot hold, so each output format can typeset them (HTML <code>, Markdown backticks).
export const CODE_OPEN = '\u0001';
export const CODE_CLOSE = '\u0002';
export const code = (s: string) => CODE_OPEN + s.replace(/[\u0001\u0002]/g, '') + CODE_CLOSE;
/** words as plain text: code spans in backticks */
export const plainWords = (s: string) => s.replace(/[\u0001\u0002]/g, '`');
/** split words into [text, code, text, code, …] */
export const wordParts = (s: string) => s.split(/[\u0001\u0002]/);

const list = (items: string[], last = 'or') =>
  items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} ${last} ${items[items.length - 1]}`;

function outputWords(stream: 'stdout' | 'stderr', t: OutputTest): string {
  const subject = stream === 'stdout' ? 'output' : 'error output';
  if (t.kind === 'equals') return stream === 'stdout' ? `prints ${code(t.value)}` : `prints ${code(t.value)} on stderr`;
  if (t.kind === 'match') return `${subject} matches ${code(`/${t.regex}/`)}`;
  return `${subject} contains ${code(t.value)}`;
}

/** "exit code 0", "exit code 0 or 24 and prints ⟨t⟩", "output matches ⟨/^rsync/⟩" (⟨⟩: code spans) */
export function expectationWords(e: Expectation): string {
  const parts: string[] = [];
  const defaultExit = e.exit.length === 1 && e.exit[0] === 0;
  if (!defaultExit || (!e.stdout && !e.stderr)) parts.push(`exit code ${list(e.exit.map(String))}`);
  if (e.stdout) parts.push(outputWords('stdout', e.stdout));
  if (e.stderr) parts.push(outputWords('stderr', e.stderr));
  return parts.join(' and ');
}

/** "repeats every 2s until it prints ⟨f⟩, for at most 2 minutes" */
export function untilWords(until: Expectation, intervalMs: number, timeoutMs: number | undefined): string {
  const what = expectationWords(until);
  // "until it prints `f`" reads better than "until prints"; exit codes take "gives"
  const phrase = what.startsWith('prints')
    ? `it ${what}`
    : /^(output|error output)/.test(what)
      ? `its ${what}`
      : `it gives ${what}`;
  const every =
    intervalMs % 1000 === 0 && intervalMs / 1000 <= 60 ? `${intervalMs / 1000}s` : durationWords(intervalMs);
  return `repeats every ${every} until ${phrase}${timeoutMs !== undefined ? `, for at most ${durationWords(timeoutMs)}` : ''}`;
}

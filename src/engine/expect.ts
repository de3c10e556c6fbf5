// Pure: does a command's result meet an expectation? Returns the reason in words when not.
import type { Expectation, OutputTest } from '../model/plan.js';
import type { Template } from '../plan/template.js';

export interface Outcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  canceled: boolean;
  signal: string | null;
  /** stopped by lifeboat, and its stop was not confirmed */
  mayStillRun?: boolean;
}

/**
 * How a command that lifeboat stopped ended, in words: the one wording of "timed out" and
 * "stopped by the operator", which says so when the stop itself was not confirmed.
 */
export function stoppedWords(r: Outcome, what = r.timedOut ? 'timed out' : 'stopped by the operator'): string {
  return r.mayStillRun ? `${what}; may still be running (stop not confirmed)` : what;
}

function testOutput(t: OutputTest, text: string): boolean {
  const s = text.trim();
  switch (t.kind) {
    case 'equals':
      return s === t.value.trim();
    case 'contains':
      return text.includes(t.value);
    case 'match':
      return new RegExp(t.regex, 'm').test(text);
  }
}

export function describeTest(t: OutputTest): string {
  switch (t.kind) {
    case 'equals':
      return `'${t.value}'`;
    case 'contains':
      return `text containing '${t.value}'`;
    case 'match':
      return `text matching /${t.regex}/`;
  }
}

const short = (s: string) => {
  const t = s.trim();
  const line = t.split('\n').slice(-1)[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
};

/**
 * The expectation with its template values (expect.stdout: "{{ captured.sum }}") rendered; the same object when there
 * are none.
 */
export function renderExpectation(e: Expectation, renderValue: (t: Template) => string): Expectation {
  const one = (t: OutputTest | undefined): OutputTest | undefined =>
    t && t.kind !== 'match' && t.template ? { kind: t.kind, value: renderValue(t.template) } : t;
  if (
    !(e.stdout && 'template' in e.stdout && e.stdout.template) &&
    !(e.stderr && 'template' in e.stderr && e.stderr.template)
  )
    return e;
  return { ...e, stdout: one(e.stdout), stderr: one(e.stderr) };
}

export function checkExpectation(e: Expectation, r: Outcome): { ok: boolean; reason?: string } {
  if (r.timedOut || r.canceled) return { ok: false, reason: stoppedWords(r) };
  if (r.exitCode === null) return { ok: false, reason: `killed by ${r.signal ?? 'a signal'}` };
  if (!e.exit.includes(r.exitCode)) {
    const err = short(r.stderr) || short(r.stdout);
    return {
      ok: false,
      reason: `exit code ${r.exitCode}${e.exit.length === 1 && e.exit[0] === 0 ? '' : ` (expected ${e.exit.join(' or ')})`}${err ? `: ${err}` : ''}`,
    };
  }
  if (e.stdout && !testOutput(e.stdout, r.stdout))
    return { ok: false, reason: `stdout was '${short(r.stdout)}', expected ${describeTest(e.stdout)}` };
  if (e.stderr && !testOutput(e.stderr, r.stderr))
    return { ok: false, reason: `stderr was '${short(r.stderr)}', expected ${describeTest(e.stderr)}` };
  return { ok: true };
}

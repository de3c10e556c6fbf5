// A command as the runner sees it: its output shown as it comes (redacted, also across chunks),
// what the failure prompt may page through, and how it ended, judged into its exec-finished
// record. Pure apart from the reporter it shows output on.
import type { ResolvedStep } from '../model/plan.js';
import type { ExecResult, Reporter } from '../ports.js';
import type { Template } from '../plan/template.js';
import type { ExecFinishedEvent } from './events.js';
import type { Action } from './decide.js';
import { unitKey, pollFits, DEFAULT_POLL_TIMEOUT_MS, type RunState } from './state.js';
import { checkExpectation, renderExpectation, stoppedWords } from './expect.js';
import { StreamRedactor, type Redactor } from './redact.js';

export type ExecAction = Extract<Action, { kind: 'exec' }>;

const TAIL = 4096;
/** what the failure prompt can page through, per stream */
const FULL = 1 << 20;
const tail = (s: string, n: number) => (s.length > n ? s.slice(s.length - n) : s);

/** what judging a command needs of its run */
export interface Judging {
  state: RunState;
  now: () => number;
  /** how much of each stream the journal keeps */
  tailBytes: number | undefined;
  /** one of the step's templates, rendered as text for the command's host */
  text: (t: Template) => string;
}

/** A command's output shown as it comes (redacted, also across chunks), and what is left of it at the end. */
export function liveOutput(redactor: Redactor, rep: Reporter, step: string, host: string) {
  const out = new StreamRedactor(redactor);
  const err = new StreamRedactor(redactor);
  return {
    stdout: (c: string) => {
      const t = out.push(c);
      if (t) rep.output(step, host, 'stdout', t);
    },
    stderr: (c: string) => {
      const t = err.push(c);
      if (t) rep.output(step, host, 'stderr', t);
    },
    flush: () => {
      const o = out.flush();
      if (o) rep.output(step, host, 'stdout', o);
      const e = err.flush();
      if (e) rep.output(step, host, 'stderr', e);
    },
  };
}

/** What the failure prompt can show of a command's output ("show the whole output"): redacted, bounded. */
export function keptOutput(redactor: Redactor, res: ExecResult): { stdout: string; stderr: string } {
  return {
    stdout: tail(redactor.redact(res.stdout), FULL),
    stderr: tail(redactor.redact(res.stderr), FULL),
  };
}

/** How a command ended, judged: its expectation for the step's command, its exit code for a guard or a rollback. */
export function finishedEvent(
  j: Judging,
  st: ResolvedStep,
  host: string,
  a: ExecAction,
  res: ExecResult,
): ExecFinishedEvent {
  const ev: ExecFinishedEvent = {
    type: 'exec-finished',
    step: st.id,
    host,
    attempt: a.attempt,
    purpose: a.purpose,
    exitCode: res.exitCode,
    timedOut: res.timedOut,
    canceled: res.canceled,
    signal: res.signal,
    durationMs: res.durationMs,
    stdoutTail: tail(res.stdout, j.tailBytes ?? TAIL),
    stderrTail: tail(res.stderr, j.tailBytes ?? TAIL),
    ok: false,
  };
  if (res.simulated) {
    // dry run: the command "did what it should"; a guard is shown as not holding, so the step shows
    ev.ok = a.purpose !== 'skip_if';
    if (a.purpose === 'run' && st.capture) ev.captured = { name: st.capture, value: `<captured ${st.capture}>` };
  } else if (a.purpose === 'run') {
    judgeRun(j, ev, st, host, res);
  } else {
    ev.ok = res.exitCode === 0 && !res.timedOut && !res.canceled;
    if (!ev.ok) ev.reason = res.timedOut || res.canceled ? stoppedWords(res) : `exit code ${res.exitCode}`;
  }
  return ev;
}

/** The step's command against its `expect` (or its `until`, polled to its deadline), and what it captures. */
function judgeRun(j: Judging, ev: ExecFinishedEvent, st: ResolvedStep, host: string, res: ExecResult): void {
  let check: { ok: boolean; reason?: string };
  try {
    check = checkExpectation(renderExpectation(st.until ?? st.expect, j.text), res);
  } catch (e) {
    // what to compare with cannot be known (a captured value that never came): not a pass
    check = { ok: false, reason: `cannot check the output: ${(e as Error).message}` };
  }
  ev.ok = check.ok;
  ev.reason = check.reason;
  if (st.until && !check.ok && !res.timedOut && !res.canceled) {
    // another poll only when it fits before the deadline: the log then says "gave up", not "not yet"
    const u = j.state.units[unitKey(st.id, host)];
    const first = u.firstAt ?? j.now();
    if (pollFits(st, first, j.now())) ev.pollAgain = true;
    else ev.reason = `${check.reason ?? 'condition not met'}; gave up after ${Math.round((j.now() - first) / 1000)}s`;
  }
  if (st.until && res.timedOut)
    ev.reason = stoppedWords(
      res,
      `did not hold within ${Math.round((st.timeoutMs ?? DEFAULT_POLL_TIMEOUT_MS) / 1000)}s`,
    );
  if (check.ok && st.capture) ev.captured = { name: st.capture, value: res.stdout.trim() };
}

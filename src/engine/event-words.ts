// Journal records in words, in one place: the plain reporter and the live view (describeEvent),
// `lifeboat log` and the run report (timeline) and the report's tables say the same fact the
// same way. Views add only their layout: time, step number, colour, and which records they show.
import type { ExecErrorEvent, ExecFinishedEvent, InDoubtEvent, RunEvent } from './events.js';
import { resultWords, type RunResult } from './outcome.js';
import { failureTail } from './output-tail.js';
import { describeRpo, rpoLevel } from './rpo.js';
import { formatDuration } from '../util/duration.js';

export type EventLevel = 'info' | 'ok' | 'warn' | 'error';

export interface EventWords {
  step?: string;
  host?: string;
  /** one line: whitespace in free text (messages, questions, reasons) is folded to single spaces */
  text: string;
  level: EventLevel;
  /** a failed command's last lines of stderr and stdout (outputTail), one line each, to show under the line */
  detail?: string[];
}

export interface EventWordsOptions {
  /** cut long free text (questions, commands, messages) to fit a terminal's table; the report has room for all */
  short?: boolean;
  /**
   * the run's one result (runOutcome over the whole journal), for its last run-finished: the record says only that
   * the run reached its end, not that an operator skipped a failure on the way ("completed with errors")
   */
  runResult?: RunResult;
}

type Of<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;
type Cut = (text: string, max: number) => string;
interface Ctx {
  cut: Cut;
  runResult?: RunResult;
}

const cutter =
  (short = false): Cut =>
  (text, max) => {
    const t = text.replace(/\s+/g, ' ').trim();
    return short && t.length > max ? `${t.slice(0, max - 1)}…` : t;
  };

/** Who answered a question or made a decision: a person (with the flag that answered for them), or the runbook. */
export function answeredBy(r: Of<'confirmed' | 'manual-done' | 'failure-decision' | 'in-doubt'>): string {
  if (!r.auto) return r.by;
  if (r.type === 'confirmed') return `${r.by} (--yes)`;
  if (r.type === 'manual-done') return `${r.by} (--yes-manual)`;
  // on_failure, idempotent and skip_if in the runbook decided, not a person
  return 'policy';
}

const IN_DOUBT_CHOICE: Record<InDoubtEvent['choice'], string> = {
  guard: 'left to its skip_if guard',
  rerun: 'run again',
  done: 'marked done',
  abort: 'abort (decide later)',
};

/** What was decided about a command in doubt after a stop; the policy reruns only an idempotent step. */
export const inDoubtChoiceWords = (r: InDoubtEvent): string =>
  r.choice === 'rerun' && r.auto ? 'run again (idempotent)' : IN_DOUBT_CHOICE[r.choice];

const TRANSPORT_ERROR: Record<string, string> = {
  unreachable: 'unreachable',
  'connection-lost': 'connection lost',
  'host-key-unknown': 'refused',
  'host-key-changed': 'refused',
};

/** How a command failed short of an exit code (a TransportError kind), in words: "connection lost". */
export const transportErrorWords = (kind: string): string => TRANSPORT_ERROR[kind] ?? 'error';

const purposePrefix = (purpose: 'run' | 'skip_if' | 'rollback') => (purpose === 'run' ? '' : `${purpose}: `);

/** A value a command captured for later steps: "captured lsn=0/3000060". */
export const capturedWords = (c: { name: string; value: string }, cut: Cut = cutter()): string =>
  `captured ${c.name}=${cut(c.value, 40)}`;

/** How a command ended, without its exit code and time ("FAILED: exit code 7", "rolled back"). */
export function commandResultWords(r: ExecFinishedEvent, cut: Cut = cutter()): string {
  const why = r.reason ? `: ${cut(r.reason, 60)}` : '';
  if (r.purpose === 'skip_if')
    return r.ok ? 'skip_if guard held: step skipped' : 'skip_if guard did not hold: running the step';
  if (r.purpose === 'rollback') return r.ok ? 'rolled back' : `rollback FAILED${why}`;
  if (r.ok) return 'ok';
  return r.pollAgain ? `not yet${why}` : `FAILED${why}`;
}

/** A command that got no exit code because its host could not be reached or kept ("CONNECTION LOST: …"). */
export function commandErrorWords(r: ExecErrorEvent, cut: Cut = cutter()): string {
  return `${purposePrefix(r.purpose)}${transportErrorWords(r.kind).toUpperCase()}: ${cut(r.message, 60)}`;
}

const howEnded = (r: ExecFinishedEvent) =>
  r.timedOut
    ? 'timed out'
    : r.canceled
      ? 'canceled'
      : r.signal
        ? `killed by ${r.signal}`
        : r.exitCode === null
          ? 'no exit code'
          : `exit ${r.exitCode}`;

function execFinished(r: ExecFinishedEvent, c: Ctx): EventWords {
  const facts = `${howEnded(r)}, ${formatDuration(r.durationMs)}${r.attempt > 1 ? `, attempt ${r.attempt}` : ''}`;
  const captured = r.captured ? `; ${capturedWords(r.captured, c.cut)}` : '';
  const failed = !r.ok && !r.pollAgain && r.purpose !== 'skip_if';
  const tail = failed ? failureTail({ stdout: r.stdoutTail, stderr: r.stderrTail }) : '';
  return {
    step: r.step,
    host: r.host,
    text: `${commandResultWords(r, c.cut)} (${facts})${captured}`,
    level: failed ? 'error' : r.ok && r.purpose !== 'skip_if' ? 'ok' : 'info',
    ...(tail ? { detail: tail.split('\n') } : {}),
  };
}

function runStarted(r: Of<'run-started'>): EventWords {
  const env = r.environment ? ` (${r.environment})` : '';
  const range = `${r.fromStep ? `, from step ${r.fromStep}` : ''}${r.toStep ? `, to step ${r.toStep}` : ''}`;
  return {
    text: `${r.mode} ${r.runId}: ${r.runbook}@${r.version} on ${r.inventory}${env} by ${r.operator}${range}`,
    level: 'info',
  };
}

function hostState(r: Of<'host-state'>, c: Ctx): EventWords {
  if (r.reachable) return { host: r.host, text: 'connected', level: 'info' };
  const why = r.message ?? r.kind;
  return { host: r.host, text: `unreachable${why ? `: ${c.cut(why, 60)}` : ''}`, level: 'warn' };
}

const stepSkipped = (r: Of<'step-skipped'>, c: Ctx): EventWords => ({
  step: r.step,
  host: r.host,
  text: `skipped${r.note ? `: ${c.cut(r.note, 60)}` : ''}`,
  level: 'info',
});

const confirmed = (r: Of<'confirmed'>, c: Ctx): EventWords => ({
  step: r.step,
  text: `confirm "${c.cut(r.question, 60)}" → ${r.answer ? 'yes' : 'no'} by ${answeredBy(r)}`,
  level: r.answer ? 'info' : 'warn',
});

const manualDone = (r: Of<'manual-done'>, c: Ctx): EventWords => ({
  step: r.step,
  text:
    `manual step ${r.done ? 'done' : 'NOT done'} by ${answeredBy(r)}` +
    `${r.record ? `, recorded ${r.record}=${c.cut(r.value ?? '', 40)}` : ''}`,
  level: r.done ? 'info' : 'warn',
});

const intent = (r: Of<'intent'>, c: Ctx): EventWords => ({
  step: r.step,
  host: r.host,
  text: `${purposePrefix(r.purpose)}${r.attempt > 1 ? `attempt ${r.attempt}: ` : ''}$ ${c.cut(r.command, 70)}`,
  level: 'info',
});

/** A command sent whose result was never journaled (the log shows it in place of its intent). */
export const unansweredIntentWords = (r: Of<'intent'>, opts: EventWordsOptions = {}): EventWords => ({
  step: r.step,
  host: r.host,
  text: `${purposePrefix(r.purpose)}sent, no result recorded: IN DOUBT (${cutter(opts.short)(r.command, 50)})`,
  level: 'error',
});

/** A note the run started with (the decision to run although the rehearsal is not current, …). */
export const startNoteWords = (note: string): EventWords => ({ text: `note: ${note}`, level: 'warn' });

const execError = (r: ExecErrorEvent, c: Ctx): EventWords => ({
  step: r.step,
  host: r.host,
  text: commandErrorWords(r, c.cut),
  level: 'error',
});

const STEP_LEVEL = { ok: 'ok', failed: 'error', skipped: 'info' } as const;

const stepFinished = (r: Of<'step-finished'>): EventWords => ({
  step: r.step,
  text: `finished ${r.result} (${formatDuration(r.durationMs)})`,
  level: STEP_LEVEL[r.result],
});

const failureDecision = (r: Of<'failure-decision'>): EventWords => ({
  step: r.step,
  host: r.host,
  text: `on failure: ${r.choice} by ${answeredBy(r)}`,
  level: 'warn',
});

const inDoubt = (r: InDoubtEvent): EventWords => ({
  step: r.step,
  host: r.host,
  text: `in doubt after a stop: ${inDoubtChoiceWords(r)} by ${answeredBy(r)}`,
  level: 'warn',
});

const units = (us: { step: string; host: string }[]) => us.map((u) => `${u.step}@${u.host}`).join(', ');

const rollbackStarted = (r: Of<'rollback-started'>): EventWords => ({
  text:
    `rolling back ${r.units.length} step${r.units.length === 1 ? '' : 's'}: ` +
    `${units(r.units) || 'nothing to undo'}`,
  level: 'warn',
});

const resumed = (r: Of<'resumed'>): EventWords => ({
  text:
    `resumed by ${r.operator}` +
    `${r.inDoubt.length ? `; in doubt: ${units(r.inDoubt)}` : ''}` +
    `${r.acceptedChanges?.length ? `; accepted changes: ${r.acceptedChanges.join(', ')}` : ''}`,
  level: 'warn',
});

const STOPPING = { 'stop-step': 'stopping the running commands', 'after-step': 'stopping after this step' } as const;

const interrupted = (r: Of<'interrupted'>): EventWords => ({
  text: `interrupted by ${r.by}: ${STOPPING[r.how]}`,
  level: 'warn',
});

const rpoMeasured = (r: Of<'rpo-measured'>): EventWords => ({ step: r.step, text: describeRpo(r), level: rpoLevel(r) });

// without the whole journal, whether the run succeeded is the summary's to say (runOutcome)
function runFinished(r: Of<'run-finished'>, c: Ctx): EventWords {
  const result = c.runResult ?? r.result;
  const how = result === 'succeeded' ? 'reached its end' : resultWords(result);
  return {
    text: `run ${how} in ${formatDuration(r.durationMs)}${r.message ? `: ${c.cut(r.message, 70)}` : ''}`,
    level: result === 'succeeded' ? 'ok' : 'error',
  };
}

const WORDS: { [T in RunEvent['type']]: (r: Of<T>, c: Ctx) => EventWords } = {
  'run-started': runStarted,
  'host-state': hostState,
  'step-started': (r) => ({ step: r.step, text: 'started', level: 'info' }),
  'step-skipped': stepSkipped,
  confirmed,
  'manual-done': manualDone,
  intent,
  'exec-finished': execFinished,
  'exec-error': execError,
  'step-finished': stepFinished,
  'failure-decision': failureDecision,
  'in-doubt': inDoubt,
  'rollback-started': rollbackStarted,
  resumed,
  interrupted,
  'rpo-measured': rpoMeasured,
  'run-finished': runFinished,
};

/** A journal record in words: the same text for the terminal, the log and the report. */
export function eventWords(r: RunEvent, opts: EventWordsOptions = {}): EventWords {
  const words = WORDS[r.type] as ((r: RunEvent, c: Ctx) => EventWords) | undefined;
  // a record type from a newer lifeboat: shown rather than hidden
  if (!words) return { text: `(${(r as { type: string }).type})`, level: 'info' };
  return words(r, { cut: cutter(opts.short), runResult: opts.runResult });
}

// A run from its first record to its summary, shared by run, rehearse, preflight and resume:
// the runner wired to its ports, Ctrl-C, the remote lock, the summary; and afterwards the
// history line and the JUnit report.
import path from 'node:path';
import type { CliIO } from '../cli/io.js';
import { useColor } from '../cli/io.js';
import { EXIT } from '../cli/exit.js';
import type { Prepared } from './prepare.js';
import type { RunCmdOptions, RunMode } from './options.js';
import { takeRemoteLock } from './remote-lock.js';
import { NonInteractiveError } from '../ui/operator.js';
import { summaryTable } from '../ui/summary.js';
import { outcomeOf } from '../engine/outcome.js';
import { initState, type RunState } from '../engine/state.js';
import { Runner } from '../engine/runner.js';
import type { RunStartedEvent, JournalRecord } from '../engine/events.js';
import type { Journal, Operator, Reporter } from '../ports.js';
import { closeAll, type Transports } from '../transport/registry.js';
import { VERSION } from '../version.js';
import { stepNumbers } from '../plan/numbering.js';
import { estimatesOf } from '../plan/estimates.js';
import { mustSync, planFacts } from '../engine/events.js';
import { ExitError } from '../cli/exit.js';
import type { FileJournal } from '../journal/file-journal.js';
import type { ResolvedPlan } from '../model/plan.js';

/** History (rehearsals and production runs) and the JUnit report, once a run has ended. */
export async function afterRun(
  prepared: Prepared,
  state: RunState,
  records: JournalRecord[],
  transports: Transports,
  opts: { junit?: string; stateDir?: string },
  io: CliIO,
  mode: RunMode,
) {
  if (mode === 'preflight' || state.status === 'interrupted') return;
  const { recordHistory, writeJunit } = await import('../rehearsal/record.js');
  // the host keys SSH was shown go into the history (src/rehearsal/record.ts)
  const seen = (transports.ssh as { seenHostKeys?: Map<string, string> }).seenHostKeys;
  const file = await recordHistory(
    prepared,
    records,
    Object.fromEntries(seen ?? []),
    opts.stateDir ? path.resolve(opts.stateDir) : undefined,
  );
  if (file)
    io.stdout.write(
      `${mode === 'rehearsal' ? 'rehearsal' : 'run'} recorded in ${path.relative(io.cwd, file) || file}\n`,
    );
  if (opts.junit) {
    writeJunit(opts.junit, prepared, state, records);
    io.stdout.write(`JUnit report: ${opts.junit}\n`);
  }
}

interface ExecuteArgs {
  prepared: Prepared;
  mode: RunMode;
  operator: Operator;
  interactive: boolean;
  journal: Journal;
  reporter: Reporter;
  transports: Transports;
  secrets: Record<string, string>;
  opts: RunCmdOptions;
  notes: string[];
  runId: string;
  io: CliIO;
  /** the state folder (for locks left by finished runs) */
  stateDir?: string;
  /** resume: records replayed into the state instead of a new run-started */
  replay?: JournalRecord[];
  resumed?: { acceptedChanges?: string[] };
}

/** Shared by run and resume: wire the runner, handle Ctrl-C and the remote lock, print the summary. */
export async function execute(a: ExecuteArgs): Promise<{ code: number; state: RunState; records: JournalRecord[] }> {
  const { prepared, operator, interactive, journal, reporter, transports, io } = a;
  const plan = prepared.plan;
  const records: JournalRecord[] = [...(a.replay ?? [])];
  const recording = recordingJournal(journal, records);
  const started = await runStarted(a, records, recording);
  if (!a.replay) reporter.event(started);
  const state = initState(plan, started, { defaultOnFailure: interactive ? 'ask' : 'abort' });
  const remote = remoteLockSlot(plan, reporter);
  const runner = new Runner(
    plan,
    state,
    { transports, journal: recording, operator, reporter },
    { secrets: a.secrets, connectAll: a.mode === 'preflight', beforeFinish: remote.release },
  );
  if (a.replay) await replayInto(runner, state, a.replay, a);

  const onSigint = sigintHandler(runner, reporter, io);
  process.on('SIGINT', onSigint);
  try {
    if (plan.lock) await takeRemoteLockOrAbort(a, runner, state, remote);
    await runner.run();
  } catch (e) {
    const stop = stopOf(e);
    if (stop) {
      await finishEarly(runner, state, stop.result, stop.message);
    } else {
      await remote.release();
      await reporter.close();
      await closeAll(transports);
      await journal.close().catch(() => undefined);
      throw e;
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  await remote.release();
  await reporter.close();
  await closeAll(transports);
  await journal.close();
  return { code: printSummary(io, plan, state, records, a.runId), state, records };
}

/**
 * A run or a resume once it holds its local lock and its journal: execute, release the lock as soon as the run
 * ends (however it ends), then the history and the JUnit report. The exit code.
 */
export async function executeHolding(a: ExecuteArgs, lock: { release(): void }): Promise<number> {
  let result;
  try {
    result = await execute(a);
  } finally {
    lock.release();
  }
  await afterRun(a.prepared, result.state, result.records, a.transports, a.opts, a.io, a.mode);
  return result.code;
}

/** The journal as the runner sees it: every record appended is also kept, in order, for the summary and the history. */
function recordingJournal(journal: Journal, records: JournalRecord[]): Journal {
  return {
    append: async (e) => {
      const r = await journal.append(e);
      records.push(r);
      return r;
    },
    close: () => journal.close(),
  };
}

/** The run's start record: the one replayed (resume), or a new one, journaled before anything else. */
async function runStarted(
  a: ExecuteArgs,
  records: JournalRecord[],
  recording: Journal,
): Promise<JournalRecord & RunStartedEvent> {
  const found = records.find((r) => r.type === 'run-started') as (JournalRecord & RunStartedEvent) | undefined;
  if (found) return found;
  const plan = a.prepared.plan;
  return (await recording.append({
    type: 'run-started',
    runId: a.runId,
    ...planFacts(plan),
    operator: a.operator.name,
    lifeboatVersion: VERSION,
    vars: topVars(a.prepared),
    mode: a.mode,
    fromStep: a.opts.from,
    toStep: a.opts.to,
    stepNumbers: Object.fromEntries(stepNumbers(plan)),
    estimatesMs: estimatesOf(plan),
    notes: a.notes.length ? a.notes : undefined,
  })) as JournalRecord & RunStartedEvent;
}

interface RemoteLockSlot {
  hold(release: () => Promise<void>): void;
  /** releases the lock once (before the run's last record, or when the session closes); a failure is a warning */
  release(): Promise<void>;
}

function remoteLockSlot(plan: ResolvedPlan, reporter: Reporter): RemoteLockSlot {
  let held: (() => Promise<void>) | undefined;
  return {
    hold: (release) => {
      held = release;
    },
    release: async () => {
      const r = held;
      held = undefined;
      if (r)
        await r().catch((e) =>
          reporter.note(`could not release the lock on ${plan.lock!.host}: ${(e as Error).message}`, 'warn'),
        );
    },
  };
}

/** The remote lock; refused before any step, the journal says so and the run is not left looking crashed. */
async function takeRemoteLockOrAbort(a: ExecuteArgs, runner: Runner, state: RunState, remote: RemoteLockSlot) {
  try {
    remote.hold(await takeRemoteLock(a.prepared.plan, a.runId, a.operator.name, a.transports, a.stateDir));
  } catch (e) {
    await finishEarly(runner, state, 'aborted', (e as Error).message);
    throw e;
  }
}

/** resume: the journal replayed into the state and the view, then the commands that were running are in doubt. */
async function replayInto(runner: Runner, state: RunState, replay: JournalRecord[], a: ExecuteArgs) {
  const plan = a.prepared.plan;
  const { apply, UnitStatus } = await import('../engine/state.js');
  for (const r of replay) if (r.type !== 'run-started') apply(state, plan, r);
  (a.reporter as { restore?: (steps: RunState['steps']) => void }).restore?.(state.steps);
  const inDoubt = Object.values(state.units)
    .filter((u) => u.status === UnitStatus.Running)
    .map((u) => ({ step: u.step, host: u.host }));
  await runner.dispatch({
    type: 'resumed',
    operator: a.operator.name,
    acceptedChanges: a.resumed?.acceptedChanges,
    inDoubt,
  });
}

/** Ctrl-C: the first goes to the runner (which asks, or stops the running commands); the second exits at once. */
function sigintHandler(runner: Runner, reporter: Reporter, io: CliIO): () => void {
  let sigints = 0;
  const onSigint = () => {
    sigints++;
    if (sigints >= 2) {
      (reporter as { abandon?: () => void }).abandon?.();
      io.stderr.write('\nlifeboat: stopped at once; the journal is intact: `lifeboat resume` continues this run\n');
      process.exit(130);
    }
    // Ctrl-C in the interrupt menu itself reaches the prompt as a key, not as SIGINT: the second Ctrl-C
    void runner.interrupt().catch((e) => {
      if (promptClosed(e)) onSigint();
    });
  };
  return onSigint;
}

/** How a run that threw stops in the journal, when it can stop there; undefined for anything else. */
function stopOf(e: unknown): { result: 'aborted' | 'interrupted'; message: string } | undefined {
  if (e instanceof NonInteractiveError) return { result: 'aborted', message: e.message };
  // Ctrl-C at a question: the run stops where it stands and can be resumed there
  if (promptClosed(e))
    return {
      result: 'interrupted',
      message: 'stopped by the operator at a question (Ctrl-C); continue with `lifeboat resume`',
    };
  return undefined;
}

/** The run's last record for a run that ended before its steps did (best effort: the journal may be what failed). */
async function finishEarly(runner: Runner, state: RunState, result: 'aborted' | 'interrupted', message: string) {
  await runner
    .dispatch({ type: 'run-finished', result, durationMs: Date.now() - state.startedAt, message })
    .catch(() => undefined);
}

/** The summary table, and where to look next when the run did not pass; the exit code. */
function printSummary(io: CliIO, plan: ResolvedPlan, state: RunState, records: JournalRecord[], runId: string): number {
  io.stdout.write('\n' + summaryTable(plan, state, records, useColor(io)) + '\n');
  const outcome = outcomeOf(records);
  if (!outcome.passed)
    io.stdout.write(
      `run id ${runId}: \`lifeboat log ${runId}\` for the timeline` +
        (state.status === 'interrupted' || state.status === 'aborted'
          ? `, \`lifeboat resume ${runId}\` to continue`
          : '') +
        '\n',
    );
  // the one result: a run that reached its end with a skipped failure or an unproven "done" is not a success
  return outcome.passed ? EXIT.OK : EXIT.PROBLEMS;
}

/** @inquirer/prompts rejects with ExitPromptError when Ctrl-C is pressed at a prompt */
export const promptClosed = (e: unknown): boolean => e instanceof Error && e.name === 'ExitPromptError';

function topVars(p: Prepared): Record<string, string | number | boolean> {
  const first = p.plan.steps[0];
  return first ? { ...first.scope.vars } : {};
}

/**
 * The run's local lock (one operator per runbook and state folder), then its journal: a new one,
 * or (resume) the existing one opened for appending. Secrets are redacted before anything is
 * written. On any failure nothing is left held.
 */
export async function lockAndJournal(o: {
  stateDir: string;
  runId: string;
  runbook: string;
  operator: string;
  secrets: Record<string, string>;
  takeoverStale: boolean;
  resume?: { force?: boolean };
}): Promise<{ journal: FileJournal; lock: { release(): void } }> {
  const { FileJournal, JournalError } = await import('../journal/file-journal.js');
  const { acquireLocalLock, LockError, describeOwner } = await import('../journal/lock.js');
  let lock;
  try {
    lock = acquireLocalLock(
      o.stateDir,
      o.runbook,
      { runId: o.runId, operator: o.operator },
      { takeoverStale: o.takeoverStale },
    );
  } catch (e) {
    if (e instanceof LockError) {
      throw new ExitError(
        EXIT.PROBLEMS,
        `runbook ${o.runbook} is locked: ${e.owner ? describeOwner(e.owner) : e.message}`,
        e.stale
          ? 'its owner is gone: check nothing runs, then take the lock over with --takeover (or `lifeboat unlock`)'
          : 'two operators must not run the same recovery at once: talk to the owner first',
      );
    }
    throw e;
  }
  const { Redactor } = await import('../engine/redact.js');
  const redactor = new Redactor(Object.values(o.secrets));
  const redact = redactor.empty ? undefined : (s: string) => redactor.redact(s);
  try {
    const journal = o.resume
      ? await FileJournal.open(o.stateDir, o.runId, { redact, force: o.resume.force, sync: mustSync })
      : await FileJournal.create(o.stateDir, o.runId, { redact, sync: mustSync });
    return { journal, lock };
  } catch (e) {
    lock.release();
    if (e instanceof JournalError)
      throw new ExitError(EXIT.PROBLEMS, e.message, [e.hint, ...e.problems.slice(0, 5)].filter(Boolean).join('\n  '));
    throw e;
  }
}

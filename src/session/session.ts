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
import { mustSync } from '../engine/events.js';
import { ExitError } from '../cli/exit.js';
import type { FileJournal } from '../journal/file-journal.js';

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
  const recording: Journal = {
    append: async (e) => {
      const r = await journal.append(e);
      records.push(r);
      return r;
    },
    close: () => journal.close(),
  };
  let found = records.find((r) => r.type === 'run-started') as (JournalRecord & RunStartedEvent) | undefined;
  if (!found) {
    found = (await recording.append({
      type: 'run-started',
      runId: a.runId,
      runbook: plan.runbook.name,
      version: plan.runbook.version,
      title: plan.runbook.title,
      digest: plan.digest,
      files: plan.files,
      inventory: plan.inventory.name,
      inventoryDigest: plan.inventoryDigest,
      environment: plan.inventory.environment,
      operator: operator.name,
      lifeboatVersion: VERSION,
      vars: topVars(prepared),
      rtoMs: plan.runbook.rtoMs,
      mode: a.mode,
      fromStep: a.opts.from,
      toStep: a.opts.to,
      stepNumbers: Object.fromEntries(stepNumbers(plan)),
      estimatesMs: estimatesOf(plan),
      notes: a.notes.length ? a.notes : undefined,
    })) as JournalRecord & RunStartedEvent;
  }
  const started = found!;
  if (!a.replay) reporter.event(started);
  const state = initState(plan, started, { defaultOnFailure: interactive ? 'ask' : 'abort' });
  let remoteRelease: (() => Promise<void>) | undefined;
  const releaseRemote = async () => {
    const r = remoteRelease;
    remoteRelease = undefined;
    if (r)
      await r().catch((e) =>
        reporter.note(`could not release the lock on ${plan.lock!.host}: ${(e as Error).message}`, 'warn'),
      );
  };
  const runner = new Runner(
    plan,
    state,
    { transports, journal: recording, operator, reporter },
    { secrets: a.secrets, connectAll: a.mode === 'preflight', beforeFinish: releaseRemote },
  );
  if (a.replay) {
    const { apply, UnitStatus } = await import('../engine/state.js');
    for (const r of a.replay) if (r.type !== 'run-started') apply(state, plan, r);
    (reporter as { restore?: (steps: RunState['steps']) => void }).restore?.(state.steps);
    const inDoubt = Object.values(state.units)
      .filter((u) => u.status === UnitStatus.Running)
      .map((u) => ({ step: u.step, host: u.host }));
    await runner.dispatch({
      type: 'resumed',
      operator: operator.name,
      acceptedChanges: a.resumed?.acceptedChanges,
      inDoubt,
    });
  }

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
  process.on('SIGINT', onSigint);
  try {
    if (plan.lock) {
      try {
        remoteRelease = await takeRemoteLock(plan, a.runId, operator.name, transports, a.stateDir);
      } catch (e) {
        // refused before any step: the journal says so, the run is not left looking crashed
        await runner
          .dispatch({
            type: 'run-finished',
            result: 'aborted',
            durationMs: Date.now() - state.startedAt,
            message: (e as Error).message,
          })
          .catch(() => undefined);
        throw e;
      }
    }
    await runner.run();
  } catch (e) {
    if (e instanceof NonInteractiveError) {
      await runner
        .dispatch({
          type: 'run-finished',
          result: 'aborted',
          durationMs: Date.now() - state.startedAt,
          message: e.message,
        })
        .catch(() => undefined);
    } else if (promptClosed(e)) {
      // Ctrl-C at a question: the run stops where it stands and can be resumed there
      await runner
        .dispatch({
          type: 'run-finished',
          result: 'interrupted',
          durationMs: Date.now() - state.startedAt,
          message: 'stopped by the operator at a question (Ctrl-C); continue with `lifeboat resume`',
        })
        .catch(() => undefined);
    } else {
      await releaseRemote();
      await reporter.close();
      await closeAll(transports);
      await journal.close().catch(() => undefined);
      throw e;
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  await releaseRemote();
  await reporter.close();
  await closeAll(transports);
  await journal.close();
  io.stdout.write('\n' + summaryTable(plan, state, records, useColor(io)) + '\n');
  const outcome = outcomeOf(records);
  if (!outcome.passed)
    io.stdout.write(
      `run id ${a.runId}: \`lifeboat log ${a.runId}\` for the timeline` +
        (state.status === 'interrupted' || state.status === 'aborted'
          ? `, \`lifeboat resume ${a.runId}\` to continue`
          : '') +
        '\n',
    );
  // the one result: a run that reached its end with a skipped failure or an unproven "done" is not a success
  return { code: outcome.passed ? EXIT.OK : EXIT.PROBLEMS, state, records };
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

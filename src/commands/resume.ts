// lifeboat resume [RUN-ID]: replay the journal into the engine and carry on. Finished steps
// are not re-run; captured values and answers come back; the RTO clock keeps the first start.
// Commands that were running when the run stopped are in doubt and settled first.
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { CliIO } from '../cli/io.js';
import { EXIT, ExitError } from '../cli/exit.js';
import { prepare, type Prepared } from '../session/prepare.js';
import type { RunCmdOptions } from '../session/options.js';
import { makeOperator, makeReporter, makeTransports } from '../session/wiring.js';
import { executeHolding, lockAndJournal } from '../session/session.js';
import { resolveSecrets } from '../session/prepare.js';
import type { JournalRecord, RunStartedEvent } from '../engine/events.js';

export interface ResumeOptions extends Omit<RunCmdOptions, 'inventory' | 'from' | 'dryRun'> {
  acceptChanged?: boolean;
  force?: boolean;
  inDoubt?: 'rerun' | 'done' | 'abort';
}

/** a failed run resumes too: its failed step (or the one whose connection dropped, in doubt) is taken up again */
const RESUMABLE = new Set(['crashed', 'interrupted', 'aborted', 'failed']);

type Started = JournalRecord & RunStartedEvent;

export async function resumeCommand(runIdArg: string | undefined, opts: ResumeOptions, io: CliIO): Promise<number> {
  const { resolveStateDir } = await import('../journal/runs.js');
  const stateDir = resolveStateDir({ stateDir: opts.stateDir, cwd: io.cwd });
  const runId = await pickRun(stateDir, runIdArg);
  const { started, rbFile, invFile } = await startOf(stateDir, runId);
  const prepared = await prepare(rbFile.path, invFile.path, io);
  const changed = changesSince(started, prepared);
  if (changed.length && !opts.acceptChanged) {
    throw new ExitError(
      EXIT.PROBLEMS,
      `the runbook or inventory changed since run ${runId} started:\n  ${changed.join('\n  ')}`,
      'resuming a different procedure than the one half-run is dangerous: check the change, then resume with --accept-changed (recorded)',
    );
  }

  const { operator, interactive } = makeOperator(io, opts, () => {});
  const secrets = await resolveSecrets(prepared.plan, io, interactive ? operator : undefined, (s) =>
    io.stderr.write(s + '\n'),
  );
  const { journal, lock } = await lockAndJournal({
    stateDir,
    runId,
    runbook: prepared.plan.runbook.name,
    operator: operator.name,
    secrets,
    takeoverStale: true,
    resume: { force: opts.force },
  });
  io.stdout.write(
    `resuming run ${runId} (${started.runbook}@${started.version}, started ${started.at} by ${started.operator})\n`,
  );
  const transports = await makeTransports(io, opts, operator);
  const reporter = await makeReporter(io, prepared, opts, operator, started.mode, Date.parse(started.at));
  return executeHolding(
    {
      prepared,
      mode: started.mode,
      operator,
      interactive,
      journal,
      reporter,
      transports,
      secrets,
      opts: { ...opts, inventory: invFile.path },
      notes: [],
      runId,
      io,
      stateDir,
      replay: journal.existing,
      resumed: { acceptedChanges: changed.length ? changed : undefined },
    },
    lock,
  );
}

/**
 * The run to resume: a run of this state folder, by id or a unique part of it (never a path, `../../x`, to a journal
 * elsewhere); without one, the newest real run when it can be continued.
 */
async function pickRun(stateDir: string, runIdArg: string | undefined): Promise<string> {
  if (runIdArg !== undefined) {
    const runId = (await import('../session/find-run.js')).findRunId(stateDir, runIdArg);
    if (runId) return runId;
  }
  const { listRuns } = await import('../journal/runs.js');
  // the newest real run (a run or a rehearsal; a preflight changes nothing and has nothing to
  // continue), when it can be continued: never an older one by surprise
  const r = listRuns(stateDir).find((x) => x.mode !== 'preflight');
  if (!r)
    throw new ExitError(
      EXIT.PROBLEMS,
      `no runs to resume in ${stateDir}`,
      'list runs with `lifeboat runs` (preflights are not resumed)',
    );
  if (!RESUMABLE.has(r.state))
    throw new ExitError(
      EXIT.PROBLEMS,
      `the newest run, ${r.id}, ${r.state === 'running' ? 'is still running' : `has ${r.state}`}: nothing to resume`,
      'name an older run to resume it: `lifeboat runs` lists them',
    );
  return r.id;
}

/** The run's start record and the runbook and inventory files it names, when the run can be resumed. */
async function startOf(stateDir: string, runId: string) {
  const { readRun } = await import('../journal/runs.js');
  const { summary, records: existing } = readRun(stateDir, runId);
  if (summary.state === 'running')
    throw new ExitError(EXIT.PROBLEMS, `run ${runId} is still running (its process holds the lock)`);
  if (!RESUMABLE.has(summary.state))
    throw new ExitError(
      EXIT.PROBLEMS,
      `run ${runId} has finished (${summary.state}): nothing to resume`,
      'start a new run, or `lifeboat run --from STEP`',
    );
  const started = existing.find((r) => r.type === 'run-started') as Started | undefined;
  if (!started) throw new ExitError(EXIT.PROBLEMS, `run ${runId} has no start record: it cannot be resumed`);

  // the same files, by the paths recorded at the start
  const rbFile = started.files.find((f) => f.role === 'runbook');
  const invFile = started.files.find((f) => f.role === 'inventory');
  if (!rbFile || !invFile)
    throw new ExitError(EXIT.PROBLEMS, `run ${runId}: the start record names no runbook or inventory file`);
  for (const f of [rbFile, invFile])
    if (!existsSync(f.path))
      throw new ExitError(
        EXIT.PROBLEMS,
        `${f.path} (used by run ${runId}) is gone`,
        `run lifeboat resume from the folder the run was started in (${path.dirname(path.dirname(stateDir))})`,
      );
  return { started, rbFile, invFile };
}

/** The files that changed, went or came since the run started, in words. */
function changesSince(started: Started, prepared: Prepared): string[] {
  const changed: string[] = [];
  const now = new Map(prepared.plan.files.map((f) => [path.resolve(f.path), f.sha256]));
  for (const f of started.files) {
    const cur = now.get(path.resolve(f.path));
    if (cur !== f.sha256) changed.push(`${f.path} ${cur ? 'changed' : 'no longer used'}`);
  }
  for (const f of prepared.plan.files)
    if (!started.files.some((s) => path.resolve(s.path) === path.resolve(f.path))) changed.push(`${f.path} is new`);
  return changed;
}

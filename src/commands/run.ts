// lifeboat run / rehearse / preflight: check, resolve, journal, lock, run, summarize.
import { stepNumbers } from '../plan/numbering.js';
import path from 'node:path';
import type { CliIO } from '../cli/io.js';
import { EXIT, ExitError } from '../cli/exit.js';
import { prepare, resolveSecrets, type Prepared } from '../session/prepare.js';
import type { RunCmdOptions, RunMode } from '../session/options.js';
import { makeOperator, makeReporter, makeTransports, warmHosts } from '../session/wiring.js';
import { addSudoChecks } from '../session/sudo-check.js';
import { closeAll, dials } from '../transport/registry.js';
import { executeHolding, lockAndJournal } from '../session/session.js';
import { executionOrder } from '../engine/state.js';
import type { Operator } from '../ports.js';

export async function runCommand(
  runbookArg: string,
  opts: RunCmdOptions,
  io: CliIO,
  mode: RunMode = 'run',
): Promise<number> {
  const prepared = await prepare(runbookArg, opts.inventory, io, { dryRun: opts.dryRun });
  for (const w of prepared.warnings)
    io.stderr.write(`${w.file}:${w.line}:${w.col}: warning: ${w.message} [${w.code}]\n`);
  checkStepRange(prepared, opts);
  if (opts.listSteps) return listSteps(prepared, io);
  if (opts.dryRun) {
    const { dryRun } = await import('../session/dry-run.js');
    return dryRun(prepared, opts, io, mode);
  }
  const notes: string[] = [];
  const { operator, interactive } = makeOperator(io, opts, (s) => notes.push(s));
  notes.push(...(await interlockNotes(prepared, mode, opts, io, operator, interactive)));
  if (mode === 'preflight') await preparePreflight(prepared, io);
  const secrets = await resolveSecrets(prepared.plan, io, interactive ? operator : undefined, (s) =>
    io.stderr.write(s + '\n'),
  );
  const { transports, journal, lock, stateDir, runId } = await openRun(prepared, opts, io, operator, secrets);
  const reporter = await makeReporter(io, prepared, opts, operator, mode);
  return executeHolding(
    { prepared, mode, operator, interactive, journal, reporter, transports, secrets, opts, notes, runId, io, stateDir },
    lock,
  );
}

/** `--from` and `--to` name steps of the runbook, in that order. */
function checkStepRange(prepared: Prepared, opts: RunCmdOptions): void {
  for (const [flag, id] of [
    ['--from', opts.from],
    ['--to', opts.to],
  ] as const) {
    if (id && !prepared.plan.steps.some((s) => s.id === id || s.id.startsWith(`${id}/`))) {
      throw new ExitError(
        EXIT.USAGE,
        `${flag} ${id}: no such step in ${prepared.plan.runbook.name}`,
        `steps: ${prepared.plan.steps.map((s) => s.id).join(', ')} (\`lifeboat run ${prepared.plan.runbook.name} -i ${opts.inventory} --list-steps\`)`,
      );
    }
  }
  if (opts.from && opts.to) {
    const order = executionOrder(prepared.plan, 'run').map((s) => s.id);
    const first = order.findIndex((s) => s === opts.from || s.startsWith(`${opts.from}/`));
    let last = -1;
    order.forEach((s, k) => {
      if (s === opts.to || s.startsWith(`${opts.to}/`)) last = k;
    });
    if (last < first)
      throw new ExitError(EXIT.USAGE, `--to ${opts.to} comes before --from ${opts.from}: nothing would run`);
  }
}

/** The rehearsal interlocks (src/rehearsal/interlock.ts): what they found goes into the run's notes. */
async function interlockNotes(
  prepared: Prepared,
  mode: RunMode,
  opts: RunCmdOptions,
  io: CliIO,
  operator: Operator,
  interactive: boolean,
): Promise<string[]> {
  const rh = await import('../rehearsal/interlock.js');
  if (mode === 'rehearsal') return rh.rehearsalInterlock(prepared);
  if (mode === 'run')
    return rh.productionRehearsalCheck(prepared, operator, interactive, Boolean(opts.yes), (s) =>
      io.stderr.write(s + '\n'),
    );
  return [];
}

/** preflight: the sudo checks added to the plan, and the hosts shown with where each value comes from. */
async function preparePreflight(prepared: Prepared, io: CliIO): Promise<void> {
  addSudoChecks(prepared);
  const { describeHostSources } = await import('../ui/describe.js');
  const remote = Object.values(prepared.plan.hosts).filter(dials);
  if (remote.length)
    io.stdout.write(
      `Hosts (and where each value comes from):\n${remote
        .flatMap((h) => describeHostSources(h))
        .map((l) => `  ${l}\n`)
        .join('')}\n`,
    );
}

/**
 * A new run's connections, local lock and journal. The SSH handshakes start first and overlap the lock and the
 * journal's creation (every question before the run has been asked: a passphrase prompt cannot cut into another).
 * On failure nothing is left open.
 */
async function openRun(
  prepared: Prepared,
  opts: RunCmdOptions,
  io: CliIO,
  operator: Operator,
  secrets: Record<string, string>,
) {
  const plan = prepared.plan;
  const transports = await makeTransports(io, opts, operator);
  if (!opts.from) {
    warmHosts(plan, transports);
    // one turn of the event loop: the sockets open (and ssh2 loads) before the lock's file work
    await new Promise((r) => setImmediate(r));
  }
  const { newRunId } = await import('../journal/file-journal.js');
  const stateDir = path.resolve(opts.stateDir ?? path.join(prepared.root, '.lifeboat'));
  const runId = newRunId(plan.runbook.name);
  try {
    const { journal, lock } = await lockAndJournal({
      stateDir,
      runId,
      runbook: plan.runbook.name,
      operator: operator.name,
      secrets,
      takeoverStale: Boolean(opts.takeover),
    });
    return { transports, journal, lock, stateDir, runId };
  } catch (e) {
    await closeAll(transports);
    throw e;
  }
}

/**
 * `--list-steps`: the steps as a run takes them, numbered as the dry run and the live view number them; nothing
 * connects
 */
function listSteps(prepared: Prepared, io: CliIO): number {
  const plan = prepared.plan;
  const steps = executionOrder(plan, 'run');
  const numbers = stepNumbers(plan);
  const w = Math.max(...steps.map((s) => s.id.length), 4);
  io.stdout.write(
    `${plan.runbook.name}@${plan.runbook.version} on ${plan.inventory.name}: ${steps.length} step${steps.length === 1 ? '' : 's'}\n`,
  );
  for (const s of steps) {
    const what = s.confirm ? 'gate' : s.manual ? 'manual' : s.phase === 'preflight' ? 'preflight' : '';
    io.stdout.write(
      `${numbers.get(s.id)!.padStart(3)}. ${s.id.padEnd(w)}  ${s.hosts.join(',') || '-'}` +
        `${what ? `  [${what}]` : ''}${s.title !== s.id ? `  ${s.title}` : ''}\n`,
    );
  }
  return EXIT.OK;
}

// lifeboat run / rehearse / preflight: check, resolve, journal, lock, run, summarize.
import { stepNumbers } from '../plan/numbering.js';
import path from 'node:path';
import type { CliIO } from '../cli/io.js';
import { isInteractive, useColor } from '../cli/io.js';
import { EXIT, ExitError } from '../cli/exit.js';
import { prepare, resolveSecrets, type Prepared } from '../session/prepare.js';
import { PromptOperator, ScriptedOperator, NonInteractiveError, type ScriptedAnswers } from '../ui/operator.js';
import { PlainReporter } from '../ui/plain-reporter.js';
import { summaryTable } from '../ui/summary.js';
import { outcomeOf } from '../engine/outcome.js';
import { initState, executionOrder, type RunState } from '../engine/state.js';
import { Runner } from '../engine/runner.js';
import type { RunStartedEvent, JournalRecord } from '../engine/events.js';
import type { Journal, Operator, Reporter, Transport } from '../ports.js';
import { VERSION } from '../version.js';
import { mustSync } from '../engine/events.js';
import { formatDuration } from '../util/duration.js';
import { parseTemplate } from '../plan/template.js';

export interface RunCmdOptions {
  inventory: string;
  dryRun?: boolean;
  format?: 'text' | 'json';
  yes?: boolean;
  yesManual?: boolean;
  answer?: string[];
  from?: string;
  to?: string;
  listSteps?: boolean;
  plain?: boolean;
  verbose?: boolean;
  stateDir?: string;
  acceptNewHostKeys?: boolean;
  takeover?: boolean;
  junit?: string;
}

export function scriptedAnswers(opts: { yes?: boolean; yesManual?: boolean; answer?: string[]; inDoubt?: ScriptedAnswers['inDoubt'] }): ScriptedAnswers {
  const answers: Record<string, string> = {};
  for (const a of opts.answer ?? []) {
    const i = a.indexOf('=');
    if (i <= 0) throw new ExitError(EXIT.USAGE, `--answer takes STEP=VALUE, got '${a}'`);
    answers[a.slice(0, i)] = a.slice(i + 1);
  }
  return { yes: Boolean(opts.yes), yesManual: Boolean(opts.yesManual), answers, inDoubt: opts.inDoubt };
}

export function makeOperator(io: CliIO, opts: Parameters<typeof scriptedAnswers>[0], log: (s: string) => void): { operator: Operator; interactive: boolean } {
  const scripted = scriptedAnswers(opts);
  const interactive = isInteractive(io);
  return { operator: interactive ? new PromptOperator(scripted, io.stderr) : new ScriptedOperator(scripted, log), interactive };
}

/** the live view: a terminal on stdout, not --plain, not CI */
export const liveView = (io: CliIO, opts: { plain?: boolean }): boolean => !opts.plain && Boolean(io.stdout.isTTY) && !(io.env.CI && io.env.CI !== 'false' && io.env.CI !== '0');

/** `startedAt`: a resumed run's clock keeps counting from its first start (the outage the RTO measures) */
export async function makeReporter(io: CliIO, prepared: Prepared, opts: { plain?: boolean; verbose?: boolean }, operator: Operator, mode: RunMode, startedAt?: number): Promise<Reporter> {
  const color = useColor(io);
  if (liveView(io, opts)) {
    // listr2 is loaded here and only here: plain runs, validate and --version never read it
    const { ListrView } = await import('../ui/listr-view.js');
    const view = new ListrView(prepared.plan, { verbose: opts.verbose, startedAt, mode });
    // questions are asked inside the view, in the task of the step they are about
    if (operator instanceof PromptOperator) operator.asker = view;
    return view;
  }
  return new PlainReporter(io.stdout, { verbose: opts.verbose, color, rtoMs: prepared.plan.runbook.rtoMs, startedAt });
}

export async function makeTransports(io: CliIO, opts: { acceptNewHostKeys?: boolean }, operator: Operator): Promise<{ ssh: Transport; local: Transport }> {
  const [{ SshTransport }, { LocalTransport }] = await Promise.all([import('../transport/ssh.js'), import('../transport/local.js')]);
  const asked = new Map<string, Promise<string>>();
  return {
    ssh: new SshTransport({
      acceptNewHostKeys: opts.acceptNewHostKeys,
      askPassphrase: (key) => { if (!asked.has(key)) asked.set(key, operator.secret({ name: key, prompt: `Passphrase for ${key}:` })); return asked.get(key)!; },
    }),
    local: new LocalTransport(),
  };
}

export type RunMode = RunStartedEvent['mode'];

/** Dial every remote host a step runs on (the runner connects to the same ones when it starts). */
function warmHosts(plan: Prepared['plan'], ssh: Transport) {
  for (const n of new Set(plan.steps.flatMap((s) => s.hosts))) { const h = plan.hosts[n]; if (h && !h.local) ssh.warm?.(h); }
}

export async function runCommand(runbookArg: string, opts: RunCmdOptions, io: CliIO, mode: RunMode = 'run'): Promise<number> {
  const prepared = await prepare(runbookArg, opts.inventory, io, { dryRun: opts.dryRun });
  for (const w of prepared.warnings) io.stderr.write(`${w.file}:${w.line}:${w.col}: warning: ${w.message} [${w.code}]\n`);
  for (const [flag, id] of [['--from', opts.from], ['--to', opts.to]] as const) {
    if (id && !prepared.plan.steps.some((s) => s.id === id || s.id.startsWith(`${id}/`))) {
      throw new ExitError(EXIT.USAGE, `${flag} ${id}: no such step in ${prepared.plan.runbook.name}`, `steps: ${prepared.plan.steps.map((s) => s.id).join(', ')} (\`lifeboat run ${prepared.plan.runbook.name} -i ${opts.inventory} --list-steps\`)`);
    }
  }
  if (opts.from && opts.to) {
    const order = executionOrder(prepared.plan, 'run').map((s) => s.id);
    const first = order.findIndex((s) => s === opts.from || s.startsWith(`${opts.from}/`));
    let last = -1;
    order.forEach((s, k) => { if (s === opts.to || s.startsWith(`${opts.to}/`)) last = k; });
    if (last < first) throw new ExitError(EXIT.USAGE, `--to ${opts.to} comes before --from ${opts.from}: nothing would run`);
  }
  if (opts.listSteps) return listSteps(prepared, io);
  if (opts.dryRun) {
    const { dryRun } = await import('./dry-run.js');
    return dryRun(prepared, opts, io, mode);
  }
  const notes: string[] = [];
  const { operator, interactive } = makeOperator(io, opts, (s) => notes.push(s));
  const rh = await import('../rehearsal/interlock.js');
  if (mode === 'rehearsal') notes.push(...(await rh.rehearsalInterlock(prepared)));
  if (mode === 'run') notes.push(...(await rh.productionRehearsalCheck(prepared, operator, interactive, Boolean(opts.yes), (s) => io.stderr.write(s + '\n'))));
  if (mode === 'preflight') {
    addSudoChecks(prepared);
    const { describeHostSources } = await import('../ui/describe.js');
    const remote = Object.values(prepared.plan.hosts).filter((h) => !h.local);
    if (remote.length) io.stdout.write(`Hosts (and where each value comes from):\n${remote.flatMap((h) => describeHostSources(h)).map((l) => `  ${l}\n`).join('')}\n`);
  }
  const secrets = await resolveSecrets(prepared.plan, io, interactive ? operator : undefined, (s) => io.stderr.write(s + '\n'));

  const plan = prepared.plan;
  // the SSH handshakes start now and overlap the lock and the journal's creation (every question
  // before the run has been asked: a passphrase prompt cannot cut into another)
  const transports = await makeTransports(io, opts, operator);
  if (!opts.from) {
    warmHosts(plan, transports.ssh);
    // one turn of the event loop: the sockets open (and ssh2 loads) before the lock's file work
    await new Promise((r) => setImmediate(r));
  }
  const { FileJournal, newRunId } = await import('../journal/file-journal.js');
  const { acquireLocalLock, LockError, describeOwner } = await import('../journal/lock.js');
  const stateDir = path.resolve(opts.stateDir ?? path.join(prepared.root, '.lifeboat'));
  const runId = newRunId(plan.runbook.name);
  let lock;
  try {
    lock = acquireLocalLock(stateDir, plan.runbook.name, { runId, operator: operator.name }, { takeoverStale: opts.takeover });
  } catch (e) {
    await transports.ssh.closeAll().catch(() => undefined);
    if (e instanceof LockError) {
      throw new ExitError(EXIT.PROBLEMS, `runbook ${plan.runbook.name} is locked: ${e.owner ? describeOwner(e.owner) : e.message}`,
        e.stale ? 'its owner is gone: check nothing runs, then take the lock over with --takeover (or `lifeboat unlock`)' : 'two operators must not run the same recovery at once: talk to the owner first');
    }
    throw e;
  }
  const { Redactor } = await import('../engine/redact.js');
  const redactor = new Redactor(Object.values(secrets));
  let journal: Journal;
  try {
    journal = await FileJournal.create(stateDir, runId, { redact: redactor.empty ? undefined : (s) => redactor.redact(s), sync: mustSync });
  } catch (e) {
    lock.release();
    await transports.ssh.closeAll().catch(() => undefined);
    throw e;
  }
  const reporter = await makeReporter(io, prepared, opts, operator, mode);
  let result;
  try {
    result = await execute({ prepared, mode, operator, interactive, journal, reporter, transports, secrets, opts, notes, runId, io, stateDir });
  } finally {
    lock.release();
  }
  await afterRun(prepared, result.state, result.records, transports, opts, io, mode);
  return result.code;
}

/** `--list-steps`: the steps as a run takes them, numbered as the dry run and the live view number them; nothing connects */
function listSteps(prepared: Prepared, io: CliIO): number {
  const plan = prepared.plan;
  const steps = executionOrder(plan, 'run');
  const numbers = stepNumbers(plan);
  const w = Math.max(...steps.map((s) => s.id.length), 4);
  io.stdout.write(`${plan.runbook.name}@${plan.runbook.version} on ${plan.inventory.name}: ${steps.length} step${steps.length === 1 ? '' : 's'}\n`);
  for (const s of steps) {
    const what = s.confirm ? 'gate' : s.manual ? 'manual' : s.phase === 'preflight' ? 'preflight' : '';
    io.stdout.write(`${numbers.get(s.id)!.padStart(3)}. ${s.id.padEnd(w)}  ${s.hosts.join(',') || '-'}${what ? `  [${what}]` : ''}${s.title !== s.id ? `  ${s.title}` : ''}\n`);
  }
  return EXIT.OK;
}

/** History (rehearsals and production runs) and the JUnit report, once a run has ended. */
export async function afterRun(prepared: Prepared, state: RunState, records: JournalRecord[], transports: { ssh: Transport }, opts: { junit?: string; stateDir?: string }, io: CliIO, mode: RunMode) {
  if (mode === 'preflight' || state.status === 'interrupted') return;
  const { recordHistory, writeJunit } = await import('../rehearsal/record.js');
  const seen = (transports.ssh as { seenHostKeys?: Map<string, string> }).seenHostKeys;
  const file = await recordHistory(prepared, records, Object.fromEntries(seen ?? []), opts.stateDir ? path.resolve(opts.stateDir) : undefined);
  if (file) io.stdout.write(`${mode === 'rehearsal' ? 'rehearsal' : 'run'} recorded in ${path.relative(io.cwd, file) || file}\n`);
  if (opts.junit) { writeJunit(opts.junit, prepared, state, records); io.stdout.write(`JUnit report: ${opts.junit}\n`); }
}

/** preflight also proves sudo works without a password on every host whose steps need it */
export function addSudoChecks(prepared: Pick<Prepared, 'plan'>) {
  const plan = prepared.plan;
  const needs = new Map<string, boolean | string>();
  for (const s of plan.steps) if (s.sudo) for (const h of s.hosts) if (h !== 'local') needs.set(h, needs.get(h) ?? s.sudo);
  if (!needs.size) return;
  const base = plan.steps.find((s) => s.phase === 'preflight') ?? plan.steps[0];
  plan.steps.unshift({
    ...base, id: 'sudo-works', title: 'sudo works without a password where steps need it', action: 'run', run: parseTemplate('true'),
    manual: undefined, confirm: undefined, skipIf: undefined, rollback: undefined, env: {}, hosts: [...needs.keys()], on: [...needs.keys()],
    strategy: 'parallel', maxParallel: 32, expect: { exit: [0] }, until: undefined, timeoutMs: 30_000, retries: 0, capture: undefined, record: undefined,
    when: [], onFailure: 'continue', idempotent: true, phase: 'preflight', sudo: true,
  });
}

interface ExecuteArgs {
  prepared: Prepared; mode: RunMode; operator: Operator; interactive: boolean; journal: Journal; reporter: Reporter;
  transports: { ssh: Transport; local: Transport }; secrets: Record<string, string>; opts: RunCmdOptions; notes: string[]; runId: string; io: CliIO;
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
  const recording: Journal = { append: async (e) => { const r = await journal.append(e); records.push(r); return r; }, close: () => journal.close() };
  let found = records.find((r) => r.type === 'run-started') as (JournalRecord & RunStartedEvent) | undefined;
  if (!found) {
    found = (await recording.append({
      type: 'run-started', runId: a.runId, runbook: plan.runbook.name, version: plan.runbook.version, title: plan.runbook.title, digest: plan.digest,
      files: plan.files, inventory: plan.inventory.name, inventoryDigest: plan.inventoryDigest, environment: plan.inventory.environment,
      operator: operator.name, lifeboatVersion: VERSION, vars: topVars(prepared), rtoMs: plan.runbook.rtoMs, mode: a.mode, fromStep: a.opts.from, toStep: a.opts.to,
      stepNumbers: Object.fromEntries(stepNumbers(plan)), notes: a.notes.length ? a.notes : undefined,
    })) as JournalRecord & RunStartedEvent;
  }
  const started = found!;
  if (!a.replay) reporter.event(started);
  const state = initState(plan, started, { defaultOnFailure: interactive ? 'ask' : 'abort' });
  let remoteRelease: (() => Promise<void>) | undefined;
  const releaseRemote = async () => {
    const r = remoteRelease;
    remoteRelease = undefined;
    if (r) await r().catch((e) => reporter.note(`could not release the lock on ${plan.lock!.host}: ${(e as Error).message}`, 'warn'));
  };
  const runner = new Runner(plan, state, { ...transports, journal: recording, operator, reporter }, { secrets: a.secrets, connectAll: a.mode === 'preflight', beforeFinish: releaseRemote });
  if (a.replay) {
    const { apply, UnitStatus } = await import('../engine/state.js');
    for (const r of a.replay) if (r.type !== 'run-started') apply(state, plan, r);
    (reporter as { restore?: (steps: RunState['steps']) => void }).restore?.(state.steps);
    const inDoubt = Object.values(state.units).filter((u) => u.status === UnitStatus.Running).map((u) => ({ step: u.step, host: u.host }));
    await runner.dispatch({ type: 'resumed', operator: operator.name, acceptedChanges: a.resumed?.acceptedChanges, inDoubt });
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
    void runner.interrupt().catch((e) => { if (promptClosed(e)) onSigint(); });
  };
  process.on('SIGINT', onSigint);
  try {
    if (plan.lock) {
      try {
        remoteRelease = await takeRemoteLock(plan, a.runId, operator.name, transports.ssh, a.stateDir);
      } catch (e) {
        // refused before any step: the journal says so, the run is not left looking crashed
        await runner.dispatch({ type: 'run-finished', result: 'aborted', durationMs: Date.now() - state.startedAt, message: (e as Error).message }).catch(() => undefined);
        throw e;
      }
    }
    await runner.run();
  } catch (e) {
    if (e instanceof NonInteractiveError) {
      await runner.dispatch({ type: 'run-finished', result: 'aborted', durationMs: Date.now() - state.startedAt, message: e.message }).catch(() => undefined);
    } else if (promptClosed(e)) {
      // Ctrl-C at a question: the run stops where it stands and can be resumed there
      await runner.dispatch({ type: 'run-finished', result: 'interrupted', durationMs: Date.now() - state.startedAt, message: 'stopped by the operator at a question (Ctrl-C); continue with `lifeboat resume`' }).catch(() => undefined);
    } else {
      await releaseRemote();
      await reporter.close();
      await Promise.allSettled([transports.ssh.closeAll(), transports.local.closeAll()]);
      await journal.close().catch(() => undefined);
      throw e;
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  await releaseRemote();
  await reporter.close();
  await Promise.allSettled([transports.ssh.closeAll(), transports.local.closeAll()]);
  await journal.close();
  io.stdout.write('\n' + summaryTable(plan, state, records, useColor(io)) + '\n');
  const outcome = outcomeOf(records);
  if (!outcome.passed) io.stdout.write(`run id ${a.runId}: \`lifeboat log ${a.runId}\` for the timeline${state.status === 'interrupted' || state.status === 'aborted' ? `, \`lifeboat resume ${a.runId}\` to continue` : ''}\n`);
  // the one result: a run that reached its end with a skipped failure or an unproven "done" is not a success
  return { code: outcome.passed ? EXIT.OK : EXIT.PROBLEMS, state, records };
}

/** @inquirer/prompts rejects with ExitPromptError when Ctrl-C is pressed at a prompt */
export const promptClosed = (e: unknown): boolean => e instanceof Error && e.name === 'ExitPromptError';

function topVars(p: Prepared): Record<string, string | number | boolean> {
  const first = p.plan.steps[0];
  return first ? { ...first.scope.vars } : {};
}

async function takeRemoteLock(plan: Prepared['plan'], runId: string, operator: string, ssh: Transport, stateDir?: string): Promise<() => Promise<void>> {
  const { remoteLockCommands, parseRemoteOwner, REMOTE_LOCK_HELD } = await import('../journal/lock.js');
  const { finishedRunIds } = await import('../journal/runs.js');
  const host = plan.hosts[plan.lock!.host];
  // a lock left on the host by a run of ours that finished (crash before the release) is reclaimed
  const cmds = remoteLockCommands(plan.runbook.name, runId, operator, undefined, stateDir ? finishedRunIds(stateDir) : []);
  let r;
  try {
    const conn = await ssh.connect(host);
    r = await conn.exec({ command: cmds.acquire, timeoutMs: 30_000 });
  } catch (e) {
    throw new ExitError(EXIT.PROBLEMS, `cannot take the run lock on ${host.name} (lock: on ${plan.lock!.host}): ${(e as Error).message}`, 'the lock host must be reachable before anything changes: check it, or run from where it can be reached');
  }
  if (r.exitCode === REMOTE_LOCK_HELD) {
    const o = parseRemoteOwner(r.stdout);
    throw new ExitError(EXIT.PROBLEMS, `${plan.runbook.name} is locked on ${host.name} by run ${o?.runId ?? '?'} of ${o?.operator ?? '?'} since ${o?.since ?? '?'}`, 'another operator is running this recovery: talk to them first');
  }
  if (r.exitCode !== 0) throw new ExitError(EXIT.PROBLEMS, `could not take the lock on ${host.name}: exit ${r.exitCode} ${r.stderr.trim()}`);
  return async () => { const c = await ssh.connect(host); await c.exec({ command: cmds.release, timeoutMs: 30_000 }); };
}

export { formatDuration };

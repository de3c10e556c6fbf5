// The ports of a run, made from the command line and the terminal: the operator (prompts or
// scripted answers), the reporter (the live view or plain lines), the transports (one of each kind).
import type { CliIO } from '../cli/io.js';
import { isInteractive, useColor } from '../cli/io.js';
import { EXIT, ExitError } from '../cli/exit.js';
import type { Prepared } from './prepare.js';
import type { RunMode } from './options.js';
import { PromptOperator, ScriptedOperator, type ScriptedAnswers } from '../ui/operator.js';
import { PlainReporter } from '../ui/plain-reporter.js';
import type { Operator, Reporter } from '../ports.js';
import { dials, makeTransports as makeEveryTransport, transportFor, type Transports } from '../transport/registry.js';

export function scriptedAnswers(opts: {
  yes?: boolean;
  yesManual?: boolean;
  answer?: string[];
  inDoubt?: ScriptedAnswers['inDoubt'];
}): ScriptedAnswers {
  const answers: Record<string, string> = {};
  for (const a of opts.answer ?? []) {
    const i = a.indexOf('=');
    if (i <= 0) throw new ExitError(EXIT.USAGE, `--answer takes STEP=VALUE, got '${a}'`);
    answers[a.slice(0, i)] = a.slice(i + 1);
  }
  return { yes: Boolean(opts.yes), yesManual: Boolean(opts.yesManual), answers, inDoubt: opts.inDoubt };
}

export function makeOperator(
  io: CliIO,
  opts: Parameters<typeof scriptedAnswers>[0],
  log: (s: string) => void,
): { operator: Operator; interactive: boolean } {
  const scripted = scriptedAnswers(opts);
  const interactive = isInteractive(io);
  return {
    operator: interactive ? new PromptOperator(scripted, io.stderr) : new ScriptedOperator(scripted, log),
    interactive,
  };
}

/** the live view: a terminal on stdout, not --plain, not CI */
export const liveView = (io: CliIO, opts: { plain?: boolean }): boolean =>
  !opts.plain && Boolean(io.stdout.isTTY) && !(io.env.CI && io.env.CI !== 'false' && io.env.CI !== '0');

/** `startedAt`: a resumed run's clock keeps counting from its first start (the outage the RTO measures) */
export async function makeReporter(
  io: CliIO,
  prepared: Prepared,
  opts: { plain?: boolean; verbose?: boolean },
  operator: Operator,
  mode: RunMode,
  startedAt?: number,
): Promise<Reporter> {
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

/** One transport of each kind (src/transport/registry.ts); a key's passphrase is asked of the operator. */
export async function makeTransports(
  _io: CliIO,
  opts: { acceptNewHostKeys?: boolean },
  operator: Operator,
): Promise<Transports> {
  return makeEveryTransport({ acceptNewHostKeys: opts.acceptNewHostKeys, operator });
}

/** Dial every host a step runs on (the runner connects to the same ones when it starts). */
export function warmHosts(plan: Prepared['plan'], transports: Transports) {
  for (const n of new Set(plan.steps.flatMap((s) => s.hosts))) {
    const h = plan.hosts[n];
    if (h && dials(h)) transportFor(transports, h).warm?.(h);
  }
}

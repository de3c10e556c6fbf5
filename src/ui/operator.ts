// The Operator port: a person at a terminal (prompts through @inquirer/prompts), or a script
// (--yes, --yes-manual, --answer STEP=VALUE) when nobody is there. Default answers are No.
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import type { Operator } from '../ports.js';
import { printable } from '../util/printable.js';

/** Text through $PAGER (less by default); written out when no pager can run. Escapes are already neutralised. */
export function page(text: string, out: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): void {
  const pager = env.PAGER || 'less';
  const r = spawnSync('/bin/sh', ['-c', `${pager}`], {
    input: text + '\n',
    stdio: ['pipe', 'inherit', 'inherit'],
    env: { ...env, LESS: env.LESS ?? 'FRX' },
  });
  if (r.error || r.status === 127) out.write(`${text}\n`);
}

export const operatorName = () => `${safeUser()}@${os.hostname()}`;
function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export interface ScriptedAnswers {
  /** answer every confirm gate yes */
  yes: boolean;
  /** confirm manual steps as done (never implied by --yes) */
  yesManual: boolean;
  /** typed values for manual steps with `record`, by step id */
  answers: Record<string, string>;
  /** in-doubt steps: what to do without a person (default abort) */
  inDoubt?: 'rerun' | 'done' | 'abort';
}

export class NonInteractiveError extends Error {}

/** Answers for a run nobody watches. Gates need --yes; manual steps need --yes-manual. */
export class ScriptedOperator implements Operator {
  readonly name = operatorName();
  constructor(
    private readonly a: ScriptedAnswers,
    private readonly log: (line: string) => void = () => {},
  ) {}

  async confirm(q: { step: string; question: string }) {
    if (!this.a.yes)
      throw new NonInteractiveError(
        `step '${q.step}' asks "${q.question}" and nobody is there to answer: run in a terminal, or pass --yes to answer yes to every gate`,
      );
    this.log(`confirm ${q.step}: "${q.question}" → yes (--yes)`);
    return { answer: true, auto: true };
  }

  async manual(q: { step: string; instructions: string; record?: string }) {
    if (!this.a.yesManual)
      throw new NonInteractiveError(
        `manual step '${q.step}' needs a person: run in a terminal, or pass --yes-manual (and --answer ${q.step}=VALUE where it asks for a value)`,
      );
    const value = q.record ? this.a.answers[q.step] : undefined;
    if (q.record && value === undefined)
      throw new NonInteractiveError(
        `manual step '${q.step}' records a value (${q.record}): pass --answer ${q.step}=VALUE`,
      );
    return { done: true, value, auto: true };
  }

  async onFailure() {
    return 'abort' as const;
  }

  async inDoubt() {
    return this.a.inDoubt ?? 'abort';
  }

  async interrupt() {
    return 'stop-step' as const;
  }

  async secret(q: { name: string }): Promise<string> {
    throw new NonInteractiveError(
      `secret '${q.name}' is asked by prompt and nobody is there to type it: run in a terminal, or give it through env/file`,
    );
  }
}

/** an @inquirer/prompts prompt: (config, context) → answer */
export type PromptFn<T> = (config: never, context?: never) => Promise<T>;

/**
 * Where a question is asked, with the context a person needs to answer it (what step, what
 * failed, the last output). The live view asks inside the step's task (listr2's inquirer
 * adapter); without it, the context is printed above the prompt.
 */
export interface Asker {
  ask<T>(step: string | undefined, context: string, prompt: PromptFn<T>, config: object): Promise<T>;
  /** context without a question */
  tell(step: string | undefined, context: string): void;
}

/** prompts under whatever is on the terminal: the context first, then the question */
export class PlainAsker implements Asker {
  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}
  async ask<T>(_step: string | undefined, context: string, prompt: PromptFn<T>, config: object): Promise<T> {
    if (context) this.out.write(`\n${context.trimEnd()}\n`);
    return (prompt as (c: object) => Promise<T>)(config);
  }
  tell(_step: string | undefined, context: string): void {
    this.out.write(`\n${context.trimEnd()}\n`);
  }
}

/** A person at a terminal. Every question defaults to the safe answer. */
export class PromptOperator implements Operator {
  readonly name = operatorName();
  /** the live view, once it is drawn, takes the questions */
  asker: Asker;
  constructor(
    private readonly scripted: ScriptedAnswers,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {
    this.asker = new PlainAsker(out);
  }

  private async prompts() {
    return import('@inquirer/prompts');
  }

  async confirm(q: { step: string; title: string; question: string }) {
    if (this.scripted.yes) return { answer: true, auto: true };
    const { confirm } = await this.prompts();
    const answer = await this.asker.ask(
      q.step,
      `▲ point of no return — step ${q.step}${q.title !== q.step ? `: ${q.title}` : ''}`,
      confirm,
      { message: q.question, default: false },
    );
    return { answer, auto: false };
  }

  async manual(q: { step: string; title: string; instructions: string; record?: string }) {
    const { confirm, input } = await this.prompts();
    const context = `✋ manual step ${q.step}: ${q.title}\n${q.instructions
      .trim()
      .split('\n')
      .map((l) => `   ${l}`)
      .join('\n')}`;
    if (this.scripted.yesManual && (!q.record || this.scripted.answers[q.step] !== undefined)) {
      this.asker.tell(q.step, context);
      return { done: true, value: q.record ? this.scripted.answers[q.step] : undefined, auto: true };
    }
    let value: string | undefined;
    if (q.record)
      value = await this.asker.ask(q.step, context, input, {
        message: `Type the value to record as ${q.record}:`,
        validate: (v: string) => (v.trim() ? true : 'a value is needed'),
      });
    const done = await this.asker.ask(q.step, q.record ? '' : context, confirm, { message: 'Done?', default: false });
    return { done, value: value?.trim(), auto: false };
  }

  async onFailure(q: {
    step: string;
    host?: string;
    message: string;
    canRollback: boolean;
    preflight: boolean;
    output?: string;
    fullOutput?: string;
  }) {
    const { select } = await this.prompts();
    // the cause is often on an earlier line than the last: show the tail of both streams with the question
    // the tail goes with the question itself, so every view shows it whole beside the choices
    const context = `✖ step ${q.step}${q.host ? ` on ${q.host}` : ''} failed: ${printable(q.message)}`;
    const tail = q.output
      ? `${q.output
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n')}\n`
      : '';
    const more = Boolean(q.fullOutput && q.fullOutput.split('\n').length > (q.output ?? '').split('\n').length);
    const choices = [
      { name: 'abort the run', value: 'abort' as const },
      { name: 'retry the step', value: 'retry' as const },
      {
        name: q.preflight ? 'override: go on although this check failed (recorded)' : 'skip it and go on',
        value: 'skip' as const,
      },
      ...(q.canRollback
        ? [{ name: 'roll back the completed steps (newest first), then stop', value: 'rollback' as const }]
        : []),
      ...(more ? [{ name: 'show the whole output', value: 'show' as const }] : []),
    ];
    for (;;) {
      const choice = await this.asker.ask(q.step, context, select<'abort' | 'retry' | 'skip' | 'rollback' | 'show'>, {
        message: `${tail}What now?`,
        choices,
        default: 'abort',
      });
      if (choice !== 'show') return choice;
      page(q.fullOutput!, this.out);
    }
  }

  async inDoubt(q: { step: string; host: string; command: string; lastOutput: string }) {
    const { select } = await this.prompts();
    const context =
      `? step ${q.step} on ${q.host} was running when the run stopped; nobody knows whether it completed.\n` +
      '  It may even still be running there: look (ps, logs) before you choose.\n' +
      `  command: ${q.command}\n${
        q.lastOutput
          ? `  last output:\n${q.lastOutput
              .split('\n')
              .slice(-10)
              .map((l) => `    ${l}`)
              .join('\n')}\n`
          : ''
      }`;
    return this.asker.ask(q.step, context, select<'abort' | 'rerun' | 'done'>, {
      message: 'Check the host by hand, then:',
      choices: [
        { name: 'abort (decide later)', value: 'abort' as const },
        { name: 'run it again', value: 'rerun' as const },
        { name: 'it completed: mark it done', value: 'done' as const },
      ],
      default: 'abort',
    });
  }

  async interrupt(q: { running: string[] }) {
    const { select } = await this.prompts();
    return this.asker.ask(
      undefined,
      `Interrupted. Running: ${q.running.join(', ') || 'nothing'}`,
      select<'after-step' | 'stop-step' | 'continue'>,
      {
        message: 'Stop now?',
        choices: [
          { name: 'let the running step finish, then stop (resume later)', value: 'after-step' as const },
          { name: 'stop the running commands now (they will be in doubt on resume)', value: 'stop-step' as const },
          { name: 'carry on', value: 'continue' as const },
        ],
        default: 'after-step',
      },
    );
  }

  async secret(q: { name: string; prompt: string }) {
    const { password } = await this.prompts();
    return this.asker.ask(undefined, '', password, { message: q.prompt, mask: false });
  }
}

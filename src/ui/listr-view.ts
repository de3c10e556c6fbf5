// The terminal view of a run, drawn by listr2 (decision 0021): one task per step (a subtask per
// host when a step fans out), driven by the engine's events, and an RTO clock task above them
// that keeps counting while a question is open. Questions (gates, manual steps, failure, in-doubt
// and Ctrl-C menus) are asked inside the step's task through @listr2/prompt-adapter-inquirer.
//
// This module is imported only when a terminal view is drawn (commands/run.ts makeReporter):
// --version, validate and plain runs never load listr2.
import { Listr, DefaultRenderer, type ListrTask, type ListrTaskWrapper, type SimpleRenderer } from 'listr2';
import { ListrInquirerPromptAdapter } from '@listr2/prompt-adapter-inquirer';
import type { Reporter } from '../ports.js';
import type { ResolvedPlan } from '../model/plan.js';
import type { JournalRecord } from '../engine/events.js';
import { executionOrder } from '../engine/state.js';
import { describeEvent } from './describe.js';
import { printable } from '../util/printable.js';
import type { Asker, PromptFn } from './operator.js';
import { rtoClockText } from './clock.js';
import { stepNumbers } from '../plan/numbering.js';

type Wrapper = ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>;
type Ending = { result: 'ok' | 'skipped' | 'failed' | 'not-run'; note?: string };

interface StepLine {
  id: string;
  number: string;
  title: string;
  hosts: string[];
  task?: Wrapper;
  started: Deferred<Wrapper>;
  ended: Deferred<Ending>;
  hostText: Map<string, string>;
  hostTask: Map<string, Wrapper>;
  hostEnded: Map<string, Deferred<Ending>>;
  detail?: string;
}

// room for a failure with its tail (describeEvent detail: the last lines of stderr, then stdout)
const NOTES = 14;

/** listr2's default renderer, its live frames kept within the screen (ListrView.frame) */
function windowed(view: ListrView): typeof DefaultRenderer {
  return class extends DefaultRenderer {
    override create(o?: { tasks?: boolean; bottomBar?: boolean; prompt?: boolean }): string {
      // the last frame, printed once when the list ends, is whole
      if (o?.prompt === false) return super.create(o);
      const body = super.create({ ...o, prompt: false });
      const all = super.create(o);
      return view.frame(body, all.startsWith(body) ? all.slice(body.length) : '', process.stdout.rows ?? 24);
    }
  };
}

class Deferred<T> {
  done = false;
  resolve!: (v: T) => void;
  readonly promise = new Promise<T>((r) => {
    this.resolve = (v) => {
      if (!this.done) {
        this.done = true;
        r(v);
      }
    };
  });
}

export class ListrView implements Reporter, Asker {
  private readonly steps = new Map<string, StepLine>();
  private startedAt = Date.now();
  private readonly rtoMs?: number;
  private readonly finished = new Deferred<void>();
  private clockTask?: Wrapper;
  private readonly clockStarted = new Deferred<Wrapper>();
  private readonly timer: NodeJS.Timeout;
  private readonly listr: Listr<unknown, 'default', 'simple'>;
  private readonly running: Promise<unknown>;
  private current?: string;
  private readonly pendingNotes: string[] = [];
  private readonly header: string;

  constructor(
    private readonly plan: ResolvedPlan,
    private readonly opts: { verbose?: boolean; startedAt?: number; mode?: 'run' | 'preflight' | 'rehearsal' } = {},
  ) {
    this.rtoMs = plan.runbook.rtoMs;
    this.header = `${plan.runbook.title} — ${plan.runbook.name}@${plan.runbook.version} on ${plan.inventory.name}`;
    if (opts.startedAt) this.startedAt = opts.startedAt;
    const numbers = stepNumbers(plan);
    for (const s of executionOrder(plan, opts.mode === 'preflight' ? 'preflight' : 'run')) {
      this.steps.set(s.id, {
        id: s.id,
        number: numbers.get(s.id) ?? '?',
        title: s.title,
        hosts: s.hosts,
        started: new Deferred(),
        ended: new Deferred(),
        hostText: new Map(),
        hostTask: new Map(),
        hostEnded: new Map(s.hosts.map((h) => [h, new Deferred<Ending>()])),
      });
    }
    const stepTasks = [...this.steps.values()].map((l) => this.stepTask(l));
    this.listr = new Listr<unknown, 'default', 'simple'>(
      [
        this.clockTaskSpec(),
        {
          title: this.header,
          task: (_c: unknown, task: Wrapper) => task.newListr(stepTasks, { concurrent: false, exitOnError: false }),
        },
      ],
      {
        concurrent: true,
        exitOnError: false,
        // Ctrl-C belongs to the run (its interrupt menu), not to the list
        registerSignalListeners: false,
        // the default renderer with its frames kept within the screen (the typings take only its name)
        renderer: windowed(this) as unknown as 'default',
        rendererOptions: {
          collapseSubtasks: false,
          collapseErrors: false,
          collapseSkips: false,
          showErrorMessage: true,
          formatOutput: 'truncate',
          timer: undefined,
        },
        fallbackRenderer: 'simple',
      },
    );
    this.running = this.listr.run().catch(() => undefined);
    this.timer = setInterval(() => {
      if (this.clockTask) this.clockTask.title = this.clockText();
    }, 250);
    this.timer.unref();
  }

  /** The RTO clock's task: its title counts; its output holds the notes, until the run has finished. */
  private clockTaskSpec(): ListrTask<unknown, typeof DefaultRenderer, typeof SimpleRenderer> {
    return {
      title: this.clockText(),
      // the newest lasting lines (decisions, failures, the start and the end); all of them are in `lifeboat log`
      rendererOptions: { outputBar: NOTES, persistentOutput: true },
      task: async (_c: unknown, task: Wrapper) => {
        this.clockTask = task;
        this.clockStarted.resolve(task);
        for (const n of this.pendingNotes.splice(0)) task.output = n;
        await this.finished.promise;
        task.title = this.clockText();
      },
    };
  }

  /** A step's task: it ends when the step does; a step on several hosts has a subtask per host. */
  private stepTask(l: StepLine): ListrTask<unknown, typeof DefaultRenderer, typeof SimpleRenderer> {
    return {
      title: this.stepTitle(l),
      rendererOptions: { outputBar: this.opts.verbose ? Infinity : 3, persistentOutput: Boolean(this.opts.verbose) },
      task: async (_: unknown, task: Wrapper) => {
        l.task = task;
        l.started.resolve(task);
        if (l.hosts.length > 1) {
          return task.newListr(
            l.hosts.map((h) => ({
              title: h,
              task: async (_c: unknown, sub: Wrapper) => {
                l.hostTask.set(h, sub);
                const end = await Promise.race([l.hostEnded.get(h)!.promise, l.ended.promise]);
                this.finishTask(sub, end);
              },
            })),
            { concurrent: true, exitOnError: false },
          );
        }
        this.finishTask(task, await l.ended.promise);
      },
    };
  }

  /**
   * A frame taller than the screen cannot be redrawn in place (every frame would stay behind in
   * the scrollback): keep the clock and the title, and the window of steps around the current one.
   */
  frame(body: string, prompt: string, rows: number): string {
    const height = Math.max(6, rows - 2 - (prompt ? prompt.split('\n').length : 0));
    const lines = body.split('\n');
    if (lines.length <= height) return body + prompt;
    const h = lines.findIndex((l) => l.includes(this.header));
    const header = lines.slice(0, h + 1);
    const rest = lines.slice(h + 1);
    const budget = Math.max(3, height - header.length - 2);
    const cur = this.current ? this.steps.get(this.current) : undefined;
    let at = cur ? rest.findIndex((l) => l.includes(` ${cur.number}. ${cur.title}`)) : -1;
    if (at < 0) at = rest.length;
    const end = Math.min(rest.length, Math.max(0, at - 2) + budget);
    const start = Math.max(0, end - budget);
    return (
      [
        ...header,
        start ? `  … ${start} more line${start === 1 ? '' : 's'} above` : '',
        ...rest.slice(start, end),
        end < rest.length ? `  … ${rest.length - end} more below` : '',
      ].join('\n') + prompt
    );
  }

  private stepTitle(l: StepLine): string {
    return `${l.number}. ${l.title}${l.hosts.length === 1 ? ` [${l.hosts[0]}]` : ''}`;
  }

  /** the clock's words: the same function the plain reporter's summary uses */
  private clockText(): string {
    return rtoClockText(Date.now() - this.startedAt, this.rtoMs);
  }

  private finishTask(task: Wrapper, end: Ending) {
    if (end.result === 'failed') throw new Error(end.note ?? 'failed');
    if (end.result === 'skipped') task.skip(end.note ? `skipped: ${end.note}` : 'skipped');
    else if (end.result === 'not-run') task.skip('not run');
  }

  note(text: string): void {
    if (this.clockTask) this.clockTask.output = printable(text);
    else this.pendingNotes.push(printable(text));
  }

  event(r: JournalRecord): void {
    if (r.type === 'run-started') this.startedAt = this.opts.startedAt ?? Date.parse(r.at);
    const l = 'step' in r ? this.steps.get(r.step) : undefined;
    const host = 'host' in r ? r.host : undefined;
    switch (r.type) {
      case 'step-started':
        this.current = r.step;
        break;
      case 'step-finished':
        if (l) l.ended.resolve({ result: r.result, note: l.detail });
        break;
      case 'step-skipped':
        if (l && !host) l.ended.resolve({ result: 'skipped', note: r.note });
        else if (l && host) {
          l.hostText.set(host, `skipped: ${r.note}`);
          l.hostEnded.get(host)?.resolve({ result: 'skipped', note: r.note });
        }
        break;
      case 'exec-finished':
        if (l && host && r.purpose === 'run') {
          if (r.ok) l.hostEnded.get(host)?.resolve({ result: 'ok' });
          else if (r.pollAgain) this.setHost(l, host, `attempt ${r.attempt}, not yet (${r.reason})`);
          else {
            l.detail = `${host}: ${r.reason}`;
            this.setHost(l, host, `FAILED: ${r.reason}`);
          }
        }
        break;
      case 'exec-error':
        if (l && host) {
          l.detail = `${host}: ${r.message}`;
          this.setHost(l, host, r.message);
        }
        break;
      case 'run-finished':
        for (const s of this.steps.values())
          s.ended.resolve(
            s.task ? { result: 'failed', note: s.detail ?? `stopped: the run ${r.result}` } : { result: 'not-run' },
          );
        break;
    }
    const d = describeEvent(r);
    // lasting record under the clock: decisions, failures, the start and the end
    if (
      d &&
      (d.level === 'error' ||
        d.level === 'warn' ||
        r.type === 'run-finished' ||
        r.type === 'run-started' ||
        r.type === 'confirmed' ||
        r.type === 'manual-done')
    ) {
      const where = [d.step, d.host].filter(Boolean).join(' @ ');
      // a failed command's last lines of stderr and stdout go with it: its cause is rarely on the last line alone
      this.note(
        `${where ? `[${where}] ` : ''}${d.text}${d.detail?.length ? `\n${d.detail.map((x) => `    ${x}`).join('\n')}` : ''}`,
      );
    }
  }

  private setHost(l: StepLine, host: string, text: string) {
    const t = printable(text);
    l.hostText.set(host, t);
    const sub = l.hostTask.get(host);
    if (sub) sub.title = `${host}: ${t}`;
    else if (l.task) l.task.output = `${host}: ${t}`;
  }

  /** resume: steps that ended before show as they ended, not as waiting */
  restore(steps: Record<string, { status: string }>): void {
    for (const [id, ss] of Object.entries(steps)) {
      const l = this.steps.get(id);
      if (l && (ss.status === 'ok' || ss.status === 'skipped'))
        l.ended.resolve({ result: ss.status, note: 'before the resume' });
      else if (l && ss.status === 'failed') l.ended.resolve({ result: 'failed', note: 'failed before the resume' });
    }
  }

  output(stepId: string, host: string, stream: 'stdout' | 'stderr', text: string): void {
    const l = this.steps.get(stepId);
    if (!l) return;
    const task = l.hostTask.get(host) ?? l.task;
    // a fast command can print before listr2 has started the step's task: show it once it has
    if (!task) {
      void l.started.promise.then(() => this.output(stepId, host, stream, text));
      return;
    }
    // remote text is shown, never obeyed: an escape sequence could wreck the frame being redrawn
    const lines = text
      .replace(/\n$/, '')
      .split('\n')
      .map((x) => printable(x))
      .filter(Boolean);
    if (this.opts.verbose)
      for (const x of lines)
        task.output = `${l.hostTask.has(host) ? '' : `${host} `}${stream === 'stderr' ? '!' : '|'} ${x}`;
    else if (lines.length) task.output = `${l.hostTask.has(host) ? '' : `${host}: `}${lines[lines.length - 1]}`;
  }

  /** A question inside the task of the step it is about (or of the running step, or the clock's). */
  async ask<T>(step: string | undefined, context: string, prompt: PromptFn<T>, config: object): Promise<T> {
    const l = step ? this.steps.get(step) : this.current ? this.steps.get(this.current) : undefined;
    // the engine can ask before listr2 has started the step's task: wait for it (a moment at most,
    // then the clock's task takes the question rather than none)
    const task = l
      ? (l.task ??
        (await Promise.race([
          l.started.promise,
          new Promise<Wrapper>((r) => {
            setTimeout(() => r(this.clockStarted.promise), 2000).unref();
          }),
        ])))
      : (this.clockTask ?? (await this.clockStarted.promise));
    for (const line of context.trimEnd().split('\n')) if (line.trim()) task.output = printable(line);
    const adapter = task.prompt(ListrInquirerPromptAdapter);
    return (adapter.run as unknown as (p: PromptFn<T>, c: object) => Promise<T>).call(adapter, prompt, config);
  }

  tell(step: string | undefined, context: string): void {
    const l = step ? this.steps.get(step) : undefined;
    if (l && !l.task) {
      void l.started.promise.then(() => this.tell(step, context));
      return;
    }
    const task = l?.task ?? this.clockTask;
    if (!task) {
      this.note(context);
      return;
    }
    for (const line of context.trimEnd().split('\n')) if (line.trim()) task.output = printable(line);
  }

  // questions are asked inside the view: it never stops drawing (the RTO clock keeps counting)
  pause(): void {}
  resume(): void {}

  /** the process is about to exit at once (a second Ctrl-C): give the terminal back now */
  abandon(): void {
    clearInterval(this.timer);
    try {
      (this.listr as unknown as { renderer?: { end(): void } }).renderer?.end();
    } catch {
      /* the terminal is being given up anyway */
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.steps.values())
      s.ended.resolve(s.task ? { result: 'failed', note: s.detail ?? 'stopped' } : { result: 'not-run' });
    this.finished.resolve();
    await this.running;
  }
}

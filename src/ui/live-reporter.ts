// The terminal view of a run: one line per step (status, host, elapsed, last output line),
// an RTO clock that turns yellow at 75 % and red past it, redrawn at most 10 times a second.
// It yields the terminal to prompts (pause/resume) and leaves a plain log above when done.
import type { Reporter } from '../ports.js';
import type { ResolvedPlan } from '../model/plan.js';
import type { JournalRecord } from '../engine/events.js';
import { executionOrder } from '../engine/state.js';
import { describeEvent } from './describe.js';
import { formatDuration } from '../util/duration.js';
import { printable } from '../util/printable.js';

interface Line { id: string; title: string; hosts: string[]; status: 'waiting' | 'running' | 'ok' | 'failed' | 'skipped'; startedAt?: number; endedAt?: number; last?: string; detail?: string }

const SPIN = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class LiveReporter implements Reporter {
  private readonly lines = new Map<string, Line>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = 0;
  private frame = 0;
  private startedAt = Date.now();
  private readonly rtoMs?: number;
  private dirty = true;
  private readonly log: string[] = [];

  constructor(private readonly plan: ResolvedPlan, private readonly out: NodeJS.WritableStream & { columns?: number; rows?: number }, private readonly opts: { color?: boolean; verbose?: boolean; startedAt?: number } = {}) {
    this.rtoMs = plan.runbook.rtoMs;
    if (opts.startedAt) this.startedAt = opts.startedAt;
    for (const s of executionOrder(plan, 'run')) this.lines.set(s.id, { id: s.id, title: s.title, hosts: s.hosts, status: 'waiting' });
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  private c(code: string, s: string) { return this.opts.color ? `\x1b[${code}m${s}\x1b[0m` : s; }

  event(r: JournalRecord): void {
    if (r.type === 'run-started') this.startedAt = Date.parse(r.at);
    const at = Date.parse(r.at);
    const step = 'step' in r ? this.lines.get(r.step) : undefined;
    switch (r.type) {
      case 'step-started': if (step) { step.status = 'running'; step.startedAt = at; } break;
      case 'step-finished': if (step) { step.status = r.result === 'ok' ? 'ok' : r.result === 'skipped' ? 'skipped' : 'failed'; step.endedAt = at; } break;
      case 'step-skipped': if (step && !r.host) { step.status = 'skipped'; step.detail = r.note; step.endedAt = at; } else if (step) step.detail = `${r.host}: ${r.note}`; break;
      case 'exec-finished': if (step && !r.ok && !r.pollAgain && r.purpose === 'run') step.detail = `${r.host}: ${r.reason}`; else if (step && r.pollAgain) step.detail = `${r.host}: attempt ${r.attempt}, not yet`; break;
      case 'exec-error': if (step) step.detail = `${r.host}: ${r.message}`; break;
      // a step that failed into an abort, a rollback or a stop never gets step-finished: no spinner left behind
      case 'run-finished': for (const l of this.lines.values()) if (l.status === 'running') { l.status = 'failed'; l.endedAt = at; } break;
    }
    const d = describeEvent(r);
    // lasting record above the live block: decisions, failures, the end
    if (d && (d.level === 'error' || d.level === 'warn' || r.type === 'run-finished' || r.type === 'run-started' || r.type === 'confirmed' || r.type === 'manual-done')) {
      const where = [d.step, d.host].filter(Boolean).join(' @ ');
      this.log.push(`${where ? `[${where}] ` : ''}${printable(d.text)}`);
    }
    this.dirty = true;
  }

  /** resume: steps that ended before show as they ended, not as waiting */
  restore(steps: Record<string, { status: string; startedAt?: number; finishedAt?: number }>): void {
    for (const [id, ss] of Object.entries(steps)) {
      const l = this.lines.get(id);
      if (l && (ss.status === 'ok' || ss.status === 'failed' || ss.status === 'skipped')) Object.assign(l, { status: ss.status, startedAt: ss.startedAt, endedAt: ss.finishedAt });
    }
    this.dirty = true;
  }

  output(stepId: string, host: string, stream: 'stdout' | 'stderr', text: string): void {
    const step = this.lines.get(stepId);
    // remote text is shown, never obeyed: an escape sequence could wreck the frame being redrawn
    const last = printable(text.trimEnd().split('\n').filter(Boolean).slice(-1)[0] ?? '');
    if (step && last) step.last = `${host}: ${last}`;
    if (this.opts.verbose) for (const l of text.replace(/\n$/, '').split('\n')) this.log.push(`    ${stepId}@${host} ${stream === 'stderr' ? '!' : '|'} ${printable(l)}`);
    this.dirty = true;
  }

  note(text: string): void { this.log.push(text); this.dirty = true; }

  private clear() {
    // \r first: a ^C the terminal echoed leaves the cursor mid-line, and 0J clears only from there
    if (this.drawn) this.out.write(`\r\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(force = false) {
    if (this.paused || (!this.dirty && !force && this.frame % 5 !== 0)) { this.frame++; return; }
    this.frame++;
    this.dirty = false;
    const width = Math.max(40, (this.out.columns ?? 100) - 1);
    const cut = (s: string) => (s.length > width ? s.slice(0, width - 1) + '…' : s);
    this.clear();
    for (const l of this.log.splice(0)) this.out.write(cut(l) + '\n');
    const now = Date.now();
    const el = now - this.startedAt;
    let clock = `RTO clock ${formatDuration(el)}`;
    if (this.rtoMs) {
      const pct = el / this.rtoMs;
      clock += ` of ${formatDuration(this.rtoMs)} (${Math.round(pct * 100)}%)`;
      clock = this.c(pct > 1 ? '31;1' : pct >= 0.75 ? '33;1' : '32', clock);
    }
    const rows = [this.c('1', `${this.plan.runbook.title} — ${this.plan.runbook.name}@${this.plan.runbook.version} on ${this.plan.inventory.name}`) + `  ${clock}`];
    const steps = [...this.lines.values()];
    const groups = steps.map((l) => {
      const icon = l.status === 'running' ? this.c('36', SPIN[this.frame % SPIN.length]) : l.status === 'ok' ? this.c('32', '✔') : l.status === 'failed' ? this.c('31', '✖') : l.status === 'skipped' ? this.c('2', '↓') : this.c('2', '·');
      const t = l.startedAt ? formatDuration((l.endedAt ?? now) - l.startedAt) : '';
      const g = [cut(`${icon} ${l.title}${l.hosts.length ? this.c('2', ` [${l.hosts.join(', ')}]`) : ''} ${this.c('2', t)}`)];
      if (l.status === 'running' && l.last) g.push(this.c('2', cut(`    ${l.last}`)));
      if ((l.status === 'failed' || l.status === 'running' || l.status === 'skipped') && l.detail) g.push(this.c(l.status === 'failed' ? '31' : '2', cut(`    ${l.detail}`)));
      return g;
    });
    // keep the live block within the screen: a block taller than the screen cannot be redrawn in
    // place (every frame would stay behind in the scrollback), so show the window around the current step.
    // Two rows spare: clearing from the top row is a full-screen clear, which tmux and screen keep in history
    const height = Math.max(6, (this.out.rows ?? 24) - 2);
    if (1 + groups.reduce((n, g) => n + g.length, 0) <= height) {
      for (const g of groups) rows.push(...g);
    } else {
      const budget = height - 3; // the title and the two "… more" lines
      const current = steps.findIndex((l) => l.status === 'running' || l.status === 'waiting');
      let start = Math.max(0, (current < 0 ? steps.length : current) - 2);
      let end = start;
      let used = 0;
      while (end < groups.length && used + groups[end].length <= budget) used += groups[end++].length;
      while (start > 0 && used + groups[start - 1].length <= budget) used += groups[--start].length;
      rows.push(this.c('2', start ? `  … ${start} step${start === 1 ? '' : 's'} above` : ''));
      for (const g of groups.slice(start, end)) rows.push(...g);
      rows.push(this.c('2', end < groups.length ? `  … ${groups.length - end} more below` : ''));
    }
    this.out.write(rows.join('\n') + '\n');
    this.drawn = rows.length;
  }

  pause(): void {
    // draw the current frame before the prompt takes the terminal (draw does nothing while paused)
    if (this.paused === 0) { this.draw(true); this.drawn = 0; }
    this.paused++;
  }

  resume(): void {
    if (this.paused > 0) this.paused--;
    this.dirty = true;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.paused = 0;
    this.draw(true);
  }
}

// One plain line per event with a timestamp and the time since the run started: for logs,
// CI and anything without a terminal (--plain). Output lines only with --verbose.
import type { Reporter } from '../ports.js';
import type { JournalRecord } from '../engine/events.js';
import { describeEvent } from './describe.js';
import { printable } from '../util/printable.js';
import { paint } from '../util/text.js';

export interface PlainReporterOptions {
  verbose?: boolean;
  color?: boolean;
  startedAt?: number;
  rtoMs?: number;
}

const COLORS = { info: '', ok: '32', warn: '33', error: '31' } as const;

export class PlainReporter implements Reporter {
  private startedAt: number | undefined;
  private buffered: string[] = [];
  private paused = 0;
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly opts: PlainReporterOptions = {},
  ) {
    this.startedAt = opts.startedAt;
  }

  private clock(at: number): string {
    const ms = at - (this.startedAt ?? at);
    const s = Math.floor(ms / 1000);
    const el = `+${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.${Math.floor((ms % 1000) / 100)}`;
    if (!this.opts.rtoMs) return el;
    return `${el} (${Math.round((ms / this.opts.rtoMs) * 100)}% RTO)`;
  }

  /** lines of this turn of the event loop: written together, one write per turn, not per line */
  private pending: string[] = [];
  private scheduled = false;

  private write(line: string) {
    if (this.paused) {
      this.buffered.push(line);
      return;
    }
    this.pending.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush() {
    this.scheduled = false;
    if (!this.pending.length) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    this.out.write(text);
  }

  event(r: JournalRecord): void {
    const at = Date.parse(r.at);
    if (r.type === 'run-started') {
      this.startedAt ??= at;
      this.opts.rtoMs ??= r.rtoMs;
    }
    const d = describeEvent(r);
    if (!d) return;
    const where = [d.step, d.host].filter(Boolean).join(' @ ');
    const text = `${r.at.slice(0, 19)}Z ${this.clock(at)} ${where ? `[${where}] ` : ''}${printable(d.text)}`;
    const c = COLORS[d.level];
    this.write(paint(Boolean(this.opts.color), c, text));
    // with --verbose the whole output was shown already
    if (!this.opts.verbose) for (const line of d.detail ?? []) this.write(`    ${line}`);
  }

  output(step: string, host: string, stream: 'stdout' | 'stderr', text: string): void {
    if (!this.opts.verbose) return;
    for (const line of text.replace(/\n$/, '').split('\n'))
      this.write(`    ${step}@${host} ${stream === 'stderr' ? '!' : '|'} ${printable(line)}`);
  }

  note(text: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    const c = COLORS[level];
    this.write(paint(Boolean(this.opts.color), c, text));
  }

  // a question is asked below everything shown so far
  pause(): void {
    this.flush();
    this.paused++;
  }
  resume(): void {
    if (this.paused > 0 && --this.paused === 0) {
      this.pending.push(...this.buffered);
      this.buffered = [];
      this.flush();
    }
  }
  close(): void {
    this.pending.push(...this.buffered);
    this.buffered = [];
    this.flush();
  }
}

// The RTO clock in words: one function for the live view, the plain lines and the summary.
import { formatDuration } from '../util/duration.js';

/** "over the RTO by 1m05s" once the elapsed time passes the RTO; undefined within it or without one */
export function overRto(elapsedMs: number, rtoMs?: number): string | undefined {
  return rtoMs && elapsedMs > rtoMs ? `OVER THE RTO by ${formatDuration(elapsedMs - rtoMs)}` : undefined;
}

/** `RTO clock 4m10s of 15m00s (28%)`, and past the RTO `… (107%) — OVER THE RTO by 1m05s` */
export function rtoClockText(elapsedMs: number, rtoMs?: number): string {
  const el = Math.max(0, elapsedMs);
  if (!rtoMs) return `RTO clock ${formatDuration(el)} (no RTO set)`;
  const over = overRto(el, rtoMs);
  return `RTO clock ${formatDuration(el)} of ${formatDuration(rtoMs)} (${Math.round((el / rtoMs) * 100)}%)${over ? ` — ${over}` : ''}`;
}

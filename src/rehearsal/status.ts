// Is a runbook's last rehearsal still worth something? Read from `.lifeboat/history.jsonl`
// beside the site: one JSON object per finished rehearsal, appended by `lifeboat rehearse`.
import { readFileSync } from 'node:fs';

export interface HistoryEntry {
  runbook: string;
  version: string;
  /** ResolvedPlan.digest of the runbook (and its includes) that was rehearsed */
  digest: string;
  inventory: string;
  /** runOutcome's result: only `passed` (a run that succeeded) counts */
  result: HistoryResult;
  /** ISO date-time */
  finished_at: string;
  duration_ms: number;
  rto_ms?: number;
  /** the data-loss window measured in that run, against the RPO */
  rpo_ms?: number;
  data_loss_window_ms?: number;
  rpo_verdict?: 'within' | 'past' | 'no-objective' | 'not-measured';
  /** production runs are in the history too; only rehearsals count here */
  mode?: 'rehearsal' | 'production';
}

/** `completed-with-errors`: the run reached its end, but an operator skipped a failed step or vouched for one in doubt */
export type HistoryResult = 'passed' | 'failed' | 'completed-with-errors';
const RESULTS: readonly string[] = ['passed', 'failed', 'completed-with-errors'];

/** a history result in words */
export const historyResultWords = (r: HistoryResult): string => (r === 'completed-with-errors' ? 'completed with errors' : r);

export type RehearsalState = 'current' | 'stale' | 'never';

export interface RehearsalStatus {
  state: RehearsalState;
  /** stale: the date it stopped counting (expired) or the date of the last passed rehearsal (changed) */
  since?: string;
  /** why a rehearsal is stale: too old, or the runbook changed after it */
  reason?: 'expired' | 'changed' | 'failed';
  /** the last passed rehearsal, if any */
  lastPassed?: HistoryEntry;
  /** a rehearsal that did not pass (failed, or completed with errors), newer than the last passed one */
  failedAfter?: HistoryEntry;
}

/** Parse history.jsonl text; lines that are not a rehearsal record are skipped (counted). */
export function parseHistory(text: string): { entries: HistoryEntry[]; skipped: number } {
  const entries: HistoryEntry[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as Partial<HistoryEntry> & { kind?: unknown };
      // kits built (src/kit) share the file: not rehearsals, and not unreadable lines either
      if (o?.kind === 'kit') continue;
      if (typeof o.runbook === 'string' && typeof o.digest === 'string' && RESULTS.includes(o.result as string)
        && typeof o.finished_at === 'string' && !Number.isNaN(Date.parse(o.finished_at))) entries.push(o as HistoryEntry);
      else skipped++;
    } catch { skipped++; }
  }
  return { entries, skipped };
}

/** The history file, or an empty history when there is none. */
export function readHistory(file: string): { entries: HistoryEntry[]; skipped: number } {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { return { entries: [], skipped: 0 }; }
  return parseHistory(text);
}

/**
 * current: the last passed rehearsal rehearsed exactly this digest and is younger than
 * `rehearseEveryMs` (no limit when undefined). Otherwise stale, or never when none passed.
 */
export function rehearsalStatus(history: HistoryEntry[], runbook: string, digest: string, rehearseEveryMs: number | undefined, now: Date): RehearsalStatus {
  const mine = history.filter((e) => e.runbook === runbook && e.mode !== 'production').sort((a, b) => Date.parse(a.finished_at) - Date.parse(b.finished_at));
  const passed = mine.filter((e) => e.result === 'passed');
  const lastPassed = passed[passed.length - 1];
  const lastAny = mine[mine.length - 1];
  const failedAfter = lastAny && lastAny.result !== 'passed' && (!lastPassed || Date.parse(lastAny.finished_at) > Date.parse(lastPassed.finished_at)) ? lastAny : undefined;
  if (!lastPassed) return { state: 'never', failedAfter };
  if (lastPassed.digest !== digest) return { state: 'stale', reason: 'changed', since: lastPassed.finished_at, lastPassed, failedAfter };
  if (rehearseEveryMs !== undefined) {
    const expires = Date.parse(lastPassed.finished_at) + rehearseEveryMs;
    if (now.getTime() >= expires) return { state: 'stale', reason: 'expired', since: new Date(expires).toISOString(), lastPassed, failedAfter };
  }
  // a newer rehearsal of it did not pass: nothing to rely on
  if (failedAfter) return { state: 'stale', reason: 'failed', since: failedAfter.finished_at, lastPassed, failedAfter };
  return { state: 'current', lastPassed, failedAfter };
}

/** One line for the plan: "current (passed 2026-11-02)", "stale since 2026-08-01", "never rehearsed". */
export function describeRehearsal(s: RehearsalStatus): string {
  const day = (iso: string) => iso.slice(0, 10);
  let text: string;
  if (s.state === 'never') text = 'never rehearsed';
  else if (s.state === 'current') text = `current (passed ${day(s.lastPassed!.finished_at)})`;
  else if (s.reason === 'changed') text = `stale since ${day(s.since!)} (runbook changed after that rehearsal)`;
  else if (s.reason === 'failed') return `stale: the last rehearsal ${historyResultWords(s.failedAfter!.result)} (${day(s.failedAfter!.finished_at)}; passed ${day(s.lastPassed!.finished_at)})`;
  else text = `stale since ${day(s.since!)}`;
  if (s.failedAfter) text += `; ${historyResultWords(s.failedAfter.result)} ${day(s.failedAfter.finished_at)}`;
  return text;
}

// Is a runbook's last rehearsal still worth something? Read from `.lifeboat/history.jsonl`
// beside the site: one JSON object per finished rehearsal, appended by `lifeboat rehearse`.
import { readFileSync } from 'node:fs';
import type { UnitOutcome } from '../engine/outcome.js';
import type { RpoEvidence } from '../engine/rpo.js';

export interface HistoryStep {
  id: string;
  host?: string;
  /** stepOutcome / unitOutcome */ result: UnitOutcome;
  duration_ms: number;
}

/**
 * One line of history.jsonl: a finished rehearsal or production run, as `historyFromJournal`
 * (rehearsal/history.ts) writes it and every reader (status, drills, readiness, the plan) reads it.
 */
export interface HistoryRecord {
  runbook: string;
  version: string;
  /** ResolvedPlan.digest: the runbook and its includes as rehearsed */
  digest: string;
  inventory: string;
  inventory_digest: string;
  environment?: string;
  /** production runs are in the history too; only rehearsals make a rehearsal current */
  mode: 'rehearsal' | 'production';
  /** host → `SHA256:…` key fingerprint seen during the run: proves which machines were used */
  host_keys: Record<string, string>;
  operator: string;
  /** ISO date-time */
  started_at: string;
  /** ISO date-time */
  finished_at: string;
  /** from runOutcome: `passed` only when the run succeeded */
  result: HistoryResult;
  /** why it did not pass although it reached its end (skipped failures, unproven "done"), in words */
  errors?: string[];
  /** `on_failure: continue` failures, by step (and host) */
  allowed_failures?: string[];
  duration_ms: number;
  rto_ms?: number;
  /** the runbook's RPO and the data-loss window a `measures: rpo` step measured in this run */
  rpo_ms?: number;
  data_loss_window_ms?: number;
  rpo_verdict?: RpoEvidence['verdict'];
  steps: HistoryStep[];
  run_id: string;
}

/**
 * `completed-with-errors`: the run reached its end, but an operator skipped a failed step or vouched for one in doubt
 */
export type HistoryResult = 'passed' | 'failed' | 'completed-with-errors';
const RESULTS: readonly string[] = ['passed', 'failed', 'completed-with-errors'];

/** a history result in words */
export const historyResultWords = (r: HistoryResult): string =>
  r === 'completed-with-errors' ? 'completed with errors' : r;

export type RehearsalState = 'current' | 'stale' | 'never';

export interface RehearsalStatus {
  state: RehearsalState;
  /** stale: the date it stopped counting (expired) or the date of the last passed rehearsal (changed) */
  since?: string;
  /** why a rehearsal is stale: too old, or the runbook changed after it */
  reason?: 'expired' | 'changed' | 'failed';
  /** the last passed rehearsal, if any */
  lastPassed?: HistoryRecord;
  /** a rehearsal that did not pass (failed, or completed with errors), newer than the last passed one */
  failedAfter?: HistoryRecord;
}

/** Parse history.jsonl text; lines that are not a rehearsal record are skipped (counted). */
export function parseHistory(text: string): { entries: HistoryRecord[]; skipped: number } {
  const entries: HistoryRecord[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as Partial<HistoryRecord> & { kind?: unknown };
      // kits built (src/kit) share the file: not rehearsals, and not unreadable lines either
      if (o?.kind === 'kit') continue;
      if (
        typeof o.runbook === 'string' &&
        typeof o.digest === 'string' &&
        RESULTS.includes(o.result as string) &&
        typeof o.finished_at === 'string' &&
        !Number.isNaN(Date.parse(o.finished_at))
      )
        entries.push(o as HistoryRecord);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { entries, skipped };
}

/** The history file, or an empty history when there is none. */
export function readHistory(file: string): { entries: HistoryRecord[]; skipped: number } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { entries: [], skipped: 0 };
  }
  return parseHistory(text);
}

/**
 * current: the last passed rehearsal rehearsed exactly this digest and is younger than
 * `rehearseEveryMs` (no limit when undefined). Otherwise stale, or never when none passed.
 */
export function rehearsalStatus(
  history: HistoryRecord[],
  runbook: string,
  digest: string,
  rehearseEveryMs: number | undefined,
  now: Date,
): RehearsalStatus {
  const mine = history
    .filter((e) => e.runbook === runbook && e.mode !== 'production')
    .sort((a, b) => Date.parse(a.finished_at) - Date.parse(b.finished_at));
  const passed = mine.filter((e) => e.result === 'passed');
  const lastPassed = passed[passed.length - 1];
  const lastAny = mine[mine.length - 1];
  const failedAfter =
    lastAny &&
    lastAny.result !== 'passed' &&
    (!lastPassed || Date.parse(lastAny.finished_at) > Date.parse(lastPassed.finished_at))
      ? lastAny
      : undefined;
  if (!lastPassed) return { state: 'never', failedAfter };
  if (lastPassed.digest !== digest)
    return { state: 'stale', reason: 'changed', since: lastPassed.finished_at, lastPassed, failedAfter };
  if (rehearseEveryMs !== undefined) {
    const expires = Date.parse(lastPassed.finished_at) + rehearseEveryMs;
    if (now.getTime() >= expires)
      return { state: 'stale', reason: 'expired', since: new Date(expires).toISOString(), lastPassed, failedAfter };
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
  else if (s.reason === 'failed')
    return (
      `stale: the last rehearsal ${historyResultWords(s.failedAfter!.result)} ` +
      `(${day(s.failedAfter!.finished_at)}; passed ${day(s.lastPassed!.finished_at)})`
    );
  else text = `stale since ${day(s.since!)}`;
  if (s.failedAfter) text += `; ${historyResultWords(s.failedAfter.result)} ${day(s.failedAfter.finished_at)}`;
  return text;
}

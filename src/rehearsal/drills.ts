// Which runbooks' rehearsals still count: one row per runbook of the site, in its recovery
// order, with its last rehearsal and, when it is not current, why in words. Read by `drills`,
// `list`, `readiness` and the plan.
import type { Project } from '../load/project.js';
import { resolvePlan } from '../plan/resolve.js';
import { phaseOf, recoveryPhases } from '../plan/recovery-order.js';
import { parseDuration } from '../util/duration.js';
import {
  rehearsalStatus,
  historyResultWords,
  type HistoryRecord,
  type RehearsalState,
  type RehearsalStatus,
} from './status.js';

export interface DrillRow {
  runbook: string;
  tier: string;
  version: string;
  rtoMs?: number;
  state: RehearsalState;
  /** why it is not current, in words */
  reason?: string;
  /** the newest rehearsal, whatever its result */
  last?: HistoryRecord;
  /** the newest passed rehearsal */
  lastPassed?: HistoryRecord;
  status?: RehearsalStatus;
}

const DAY = 86_400_000;
export function ago(iso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(iso);
  if (ms < 0) return 'in the future';
  if (ms < 3_600_000) return `${Math.max(1, Math.round(ms / 60_000))} min ago`;
  if (ms < DAY) return `${Math.round(ms / 3_600_000)} h ago`;
  const d = Math.floor(ms / DAY);
  return d === 1 ? '1 day ago' : `${d} days ago`;
}

/** The runbook's digest today, resolved with the inventory it was rehearsed with (any inventory as a fallback). */
function currentDigest(
  project: Project,
  runbook: string,
  preferred: string | undefined,
): { digest?: string; error?: string } {
  const names = [
    ...new Set(
      [preferred, ...project.inventories.keys()].filter((n): n is string => !!n && project.inventories.has(n)),
    ),
  ];
  let error =
    preferred && !project.inventories.has(preferred)
      ? `inventory ${preferred} is gone`
      : 'no inventory to resolve it with';
  for (const inv of names) {
    try {
      return { digest: resolvePlan(project, runbook, inv).digest };
    } catch (e) {
      error = (e as Error).message;
    }
  }
  return { error };
}

export function drillRows(project: Project, history: HistoryRecord[], now: Date): DrillRow[] {
  const site = project.site?.data;
  const everyMs = site?.rehearse_every ? parseDuration(site.rehearse_every) : undefined;
  // a site.yaml without recovery_order is a validation error, not a reason to crash here
  const listed: string[] = site?.recovery_order ? [...phaseOf(recoveryPhases(site)).keys()] : [];
  const order = [...listed, ...[...project.runbooks.keys()].filter((n) => !listed.includes(n)).sort()];
  // production runs are not rehearsals: they do not make a rehearsal current
  const rehearsals = history.filter((e) => e.mode !== 'production');
  const rows: DrillRow[] = [];
  for (const name of order) {
    const rb = project.runbooks.get(name);
    if (!rb) continue;
    const mine = rehearsals
      .filter((e) => e.runbook === name)
      .sort((a, b) => Date.parse(a.finished_at) - Date.parse(b.finished_at));
    const last = mine[mine.length - 1];
    const row: DrillRow = {
      runbook: name,
      tier: rb.data.tier,
      version: rb.data.version,
      rtoMs: rb.data.objectives?.rto ? parseDuration(rb.data.objectives.rto) : undefined,
      state: 'never',
      last,
    };
    const lastPassedGuess = [...mine].reverse().find((e) => e.result === 'passed');
    const { digest, error } = currentDigest(project, name, (lastPassedGuess ?? last)?.inventory);
    const st = rehearsalStatus(mine, name, digest ?? '(unresolvable)', everyMs, now);
    row.status = st;
    row.lastPassed = st.lastPassed;
    const lp = row.lastPassed;
    if (st.state === 'never') {
      row.state = 'never';
      row.reason = last
        ? `never passed (last attempt ${historyResultWords(last.result)} ${ago(last.finished_at, now)})`
        : 'never rehearsed';
    } else if (!digest) {
      row.state = 'stale';
      row.reason = `cannot tell: ${error}`;
    } else if (st.state === 'stale' && st.reason === 'changed') {
      row.state = 'stale';
      row.reason =
        `runbook changed since the rehearsal ${ago(lp!.finished_at, now)} at version ${lp!.version}` +
        `${lp!.version === rb.data.version ? ' (same version number: bump it)' : ` (now ${rb.data.version})`}`;
    } else if (st.state === 'stale' && st.reason === 'failed') {
      // the last passed one still matches, but a newer rehearsal of it did not pass: not something to rely on
      row.state = 'stale';
      row.reason = `the last rehearsal ${historyResultWords(st.failedAfter!.result)} ${ago(st.failedAfter!.finished_at, now)}`;
    } else if (st.state === 'stale') {
      row.state = 'stale';
      row.reason = `rehearsed ${ago(lp!.finished_at, now)}, more than rehearse_every (${site?.rehearse_every})`;
    } else {
      row.state = 'current';
    }
    rows.push(row);
  }
  return rows;
}

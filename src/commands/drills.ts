// lifeboat drills [DIR]: for each runbook of the site, its last rehearsal and whether it
// still counts. Exit 1 when a critical runbook's rehearsal is not current (nightly alert).
import { phaseOf, recoveryPhases } from '../plan/recovery-order.js';
import path from 'node:path';
import { EXIT, ExitError } from '../cli/exit.js';
import { useColor, type CliIO } from '../cli/io.js';
import { loadWithRoot, type Project } from '../load/project.js';
import { resolvePlan } from '../plan/resolve.js';
import { rehearsalStatus, historyResultWords, type RehearsalStatus } from '../render/rehearsal-status.js';
import { parseDuration } from '../util/duration.js';
import { readHistoryRecords, readKitRecords, type HistoryRecord } from '../journal/history.js';
import { describeFreshness, kitFreshness } from '../kit/freshness.js';
import { describeRto } from '../journal/runs.js';
import { paint, table } from '../util/text.js';
import { printable } from '../util/printable.js';

export interface DrillsCmdOptions { json?: boolean; stateDir?: string; now?: Date }

export type DrillState = 'current' | 'stale' | 'never';

export interface DrillRow {
  runbook: string;
  tier: string;
  version: string;
  rtoMs?: number;
  state: DrillState;
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
function currentDigest(project: Project, runbook: string, preferred: string | undefined): { digest?: string; error?: string } {
  const names = [...new Set([preferred, ...project.inventories.keys()].filter((n): n is string => !!n && project.inventories.has(n)))];
  let error = preferred && !project.inventories.has(preferred) ? `inventory ${preferred} is gone` : 'no inventory to resolve it with';
  for (const inv of names) {
    try { return { digest: resolvePlan(project, runbook, inv).digest }; } catch (e) { error = (e as Error).message; }
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
    const mine = rehearsals.filter((e) => e.runbook === name).sort((a, b) => Date.parse(a.finished_at) - Date.parse(b.finished_at));
    const last = mine[mine.length - 1];
    const row: DrillRow = { runbook: name, tier: rb.data.tier, version: rb.data.version, rtoMs: rb.data.objectives?.rto ? parseDuration(rb.data.objectives.rto) : undefined, state: 'never', last };
    const lastPassedGuess = [...mine].reverse().find((e) => e.result === 'passed');
    const { digest, error } = currentDigest(project, name, (lastPassedGuess ?? last)?.inventory);
    const st = rehearsalStatus(mine, name, digest ?? '(unresolvable)', everyMs, now);
    row.status = st;
    row.lastPassed = st.lastPassed as HistoryRecord | undefined;
    const lp = row.lastPassed;
    if (st.state === 'never') {
      row.state = 'never';
      row.reason = last ? `never passed (last attempt ${historyResultWords(last.result)} ${ago(last.finished_at, now)})` : 'never rehearsed';
    } else if (!digest) {
      row.state = 'stale';
      row.reason = `cannot tell: ${error}`;
    } else if (st.state === 'stale' && st.reason === 'changed') {
      row.state = 'stale';
      row.reason = `runbook changed since the rehearsal ${ago(lp!.finished_at, now)} at version ${lp!.version}${lp!.version === rb.data.version ? ' (same version number: bump it)' : ` (now ${rb.data.version})`}`;
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

const STATE_COLOR: Record<DrillState, string> = { current: '32', stale: '33', never: '31' };

export async function drillsCommand(dir: string | undefined, opts: DrillsCmdOptions, io: CliIO): Promise<number> {
  const project = loadWithRoot([path.resolve(io.cwd, dir ?? '.')]);
  if (!project.runbooks.size) throw new ExitError(EXIT.USAGE, `no runbooks found in ${project.root}`, 'pass the folder that holds site.yaml');
  const stateDir = opts.stateDir ? path.resolve(io.cwd, opts.stateDir) : undefined;
  const { entries, skipped } = readHistoryRecords(project.root, stateDir);
  const now = opts.now ?? new Date();
  const rows = drillRows(project, entries, now);
  const failing = rows.filter((r) => r.tier === 'critical' && r.state !== 'current');
  const code = failing.length ? EXIT.PROBLEMS : EXIT.OK;
  // the go-bag (lifeboat kit): a warning, not a failure
  const fresh = kitFreshness(project, readKitRecords(project.root, stateDir));
  if (opts.json) {
    io.stdout.write(JSON.stringify({
      root: project.root, now: now.toISOString(), skippedHistoryLines: skipped,
      runbooks: rows.map(({ status: _s, ...r }) => r), criticalNotCurrent: failing.map((r) => r.runbook),
      kit: fresh.kit ? { digest: fresh.kit.kit_digest, built_at: fresh.kit.built_at, stale: fresh.stale, changed: fresh.changed } : null,
    }, null, 2) + '\n');
    return code;
  }
  const color = useColor(io);
  const table_ = [['RUNBOOK', 'TIER', 'LAST REHEARSAL', 'VERSION', 'RESULT', 'TIME', 'STATUS']];
  for (const r of rows) {
    const l = r.last;
    table_.push([
      r.runbook, r.tier,
      // history.jsonl is committed by others: its text is shown, never obeyed as terminal control
      l ? `${printable(String(l.finished_at).slice(0, 10))} (${ago(l.finished_at, now)})` : 'never',
      l ? printable(String(l.version)) : '', l ? paint(color, l.result === 'passed' ? '32' : '31', printable(String(l.result))) : '',
      l ? describeRto(l.duration_ms, l.rto_ms ?? r.rtoMs, true) : '',
      paint(color, STATE_COLOR[r.state], r.state) + (r.reason ? `: ${printable(r.reason)}` : ''),
    ]);
  }
  io.stdout.write(table_.length > 1 ? table(table_) : '');
  if (skipped) io.stdout.write(`\nnote: ${skipped} line(s) of ${path.join(project.root, '.lifeboat', 'history.jsonl')} are not history entries and were skipped\n`);
  if (failing.length) io.stdout.write(`\n${failing.length} critical runbook(s) without a current rehearsal: ${failing.map((r) => r.runbook).join(', ')}\nrehearse with: lifeboat rehearse RUNBOOK -i lab\n`);
  else io.stdout.write(`\nevery critical runbook has a current rehearsal${rows.some((r) => r.state !== 'current') ? ' (some others do not)' : ''}\n`);
  const kitLine = describeFreshness(fresh);
  if (kitLine) io.stdout.write(`${fresh.stale ? paint(color, '33', 'warning') + ': ' : ''}${printable(kitLine)}\n`);
  return code;
}

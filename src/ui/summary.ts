// The table printed when a run ends: step, host, result, duration; the total against the RTO.
import type { ResolvedPlan } from '../model/plan.js';
import { UnitStatus, stepOf, type RunState } from '../engine/state.js';
import type { JournalRecord } from '../engine/events.js';
import {
  journalState,
  runOutcome,
  stepOutcome,
  unitOutcome,
  outcomeLabel,
  outcomeLines,
  resultWords,
  isFailureOutcome,
} from '../engine/outcome.js';
import { formatDuration } from '../util/duration.js';
import { printable } from '../util/printable.js';
import { paint } from '../util/text.js';
import { compareText } from '../util/compare.js';
import { describeRpo, rpoFromState } from '../engine/rpo.js';
import { factsOf } from '../plan/context.js';

/** `records`: the run's journal, from which the one outcome function decides every result shown */
export function summaryTable(
  plan: ResolvedPlan,
  state: RunState,
  records: readonly JournalRecord[],
  color = false,
): string {
  const js = journalState(records);
  const outcome = runOutcome(js);
  const rows: string[][] = [];
  const failing: boolean[] = [];
  for (const id of state.order) {
    const step = stepOf(plan, id)!;
    const ss = state.steps[id];
    if (!step.hosts.length) {
      const d = ss.startedAt && ss.finishedAt ? formatDuration(ss.finishedAt - ss.startedAt) : '';
      const o = stepOutcome(js, id);
      failing.push(isFailureOutcome(o));
      rows.push([id, step.action === 'manual' ? '(manual)' : '(gate)', outcomeLabel(o), d, printable(ss.note ?? '')]);
      continue;
    }
    for (const h of step.hosts) {
      const u = state.units[`${id}@${h}`];
      const d = u.startedAt && u.finishedAt ? formatDuration(u.finishedAt - u.startedAt) : '';
      const o = unitOutcome(js, id, h);
      failing.push(isFailureOutcome(o));
      const res = outcomeLabel(o);
      const rb = u.rollback ? ` (rollback ${u.rollback})` : '';
      // a reason quotes the command's stderr: no terminal control characters from a remote host
      rows.push([id, h, res + rb, d, printable(u.status === UnitStatus.Failed ? (u.reason ?? '') : (u.note ?? ''))]);
    }
  }
  const head = ['step', 'host', 'result', 'time', 'note'];
  const w = head.map((hd, i) => Math.min(40, Math.max(hd.length, ...rows.map((r) => r[i].length))));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  const row = (r: string[], i: number) =>
    paint(color, failing[i] ? '31' : r[2].startsWith('ok') ? '32' : undefined, fmt(r));
  const hostLines = Object.entries(state.hosts)
    .sort(([a], [b]) => compareText(a, b))
    .map(([name, h]) => {
      const host = plan.hosts[name];
      const f = host ? factsOf(host) : undefined;
      const addr = f ? `${f.user}@${f.address}${f.port && f.port !== 22 ? `:${f.port}` : ''}` : '';
      const what = h.reachable
        ? 'reachable, host key verified'
        : host?.mayBeDown && (h.kind === 'unreachable' || h.kind === 'connection-lost')
          ? `unreachable, as expected (may be down)`
          : `${h.kind === 'unreachable' ? 'UNREACHABLE' : (h.kind ?? 'error').toUpperCase()}: ${h.message ?? ''}`;
      return `  ${name.padEnd(12)} ${addr.padEnd(28)} ${what}`;
    });
  const total = (state.finishedAt ?? Date.now()) - state.startedAt;
  const rto = plan.runbook.rtoMs;
  const rtoText = rto
    ? ` against an RTO of ${formatDuration(rto)} (${Math.round((total / rto) * 100)}%${total > rto ? ', OVER' : ''})`
    : '';
  const result = outcome.result === 'unfinished' ? state.status : resultWords(outcome.result);
  const why = outcomeLines(outcome).map((l) => `  ${printable(l)}`);
  const rpo = rpoFromState(plan, state);
  return [
    fmt(head),
    ...rows.map(row),
    ...(hostLines.length ? ['', 'hosts:', ...hostLines] : []),
    ...(rpo ? ['', `${describeRpo(rpo)} (measured by ${rpo.step})`] : []),
    '',
    `${result.toUpperCase()}: ${plan.runbook.name}@${plan.runbook.version} in ${formatDuration(total)}${rtoText}` +
      `${state.message ? ` — ${printable(state.message)}` : ''}`,
    ...why,
  ].join('\n');
}

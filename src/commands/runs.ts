// lifeboat runs: every run in the state folder, newest first, with how it ended and its time vs RTO.
import { EXIT } from '../cli/exit.js';
import { useColor, type CliIO } from '../cli/io.js';
import { listRuns, resolveStateDir, describeRto, type ListedRunState, type RunSummary } from '../journal/runs.js';
import { formatDuration } from '../util/duration.js';
import { paint, table } from '../util/text.js';

export interface RunsCmdOptions {
  json?: boolean;
  stateDir?: string;
  limit?: string;
}

const STATE_COLOR: Record<ListedRunState, string> = {
  running: '36',
  interrupted: '33',
  succeeded: '32',
  'completed-with-errors': '31',
  failed: '31',
  aborted: '31',
  'rolled-back': '33',
  crashed: '35',
};

/** `2026-11-21 23:05:09` (UTC) */
export const shortTime = (iso: string | undefined): string => (iso ? iso.replace('T', ' ').slice(0, 19) : '?');

/** plain-text table, columns padded to the widest cell (colour codes do not count) */

function stateText(r: RunSummary, color: boolean): string {
  let s = paint(color, STATE_COLOR[r.state], r.state);
  if (r.inDoubt.length && r.state !== 'succeeded') s += ' (in doubt)';
  if (r.problems.length) s += ' (!)';
  return s;
}

export async function runsCommand(opts: RunsCmdOptions, io: CliIO): Promise<number> {
  const stateDir = resolveStateDir({ stateDir: opts.stateDir, cwd: io.cwd });
  let runs = listRuns(stateDir);
  if (opts.limit) runs = runs.slice(0, Math.max(1, Number(opts.limit) || 20));
  if (opts.json) {
    io.stdout.write(JSON.stringify({ stateDir, runs }, null, 2) + '\n');
    return EXIT.OK;
  }
  if (!runs.length) {
    io.stdout.write(`no runs in ${stateDir}\n`);
    return EXIT.OK;
  }
  const color = useColor(io);
  const rows = [['RUN', 'RUNBOOK', 'INVENTORY', 'MODE', 'OPERATOR', 'STARTED (UTC)', 'STATE', 'TIME']];
  for (const r of runs) {
    rows.push([
      r.id,
      r.runbook ? `${r.runbook}@${r.version}` : '?',
      r.inventory ?? '?',
      r.mode ?? '?',
      r.operator ?? '?',
      shortTime(r.started),
      // a preflight is a check, not a recovery: its time is not measured against the RTO
      stateText(r, color),
      r.mode === 'preflight'
        ? r.durationMs === undefined
          ? ''
          : `${formatDuration(r.durationMs)} (preflight)`
        : describeRto(r.durationMs, r.rtoMs, r.finished !== undefined),
    ]);
  }
  io.stdout.write(table(rows));
  const unfinished = runs.find((r) => (r.state === 'crashed' || r.state === 'interrupted') && r.mode !== 'preflight');
  if (unfinished)
    io.stdout.write(
      `\n${unfinished.state} run ${unfinished.id}: see it with \`lifeboat log ${unfinished.id}\`, continue it with \`lifeboat resume ${unfinished.id}\`\n`,
    );
  const damaged = runs.filter((r) => r.problems.length);
  for (const r of damaged) io.stdout.write(`(!) ${r.id}: ${r.problems.join('; ')}\n`);
  return EXIT.OK;
}

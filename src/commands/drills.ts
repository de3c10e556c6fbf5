// lifeboat drills [DIR]: for each runbook of the site, its last rehearsal and whether it
// still counts. Exit 1 when a critical runbook's rehearsal is not current (nightly alert).
import path from 'node:path';
import { EXIT, ExitError } from '../cli/exit.js';
import { useColor, type CliIO } from '../cli/io.js';
import { loadWithRoot } from '../load/project.js';
import type { RehearsalState } from '../rehearsal/status.js';
import { drillRows, ago } from '../rehearsal/drills.js';
import { readHistoryRecords, readKitRecords } from '../rehearsal/history.js';
import { describeFreshness, kitFreshness } from '../kit/freshness.js';
import { describeRto } from '../journal/runs.js';
import { paint, table } from '../util/text.js';
import { printable } from '../util/printable.js';

export interface DrillsCmdOptions {
  json?: boolean;
  stateDir?: string;
  now?: Date;
}

const STATE_COLOR: Record<RehearsalState, string> = { current: '32', stale: '33', never: '31' };

export async function drillsCommand(dir: string | undefined, opts: DrillsCmdOptions, io: CliIO): Promise<number> {
  const project = loadWithRoot([path.resolve(io.cwd, dir ?? '.')]);
  if (!project.runbooks.size)
    throw new ExitError(EXIT.USAGE, `no runbooks found in ${project.root}`, 'pass the folder that holds site.yaml');
  const stateDir = opts.stateDir ? path.resolve(io.cwd, opts.stateDir) : undefined;
  const { entries, skipped } = readHistoryRecords(project.root, stateDir);
  const now = opts.now ?? new Date();
  const rows = drillRows(project, entries, now);
  const failing = rows.filter((r) => r.tier === 'critical' && r.state !== 'current');
  const code = failing.length ? EXIT.PROBLEMS : EXIT.OK;
  // the go-bag (lifeboat kit): a warning, not a failure
  const fresh = kitFreshness(project, readKitRecords(project.root, stateDir));
  if (opts.json) {
    io.stdout.write(
      JSON.stringify(
        {
          root: project.root,
          now: now.toISOString(),
          skippedHistoryLines: skipped,
          runbooks: rows.map(({ status: _s, ...r }) => r),
          criticalNotCurrent: failing.map((r) => r.runbook),
          kit: fresh.kit
            ? { digest: fresh.kit.kit_digest, built_at: fresh.kit.built_at, stale: fresh.stale, changed: fresh.changed }
            : null,
        },
        null,
        2,
      ) + '\n',
    );
    return code;
  }
  const color = useColor(io);
  const table_ = [['RUNBOOK', 'TIER', 'LAST REHEARSAL', 'VERSION', 'RESULT', 'TIME', 'STATUS']];
  for (const r of rows) {
    const l = r.last;
    table_.push([
      r.runbook,
      r.tier,
      // history.jsonl is committed by others: its text is shown, never obeyed as terminal control
      l ? `${printable(String(l.finished_at).slice(0, 10))} (${ago(l.finished_at, now)})` : 'never',
      l ? printable(String(l.version)) : '',
      l ? paint(color, l.result === 'passed' ? '32' : '31', printable(String(l.result))) : '',
      l ? describeRto(l.duration_ms, l.rto_ms ?? r.rtoMs, true) : '',
      paint(color, STATE_COLOR[r.state], r.state) + (r.reason ? `: ${printable(r.reason)}` : ''),
    ]);
  }
  io.stdout.write(table_.length > 1 ? table(table_) : '');
  if (skipped)
    io.stdout.write(
      `\nnote: ${skipped} line(s) of ${path.join(project.root, '.lifeboat', 'history.jsonl')} are not history entries and were skipped\n`,
    );
  if (failing.length)
    io.stdout.write(
      `\n${failing.length} critical runbook(s) without a current rehearsal: ` +
        `${failing.map((r) => r.runbook).join(', ')}\n` +
        'rehearse with: lifeboat rehearse RUNBOOK -i lab\n',
    );
  else
    io.stdout.write(
      `\nevery critical runbook has a current rehearsal${rows.some((r) => r.state !== 'current') ? ' (some others do not)' : ''}\n`,
    );
  const kitLine = describeFreshness(fresh);
  if (kitLine) io.stdout.write(`${fresh.stale ? paint(color, '33', 'warning') + ': ' : ''}${printable(kitLine)}\n`);
  return code;
}

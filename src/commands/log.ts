// lifeboat log [RUN-ID]: one run's timeline in words, and its result against the RTO.
import { EXIT } from '../cli/exit.js';
import { useColor, type CliIO } from '../cli/io.js';
import { readRun, resolveStateDir, timeline, describeRto, formatElapsed, type TimelineEntry } from '../journal/runs.js';
import { paint, table } from '../util/text.js';
import { printable } from '../util/printable.js';
import { describeRpo } from '../engine/rpo.js';
import { findRunId } from '../session/find-run.js';

export interface LogCmdOptions {
  json?: boolean;
  stateDir?: string;
  verbose?: boolean;
}

const LEVEL_COLOR: Record<TimelineEntry['level'], string> = { info: '0', ok: '32', warn: '33', error: '31' };

export async function logCommand(id: string | undefined, opts: LogCmdOptions, io: CliIO): Promise<number> {
  const stateDir = resolveStateDir({ stateDir: opts.stateDir, cwd: io.cwd });
  const runId = findRunId(stateDir, id);
  const { summary: s, records } = readRun(stateDir, runId);
  const lines = timeline(records, { verbose: opts.verbose });
  if (opts.json) {
    io.stdout.write(JSON.stringify({ run: s, timeline: lines, records }, null, 2) + '\n');
    return EXIT.OK;
  }
  const color = useColor(io);
  io.stdout.write(
    `run ${s.id}: ${s.runbook ?? '?'}@${s.version ?? '?'} on ${s.inventory ?? '?'} (${s.mode ?? '?'}) by ${s.operator ?? '?'}\n`,
  );
  io.stdout.write(`journal ${s.journal}; times are UTC\n\n`);
  const rows = lines.map((l) => [
    l.at.slice(11, 19),
    formatElapsed(l.elapsedMs),
    l.host ?? '',
    l.step ? (l.number ? `${l.number}. ${l.step}` : l.step) : '',
    paint(color, LEVEL_COLOR[l.level], printable(l.text)),
  ]);
  if (rows.length) {
    // a failure's tail (log -v) goes under its line, indented past the time columns
    const widths = table(rows).split('\n');
    let i = 0;
    for (const l of lines) {
      io.stdout.write(widths[i++] + '\n');
      for (const d of l.detail ?? []) io.stdout.write(`      ${d}\n`);
    }
  }
  io.stdout.write('\n');
  const rto = describeRto(s.durationMs, s.rtoMs, s.finished !== undefined);
  const verdict =
    s.state === 'running'
      ? 'still running'
      : s.state === 'crashed'
        ? 'did not finish (crashed or killed)'
        : s.state === 'completed-with-errors'
          ? 'COMPLETED WITH ERRORS'
          : s.state;
  io.stdout.write(`result: ${verdict}${rto ? `, ${rto}` : ''}${s.resumes ? `, resumed ${s.resumes}×` : ''}\n`);
  if (s.rpo) io.stdout.write(`${describeRpo(s.rpo)} (measured by ${s.rpo.step})\n`);
  for (const line of s.outcome) io.stdout.write(`  ${printable(line)}\n`);
  if (s.inDoubt.length)
    io.stdout.write(
      `in doubt: ${s.inDoubt.map((u) => `${u.step} on ${u.host}`).join(', ')}: sent, but no result was recorded; ` +
        'resume asks what to do (idempotent steps re-run, skip_if guards decide)\n',
    );
  if (s.torn)
    io.stdout.write('note: the last journal line was cut off by a crash and is ignored (it was never acted on)\n');
  for (const p of s.problems) io.stdout.write(`problem: ${p}\n`);
  if (s.state === 'crashed' || s.state === 'interrupted') io.stdout.write(`continue with: lifeboat resume ${s.id}\n`);
  return EXIT.OK;
}

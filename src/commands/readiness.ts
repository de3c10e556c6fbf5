// lifeboat readiness -i INVENTORY: every runbook's read-only preflight against the inventory,
// at once, plus the RPO evidence where a runbook declares one; one page, per service ready or
// not and why, the data-loss window against the RPO, the age of the last drill. Exit 1 when a
// critical service is not ready (the nightly alert); --junit and --format json for machines.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT, ExitError } from '../cli/exit.js';
import { useColor, type CliIO } from '../cli/io.js';
import { findRoot, loadWithRoot } from '../load/project.js';
import { readHistoryRecords } from '../rehearsal/history.js';
import { paint, table } from '../util/text.js';
import { printable } from '../util/printable.js';
import { formatDuration } from '../util/duration.js';
import type { ReadinessReport } from '../readiness/check.js';

export interface ReadinessCmdOptions {
  inventory: string;
  junit?: string;
  format?: 'text' | 'json';
  stateDir?: string;
  now?: Date;
}

export async function readinessCommand(dir: string | undefined, opts: ReadinessCmdOptions, io: CliIO): Promise<number> {
  const root = findRoot(path.resolve(io.cwd, dir ?? '.'));
  const project = loadWithRoot([root]);
  if (!project.runbooks.size)
    throw new ExitError(EXIT.USAGE, `no runbooks found in ${root}`, 'pass the folder that holds site.yaml');
  // an inventory file is named by its path from here; prepare() then looks it up from the site folder
  let inventory = opts.inventory;
  if (
    /[/\\]|\.(ya?ml|ini)$/i.test(inventory) &&
    existsSync(path.resolve(io.cwd, inventory)) &&
    statSync(path.resolve(io.cwd, inventory)).isFile()
  )
    inventory = path.resolve(io.cwd, inventory);
  else if (!project.inventories.has(inventory))
    throw new ExitError(
      EXIT.USAGE,
      `no inventory named '${inventory}' under ${root}`,
      `known: ${[...project.inventories.keys()].join(', ') || 'none'}`,
    );

  const [
    { readiness },
    { prepare, resolveSecrets },
    { makeTransports },
    { addSudoChecks },
    { ScriptedOperator },
    { VERSION },
  ] = await Promise.all([
    import('../readiness/check.js'),
    import('../session/prepare.js'),
    import('../session/wiring.js'),
    import('../session/sudo-check.js'),
    import('../ui/operator.js'),
    import('../version.js'),
  ]);
  const notes: string[] = [];
  // nothing is asked: a preflight has no gate, and a missing secret is a reason, not a prompt
  const operator = new ScriptedOperator({ yes: false, yesManual: false, answers: {} }, (s) => notes.push(s));
  const siteIO: CliIO = { ...io, cwd: root };
  const started = Date.now();
  const { entries } = readHistoryRecords(root, opts.stateDir ? path.resolve(io.cwd, opts.stateDir) : undefined);
  const report = await readiness(
    project,
    inventory,
    entries,
    siteIO,
    {
      prepare: (rb, inv, i) => prepare(rb, inv, i),
      addSudoChecks,
      resolveSecrets,
      makeTransports,
      operator,
      version: VERSION,
    },
    opts.now,
  );
  if (path.isAbsolute(inventory)) report.inventory = path.relative(io.cwd, inventory) || inventory;
  const code = report.criticalNotReady.length ? EXIT.PROBLEMS : EXIT.OK;
  if (opts.junit) {
    const file = path.resolve(io.cwd, opts.junit);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, await readinessJunit(report, Date.now() - started));
  }
  if (opts.format === 'json') {
    io.stdout.write(
      JSON.stringify(
        { ...report, organisation: project.site?.data.organisation, durationMs: Date.now() - started },
        null,
        2,
      ) + '\n',
    );
    return code;
  }
  io.stdout.write(readinessPage(report, project.site?.data.organisation, Date.now() - started, useColor(io)));
  if (opts.junit) io.stdout.write(`JUnit report: ${opts.junit}\n`);
  return code;
}

/** The one page: a table of every service, then the reasons of each one not ready. */
export function readinessPage(
  report: ReadinessReport,
  organisation: string | undefined,
  ms: number,
  color: boolean,
): string {
  let out =
    `Readiness${organisation ? ` of ${printable(organisation)}` : ''} against inventory ${printable(report.inventory)}, ` +
    `${report.at.slice(0, 16).replace('T', ' ')} UTC (checked in ${formatDuration(ms)})\n\n`;
  const rows = [['SERVICE', 'RUNBOOK', 'TIER', 'STATUS', 'DATA-LOSS WINDOW', 'LAST DRILL']];
  for (const s of report.services) {
    rows.push([
      printable(s.service),
      s.runbook,
      s.tier,
      s.ready ? paint(color, '32', 'ready') : paint(color, '31', 'NOT READY'),
      s.rpo ? s.rpo.words : `not measured${s.rpoObjective ? ` (RPO ${s.rpoObjective})` : ''}`,
      s.drill.ago ? `${s.drill.ago} (${s.drill.lastResult}; ${s.drill.state})` : 'never',
    ]);
  }
  out += table(rows);
  for (const s of report.services.filter((x) => !x.ready || x.notes.length)) {
    out += `\n${s.ready ? 'note' : paint(color, '31', 'NOT READY')}: ${s.runbook} (${s.tier})\n`;
    for (const r of s.reasons) out += `  - ${printable(r)}\n`;
    for (const n of s.notes) out += `  · ${printable(n)}\n`;
  }
  out += report.criticalNotReady.length
    ? `\n${report.criticalNotReady.length} critical service(s) NOT READY: ${report.criticalNotReady.join(', ')}\n`
    : `\nevery critical service is ready${report.services.some((s) => !s.ready) ? ' (some others are not)' : ''}\n`;
  return out;
}

/** JUnit: one test case per service (failed when not ready, with every reason), for a CI job. */
export async function readinessJunit(report: ReadinessReport, ms: number): Promise<string> {
  const { xml } = await import('../util/xml.js');
  const failures = report.services.filter((s) => !s.ready).length;
  const cases = report.services.map((s) => {
    const name = `${s.runbook} (${s.tier})`;
    const body = s.ready
      ? ''
      : `<failure message="${xml(s.reasons[0] ?? 'not ready')}">${xml(s.reasons.join('\n'))}</failure>`;
    const out = [s.rpo ? s.rpo.words : '', `last drill: ${s.drill.ago ?? 'never'} (${s.drill.state})`, ...s.notes]
      .filter(Boolean)
      .join('\n');
    return (
      `    <testcase classname="readiness.${xml(report.inventory)}" name="${xml(name)}" ` +
      `time="${(s.durationMs / 1000).toFixed(3)}">${body}<system-out>${xml(out)}</system-out></testcase>`
    );
  });
  const totalTime = (ms / 1000).toFixed(3);
  const suiteName = xml(`readiness on ${report.inventory}`);
  const timestamp = report.at.slice(0, 19);
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="lifeboat readiness" tests="${cases.length}" failures="${failures}" time="${totalTime}">
  <testsuite name="${suiteName}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${totalTime}" timestamp="${timestamp}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

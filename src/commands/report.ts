// lifeboat report RUN-ID -o FILE: a run's journal as an incident timeline (HTML, Markdown, PDF).
import path from 'node:path';
import type { CliIO } from '../cli/io.js';
import { EXIT, ExitError } from '../cli/exit.js';
import { VERSION } from '../version.js';
import { formatFor, type DocFormat } from '../render/formats.js';
import { writeAtomic } from '../util/atomic-write.js';

export interface ReportCmdOptions {
  output?: string;
  format?: DocFormat;
  stateDir?: string;
  paper?: 'a4' | 'letter';
  templates?: string;
}

export async function reportCommand(runIdArg: string | undefined, opts: ReportCmdOptions, io: CliIO): Promise<number> {
  const { resolveStateDir, readRun } = await import('../journal/runs.js');
  const { findRunId } = await import('../session/find-run.js');
  const stateDir = resolveStateDir({ stateDir: opts.stateDir, cwd: io.cwd });
  // a run id or a unique part of it, as `log` takes it; the newest run without one
  const runId = findRunId(stateDir, runIdArg);
  let records;
  try {
    records = readRun(stateDir, runId).records;
  } catch (e) {
    throw new ExitError(EXIT.PROBLEMS, (e as Error).message, 'list runs with `lifeboat runs`');
  }
  const format = formatFor(opts.output, opts.format);
  if (typeof format !== 'string') throw new ExitError(EXIT.USAGE, format.error);
  const output = opts.output ?? `run-report-${runId}.${format}`;
  const { reportModel } = await import('../render/report-model.js');
  const { createEngine, loadTemplateSet, defaultCacheDir } = await import('../render/engine.js');
  const model = reportModel(records, {
    version: VERSION,
    now:
      io.env.SOURCE_DATE_EPOCH && /^\d+$/.test(io.env.SOURCE_DATE_EPOCH)
        ? new Date(Number(io.env.SOURCE_DATE_EPOCH) * 1000)
        : undefined,
  });
  let out: string | Buffer;
  if (format === 'json') out = `${JSON.stringify(model, null, 2)}\n`;
  else {
    const engine = await createEngine(
      loadTemplateSet({ overrideDir: opts.templates ? path.resolve(io.cwd, opts.templates) : undefined }),
      format === 'md' ? 'md' : 'html',
      { cacheDir: defaultCacheDir(io.env) },
    );
    out = engine.render('report', model);
  }
  if (format === 'pdf') {
    const { htmlToPdf } = await import('../render/pdf.js');
    out = await htmlToPdf(out, {
      paper: opts.paper ?? 'a4',
      env: io.env,
      footer: `run ${model.runId} · ${model.runbook}@${model.version} · ${model.result}`,
    });
  }
  if (output === '-') {
    io.stdout.write(out);
    return EXIT.OK;
  }
  try {
    writeAtomic(path.resolve(io.cwd, output), out);
  } catch (e) {
    throw new ExitError(EXIT.PROBLEMS, `cannot write ${output}: ${(e as Error).message}`);
  }
  io.stdout.write(
    `wrote ${output}: run ${runId} (${model.runbook}@${model.version}, ${model.result}, ${model.total}; ${model.rtoVerdict})\n`,
  );
  return EXIT.OK;
}

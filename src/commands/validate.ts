// lifeboat validate PATH…: every diagnostic, sorted; exit 1 when any error.
import { validatePaths } from '../load/validate.js';
import { formatDiagnostic, hasErrors, summarize } from '../model/diagnostic.js';
import { EXIT } from '../cli/exit.js';
import { useColor, type CliIO } from '../cli/io.js';

export interface ValidateCmdOptions { format?: 'text' | 'json'; strict?: boolean; git?: boolean; quiet?: boolean }

export async function validateCommand(paths: string[], opts: ValidateCmdOptions, io: CliIO): Promise<number> {
  const { project, diagnostics } = validatePaths(paths.length ? paths : ['.'], { strict: opts.strict, git: opts.git !== false });
  if (opts.format === 'json') {
    io.stdout.write(JSON.stringify({ diagnostics, files: [...project.files.keys()], errors: diagnostics.filter((d) => d.severity === 'error').length, warnings: diagnostics.filter((d) => d.severity === 'warning').length }, null, 2) + '\n');
    return hasErrors(diagnostics) ? EXIT.PROBLEMS : EXIT.OK;
  }
  const sources = new Map([...project.files].map(([k, v]) => [k, v.text]));
  const color = useColor(io);
  for (const d of diagnostics) io.stdout.write(formatDiagnostic(d, { sources, color }) + '\n\n');
  const n = project.files.size;
  if (!opts.quiet || diagnostics.length) io.stdout.write(`${n} file${n === 1 ? '' : 's'} checked: ${summarize(diagnostics)}\n`);
  return hasErrors(diagnostics) ? EXIT.PROBLEMS : EXIT.OK;
}

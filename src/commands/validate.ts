// lifeboat validate PATH…: every diagnostic, sorted; exit 1 when any error.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { findRoot } from '../load/project.js';
import path from 'node:path';
import { validatePaths } from '../load/validate.js';
import { formatDiagnostic, hasErrors, summarize } from '../model/diagnostic.js';
import { EXIT } from '../cli/exit.js';
import { useColor, type CliIO } from '../cli/io.js';

export interface ValidateCmdOptions {
  format?: 'text' | 'json';
  strict?: boolean;
  git?: boolean;
  quiet?: boolean;
}

/**
 * Without paths: the project (site.yaml here or above, as git finds .git); outside a project,
 * the YAML files of this folder only, and a note saying so: never a whole tree of unrelated files.
 */
function defaultPaths(io: CliIO): string[] {
  const root = findRoot(io.cwd);
  if (existsSync(path.join(root, 'site.yaml'))) return [path.relative(io.cwd, root) || '.'];
  io.stderr.write(`lifeboat: no site.yaml in ${io.cwd} or above: checking the YAML files of this folder only\n`);
  const here = readdirSync(io.cwd, { withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
    .map((e) => e.name)
    .sort();
  return here.length ? here : ['.'];
}

export async function validateCommand(paths: string[], opts: ValidateCmdOptions, io: CliIO): Promise<number> {
  const given = paths.length ? paths : defaultPaths(io);
  // single files are checked in the context of their project (includes, inventories, site),
  // but only their own problems are reported
  const filesOnly = given.every((p) => existsSync(p) && statSync(p).isFile());
  const { project, diagnostics: all } = validatePaths(given, {
    strict: opts.strict,
    git: opts.git !== false,
    withRoot: filesOnly,
  });
  const wanted = new Set(given.map((p) => path.resolve(p)));
  // an Ansible inventory's host_vars/ and group_vars/ files are part of it
  for (const [f, sources] of project.ansibleSources ?? [])
    if (wanted.has(path.resolve(f))) for (const x of sources) wanted.add(path.resolve(x));
  const diagnostics = filesOnly ? all.filter((d) => wanted.has(path.resolve(d.file))) : all;
  if (opts.format === 'json') {
    io.stdout.write(
      JSON.stringify(
        {
          diagnostics,
          files: [...project.files.keys()],
          errors: diagnostics.filter((d) => d.severity === 'error').length,
          warnings: diagnostics.filter((d) => d.severity === 'warning').length,
        },
        null,
        2,
      ) + '\n',
    );
    return hasErrors(diagnostics) ? EXIT.PROBLEMS : EXIT.OK;
  }
  const sources = new Map([...project.files].map(([k, v]) => [k, v.text]));
  const color = useColor(io);
  for (const d of diagnostics) io.stdout.write(formatDiagnostic(d, { sources, color }) + '\n\n');
  const n = filesOnly ? given.length : project.files.size;
  if (!opts.quiet || diagnostics.length)
    io.stdout.write(`${n} file${n === 1 ? '' : 's'} checked: ${summarize(diagnostics)}\n`);
  return hasErrors(diagnostics) ? EXIT.PROBLEMS : EXIT.OK;
}

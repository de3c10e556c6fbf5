// The whole check of a set of files: YAML, schema, semantics, DR lint. The one entry point
// for `validate` and for every command that must refuse to run on invalid input.
import { sortDiagnostics, type Diagnostic } from '../model/diagnostic.js';
import { loadProject, loadWithRoot, type Project } from './project.js';
import { checkSemantics } from './check-semantics.js';
import { lintProject } from './lint.js';
import { salvage } from './check-schema.js';

export interface ValidateOptions {
  strict?: boolean;
  git?: boolean;
  withRoot?: boolean;
}

export function validatePaths(
  paths: string[],
  opts: ValidateOptions = {},
): { project: Project; diagnostics: Diagnostic[] } {
  const project = opts.withRoot ? loadWithRoot(paths) : loadProject(paths);
  return { project, diagnostics: validateProject(project, opts) };
}

export function validateProject(project: Project, opts: ValidateOptions = {}): Diagnostic[] {
  // the semantic checks see the schema-valid part of each runbook too: every independent mistake in one pass
  let all = [
    ...project.diagnostics,
    ...checkSemantics(withSalvage(project)),
    ...lintProject(project, { git: opts.git }),
  ];
  if (opts.strict) all = all.map((d) => (d.severity === 'warning' ? { ...d, severity: 'error' as const } : d));
  return sortDiagnostics(all);
}

/** the project with each schema-invalid runbook replaced by what the schema accepts of it (check-schema salvage) */
export function withSalvage(project: Project): Project {
  const runbooks = new Map(project.runbooks);
  for (const [name, rb] of project.runbooks) {
    if (rb.valid) continue;
    const data = salvage(rb.data, 'runbook');
    if (data) runbooks.set(name, { ...rb, data: data as typeof rb.data, valid: true });
  }
  return { ...project, runbooks };
}

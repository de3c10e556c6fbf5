// The whole check of a set of files: YAML, schema, semantics, DR lint. The one entry point
// for `validate` and for every command that must refuse to run on invalid input.
import { sortDiagnostics, type Diagnostic } from '../model/diagnostic.js';
import { loadProject, loadWithRoot, type Project } from './project.js';
import { checkSemantics } from './check-semantics.js';
import { lintProject } from './lint.js';

export interface ValidateOptions { strict?: boolean; git?: boolean; withRoot?: boolean }

export function validatePaths(paths: string[], opts: ValidateOptions = {}): { project: Project; diagnostics: Diagnostic[] } {
  const project = opts.withRoot ? loadWithRoot(paths) : loadProject(paths);
  return { project, diagnostics: validateProject(project, opts) };
}

export function validateProject(project: Project, opts: ValidateOptions = {}): Diagnostic[] {
  let all = [...project.diagnostics, ...checkSemantics(project), ...lintProject(project, { git: opts.git })];
  if (opts.strict) all = all.map((d) => (d.severity === 'warning' ? { ...d, severity: 'error' as const } : d));
  return sortDiagnostics(all);
}

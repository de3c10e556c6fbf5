// DR lint: warnings about procedures that are valid but dangerous (--strict makes them errors).
import type { Diagnostic } from '../model/diagnostic.js';
import type { Project } from './project.js';

export interface LintOptions { git?: boolean }

export function lintProject(project: Project, _opts: LintOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const rb of project.runbooks.values()) {
    if (!rb.valid) continue;
    if (!rb.data.steps.some((s) => s.phase === 'preflight')) {
      const sp = rb.file.spanOf(['steps'], true);
      out.push({ file: rb.file.file, line: sp.line, col: sp.col, severity: 'warning', code: 'no-preflight', message: `runbook '${rb.data.name}' has no preflight step`, hint: 'add a read-only `phase: preflight` check that proves the run can start' });
    }
  }
  return out;
}

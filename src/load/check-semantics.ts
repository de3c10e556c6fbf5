// Checks that need more than the schema: references between steps, roles, inventories,
// templates and runbooks. Each check has its own code.
import type { Diagnostic } from '../model/diagnostic.js';
import type { Project } from './project.js';

export function checkSemantics(project: Project): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const rb of project.runbooks.values()) {
    if (!rb.valid) continue;
    const seen = new Map<string, number>();
    rb.data.steps.forEach((s, i) => {
      if (seen.has(s.id)) {
        const sp = rb.file.spanOf(['steps', i, 'id']);
        out.push({ file: rb.file.file, line: sp.line, col: sp.col, severity: 'error', code: 'duplicate-id', message: `step id '${s.id}' is used twice (first as step ${seen.get(s.id)! + 1})`, hint: 'step ids are unique in a runbook: journals and resume refer to them' });
      } else seen.set(s.id, i);
    });
  }
  return out;
}

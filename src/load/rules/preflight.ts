// dr-no-preflight: a runbook with no read-only check that proves the run can start.
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Runbook } from '../../model/types.js';
import type { Loaded } from '../project.js';
import { diagAt } from '../positions.js';

export function lintNoPreflight(rb: Loaded<Runbook>, out: Diagnostic[]): void {
  if (rb.data.steps.some((s) => s.phase === 'preflight')) return;
  out.push(
    diagAt(
      rb.file,
      ['steps'],
      true,
      'warning',
      'dr-no-preflight',
      `runbook '${rb.data.name}' has no preflight step`,
      'add a read-only `phase: preflight` check that proves the run can start',
    ),
  );
}

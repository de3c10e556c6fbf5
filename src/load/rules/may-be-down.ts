// dr-may-be-down: a step on a host that may be down stops the run unless told otherwise.
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Runbook, Step } from '../../model/types.js';
import type { Loaded } from '../project.js';
import { diagAt } from '../positions.js';
import { stepName, targetsOf } from './common.js';

export function lintMayBeDown(
  rb: Loaded<Runbook>,
  mayBeDown: Set<string>,
  s: Step,
  i: number,
  out: Diagnostic[],
): void {
  const down = targetsOf(s).filter((t) => mayBeDown.has(t));
  if (s.run === undefined || !down.length || s.on_failure === 'continue' || s.when !== undefined) return;
  out.push(
    diagAt(
      rb.file,
      ['steps', i, 'on'],
      false,
      'warning',
      'dr-may-be-down',
      `${stepName(s, i)} runs on '${down[0]}', which may be down, and would stop the run when it is`,
      'add `on_failure: continue` (or a `when:` such as `{ reachable: ' + down[0] + ' }`)',
    ),
  );
}

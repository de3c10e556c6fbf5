// dr-unguarded-rsync: rsync is guarded by a skip_if, by a preflight step on each host it
// touches, or by the step just before it checking the same host with an expect.
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Runbook, Step } from '../../model/types.js';
import type { Loaded } from '../project.js';
import { diagAt } from '../positions.js';
import { stepName, targetsOf } from './common.js';
import { hostsNamed, type RunbookHosts } from './step-hosts.js';

/** the command without its quoted parts: a word in quotes is an argument, not a command run */
export function unquoted(command: string): string {
  return command.replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, "''");
}

export function lintUnguardedRsync(
  rb: Loaded<Runbook>,
  { hostOfName, mayBeDown, preflightHosts }: RunbookHosts,
  s: Step,
  i: number,
  out: Diagnostic[],
): void {
  if (typeof s.run !== 'string' || !/\brsync\b/.test(unquoted(s.run)) || s.phase === 'preflight') return;
  const prev = i > 0 ? rb.data.steps[i - 1] : undefined;
  const sameHost = (a: Step, b: Step) => targetsOf(a).some((t) => targetsOf(b).map(hostOfName).includes(hostOfName(t)));
  const touched = [...hostsNamed(s)].filter((h) => h !== 'local');
  // a host that may be down cannot be checked beforehand: only the others must be
  const mustCheck = touched.filter((h) => !mayBeDown.has(h)).map(hostOfName);
  const byPreflight = touched.length > 0 && mustCheck.every((h) => preflightHosts.has(h));
  const byPrev =
    prev !== undefined &&
    prev.run !== undefined &&
    (prev.expect !== undefined || prev.until !== undefined) &&
    sameHost(prev, s);
  if (s.skip_if !== undefined || byPreflight || byPrev) return;
  const missing = mustCheck.filter((h) => !preflightHosts.has(h));
  out.push(
    diagAt(
      rb.file,
      ['steps', i, 'run'],
      false,
      'warning',
      'dr-unguarded-rsync',
      `${stepName(s, i)} runs rsync with nothing checking source and target first${missing.length ? ` (no preflight step on ${missing.join(', ')})` : ''}`,
      'add a `phase: preflight` step on the source and target hosts (e.g. that the source folder is not empty), ' +
        'a `skip_if`, or a step just before it with an `expect`',
    ),
  );
}

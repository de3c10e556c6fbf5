// Which run a command means: an id, or a unique part of one, in this state folder only.
import { EXIT, ExitError } from '../cli/exit.js';
import { listRuns } from '../journal/runs.js';

/** A run id, or a unique part of one (the start time, the random suffix). Newest run when none given. */
export function findRunId(stateDir: string, given: string | undefined): string {
  const runs = listRuns(stateDir);
  if (!runs.length)
    throw new ExitError(
      EXIT.USAGE,
      `no runs in ${stateDir}`,
      'pass --state-dir, or run from the folder with site.yaml',
    );
  if (!given) return runs[0].id;
  const exact = runs.find((r) => r.id === given);
  if (exact) return exact.id;
  const partial = runs.filter((r) => r.id.startsWith(given) || r.id.endsWith(given) || r.id.includes(given));
  if (partial.length === 1) return partial[0].id;
  if (partial.length > 1)
    throw new ExitError(
      EXIT.USAGE,
      `'${given}' matches ${partial.length} runs: ${partial
        .slice(0, 5)
        .map((r) => r.id)
        .join(', ')}${partial.length > 5 ? ', …' : ''}`,
      'give more of the run id',
    );
  throw new ExitError(EXIT.USAGE, `no run '${given}' in ${stateDir}`, 'list runs with: lifeboat runs');
}

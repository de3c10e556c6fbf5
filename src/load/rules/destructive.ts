// dr-unconfirmed-destructive: a command that destroys data or state for good, with no confirm
// gate on it or just before it. The list is also what makes a gate a point of no return.
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Runbook, Step } from '../../model/types.js';
import type { Loaded } from '../project.js';
import { diagAt } from '../positions.js';
import { stepName } from './common.js';

/**
 * Commands that destroy data or state for good, or cannot be undone. `pg_ctl stop` is not
 * here: a stopped server starts again with its data intact, and fencing steps stop servers
 * routinely; `pg_ctl promote` forks the timeline and cannot be taken back.
 */
export const DESTRUCTIVE: { re: RegExp; what: string }[] = [
  {
    re: /\brm\s+(?:-[a-zA-Z]*[rR][a-zA-Z]*[fF]|-[a-zA-Z]*[fF][a-zA-Z]*[rR]|-[rR]\s+-[fF]|-[fF]\s+-[rR]|--recursive\s+--force|--force\s+--recursive)\b/,
    what: 'rm -rf',
  },
  { re: /\bpg_ctl\b[^\n;&|]*\bpromote\b|\bpg_promote\s*\(/, what: 'a PostgreSQL promotion' },
  { re: /\bmkfs(?:\.\w+)?\b/, what: 'mkfs' },
  { re: /\bdd\b[^\n;&|]*\bof=/, what: 'dd of=' },
  { re: /\brsync\b[^\n;&|]*--delete\b/, what: 'rsync --delete' },
  { re: /\bip\s+(?:-\S+\s+)*(?:addr|address|a)\s+(?:del|delete|flush)\b/, what: 'ip addr del' },
  { re: /\bvirsh\s+(?:\S+\s+)*?(?:undefine|destroy)\b/, what: 'virsh undefine/destroy' },
  { re: /\bDROP\s+(?:DATABASE|SCHEMA|TABLE)\b/i, what: 'DROP DATABASE' },
  { re: /\bRESET\s+(?:REPLICA|SLAVE|MASTER)\b/i, what: 'RESET REPLICA' },
  { re: /\bwipefs\b/, what: 'wipefs' },
  { re: /\blvremove\b/, what: 'lvremove' },
  { re: /\bzfs\s+destroy\b/, what: 'zfs destroy' },
  { re: />\s*\/dev\/(?:sd|nvme|vd|xvd|hd|mmcblk)\w*/, what: 'writing to a disk device' },
];

export function destructiveIn(command: string): string | undefined {
  return DESTRUCTIVE.find((d) => d.re.test(command))?.what;
}

export function lintDestructive(rb: Loaded<Runbook>, s: Step, i: number, out: Diagnostic[]): void {
  if (typeof s.run !== 'string') return;
  const what = destructiveIn(s.run);
  const prev = i > 0 ? rb.data.steps[i - 1] : undefined;
  // a confirm gate just before counts: a pure confirm step, or a manual step with a confirm
  const gated =
    s.confirm !== undefined ||
    (prev !== undefined && prev.confirm !== undefined && prev.run === undefined && prev.include === undefined);
  if (what && !gated) {
    out.push(
      diagAt(
        rb.file,
        ['steps', i, 'run'],
        false,
        'warning',
        'dr-unconfirmed-destructive',
        `${stepName(s, i)} runs ${what} without asking first`,
        'add `confirm: <question>` to the step (or a confirm gate step just before it): the plan prints it as a point of no return',
      ),
    );
  }
}

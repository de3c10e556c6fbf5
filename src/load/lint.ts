// DR lint: warnings about procedures that are valid but dangerous (--strict makes them errors).
// Every code starts with `dr-`; docs/DIAGNOSTICS.md explains each and how to fix it. Each rule
// is a file of src/load/rules/; this file runs them over the project's valid runbooks.
import type { Diagnostic } from '../model/diagnostic.js';
import type { Runbook } from '../model/types.js';
import type { Project, Loaded } from './project.js';
import { lintEstimates } from './rules/estimates.js';
import { lintNoPreflight } from './rules/preflight.js';
import { runbookHosts } from './rules/step-hosts.js';
import { lintDestructive } from './rules/destructive.js';
import { lintUnguardedRsync } from './rules/rsync.js';
import { lintRawInserts } from './rules/raw-insert.js';
import { lintReparsed } from './rules/reparsed.js';
import { lintLookalikes } from './rules/lookalike.js';
import { lintMayBeDown } from './rules/may-be-down.js';
import { versionNotBumped } from './rules/version-bump.js';

export interface LintOptions {
  git?: boolean;
}

export function lintProject(project: Project, opts: LintOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const valid = [...project.runbooks.values()].filter((rb) => rb.valid);
  for (const rb of valid) {
    lintRunbook(rb, out);
    lintEstimates(project, rb, out);
  }
  if (opts.git !== false) out.push(...versionNotBumped(valid));
  return out;
}

/** the rules of one runbook, step by step */
function lintRunbook(rb: Loaded<Runbook>, out: Diagnostic[]): void {
  lintNoPreflight(rb, out);
  const hosts = runbookHosts(rb.data);
  rb.data.steps.forEach((s, i) => {
    lintDestructive(rb, s, i, out);
    lintUnguardedRsync(rb, hosts, s, i, out);
    lintRawInserts(rb, s, i, out);
    lintReparsed(rb, s, i, out);
    lintLookalikes(rb, s, i, out);
    lintMayBeDown(rb, hosts.mayBeDown, s, i, out);
  });
}

// The site's rules: runbooks it names exist, the recovery order lists each once and every
// runbook that needs a place; services and their dependencies are in site-services.ts.
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Project } from '../project.js';
import type { YamlPath } from '../read-yaml.js';
import { didYouMean } from '../../util/suggest.js';
import { recoveryPhases, type OrderPath, type OrderPhase } from '../../plan/recovery-order.js';
import { diagAt } from '../positions.js';
import { checkServices } from './site-services.js';

/** whether a runbook the site names exists; reports it when not */
export type KnownRunbook = (name: string, path: YamlPath, what: string, key?: boolean) => boolean;

export function checkSite(project: Project, out: Diagnostic[]): void {
  const site = project.site!;
  const known = knownRunbook(project, out);
  const phases = recoveryPhases(site.data);
  const seen = checkRecoveryOrder(project, phases, known, out);
  checkNotInOrder(project, seen, out);
  (site.data.situations ?? []).forEach((sit, i) => known(sit.runbook, ['situations', i, 'runbook'], 'situations'));
  (site.data.network ?? []).forEach((n, i) => {
    for (const rb of Object.keys(n.after ?? {})) known(rb, ['network', i, 'after', rb], `network '${n.name}'`, true);
  });
  checkServices(project, phases, known, out);
}

/** unknown-runbook: the check of every runbook name the site writes */
function knownRunbook(project: Project, out: Diagnostic[]): KnownRunbook {
  return (name, path, what, key = false) => {
    // a runbook whose file has a YAML error is reported there once, not again here
    if (project.runbooks.has(name) || project.unreadable?.has(name)) return true;
    out.push(
      diagAt(
        project.site!.file,
        path,
        key,
        'error',
        'unknown-runbook',
        `${what} names '${name}', which is not a runbook of this project${didYouMean(name, project.runbooks.keys())}`,
        "use the runbook's `name:`, and validate the folder that holds it",
      ),
    );
    return false;
  };
}

/** duplicate-runbook and unknown runbooks in recovery_order; what it lists, with where */
function checkRecoveryOrder(
  project: Project,
  phases: OrderPhase[],
  known: KnownRunbook,
  out: Diagnostic[],
): Map<string, OrderPath> {
  const f = project.site!.file;
  const seen = new Map<string, OrderPath>();
  for (const p of phases) {
    for (const e of p.entries) {
      for (const c of e.choices) {
        const first = seen.get(c.runbook);
        if (first) {
          out.push(
            diagAt(
              f,
              c.path,
              false,
              'error',
              'duplicate-runbook',
              `recovery_order lists '${c.runbook}' twice (first at line ${f.spanOf(first).line})`,
              'list each runbook once; alternatives go in one `one_of`',
            ),
          );
          continue;
        }
        seen.set(c.runbook, c.path);
        known(c.runbook, c.path, 'recovery_order');
      }
    }
  }
  return seen;
}

/** not-in-recovery-order: a runbook the order does not list (one only ever included by others needs no place) */
function checkNotInOrder(project: Project, seen: Map<string, OrderPath>, out: Diagnostic[]): void {
  for (const [name, rb] of project.runbooks) {
    // runbooks only ever included by others need no place of their own
    const included = [...project.runbooks.values()].some(
      (o) => o.valid && o.data.steps.some((s) => s.include === name),
    );
    if (!seen.has(name) && !included) {
      out.push(
        diagAt(
          project.site!.file,
          ['recovery_order'],
          true,
          'warning',
          'not-in-recovery-order',
          `runbook '${name}' (${rb.file.file}) is not in recovery_order`,
          'add it, so the DR plan says when to run it',
        ),
      );
    }
  }
}

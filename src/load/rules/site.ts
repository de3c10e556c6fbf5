// The site's rules: runbooks it names exist, services and their dependencies, the recovery order.
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Project } from '../project.js';
import type { YamlPath } from '../read-yaml.js';
import { didYouMean } from '../../util/suggest.js';
import { recoveryPhases, phaseOf, type OrderPath } from '../../plan/recovery-order.js';
import { diagAt } from '../positions.js';

export function checkSite(project: Project, out: Diagnostic[]): void {
  const site = project.site!;
  const f = site.file;
  const known = (name: string, path: YamlPath, what: string, key = false) => {
    // a runbook whose file has a YAML error is reported there once, not again here
    if (project.runbooks.has(name) || project.unreadable?.has(name)) return true;
    out.push(
      diagAt(
        f,
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
  const phases = recoveryPhases(site.data);
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
  for (const [name, rb] of project.runbooks) {
    // runbooks only ever included by others need no place of their own
    const included = [...project.runbooks.values()].some(
      (o) => o.valid && o.data.steps.some((s) => s.include === name),
    );
    if (!seen.has(name) && !included) {
      out.push(
        diagAt(
          f,
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
  (site.data.situations ?? []).forEach((sit, i) => known(sit.runbook, ['situations', i, 'runbook'], 'situations'));
  (site.data.network ?? []).forEach((n, i) => {
    for (const rb of Object.keys(n.after ?? {})) known(rb, ['network', i, 'after', rb], `network '${n.name}'`, true);
  });
  const services = site.data.services ?? {};
  const phaseIndex = phaseOf(phases);
  // a service is back when the first of its runbooks in the order has run
  const serviceAt = (id: string) => Math.min(...services[id].runbooks.map((r) => phaseIndex.get(r) ?? Infinity));
  for (const [id, svc] of Object.entries(services)) {
    svc.runbooks.forEach((rb, i) => known(rb, ['services', id, 'runbooks', i], `service '${id}'`));
    (svc.depends_on ?? []).forEach((dep, i) => {
      const path: YamlPath = ['services', id, 'depends_on', i];
      if (!services[dep]) {
        out.push(
          diagAt(
            f,
            path,
            false,
            'error',
            'unknown-service',
            `service '${id}' depends on '${dep}', which is not a service of this site${didYouMean(dep, Object.keys(services))}`,
            'name a key of `services:`',
          ),
        );
        return;
      }
      const mine = serviceAt(id);
      const theirs = serviceAt(dep);
      if (Number.isFinite(mine) && theirs > mine) {
        out.push(
          diagAt(
            f,
            path,
            false,
            'error',
            'dependency-after-dependent',
            `service '${id}' depends on '${dep}', but recovery_order recovers '${dep}' ` +
              (Number.isFinite(theirs)
                ? `in phase ${theirs + 1}, after '${id}' (phase ${mine + 1})`
                : 'nowhere (none of its runbooks is in it)'),
            `move a runbook of '${dep}' to an earlier phase than '${id}''s, or drop the dependency`,
          ),
        );
      }
    });
  }
  // dependency cycles, reported once each where they close
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string) => {
    state.set(id, 'active');
    stack.push(id);
    (services[id].depends_on ?? []).forEach((dep, i) => {
      if (!services[dep]) return;
      if (state.get(dep) === 'active') {
        const cycle = [...stack.slice(stack.indexOf(dep)), dep];
        out.push(
          diagAt(
            f,
            ['services', id, 'depends_on', i],
            false,
            'error',
            'dependency-cycle',
            `services depend on each other in a loop: ${cycle.join(' → ')}`,
            'one of them must come back without the other; drop that dependency',
          ),
        );
      } else if (!state.has(dep)) visit(dep);
    });
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of Object.keys(services)) if (!state.has(id)) visit(id);
}

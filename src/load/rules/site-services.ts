// The site's services: their runbooks exist, they depend on services that exist and are
// recovered no later than they are, and their dependencies form no loop.
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Site } from '../../model/types.js';
import type { Project } from '../project.js';
import type { YamlFile, YamlPath } from '../read-yaml.js';
import { didYouMean } from '../../util/suggest.js';
import { phaseOf, type OrderPhase } from '../../plan/recovery-order.js';
import { diagAt } from '../positions.js';
import type { KnownRunbook } from './site.js';

type Services = NonNullable<Site['services']>;

/** unknown-runbook for a service's runbooks; unknown-service, dependency-after-dependent for what it depends on */
export function checkServices(project: Project, phases: OrderPhase[], known: KnownRunbook, out: Diagnostic[]): void {
  const site = project.site!;
  const f = site.file;
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
  checkDependencyCycles(f, services, out);
}

/** dependency-cycle: services that depend on each other in a loop, reported once each where they close */
function checkDependencyCycles(f: YamlFile, services: Services, out: Diagnostic[]): void {
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

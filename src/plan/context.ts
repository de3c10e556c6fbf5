// The values a step's templates see: vars and roles of the step's runbook, every host of the
// plan (also under its role names), the host the step runs on, captured values, secrets.
import type { ResolvedPlan, ResolvedStep } from '../model/plan.js';
import type { RenderContext } from './template.js';
import type { ResolvedHost } from '../ports.js';

export interface HostFacts {
  name: string;
  address: string;
  user: string;
  port: number;
}

/** `{{ host.… }}` of one host; a host not reached over SSH has no user and no port (empty, 0). */
export function factsOf(h: ResolvedHost, name = h.name): HostFacts {
  switch (h.transport) {
    case 'ssh':
      return { name, address: h.address, user: h.user, port: h.port };
    case 'local':
      return { name, address: h.address, user: '', port: 0 };
  }
}

export function hostFacts(plan: ResolvedPlan): Record<string, HostFacts> {
  const out: Record<string, HostFacts> = {};
  for (const [name, h] of Object.entries(plan.hosts)) out[name] = factsOf(h, name);
  return out;
}

export function stepContext(
  plan: ResolvedPlan,
  step: ResolvedStep,
  host: string | undefined,
  captured: Record<string, string>,
  secrets: Record<string, string>,
  facts: Record<string, HostFacts> = hostFacts(plan),
): RenderContext {
  return {
    vars: step.scope.vars,
    roles: step.scope.roles,
    hosts: hostsOf(step, facts),
    host: host
      ? ({ ...(facts[host] ?? { name: host, address: host, user: '', port: 0 }) } as Record<string, unknown>)
      : undefined,
    captured,
    secrets,
    secretLabel: secretLabel(plan),
  };
}

// `{{ hosts.… }}` is every host of the plan plus the step's role names: the same for every
// host the step runs on, so built once per step and facts, not once per command (a step on 500
// hosts copied 500 hosts 500 times). Read-only: templates only look values up.
const hostsCache = new WeakMap<ResolvedStep, { facts: Record<string, HostFacts>; hosts: Record<string, HostFacts> }>();
function hostsOf(step: ResolvedStep, facts: Record<string, HostFacts>): Record<string, HostFacts> {
  const hit = hostsCache.get(step);
  if (hit?.facts === facts) return hit.hosts;
  const hosts: Record<string, HostFacts> = { ...facts };
  for (const [role, h] of Object.entries(step.scope.roles)) if (facts[h]) hosts[role] = facts[h];
  hostsCache.set(step, { facts, hosts });
  return hosts;
}

/** how a secret is shown to people: where it comes from, never its value */
export function secretLabel(plan: ResolvedPlan): (name: string) => string {
  return (n) => {
    const s = plan.secrets[n];
    return s && 'env' in s ? `<from ${s.env}>` : s && 'file' in s ? `<from file ${s.file}>` : `<secret ${n}>`;
  };
}

// The hosts of a runbook as the DR lint compares them: the hosts a step touches, the role's
// host behind a name, the roles that may be down, and the hosts a preflight step checks.
import type { Runbook, Step } from '../../model/types.js';
import { parseTemplate } from '../../plan/template.js';
import { roleHost, targetsOf } from './common.js';

/** the hosts (role or host names, as written) a step's command touches: its `on` plus hosts it names */
export function hostsNamed(s: Step): Set<string> {
  const out = new Set(targetsOf(s));
  if (typeof s.run === 'string') {
    for (const ref of parseTemplate(s.run).refs) {
      if ((ref.parts[0] === 'hosts' || ref.parts[0] === 'roles') && ref.parts[1]) out.add(ref.parts[1]);
    }
  }
  return out;
}

export interface RunbookHosts {
  /** a role's host, else the name itself: a role may name the same host as another role */
  hostOfName: (name: string) => string;
  /** roles with may_be_down */
  mayBeDown: Set<string>;
  /** the hosts (by hostOfName) a preflight step touches */
  preflightHosts: Set<string>;
}

export function runbookHosts(r: Runbook): RunbookHosts {
  // a role may name the same host as another role: compare hosts, not names
  const hostOfName = (n: string) => roleHost(r.roles?.[n]) ?? n;
  const mayBeDown = new Set(
    Object.entries(r.roles ?? {})
      .filter(([, spec]) => typeof spec === 'object' && spec.may_be_down)
      .map(([n]) => n),
  );
  const preflightHosts = new Set<string>();
  for (const s of r.steps)
    if (s.phase === 'preflight') for (const h of hostsNamed(s)) preflightHosts.add(hostOfName(h));
  return { hostOfName, mayBeDown, preflightHosts };
}

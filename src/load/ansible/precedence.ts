// Ansible's variable precedence: the groups a host is in, in the order their vars are merged,
// and the vars that win for a host.
import { compareText } from '../../util/compare.js';
import type { AVar, ParsedAnsible, Winning } from './model.js';

/** Ansible's group depth: all is 0, a child one more than its deepest parent */
function depths(inv: ParsedAnsible): Map<string, number> {
  const d = new Map<string, number>();
  const depth = (name: string, seen: Set<string>): number => {
    if (d.has(name)) return d.get(name)!;
    if (name === 'all' || seen.has(name)) return 0;
    seen.add(name);
    const g = inv.groups.get(name)!;
    const v = Math.max(0, ...[...g.parents].map((p) => depth(p, seen) + 1));
    d.set(name, v);
    return v;
  };
  for (const g of inv.groups.keys()) depth(g, new Set());
  d.set('all', 0);
  return d;
}

/** every group a host is in, with their ancestors, sorted as Ansible merges them (all excluded) */
export function hostGroups(inv: ParsedAnsible, host: string): string[] {
  const h = inv.hosts.get(host);
  if (!h) return [];
  const out = new Set<string>();
  const stack = [...h.groups];
  while (stack.length) {
    const g = stack.pop()!;
    if (g === 'all' || out.has(g)) continue;
    out.add(g);
    stack.push(...(inv.groups.get(g)?.parents ?? []));
  }
  const d = depths(inv);
  const prio = (g: string) => {
    const v =
      inv.groups.get(g)?.vars.get('ansible_group_priority')?.value ??
      inv.groupFileVars.get(g)?.get('ansible_group_priority')?.value;
    return typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : 1;
  };
  return [...out].sort((a, b) => d.get(a)! - d.get(b)! || prio(a) - prio(b) || compareText(a, b));
}

/**
 * A host's vars as Ansible merges them (its default VARIABLE_PRECEDENCE): the inventory's vars
 * of all, then of the host's groups (parents before children, then ansible_group_priority,
 * then name), then group_vars/all, then group_vars/ of those groups, then the host's own vars
 * in the inventory, then host_vars/.
 */
export function effectiveVars(inv: ParsedAnsible, host: string): Map<string, Winning> {
  const out = new Map<string, Winning>();
  const layer = (vars: Map<string, AVar> | undefined, scope: string) => {
    for (const v of vars?.values() ?? []) out.set(v.name, { ...v, scope });
  };
  const groups = hostGroups(inv, host);
  layer(inv.groups.get('all')?.vars, 'group all');
  for (const g of groups) layer(inv.groups.get(g)?.vars, `group ${g}`);
  layer(inv.groupFileVars.get('all'), 'group_vars of all');
  for (const g of groups) layer(inv.groupFileVars.get(g), `group_vars of ${g}`);
  layer(inv.hosts.get(host)?.vars, `host ${host}`);
  layer(inv.hostFileVars.get(host), `host_vars of ${host}`);
  return out;
}

// The groups and hosts of an Ansible inventory as both formats (INI, YAML) build them: groups
// with their children and vars, hosts with their inline vars, and the diagnostics on the way.
import type { Diagnostic, Severity } from '../../model/diagnostic.js';
import type { YamlFile } from '../read-yaml.js';
import { expandHostPattern, splitPort } from './patterns.js';

export type AnsibleFormat = 'ini' | 'yaml';

export interface Pos {
  file: string;
  line: number;
  col: number;
  endCol?: number;
}
export interface AVar {
  name: string;
  value: unknown;
  at: Pos;
  /** how it was written, when not name=value (`host:port`) */ label?: string;
}

export interface AHost {
  name: string;
  at: Pos;
  vars: Map<string, AVar>;
  groups: Set<string>;
}
export interface AGroup {
  name: string;
  at?: Pos;
  declared: boolean;
  hosts: string[];
  children: Set<string>;
  parents: Set<string>;
  vars: Map<string, AVar>;
}

export interface ParsedAnsible {
  file: string;
  format: AnsibleFormat;
  hosts: Map<string, AHost>;
  groups: Map<string, AGroup>;
  /** group_vars/NAME and host_vars/NAME, by group or host */
  groupFileVars: Map<string, Map<string, AVar>>;
  hostFileVars: Map<string, Map<string, AVar>>;
  /** every vars file read, for diagnostics with source lines and for the inventory's digest */
  extraFiles: YamlFile[];
  diagnostics: Diagnostic[];
}

/** One host's var as it wins by Ansible's precedence, with where it was set. */
export interface Winning extends AVar {
  scope: string;
}

export const GROUP_KEYS = new Set(['hosts', 'vars', 'children']);
export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function diag(at: Pos, severity: Severity, code: string, message: string, hint?: string): Diagnostic {
  return {
    file: at.file,
    line: at.line,
    col: at.col,
    ...(at.endCol ? { endLine: at.line, endCol: at.endCol } : {}),
    severity,
    code,
    message,
    hint,
  };
}

export function newInventory(file: string, format: AnsibleFormat): ParsedAnsible {
  const inv: ParsedAnsible = {
    file,
    format,
    hosts: new Map(),
    groups: new Map(),
    groupFileVars: new Map(),
    hostFileVars: new Map(),
    extraFiles: [],
    diagnostics: [],
  };
  group(inv, 'all').declared = true;
  group(inv, 'ungrouped').declared = true;
  return inv;
}

export function group(inv: ParsedAnsible, name: string, at?: Pos): AGroup {
  let g = inv.groups.get(name);
  if (!g) {
    g = { name, declared: false, hosts: [], children: new Set(), parents: new Set(), vars: new Map() };
    inv.groups.set(name, g);
  }
  if (at && !g.at) g.at = at;
  return g;
}

export function addChild(inv: ParsedAnsible, parent: string, child: string, at: Pos): void {
  if (child === 'all') {
    inv.diagnostics.push(
      diag(
        at,
        'error',
        'ansible-inventory',
        `group 'all' cannot be a child of '${parent}'`,
        'every host is in all already',
      ),
    );
    return;
  }
  // a loop would make a group its own ancestor
  const seen = new Set<string>();
  const stack = [parent];
  while (stack.length) {
    const g = stack.pop()!;
    if (g === child) {
      inv.diagnostics.push(
        diag(
          at,
          'error',
          'ansible-inventory',
          `group '${child}' is made a child of '${parent}', which is already below it: the groups form a loop`,
          'remove one of the two children entries',
        ),
      );
      return;
    }
    if (seen.has(g)) continue;
    seen.add(g);
    stack.push(...(inv.groups.get(g)?.parents ?? []));
  }
  group(inv, parent).children.add(child);
  group(inv, child, at).parents.add(parent);
}

/** a host (pattern) in a group; its inline vars; `portAt`: where a `host:port` was written */
export function addHosts(inv: ParsedAnsible, groupName: string, pattern: string, at: Pos, vars: AVar[]): void {
  const { name, port } = splitPort(pattern);
  let names: string[];
  try {
    names = expandHostPattern(name);
  } catch (e) {
    inv.diagnostics.push(
      diag(
        at,
        'error',
        'ansible-host-range',
        `host pattern: ${(e as Error).message}`,
        'write ranges as name[01:10] or name[a:f] (begin:end, optional :step)',
      ),
    );
    return;
  }
  const g = group(inv, groupName);
  for (const n of names) {
    let h = inv.hosts.get(n);
    if (!h) {
      h = { name: n, at, vars: new Map(), groups: new Set() };
      inv.hosts.set(n, h);
    }
    if (!g.hosts.includes(n)) g.hosts.push(n);
    h.groups.add(groupName);
    if (port !== undefined)
      h.vars.set('ansible_port', { name: 'ansible_port', value: Number(port), at, label: 'host:port' });
    for (const v of vars) h.vars.set(v.name, v);
  }
}

/** groups without a parent are children of all; hosts in no group are in ungrouped */
export function finish(inv: ParsedAnsible): ParsedAnsible {
  for (const g of inv.groups.values())
    if (g.name !== 'all' && g.parents.size === 0) {
      g.parents.add('all');
      inv.groups.get('all')!.children.add(g.name);
    }
  for (const h of inv.hosts.values()) {
    h.groups.delete('all');
    if (h.groups.size > 1) h.groups.delete('ungrouped');
    if (h.groups.size === 0) {
      h.groups.add('ungrouped');
      inv.groups.get('ungrouped')!.hosts.push(h.name);
    }
  }
  return inv;
}

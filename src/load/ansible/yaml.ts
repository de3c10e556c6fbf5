// The YAML form of an Ansible inventory: groups as top-level keys, each with hosts, vars and
// children (groups again), each problem at its node.
import type { YamlFile, YamlPath } from '../read-yaml.js';
import {
  GROUP_KEYS,
  addChild,
  addHosts,
  diag,
  finish,
  group,
  isObj,
  newInventory,
  type AGroup,
  type ParsedAnsible,
  type Pos,
} from './model.js';

/** the inventory being read, and where a node of its file is */
interface YamlRead {
  inv: ParsedAnsible;
  posOf: (p: YamlPath, key?: boolean) => Pos;
}

export function parseAnsibleYaml(yf: YamlFile): ParsedAnsible {
  const inv = newInventory(yf.file, 'yaml');
  const posOf = (p: YamlPath, key = false): Pos => {
    const s = yf.spanOf(p, key);
    return {
      file: yf.file,
      line: s.line,
      col: s.col,
      ...(s.endLine === s.line && s.endCol > s.col ? { endCol: s.endCol } : {}),
    };
  };
  const data = yf.data as Record<string, unknown>;
  for (const [name, body] of Object.entries(data))
    walkGroup({ inv, posOf }, name, body, [name], name === 'all' ? undefined : 'all');
  return finish(inv);
}

/** one group at `p` (a child of `parent`), and below it its hosts, vars and child groups */
function walkGroup(r: YamlRead, name: string, body: unknown, p: YamlPath, parent?: string): void {
  const { inv, posOf } = r;
  const g = group(inv, name, posOf(p, true));
  g.declared = true;
  if (parent) addChild(inv, parent, name, posOf(p, true));
  if (body === null || body === undefined) return;
  if (!isObj(body)) {
    inv.diagnostics.push(
      diag(
        posOf(p),
        'error',
        'ansible-inventory',
        `group '${name}' must be a mapping with hosts, vars or children`,
        'write `hosts:`, `vars:` or `children:` under it',
      ),
    );
    return;
  }
  for (const k of Object.keys(body)) {
    if (!GROUP_KEYS.has(k))
      inv.diagnostics.push(
        diag(
          posOf([...p, k], true),
          'warning',
          'ansible-inventory',
          `group '${name}': '${k}' is not hosts, vars or children and is not read`,
          'Ansible skips it too; indent it under hosts: or vars: if it belongs there',
        ),
      );
  }
  const { hosts, vars, children } = body as { hosts?: unknown; vars?: unknown; children?: unknown };
  if (hosts !== undefined && hosts !== null) readHosts(r, name, hosts, p);
  if (vars !== undefined && vars !== null) readVars(r, g, vars, p);
  if (children !== undefined && children !== null) readChildren(r, name, children, p);
}

/** a group's `hosts:`, each host with its vars */
function readHosts({ inv, posOf }: YamlRead, name: string, hosts: unknown, p: YamlPath): void {
  if (!isObj(hosts)) {
    inv.diagnostics.push(
      diag(
        posOf([...p, 'hosts']),
        'error',
        'ansible-inventory',
        `the hosts of group '${name}' must be a mapping (host: its vars), not ${Array.isArray(hosts) ? 'a list' : 'a single value'}`,
        'write each host as `name:` on its own line, with its vars indented below it',
      ),
    );
    return;
  }
  for (const [h, hv] of Object.entries(hosts)) {
    const hp: YamlPath = [...p, 'hosts', h];
    if (hv !== null && !isObj(hv)) {
      inv.diagnostics.push(
        diag(
          posOf(hp),
          'error',
          'ansible-inventory',
          `host '${h}': its vars must be a mapping`,
          'write `name: value` lines under the host, or nothing',
        ),
      );
      continue;
    }
    addHosts(
      inv,
      name,
      h,
      posOf(hp, true),
      Object.keys(hv ?? {}).map((k) => ({
        name: k,
        value: (hv as Record<string, unknown>)[k],
        at: posOf([...hp, k], true),
      })),
    );
  }
}

/** a group's `vars:` */
function readVars({ inv, posOf }: YamlRead, g: AGroup, vars: unknown, p: YamlPath): void {
  if (!isObj(vars)) {
    inv.diagnostics.push(
      diag(
        posOf([...p, 'vars']),
        'error',
        'ansible-inventory',
        `the vars of group '${g.name}' must be a mapping`,
        'write `name: value` lines under vars:',
      ),
    );
    return;
  }
  for (const [k, v] of Object.entries(vars)) g.vars.set(k, { name: k, value: v, at: posOf([...p, 'vars', k], true) });
}

/** a group's `children:`, each a group again */
function readChildren(r: YamlRead, name: string, children: unknown, p: YamlPath): void {
  if (!isObj(children)) {
    r.inv.diagnostics.push(
      diag(
        r.posOf([...p, 'children']),
        'error',
        'ansible-inventory',
        `the children of group '${name}' must be a mapping of groups`,
        'write each child group as `name:` with its hosts/vars/children below',
      ),
    );
    return;
  }
  for (const [c, cb] of Object.entries(children)) walkGroup(r, c, cb, [...p, 'children', c], name);
}

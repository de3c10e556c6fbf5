// An Ansible inventory, parsed, as a lifeboat inventory: the inventory-wide settings and vars
// from the vars of all, each host through hostToLifeboat, and what lifeboat cannot take.
import { diag, type AVar, type ParsedAnsible, type Winning } from './model.js';
import {
  CONNECTION,
  INVENTORY_WIDE,
  NAME,
  lifeboatName,
  text,
  where,
  type AnsibleAsLifeboat,
  type InventorySettings,
  type Once,
} from './mapping.js';
import { hostToLifeboat } from './connection.js';

export function toLifeboat(inv: ParsedAnsible, fallbackName: string): AnsibleAsLifeboat {
  const out: AnsibleAsLifeboat = {
    data: { lifeboat: 1, kind: 'inventory', name: fallbackName, hosts: {} },
    origins: {},
    hosts: {},
    local: new Set(),
    positions: new Map(),
    diagnostics: [],
  };
  const d = out.diagnostics;
  const reported = new Set<string>();
  const once: Once = (v, severity, code, message, hint) => {
    const key = `${where(v.at)}|${code}`;
    if (reported.has(key)) return;
    reported.add(key);
    d.push(diag(v.at, severity, code, message, hint));
  };
  const allVars = new Map<string, Winning>();
  for (const v of inv.groups.get('all')?.vars.values() ?? []) allVars.set(v.name, { ...v, scope: 'group all' });
  for (const v of inv.groupFileVars.get('all')?.values() ?? [])
    allVars.set(v.name, { ...v, scope: 'group_vars of all' });

  const settings = inventorySettings(out, allVars, once);
  inventoryVars(out, allVars, once);
  checkScopedVars(inv, once);

  const byName = new Map<string, string>();
  for (const h of [...inv.hosts.values()]) {
    const name = lifeboatName(h.name);
    const prev = byName.get(name);
    if (prev !== undefined) {
      d.push(
        diag(
          h.at,
          'error',
          'ansible-host-name',
          `host '${h.name}' and host '${prev}' would both be '${name}' in lifeboat (host names are lower-case letters, digits and dashes)`,
          `rename one in the inventory, e.g. ${name}-2 with ansible_host=${h.name}`,
        ),
      );
      continue;
    }
    byName.set(name, h.name);
    hostToLifeboat(inv, h, name, out, once, settings);
  }
  for (const [name, h] of Object.entries(out.data.hosts)) {
    if (h.jump !== undefined && !(h.jump in out.data.hosts)) {
      d.push(
        diag(
          out.positions.get(`hosts.${name}.jump`) ?? out.hosts[name].at,
          'error',
          'unknown-host',
          `host '${out.hosts[name].ansibleName}' jumps through '${h.jump}', which is not a host of this inventory`,
          'jump hosts are inventory hosts: add it',
        ),
      );
    }
  }
  if (inv.hosts.size === 0)
    d.push(
      diag(
        { file: inv.file, line: 1, col: 1 },
        'error',
        'ansible-inventory',
        'the inventory has no hosts',
        "list hosts under a [group] (INI) or a group's hosts: (YAML)",
      ),
    );
  return out;
}

/** inventory-wide settings: from all only (lifeboat's vars are one set per inventory) */
function inventorySettings(out: AnsibleAsLifeboat, allVars: Map<string, Winning>, once: Once): InventorySettings {
  const str = (name: string): Winning | undefined => {
    const v = allVars.get(name);
    if (v && typeof v.value !== 'string') {
      once(v, 'error', 'ansible-var', `${name} must be a string`);
      return undefined;
    }
    return v;
  };
  const nameVar = str('lifeboat_name');
  if (nameVar) {
    if (NAME.test(nameVar.value as string)) {
      out.data.name = nameVar.value as string;
      out.positions.set('name', nameVar.at);
    } else
      once(
        nameVar,
        'error',
        'ansible-var',
        `lifeboat_name '${text(nameVar.value)}' is not a lifeboat name`,
        'lower-case letters, digits and dashes',
      );
  }
  const envVar = str('lifeboat_environment');
  if (envVar) {
    if (envVar.value === 'production' || envVar.value === 'rehearsal') {
      out.data.environment = envVar.value;
      out.positions.set('environment', envVar.at);
    } else
      once(
        envVar,
        'error',
        'ansible-var',
        `lifeboat_environment must be production or rehearsal, not '${text(envVar.value)}'`,
      );
  }
  const khVar = str('lifeboat_known_hosts');
  if (khVar) {
    out.data.known_hosts = khVar.value as string;
    out.positions.set('known_hosts', khVar.at);
  }
  const ctVar = str('lifeboat_connect_timeout');
  if (ctVar) {
    if (
      /^(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?$/.test(ctVar.value as string) &&
      (ctVar.value as string).length >= 2
    ) {
      out.data.connect_timeout = ctVar.value as string;
      out.positions.set('connect_timeout', ctVar.at);
    } else
      once(
        ctVar,
        'error',
        'ansible-var',
        `lifeboat_connect_timeout '${text(ctVar.value)}' is not a duration`,
        'write e.g. 5s or 1m',
      );
  }
  return { khVar, ctVar };
}

/** the vars of all that are not Ansible's or lifeboat's own become the inventory's vars */
function inventoryVars(out: AnsibleAsLifeboat, allVars: Map<string, Winning>, once: Once): void {
  const vars: Record<string, string | number | boolean> = {};
  for (const v of allVars.values()) {
    if (v.name.startsWith('ansible_') || INVENTORY_WIDE.has(v.name) || v.name in CONNECTION) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.name)) {
      once(v, 'warning', 'ansible-var', `var '${v.name}' is not a lifeboat var name and is not used`);
      continue;
    }
    if (typeof v.value === 'string' && /\{\{|\{%/.test(v.value)) {
      once(
        v,
        'warning',
        'ansible-var',
        `var '${v.name}' is a Jinja template, which lifeboat does not evaluate: not used`,
        'write the value out',
      );
      continue;
    }
    if (typeof v.value === 'string' || typeof v.value === 'number' || typeof v.value === 'boolean') {
      vars[v.name] = v.value;
      out.positions.set(`vars.${v.name}`, v.at);
    } else
      once(
        v,
        'warning',
        'ansible-var',
        `var '${v.name}' is ${v.value === null ? 'empty' : Array.isArray(v.value) ? 'a list' : 'a mapping'}; lifeboat's vars are plain values: not used`,
      );
  }
  if (Object.keys(vars).length) out.data.vars = vars;
}

/** group and host vars: lifeboat has no per-host vars, and its own settings belong to all */
function checkScopedVars(inv: ParsedAnsible, once: Once): void {
  // group and host vars other than connection vars: lifeboat has no per-host vars
  const scoped = (vs: Iterable<AVar>, scope: string) => {
    const unused = [...vs].filter((v) => !v.name.startsWith('ansible_') && !v.name.startsWith('lifeboat_'));
    if (unused.length)
      once(
        unused[0],
        'warning',
        'ansible-unused-vars',
        `${scope}: ${unused.map((v) => v.name).join(', ')} ${unused.length === 1 ? 'is' : 'are'} not used: lifeboat's vars are one set for the inventory`,
        'set vars the runbooks use under all (vars of all, [all:vars] or group_vars/all)',
      );
  };
  for (const g of inv.groups.values()) if (g.name !== 'all') scoped(g.vars.values(), `group ${g.name}`);
  for (const [g, vs] of inv.groupFileVars) if (g !== 'all') scoped(vs.values(), `group_vars of ${g}`);
  for (const h of inv.hosts.values()) scoped(h.vars.values(), `host ${h.name}`);
  for (const [h, vs] of inv.hostFileVars) scoped(vs.values(), `host_vars of ${h}`);
  // lifeboat_name and friends belong to all
  const wide = (vs: Iterable<AVar>, scope: string) => {
    for (const v of vs)
      if (INVENTORY_WIDE.has(v.name))
        once(
          v,
          'error',
          'ansible-var',
          `${v.name} is set for ${scope}; it is a setting of the whole inventory`,
          'set it in the vars of all',
        );
  };
  for (const g of inv.groups.values()) if (g.name !== 'all') wide(g.vars.values(), `group ${g.name}`);
  for (const [g, vs] of inv.groupFileVars) if (g !== 'all') wide(vs.values(), `group_vars of ${g}`);
  for (const h of inv.hosts.values()) wide(h.vars.values(), `host ${h.name}`);
  for (const [h, vs] of inv.hostFileVars) wide(vs.values(), `host_vars of ${h}`);
}

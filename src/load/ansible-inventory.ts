// An Ansible inventory (INI or YAML) read as a lifeboat inventory, for `-i` (decision 0027).
// Hosts, groups (children, [group:children], [group:vars]), host ranges, inline vars and the
// host_vars/ and group_vars/ folders beside the file; the connection vars become the host's
// address, port, user and key, each with the file:line:col it came from. Anything that would
// make lifeboat connect differently than Ansible (another connection plugin, a jump or proxy
// in ssh args, templates) is an error with its position; what lifeboat does not use is a
// warning. Pure apart from reading the vars folders; never throws.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { Diagnostic, Severity } from '../model/diagnostic.js';
import type { Inventory } from '../model/types.js';
import { readYamlFile, type YamlFile, type YamlPath } from './read-yaml.js';
import { compareText } from '../util/compare.js';

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

interface AHost {
  name: string;
  at: Pos;
  vars: Map<string, AVar>;
  groups: Set<string>;
}
interface AGroup {
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

const GROUP_KEYS = new Set(['hosts', 'vars', 'children']);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Which kind of Ansible inventory `text` is, or undefined for a lifeboat file (or neither).
 * A .yaml/.yml/.json file is never read as INI: a lifeboat file with a YAML mistake must keep
 * its YAML diagnostics.
 */
export function sniffAnsible(file: string, text: string): AnsibleFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.ini' || ext === '.cfg') return 'ini';
  const yamlOnly = ext === '.yaml' || ext === '.yml' || ext === '.json';
  let data: unknown;
  let ok = false;
  try {
    const doc = parseDocument(text, { prettyErrors: false });
    ok = doc.errors.length === 0;
    if (ok) data = doc.toJS({ maxAliasCount: 50 });
  } catch {
    ok = false;
  }
  if (ok && isObj(data)) {
    if ('lifeboat' in data || 'kind' in data) return undefined;
    return isAnsibleYamlShape(data) ? 'yaml' : undefined;
  }
  if (yamlOnly) return undefined;
  // anything else with a line that is not a comment: INI (Ansible tries YAML first, then INI)
  return text.split(/\r?\n/).some((l) => l.trim() !== '' && !/^\s*[#;]/.test(l)) ? 'ini' : undefined;
}

/** top-level keys are groups; each is empty or holds only hosts, vars and children */
export function isAnsibleYamlShape(data: Record<string, unknown>): boolean {
  const groups = Object.values(data);
  return (
    groups.length > 0 &&
    groups.every((g) => g === null || (isObj(g) && Object.keys(g).every((k) => GROUP_KEYS.has(k)))) &&
    groups.some((g) => isObj(g) && Object.keys(g).length > 0)
  );
}

function diag(at: Pos, severity: Severity, code: string, message: string, hint?: string): Diagnostic {
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

// ---- host patterns ---------------------------------------------------------------------------

const RANGE = /\[([^\]:]*):([^\]:]*)(?::([^\]]*))?\]/;

/** `web[01:03]`, `db-[a:c]`, with an optional step; several ranges multiply. Throws the problem in words. */
export function expandHostPattern(pattern: string): string[] {
  const m = RANGE.exec(pattern);
  if (!m) {
    if (/[[\]]/.test(pattern)) throw new Error(`'${pattern}' has a bracket that is not a range like [01:10] or [a:f]`);
    return [pattern];
  }
  const head = pattern.slice(0, m.index);
  const tail = pattern.slice(m.index + m[0].length);
  const end = m[2];
  let beg = m[1];
  const step = m[3] === undefined || m[3] === '' ? 1 : Number(m[3]);
  if (!Number.isInteger(step) || step < 1)
    throw new Error(`the step of range [${m[1]}:${m[2]}:${m[3]}] is not a whole number above 0`);
  if (!end) throw new Error(`range [${m[1]}:${m[2]}] has no end`);
  const items: string[] = [];
  if (/^\d*$/.test(beg) && /^\d+$/.test(end)) {
    if (!beg) beg = '0';
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (width && beg.length !== end.length)
      throw new Error(
        `range [${m[1]}:${m[2]}]: a start with leading zeros needs an end of the same width (e.g. [01:10])`,
      );
    const a = Number(beg);
    const b = Number(end);
    if (a > b) throw new Error(`range [${m[1]}:${m[2]}] starts after it ends`);
    if ((b - a) / step > 10_000) throw new Error(`range [${m[1]}:${m[2]}] names more than 10000 hosts`);
    for (let i = a; i <= b; i += step) items.push(width ? String(i).padStart(width, '0') : String(i));
  } else if (/^[A-Za-z]$/.test(beg) && /^[A-Za-z]$/.test(end)) {
    const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const a = letters.indexOf(beg);
    const b = letters.indexOf(end);
    if (a > b) throw new Error(`range [${m[1]}:${m[2]}] starts after it ends`);
    for (let i = a; i <= b; i += step) items.push(letters[i]);
  } else {
    throw new Error(`range [${m[1]}:${m[2]}] is neither numeric ([01:10]) nor alphabetic ([a:f])`);
  }
  const rest = expandHostPattern(tail);
  return items.flatMap((i) => rest.map((r) => `${head}${i}${r}`));
}

/** `host:port` (not IPv6), `[v6]:port`: the name and the port written in the pattern */
function splitPort(pattern: string): { name: string; port?: string } {
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(pattern);
  if (v6 && v6[1].includes(':')) return { name: v6[1], port: v6[2] };
  if ((pattern.match(/:/g) ?? []).length === 1 && !pattern.includes('[')) {
    const [name, port] = pattern.split(':');
    return { name, port };
  }
  // a range's colons are inside brackets: a port follows the last bracket
  const after = /^(.*\])(?::(\d+))$/.exec(pattern);
  if (after) return { name: after[1], port: after[2] };
  return { name: pattern };
}

// ---- the model, shared by both formats -------------------------------------------------------

function newInventory(file: string, format: AnsibleFormat): ParsedAnsible {
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

function group(inv: ParsedAnsible, name: string, at?: Pos): AGroup {
  let g = inv.groups.get(name);
  if (!g) {
    g = { name, declared: false, hosts: [], children: new Set(), parents: new Set(), vars: new Map() };
    inv.groups.set(name, g);
  }
  if (at && !g.at) g.at = at;
  return g;
}

function addChild(inv: ParsedAnsible, parent: string, child: string, at: Pos): void {
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
function addHosts(inv: ParsedAnsible, groupName: string, pattern: string, at: Pos, vars: AVar[]): void {
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

// ---- INI -------------------------------------------------------------------------------------

/** split a host line into tokens as Python's shlex does (quotes, `#` comments), with columns */
function tokens(line: string): { text: string; col: number }[] | string {
  const out: { text: string; col: number }[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length || line[i] === '#') break;
    const col = i + 1;
    let text = '';
    while (i < line.length && !/\s/.test(line[i])) {
      const c = line[i];
      if (c === '"' || c === "'") {
        const close = line.indexOf(c, i + 1);
        if (close < 0) return `a ${c === '"' ? 'double' : 'single'} quote at column ${i + 1} is not closed`;
        text += line.slice(i + 1, close);
        i = close + 1;
      } else if (c === '\\' && i + 1 < line.length) {
        text += line[i + 1];
        i += 2;
      } else {
        text += c;
        i++;
      }
    }
    out.push({ text, col });
  }
  return out;
}

/** a value on a host line as Ansible's literal_eval reads it: numbers and True/False, else the text */
function literal(v: string): unknown {
  if (/^-?\d+$/.test(v)) return Number(v);
  if (/^-?\d+\.\d+$/.test(v)) return Number(v);
  if (v === 'True' || v === 'true') return true;
  if (v === 'False' || v === 'false') return false;
  return v;
}

const unquote = (v: string) => (/^(["']).*\1$/.test(v) && v.length >= 2 ? v.slice(1, -1) : v);

export function parseAnsibleIni(file: string, text: string): ParsedAnsible {
  const inv = newInventory(file, 'ini');
  let section: { group: string; type: 'hosts' | 'vars' | 'children' } = { group: 'ungrouped', type: 'hosts' };
  const pendingVars = new Map<string, Pos>();
  const lines = text.split('\n');
  lines.forEach((raw0, i) => {
    const raw = raw0.replace(/\r$/, '');
    const line = i + 1;
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const lead = raw.length - raw.trimStart().length;
    const at = (col: number, len?: number): Pos => ({ file, line, col, ...(len ? { endCol: col + len } : {}) });
    if (trimmed.startsWith('[') && /^\[[^\]]*\]\s*(?:[#;].*)?$/.test(trimmed)) {
      const m = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$/.exec(trimmed);
      if (!m) {
        inv.diagnostics.push(
          diag(
            at(lead + 1, trimmed.length),
            'error',
            'ansible-inventory',
            `section ${trimmed.replace(/\s*[#;].*$/, '')} is not [group], [group:vars] or [group:children] (a group name has no spaces or colons)`,
            'name groups with letters, digits and underscores',
          ),
        );
        section = { group: '', type: 'hosts' };
        return;
      }
      const [, name, type] = m;
      const pos = at(lead + 2, name.length);
      if (type === undefined || type === 'hosts') {
        group(inv, name, pos).declared = true;
        section = { group: name, type: 'hosts' };
      } else if (type === 'children') {
        group(inv, name, pos).declared = true;
        section = { group: name, type: 'children' };
      } else if (type === 'vars') {
        if (!inv.groups.get(name)?.declared && !pendingVars.has(name)) pendingVars.set(name, pos);
        group(inv, name);
        section = { group: name, type: 'vars' };
      } else {
        inv.diagnostics.push(
          diag(
            at(lead + 2 + name.length + 1, type.length),
            'error',
            'ansible-inventory',
            `section [${name}:${type}] has an unknown type '${type}'`,
            'use [group], [group:vars] or [group:children]',
          ),
        );
        section = { group: '', type: 'hosts' };
      }
      return;
    }
    if (trimmed.startsWith('[') && !/^\[[0-9A-Fa-f:.]+\]/.test(trimmed)) {
      inv.diagnostics.push(
        diag(
          at(lead + 1),
          'error',
          'ansible-inventory',
          `'${trimmed}' looks like a section header that is not closed with ]`,
          'write it as [group], [group:vars] or [group:children]',
        ),
      );
      section = { group: '', type: 'hosts' };
      return;
    }
    if (!section.group) return; // under a broken header: reported once, above
    if (section.type === 'vars') {
      const eq = raw.indexOf('=');
      if (eq < 0) {
        inv.diagnostics.push(
          diag(
            at(lead + 1, trimmed.length),
            'error',
            'ansible-inventory',
            `in [${section.group}:vars], '${trimmed}' is not key=value`,
            'write one variable per line: name=value',
          ),
        );
        return;
      }
      const key = raw.slice(0, eq).trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
        inv.diagnostics.push(
          diag(
            at(lead + 1, key.length || 1),
            'error',
            'ansible-inventory',
            `'${key}' is not a variable name`,
            'a variable name has letters, digits and underscores and does not start with a digit',
          ),
        );
        return;
      }
      group(inv, section.group).vars.set(key, {
        name: key,
        value: unquote(raw.slice(eq + 1).trim()),
        at: at(lead + 1, key.length),
      });
      return;
    }
    if (section.type === 'children') {
      const child = trimmed.replace(/\s+[#;].*$/, '');
      if (!/^[^:\]\s[]+$/.test(child)) {
        inv.diagnostics.push(
          diag(
            at(lead + 1, trimmed.length),
            'error',
            'ansible-inventory',
            `in [${section.group}:children], '${trimmed}' is not a group name`,
            'list one child group per line',
          ),
        );
        return;
      }
      group(inv, child).declared = true;
      addChild(inv, section.group, child, at(lead + 1, child.length));
      return;
    }
    const toks = tokens(raw);
    if (typeof toks === 'string') {
      inv.diagnostics.push(diag(at(lead + 1), 'error', 'ansible-inventory', `host line: ${toks}`, 'close the quote'));
      return;
    }
    if (!toks.length) return;
    const [host, ...rest] = toks;
    const vars: AVar[] = [];
    for (const t of rest) {
      const eq = t.text.indexOf('=');
      if (eq <= 0) {
        inv.diagnostics.push(
          diag(
            at(t.col, t.text.length),
            'error',
            'ansible-inventory',
            `'${t.text}' after host '${host.text}' is not key=value`,
            'a host line is the host, then name=value pairs separated by spaces (quote values with spaces)',
          ),
        );
        return;
      }
      const key = t.text.slice(0, eq);
      vars.push({ name: key, value: literal(t.text.slice(eq + 1)), at: at(t.col, key.length) });
    }
    addHosts(inv, section.group, host.text, at(host.col, host.text.length), vars);
  });
  for (const [name, pos] of pendingVars) {
    if (!inv.groups.get(name)?.declared)
      inv.diagnostics.push(
        diag(
          pos,
          'error',
          'ansible-inventory',
          `[${name}:vars] is for a group that is not declared anywhere in the file`,
          `add a [${name}] section (or list it under some [group:children]), or correct the name`,
        ),
      );
  }
  return finish(inv);
}

// ---- YAML ------------------------------------------------------------------------------------

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
  const walkGroup = (name: string, body: unknown, p: YamlPath, parent?: string) => {
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
    if (hosts !== undefined && hosts !== null) {
      if (!isObj(hosts))
        inv.diagnostics.push(
          diag(
            posOf([...p, 'hosts']),
            'error',
            'ansible-inventory',
            `the hosts of group '${name}' must be a mapping (host: its vars), not ${Array.isArray(hosts) ? 'a list' : 'a single value'}`,
            'write each host as `name:` on its own line, with its vars indented below it',
          ),
        );
      else
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
    if (vars !== undefined && vars !== null) {
      if (!isObj(vars))
        inv.diagnostics.push(
          diag(
            posOf([...p, 'vars']),
            'error',
            'ansible-inventory',
            `the vars of group '${name}' must be a mapping`,
            'write `name: value` lines under vars:',
          ),
        );
      else
        for (const [k, v] of Object.entries(vars))
          g.vars.set(k, { name: k, value: v, at: posOf([...p, 'vars', k], true) });
    }
    if (children !== undefined && children !== null) {
      if (!isObj(children))
        inv.diagnostics.push(
          diag(
            posOf([...p, 'children']),
            'error',
            'ansible-inventory',
            `the children of group '${name}' must be a mapping of groups`,
            'write each child group as `name:` with its hosts/vars/children below',
          ),
        );
      else for (const [c, cb] of Object.entries(children)) walkGroup(c, cb, [...p, 'children', c], name);
    }
  };
  const data = yf.data as Record<string, unknown>;
  for (const [name, body] of Object.entries(data)) walkGroup(name, body, [name], name === 'all' ? undefined : 'all');
  return finish(inv);
}

/** groups without a parent are children of all; hosts in no group are in ungrouped */
function finish(inv: ParsedAnsible): ParsedAnsible {
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

// ---- host_vars/ and group_vars/ ---------------------------------------------------------------

/** group_vars/NAME{,.yml,.yaml,.json} and host_vars/NAME…, or a folder NAME/ of such files */
export function readVarsFolders(inv: ParsedAnsible, dir: string): void {
  const read = (kind: 'group_vars' | 'host_vars', name: string): Map<string, AVar> | undefined => {
    const base = path.join(dir, kind, name);
    const files: string[] = [];
    for (const f of [base, `${base}.yml`, `${base}.yaml`, `${base}.json`]) {
      try {
        if (existsSync(f) && statSync(f).isFile()) files.push(f);
      } catch {
        /* unreadable: not there */
      }
    }
    try {
      if (existsSync(base) && statSync(base).isDirectory()) {
        for (const e of readdirSync(base).sort(compareText))
          if (/\.(ya?ml|json)$/i.test(e)) files.push(path.join(base, e));
      }
    } catch {
      /* unreadable folder: nothing from it */
    }
    if (!files.length) return undefined;
    const out = new Map<string, AVar>();
    for (const f of files) {
      const r = readYamlFile(
        path.relative(process.cwd(), f) && !path.relative(process.cwd(), f).startsWith('..')
          ? path.relative(process.cwd(), f)
          : f,
      );
      if (!r.file) {
        // an empty vars file is no mistake in Ansible
        inv.diagnostics.push(...r.diagnostics.filter((d) => d.code !== 'empty-file'));
        continue;
      }
      inv.extraFiles.push(r.file);
      if (r.file.data === null || r.file.data === undefined) continue;
      if (!isObj(r.file.data)) {
        inv.diagnostics.push(
          diag(
            { file: r.file.file, line: 1, col: 1 },
            'error',
            'ansible-inventory',
            `${kind}/${name}: must be a mapping of variables`,
            'write `name: value` lines',
          ),
        );
        continue;
      }
      for (const [k, v] of Object.entries(r.file.data)) {
        const s = r.file.spanOf([k], true);
        out.set(k, {
          name: k,
          value: v,
          at: {
            file: r.file.file,
            line: s.line,
            col: s.col,
            ...(s.endLine === s.line && s.endCol > s.col ? { endCol: s.endCol } : {}),
          },
        });
      }
    }
    return out;
  };
  for (const g of inv.groups.keys()) {
    const v = read('group_vars', g);
    if (v) inv.groupFileVars.set(g, v);
  }
  for (const h of inv.hosts.keys()) {
    const v = read('host_vars', h);
    if (v) inv.hostFileVars.set(h, v);
  }
}

// ---- precedence ------------------------------------------------------------------------------

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

// ---- as a lifeboat inventory ------------------------------------------------------------------

/** Connection vars lifeboat reads, by the host field they fill. */
const CONNECTION: Record<string, 'address' | 'port' | 'user' | 'identity_file' | 'jump' | 'host_key'> = {
  ansible_host: 'address',
  ansible_ssh_host: 'address',
  ansible_port: 'port',
  ansible_ssh_port: 'port',
  ansible_user: 'user',
  ansible_ssh_user: 'user',
  ansible_ssh_private_key_file: 'identity_file',
  ansible_private_key_file: 'identity_file',
  lifeboat_jump: 'jump',
  lifeboat_host_key: 'host_key',
};
/** inventory-wide settings, read from the vars of all */
const INVENTORY_WIDE = new Set([
  'lifeboat_name',
  'lifeboat_environment',
  'lifeboat_known_hosts',
  'lifeboat_connect_timeout',
]);
/** vars that say nothing about where or how to connect: not used, and not worth a word */
const QUIET = new Set([
  'ansible_python_interpreter',
  'ansible_group_priority',
  'ansible_facts',
  'ansible_ssh_pipelining',
  'ansible_pipelining',
  'ansible_timeout',
  'ansible_ssh_timeout',
  'ansible_ssh_retries',
  'ansible_ssh_transfer_method',
  'ansible_scp_if_ssh',
  'ansible_sftp_batch_mode',
  'ansible_ssh_executable',
]);
/** ssh options that change the destination or the route */
const ROUTE_ARGS =
  /(?:^|\s)-[JplFi]\s*\S|ProxyJump|ProxyCommand|HostName|(?:^|[\s"'])Port[=\s]|(?:^|[\s"'])User[=\s]|IdentityFile|IdentityAgent/i;

const ADDRESS =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[?[0-9A-Fa-f:.]+\]?)$/;
const USER = /^[a-z_][a-z0-9_.-]*\$?$/;
const NAME = /^[a-z0-9][a-z0-9-]*$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** The lifeboat name of an Ansible host: as written when it is one, else a DNS name's first label, else dashes. */
export function lifeboatName(ansibleName: string): string {
  if (NAME.test(ansibleName) && ansibleName.length <= 64) return ansibleName;
  const lower = ansibleName.toLowerCase();
  if (!IPV4.test(lower) && !lower.includes(':')) {
    const first = lower.split('.')[0].replace(/_/g, '-');
    if (NAME.test(first)) return first.slice(0, 64);
  }
  return (
    lower
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64) || 'host'
  );
}

export const where = (p: Pos) => `${p.file}:${p.line}:${p.col}`;

export interface AnsibleAsLifeboat {
  data: Inventory;
  /** per lifeboat host, per field (address, port, user, identityFiles, jump): where its value was written */
  origins: Record<string, Record<string, string>>;
  /** per lifeboat host: its Ansible name, its groups and where it was declared */
  hosts: Record<string, { ansibleName: string; groups: string[]; at: Pos }>;
  /** hosts with ansible_connection=local: the operator's machine */
  local: Set<string>;
  /** where each field of the data was written, for positions of later diagnostics (`hosts.db1.port`) */
  positions: Map<string, Pos>;
  diagnostics: Diagnostic[];
}

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

type Once = (v: AVar, severity: Severity, code: string, message: string, hint?: string) => void;
type ConnectionField = (typeof CONNECTION)[string];

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

/** the inventory-wide settings that hosts' origins point at */
interface InventorySettings {
  khVar?: Winning;
  ctVar?: Winning;
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

const why = (v: Winning) => `${where(v.at)} (${v.label ?? v.name}, ${v.scope})`;
const isTemplate = (v: Winning) => typeof v.value === 'string' && /\{\{|\{%/.test(v.value);

/** one Ansible host as a lifeboat host (named `name`), unless it cannot be one */
function hostToLifeboat(
  inv: ParsedAnsible,
  h: AHost,
  name: string,
  out: AnsibleAsLifeboat,
  once: Once,
  { khVar, ctVar }: InventorySettings,
): void {
  const ev = effectiveVars(inv, h.name);
  const groups = hostGroups(inv, h.name);
  out.hosts[name] = { ansibleName: h.name, groups, at: h.at };
  const origins: Record<string, string> = {};
  const host: Inventory['hosts'][string] = {};
  // the connection: ssh (or its aliases), or the operator's own machine
  const conn = ev.get('ansible_connection');
  if (conn && conn.value !== 'ssh' && conn.value !== 'smart' && conn.value !== 'paramiko' && conn.value !== 'local') {
    once(
      conn,
      'error',
      'ansible-connection',
      `host '${h.name}': ansible_connection=${text(conn.value)} (${conn.scope}); lifeboat connects only over SSH or runs locally`,
      'use a lifeboat inventory for this host, or leave it out of the one given with -i',
    );
    return;
  }
  if (conn?.value === 'local') {
    out.local.add(name);
    origins.local = why(conn);
    host.description = `the operator's machine (ansible_connection=local)`;
    out.data.hosts[name] = host;
    out.origins[name] = origins;
    return;
  }
  for (const v of ev.values()) checkOtherHostVar(h.name, v, once);
  // the connection vars
  const f: HostFields = {
    name,
    h,
    host,
    origins,
    positions: out.positions,
    ok: true,
    // of two names for one field (ansible_host, ansible_ssh_host) the current one wins
    take: (field) => {
      for (const [n, c] of Object.entries(CONNECTION)) if (c === field && ev.has(n)) return ev.get(n);
      return undefined;
    },
    bad: (v, msg, hint) => {
      once(v, 'error', 'ansible-var', `host '${h.name}': ${v.name} ${msg}`, hint);
      f.ok = false;
    },
  };
  readAddress(f);
  readPort(f);
  readUser(f);
  readIdentityFile(f);
  readJump(f);
  readHostKey(f);
  if (!f.ok) return;
  if (khVar) origins.knownHosts = `${where(khVar.at)} (lifeboat_known_hosts, ${khVar.scope})`;
  if (ctVar && out.data.connect_timeout)
    origins.connectTimeoutMs = `${where(ctVar.at)} (lifeboat_connect_timeout, ${ctVar.scope})`;
  if (name !== h.name) host.description = `${h.name} in the Ansible inventory`;
  out.data.hosts[name] = host;
  out.origins[name] = origins;
}

/** an ansible_ var of a host that is not a connection var lifeboat reads: say what becomes of it */
function checkOtherHostVar(hostName: string, v: Winning, once: Once): void {
  if (v.name in CONNECTION || QUIET.has(v.name) || !v.name.startsWith('ansible_')) return;
  if (v.name === 'ansible_connection') return;
  if (/^ansible_(?:ssh_common_args|ssh_extra_args|ssh_args|sftp_extra_args|scp_extra_args)$/.test(v.name)) {
    if (ROUTE_ARGS.test(text(v.value)))
      once(
        v,
        'error',
        'ansible-ssh-args',
        `host '${hostName}': ${v.name} (${v.scope}) changes where or as whom ssh connects ('${text(v.value)}'), ` +
          'which lifeboat cannot follow: it would reach the host another way',
        'write the jump host as an inventory host and set lifeboat_jump=NAME, the port and user as ansible_port/ansible_user; or use a lifeboat inventory',
      );
    else
      once(
        v,
        'warning',
        'ansible-ssh-args',
        `host '${hostName}': ${v.name} (${v.scope}) is not used: lifeboat does not pass extra ssh options`,
        'lifeboat always checks host keys; set algorithms in a lifeboat inventory if a host needs legacy ones',
      );
    return;
  }
  if (v.name === 'ansible_become_method' && v.value !== 'sudo') {
    once(
      v,
      'warning',
      'ansible-become',
      `host '${hostName}': ansible_become_method=${text(v.value)} (${v.scope}) is not used: lifeboat's steps use sudo when the runbook says sudo:`,
      'make sure sudo works on this host for the steps that need it',
    );
    return;
  }
  if (/^ansible_(?:become|become_user|become_method|become_pass|become_password|become_flags|become_exe)$/.test(v.name))
    return;
  if (/^ansible_(?:ssh_pass|password|ssh_password)$/.test(v.name)) {
    once(
      v,
      'warning',
      'ansible-password',
      `host '${hostName}': ${v.name} (${v.scope}) is not used: lifeboat logs in with keys (or the agent)`,
      'take the password out of the inventory; lifeboat never reads one from it',
    );
    return;
  }
  once(
    v,
    'warning',
    'ansible-var',
    `host '${hostName}': ${v.name} (${v.scope}) is not used by lifeboat`,
    'remove it if it changes how the host is reached; lifeboat connects over SSH with the address, port, user and key only',
  );
}

/** one host's connection vars being read: what is taken so far, and whether all were usable */
interface HostFields {
  /** the lifeboat name */
  name: string;
  h: AHost;
  host: Inventory['hosts'][string];
  origins: Record<string, string>;
  positions: Map<string, Pos>;
  ok: boolean;
  take: (field: ConnectionField) => Winning | undefined;
  /** an error on the var; the host is then left out */
  bad: (v: Winning, msg: string, hint: string) => void;
}

function readAddress({ name, h, host, origins, positions, take, bad }: HostFields): void {
  const addr = take('address');
  if (addr) {
    if (isTemplate(addr))
      bad(addr, `is a Jinja template (${text(addr.value)}), which lifeboat does not evaluate`, 'write the address out');
    else if (typeof addr.value !== 'string' || !ADDRESS.test(addr.value))
      bad(addr, `'${text(addr.value)}' is not a host name or address`, 'write an IPv4/IPv6 address or a DNS name');
    else {
      host.address = addr.value;
      origins.address = why(addr);
      positions.set(`hosts.${name}.address`, addr.at);
    }
  } else if (name !== h.name) {
    // Ansible connects to the inventory name; lifeboat's name for it is shorter
    if (ADDRESS.test(h.name)) {
      host.address = h.name;
      origins.address = `${where(h.at)} (the host's name in the inventory)`;
      positions.set(`hosts.${name}.address`, h.at);
    }
  }
}

function readPort({ name, host, origins, positions, take, bad }: HostFields): void {
  const port = take('port');
  if (!port) return;
  const n =
    typeof port.value === 'number'
      ? port.value
      : typeof port.value === 'string' && /^\d+$/.test(port.value)
        ? Number(port.value)
        : NaN;
  if (isTemplate(port))
    bad(port, `is a Jinja template (${text(port.value)}), which lifeboat does not evaluate`, 'write the port out');
  else if (!Number.isInteger(n) || n < 1 || n > 65535)
    bad(port, `'${text(port.value)}' is not a port (1-65535)`, 'write a port number');
  else {
    host.port = n;
    origins.port = why(port);
    positions.set(`hosts.${name}.port`, port.at);
  }
}

function readUser({ name, host, origins, positions, take, bad }: HostFields): void {
  const user = take('user');
  if (!user) return;
  if (isTemplate(user))
    bad(user, `is a Jinja template (${text(user.value)}), which lifeboat does not evaluate`, 'write the user out');
  else if (typeof user.value !== 'string' || !USER.test(user.value) || user.value.length > 32)
    bad(user, `'${text(user.value)}' is not a user name`, 'lower-case letters, digits, _ . and -');
  else {
    host.user = user.value;
    origins.user = why(user);
    positions.set(`hosts.${name}.user`, user.at);
  }
}

function readIdentityFile({ name, host, origins, positions, take, bad }: HostFields): void {
  const key = take('identity_file');
  if (!key) return;
  if (isTemplate(key))
    bad(key, `is a Jinja template (${text(key.value)}), which lifeboat does not evaluate`, 'write the path out');
  else if (typeof key.value !== 'string' || !key.value)
    bad(key, 'is not a file path', "write the private key file's path");
  else {
    host.identity_file = key.value;
    origins.identityFiles = why(key);
    positions.set(`hosts.${name}.identity_file`, key.at);
  }
}

function readJump({ name, host, origins, positions, take, bad }: HostFields): void {
  const jump = take('jump');
  if (!jump) return;
  if (typeof jump.value !== 'string') bad(jump, 'must name an inventory host', 'lifeboat_jump=bastion');
  else {
    host.jump = lifeboatName(jump.value);
    origins.jump = why(jump);
    positions.set(`hosts.${name}.jump`, jump.at);
  }
}

function readHostKey({ host, origins, take, bad }: HostFields): void {
  const pin = take('host_key');
  if (!pin) return;
  if (typeof pin.value !== 'string' || !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(pin.value))
    bad(pin, `'${text(pin.value)}' is not a key fingerprint`, 'write it as ssh-keygen -lf prints it: SHA256:…');
  else {
    host.host_key = pin.value;
    origins.hostKey = why(pin);
  }
}

export interface LoadedAnsible {
  parsed: ParsedAnsible;
  lifeboat: AnsibleAsLifeboat;
}

/** Read an Ansible inventory (file already sniffed) into a lifeboat inventory, with every problem. */
export function loadAnsible(file: string, text: string, format: AnsibleFormat, yf?: YamlFile): LoadedAnsible {
  const parsed = format === 'ini' || !yf ? parseAnsibleIni(file, text) : parseAnsibleYaml(yf);
  readVarsFolders(parsed, path.dirname(file));
  const base = path.basename(file).replace(/\.(ini|cfg|ya?ml|json)$/i, '');
  const fallback =
    base
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64) || 'ansible';
  const lifeboat = toLifeboat(parsed, fallback);
  return { parsed, lifeboat };
}

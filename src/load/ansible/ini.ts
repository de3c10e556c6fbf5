// The INI form of an Ansible inventory: [group], [group:vars] and [group:children] sections,
// host lines with inline vars, each problem at its line and column.
import {
  addChild,
  addHosts,
  diag,
  finish,
  group,
  newInventory,
  type AVar,
  type ParsedAnsible,
  type Pos,
} from './model.js';

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

type Section = { group: string; type: 'hosts' | 'vars' | 'children' };
/** under a broken header: its lines are skipped (the header is reported once) */
const BROKEN: Section = { group: '', type: 'hosts' };

/** one line of the file that is not blank or a comment */
interface IniLine {
  raw: string;
  trimmed: string;
  /** how far it is indented */
  lead: number;
  /** a position on this line */
  at: (col: number, len?: number) => Pos;
}

export function parseAnsibleIni(file: string, text: string): ParsedAnsible {
  const inv = newInventory(file, 'ini');
  let section: Section = { group: 'ungrouped', type: 'hosts' };
  const pendingVars = new Map<string, Pos>();
  const lines = text.split('\n');
  lines.forEach((raw0, i) => {
    const raw = raw0.replace(/\r$/, '');
    const line = i + 1;
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const l: IniLine = {
      raw,
      trimmed,
      lead: raw.length - raw.trimStart().length,
      at: (col, len) => ({ file, line, col, ...(len ? { endCol: col + len } : {}) }),
    };
    const next = trimmed.startsWith('[') ? sectionHeader(inv, l, pendingVars) : undefined;
    if (next) {
      section = next;
      return;
    }
    if (!section.group) return; // under a broken header: reported once, above
    if (section.type === 'vars') readVarLine(inv, section.group, l);
    else if (section.type === 'children') readChildLine(inv, section.group, l);
    else readHostLine(inv, section.group, l);
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

/**
 * A line starting with `[`: the section it opens (BROKEN after a header in error), or undefined
 * when it is a host line after all (`[::1]`). A [group:vars] for a group not declared yet waits in `pendingVars`.
 */
function sectionHeader(inv: ParsedAnsible, l: IniLine, pendingVars: Map<string, Pos>): Section | undefined {
  const { trimmed, lead, at } = l;
  if (!/^\[[^\]]*\]\s*(?:[#;].*)?$/.test(trimmed)) {
    if (/^\[[0-9A-Fa-f:.]+\]/.test(trimmed)) return undefined;
    inv.diagnostics.push(
      diag(
        at(lead + 1),
        'error',
        'ansible-inventory',
        `'${trimmed}' looks like a section header that is not closed with ]`,
        'write it as [group], [group:vars] or [group:children]',
      ),
    );
    return BROKEN;
  }
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
    return BROKEN;
  }
  const [, name, type] = m;
  const pos = at(lead + 2, name.length);
  if (type === undefined || type === 'hosts' || type === 'children') {
    group(inv, name, pos).declared = true;
    return { group: name, type: type === 'children' ? 'children' : 'hosts' };
  }
  if (type === 'vars') {
    if (!inv.groups.get(name)?.declared && !pendingVars.has(name)) pendingVars.set(name, pos);
    group(inv, name);
    return { group: name, type: 'vars' };
  }
  inv.diagnostics.push(
    diag(
      at(lead + 2 + name.length + 1, type.length),
      'error',
      'ansible-inventory',
      `section [${name}:${type}] has an unknown type '${type}'`,
      'use [group], [group:vars] or [group:children]',
    ),
  );
  return BROKEN;
}

/** `name=value` under [group:vars] */
function readVarLine(inv: ParsedAnsible, groupName: string, { raw, trimmed, lead, at }: IniLine): void {
  const eq = raw.indexOf('=');
  if (eq < 0) {
    inv.diagnostics.push(
      diag(
        at(lead + 1, trimmed.length),
        'error',
        'ansible-inventory',
        `in [${groupName}:vars], '${trimmed}' is not key=value`,
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
  group(inv, groupName).vars.set(key, {
    name: key,
    value: unquote(raw.slice(eq + 1).trim()),
    at: at(lead + 1, key.length),
  });
}

/** a child group's name under [group:children] */
function readChildLine(inv: ParsedAnsible, groupName: string, { trimmed, lead, at }: IniLine): void {
  const child = trimmed.replace(/\s+[#;].*$/, '');
  if (!/^[^:\]\s[]+$/.test(child)) {
    inv.diagnostics.push(
      diag(
        at(lead + 1, trimmed.length),
        'error',
        'ansible-inventory',
        `in [${groupName}:children], '${trimmed}' is not a group name`,
        'list one child group per line',
      ),
    );
    return;
  }
  group(inv, child).declared = true;
  addChild(inv, groupName, child, at(lead + 1, child.length));
}

/** a host (or a range of hosts) and its `name=value` vars */
function readHostLine(inv: ParsedAnsible, groupName: string, { raw, lead, at }: IniLine): void {
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
  addHosts(inv, groupName, host.text, at(host.col, host.text.length), vars);
}

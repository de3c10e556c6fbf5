// An Ansible inventory (INI or YAML) read as a lifeboat inventory, for `-i` (decision 0027).
// Hosts, groups (children, [group:children], [group:vars]), host ranges, inline vars and the
// host_vars/ and group_vars/ folders beside the file; the connection vars become the host's
// address, port, user and key, each with the file:line:col it came from. Anything that would
// make lifeboat connect differently than Ansible (another connection plugin, a jump or proxy
// in ssh args, templates) is an error with its position; what lifeboat does not use is a
// warning. Pure apart from reading the vars folders; never throws.
// This file is the entry (which kind a file is, and reading one); the rest of the folder does the steps.
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { YamlFile } from '../read-yaml.js';
import { GROUP_KEYS, isObj, type AnsibleFormat, type ParsedAnsible } from './model.js';
import { parseAnsibleIni } from './ini.js';
import { parseAnsibleYaml } from './yaml.js';
import { readVarsFolders } from './vars-folders.js';
import { toLifeboat } from './to-lifeboat.js';
import type { AnsibleAsLifeboat } from './mapping.js';

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

// The path fields of an inventory (ssh_config, known_hosts, identity_file) name files relative
// to the inventory's folder. A file named there that does not exist is an error with its
// position: at validation for a path written out in full, and when a run resolves it for a path
// that depends on the operator's environment (`~`, `${VAR}`: decision 0004), which validation
// cannot know (decision 0025).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Inventory } from '../model/types.js';
import type { Loaded } from './project.js';
import type { YamlPath } from './read-yaml.js';
import type { Diagnostic } from '../model/diagnostic.js';
import { diagAt } from './positions.js';
import { inventoryPath } from '../plan/resolve.js';

interface PathField {
  at: YamlPath;
  value: string;
  what: 'ssh_config' | 'known_hosts' | 'identity_file';
}

export function inventoryPathFields(inv: Inventory): PathField[] {
  const out: PathField[] = [];
  if (typeof inv.ssh_config === 'string') out.push({ at: ['ssh_config'], value: inv.ssh_config, what: 'ssh_config' });
  if (typeof inv.known_hosts === 'string')
    out.push({ at: ['known_hosts'], value: inv.known_hosts, what: 'known_hosts' });
  else if (Array.isArray(inv.known_hosts))
    inv.known_hosts.forEach(
      (v, i) => typeof v === 'string' && out.push({ at: ['known_hosts', i], value: v, what: 'known_hosts' }),
    );
  if (typeof inv.defaults?.identity_file === 'string')
    out.push({ at: ['defaults', 'identity_file'], value: inv.defaults.identity_file, what: 'identity_file' });
  for (const [name, h] of Object.entries(inv.hosts ?? {}))
    if (typeof h?.identity_file === 'string')
      out.push({ at: ['hosts', name, 'identity_file'], value: h.identity_file, what: 'identity_file' });
  return out;
}

const dependsOnEnvironment = (p: string) => p.startsWith('~') || p.includes('${');

/**
 * Missing files named by the inventory. `env` undefined: validation (paths that depend on the
 * environment are skipped); else the run's environment, and only those paths are checked.
 * A known_hosts file that does not exist yet is a warning: a run with --accept-new-host-keys
 * creates it, and without that every key is unknown and refused (never silently accepted).
 */
export function checkInventoryPaths(inv: Loaded<Inventory>, env?: NodeJS.ProcessEnv): Diagnostic[] {
  const dir = path.dirname(inv.file.file);
  const out: Diagnostic[] = [];
  // one field can stand for many hosts (an Ansible group var): said once at its place
  const said = new Set<string>();
  for (const f of inventoryPathFields(inv.data)) {
    if (dependsOnEnvironment(f.value) !== (env !== undefined)) continue;
    if (env && f.what === 'known_hosts') continue;
    const full = inventoryPath(f.value, env ?? {}, dir);
    if (existsSync(full)) continue;
    const d = diagAt(
      inv.file,
      f.at,
      false,
      f.what === 'known_hosts' ? 'warning' : 'error',
      'missing-file',
      `${f.what}: ${full} does not exist${full !== f.value ? ` (from '${f.value}', relative to the inventory's folder)` : ''}`,
      f.what === 'known_hosts'
        ? 'correct the path; until it exists every host key is unknown and refused (--accept-new-host-keys creates it)'
        : "correct the path (relative paths start at the inventory file's folder), or remove the field to use ssh's defaults",
    );
    const key = `${d.line}:${d.col}:${d.message}`;
    if (!said.has(key)) {
      said.add(key);
      out.push(d);
    }
  }
  return out;
}

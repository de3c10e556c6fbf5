// How an Ansible inventory's names and vars map to a lifeboat inventory: the connection vars and
// the host fields they fill, the inventory-wide lifeboat_ vars, host names, and the result.
import type { Diagnostic, Severity } from '../../model/diagnostic.js';
import type { Inventory } from '../../model/types.js';
import type { AVar, Pos, Winning } from './model.js';

/** Connection vars lifeboat reads, by the host field they fill. */
export const CONNECTION: Record<string, 'address' | 'port' | 'user' | 'identity_file' | 'jump' | 'host_key'> = {
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
export const INVENTORY_WIDE = new Set([
  'lifeboat_name',
  'lifeboat_environment',
  'lifeboat_known_hosts',
  'lifeboat_connect_timeout',
]);
/** a lifeboat name (inventory, host) */
export const NAME = /^[a-z0-9][a-z0-9-]*$/;
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

/** a value as a message quotes it */
export const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export type Once = (v: AVar, severity: Severity, code: string, message: string, hint?: string) => void;
export type ConnectionField = (typeof CONNECTION)[string];

/** the inventory-wide settings that hosts' origins point at */
export interface InventorySettings {
  khVar?: Winning;
  ctVar?: Winning;
}

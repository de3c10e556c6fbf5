// One Ansible host as a lifeboat host: its connection (ssh or local), the connection vars that
// become its address, port, user, key, jump host and host key, and a word on every other var.
import type { Inventory } from '../../model/types.js';
import type { AHost, ParsedAnsible, Pos, Winning } from './model.js';
import { effectiveVars, hostGroups } from './precedence.js';
import {
  CONNECTION,
  lifeboatName,
  text,
  where,
  type AnsibleAsLifeboat,
  type ConnectionField,
  type InventorySettings,
  type Once,
} from './mapping.js';

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

const why = (v: Winning) => `${where(v.at)} (${v.label ?? v.name}, ${v.scope})`;
const isTemplate = (v: Winning) => typeof v.value === 'string' && /\{\{|\{%/.test(v.value);

/** one Ansible host as a lifeboat host (named `name`), unless it cannot be one */
export function hostToLifeboat(
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

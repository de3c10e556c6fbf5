/* GENERATED from schemas/inventory.schema.json by scripts/gen-types.mjs: do not edit. */

/**
 * Format version of the file; always 1 for now.
 */
export type FormatVersion = 1;
/**
 * Lower-case letters, digits and dashes.
 */
export type Name = string;
export type User = string;
/**
 * A duration such as 30s, 2m, 1h30m, 90d, 500ms.
 */
export type Duration = string;
export type Scalar = string | number | boolean;

/**
 * Where things are: hosts, addresses, users, jump hosts, vars for one environment.
 */
export interface Inventory {
  lifeboat: FormatVersion;
  kind: 'inventory';
  name: Name;
  /**
   * A rehearsal never touches production addresses.
   */
  environment?: 'production' | 'rehearsal';
  description?: string;
  defaults?: Connection;
  hosts: {
    [k: string]: Host;
  };
  /**
   * known_hosts file(s); ~ and ${VAR:-default} expand. Default ~/.ssh/known_hosts.
   */
  known_hosts?: string | [string, ...string[]];
  connect_timeout?: Duration;
  /**
   * ssh_config file for hosts without address. Default ~/.ssh/config.
   */
  ssh_config?: string;
  vars?: Vars;
}
export interface Connection {
  user?: User;
  port?: number;
  /**
   * The private key file; the break-glass command names it with -i.
   */
  identity_file?: string;
  jump?: string;
  /**
   * Where the key or password for this host physically lives (safe, vault entry, sealed envelope); never the secret itself. Printed beside the break-glass command.
   */
  credentials?: string;
}
export interface Host {
  /**
   * An IPv4/IPv6 address or a DNS name.
   */
  address?: string;
  user?: User;
  port?: number;
  /**
   * Another inventory host to jump through.
   */
  jump?: string;
  /**
   * Pinned key fingerprint as ssh-keygen -l prints it.
   */
  host_key?: string;
  /**
   * The private key file; the break-glass command names it with -i.
   */
  identity_file?: string;
  description?: string;
  /**
   * Extra (legacy) algorithms this host needs, by ssh2 category.
   */
  algorithms?: {
    kex?: string[];
    serverHostKey?: string[];
    cipher?: string[];
    hmac?: string[];
  };
  /**
   * Where the key or password for this host physically lives (safe, vault entry, sealed envelope); never the secret itself. Printed beside the break-glass command.
   */
  credentials?: string;
}
/**
 * Named values used in templates as {{ vars.NAME }}.
 */
export interface Vars {
  [k: string]: Scalar;
}

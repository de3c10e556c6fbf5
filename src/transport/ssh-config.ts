// Hosts without an inventory address are looked up in ~/.ssh/config the way `ssh` would:
// HostName, User, Port, IdentityFile, ProxyJump (plus UserKnownHostsFile, ConnectTimeout).
// `Match exec` lines are not run: resolving a name must not execute commands.
import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import SSHConfig from 'ssh-config';
import type { ResolvedHost } from '../ports.js';
import { expandHome } from './known-hosts.js';

export const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];
export const DEFAULT_KNOWN_HOSTS = ['~/.ssh/known_hosts'];
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function all(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

// ssh_config TOKENS we can know here; the rest are left as written.
function expandTokens(value: string, t: { host: string; hostName: string; port: number; user: string }): string {
  return value.replace(/%([%hnprud])/g, (_, c: string) => {
    switch (c) {
      case '%': return '%';
      case 'h': return t.hostName;
      case 'n': return t.host;
      case 'p': return String(t.port);
      case 'r': return t.user;
      case 'u': return userInfo().username;
      case 'd': return homedir();
      default: return _;
    }
  });
}

/** `[user@]host[:port]` from a ProxyJump list entry. */
function parseJumpSpec(spec: string): { host: string; user?: string; port?: number } {
  let rest = spec.trim().replace(/^ssh:\/\//, '');
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let port: number | undefined;
  const m = /^\[(.+)\]:(\d+)$/.exec(rest) ?? /^([^:]+):(\d+)$/.exec(rest);
  if (m) {
    rest = m[1];
    port = Number(m[2]);
  }
  return { host: rest, user, port };
}

function loadConfig(configPath?: string): SSHConfig | null {
  const path = expandHome(configPath ?? '~/.ssh/config');
  if (!existsSync(path)) return null;
  return SSHConfig.parse(readFileSync(path, 'utf8'));
}

/**
 * What ~/.ssh/config (or `configPath`) says about `name`. `address` is always set
 * (HostName, or the name itself); other fields only when the config sets them.
 * ProxyJump chains become fully resolved `jump` hosts (the first hop outermost).
 */
export function resolveFromSshConfig(name: string, configPath?: string): Partial<ResolvedHost> {
  return resolveWith(loadConfig(configPath), name, configPath, 0);
}

function resolveWith(config: SSHConfig | null, name: string, configPath: string | undefined, depth: number): Partial<ResolvedHost> {
  if (depth > 8) throw new Error(`ProxyJump chain for ${name} is too long (loop?)`);
  const c = config ? config.compute(name, { matchExec: false }) : {};
  const get = (key: string) => c[key] ?? c[key.toLowerCase()];
  const out: Partial<ResolvedHost> = {};
  const port = first(get('Port'));
  if (port !== undefined) out.port = Number(port);
  const user = first(get('User'));
  if (user !== undefined) out.user = user;
  const hostName = first(get('HostName'));
  const tokens = { host: name, hostName: name, port: out.port ?? 22, user: out.user ?? userInfo().username };
  out.address = hostName ? expandTokens(hostName, tokens) : name;
  tokens.hostName = out.address;
  const ids = all(get('IdentityFile')).map((f) => expandHome(expandTokens(f, tokens)));
  if (ids.length) out.identityFiles = ids;
  const kh = all(get('UserKnownHostsFile')).flatMap((f) => f.split(/\s+/)).filter(Boolean);
  if (kh.length) out.knownHosts = kh.map((f) => expandHome(expandTokens(f, tokens)));
  const ct = first(get('ConnectTimeout'));
  if (ct !== undefined && /^\d+$/.test(ct)) out.connectTimeoutMs = Number(ct) * 1000;
  const jump = first(get('ProxyJump'));
  if (jump && jump.toLowerCase() !== 'none') {
    // `a,b`: reach a first, then b through a, then the target through b
    let outer: ResolvedHost | undefined;
    for (const spec of jump.split(',')) {
      const j = parseJumpSpec(spec);
      const resolved = resolveWith(config, j.host, configPath, depth + 1);
      const hop = withDefaults(j.host, { ...resolved, ...(j.user ? { user: j.user } : {}), ...(j.port ? { port: j.port } : {}) });
      // the hop's own ProxyJump is replaced by the chain position (as ssh does for chains)
      hop.jump = outer ?? resolved.jump;
      outer = hop;
    }
    out.jump = outer;
  }
  return out;
}

/** Fill the fields the config left open with ssh's defaults. */
export function withDefaults(name: string, partial: Partial<ResolvedHost>): ResolvedHost {
  return {
    name,
    address: partial.address ?? name,
    port: partial.port ?? 22,
    user: partial.user ?? userInfo().username,
    jump: partial.jump,
    hostKey: partial.hostKey,
    identityFiles: partial.identityFiles ?? DEFAULT_IDENTITY_FILES.map(expandHome),
    knownHosts: partial.knownHosts ?? DEFAULT_KNOWN_HOSTS.map(expandHome),
    connectTimeoutMs: partial.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    mayBeDown: partial.mayBeDown ?? false,
    algorithms: partial.algorithms,
  };
}

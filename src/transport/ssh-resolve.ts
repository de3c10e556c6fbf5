// Hosts without an inventory address are resolved where OpenSSH would connect: by `ssh -G`
// when an OpenSSH client is installed (every host at once, in parallel, once per run), else by
// the built-in resolver (ssh-config.ts), which follows the same rules. ProxyJump hops are
// resolved the way ssh reaches them: `ssh [-l user] [-p port] [-J earlier-hops] hop`.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { SshHost } from '../ports.js';
import {
  builtinSettings,
  parseJumpSpec,
  settingsToHost,
  SshConfigError,
  type LookupOptions,
  type SshSettings,
} from './ssh-config.js';

export type ResolverKind = 'openssh' | 'builtin';

export interface HostQuery {
  name: string;
  user?: string;
  port?: number;
}

export interface SshResolverOptions {
  /** the inventory's ssh_config (ssh -F); default ~/.ssh/config and /etc/ssh/ssh_config */
  configPath?: string;
  /** default: `openssh` when `ssh` is on PATH (LIFEBOAT_SSH_RESOLVER=builtin forces the fallback) */
  resolver?: ResolverKind;
  /** the ssh binary (default: found on PATH) */
  sshPath?: string;
  env?: NodeJS.ProcessEnv;
}

/** The `ssh` client on PATH, or null. */
export function findSsh(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, 'ssh');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Parse `ssh -G` output into the settings lifeboat uses. */
export function parseSshG(name: string, out: string): SshSettings {
  const s: SshSettings = {
    host: name,
    hostname: name,
    port: 22,
    user: '',
    identityFiles: [],
    userKnownHostsFiles: [],
    globalKnownHostsFiles: [],
    resolver: 'ssh -G',
  };
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const key = line.slice(0, sp);
    const value = line.slice(sp + 1);
    switch (key) {
      case 'hostname':
        s.hostname = value;
        break;
      case 'port':
        s.port = Number(value);
        break;
      case 'user':
        s.user = value;
        break;
      case 'identityfile':
        s.identityFiles.push(value);
        break;
      case 'proxyjump':
        if (value.toLowerCase() !== 'none') s.proxyJump = value;
        break;
      case 'proxycommand':
        if (value !== 'none') s.proxyCommand = value;
        break;
      case 'userknownhostsfile':
        s.userKnownHostsFiles = value.split(' ').filter(Boolean);
        break;
      case 'globalknownhostsfile':
        s.globalKnownHostsFiles = value.split(' ').filter(Boolean);
        break;
      case 'connecttimeout':
        if (value !== 'none') s.connectTimeout = Number(value);
        break;
      case 'hostkeyalias':
        s.hostKeyAlias = value;
        break;
      default:
        break;
    }
  }
  return s;
}

function sshG(
  ssh: string,
  q: HostQuery,
  configPath: string | undefined,
  env: NodeJS.ProcessEnv,
  retry = true,
): Promise<SshSettings> {
  const args = ['-G'];
  if (configPath !== undefined) args.push('-F', configPath);
  if (q.user !== undefined) args.push('-l', q.user);
  if (q.port !== undefined) args.push('-p', String(q.port));
  args.push('--', q.name);
  return new Promise((resolve, reject) => {
    const child = execFile(ssh, args, { env, timeout: 30_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const why =
          stderr
            .trim()
            .split('\n')
            .filter((l) => !/^Pseudo-terminal/.test(l))
            .join('; ') || err.message;
        reject(new SshConfigError(`ssh -G ${q.name}: ${why}`));
      } else if (!/^hostname /m.test(stdout) || !/^port /m.test(stdout) || !/^user /m.test(stdout)) {
        // never fall back to the bare name: an answer without these lines is no answer (asked once more:
        // seen, rarely, when the output pipe was not read for a long time)
        if (retry) return resolve(sshG(ssh, q, configPath, env, false));
        reject(
          new SshConfigError(
            `ssh -G ${q.name} printed no hostname, port or user (${stdout.length} bytes${stderr.trim() ? `; ${stderr.trim()}` : ''})`,
          ),
        );
      } else {
        resolve(parseSshG(q.name, stdout));
      }
    });
    child.stdin?.end();
  });
}

const key = (q: HostQuery) => `${q.name}\0${q.user ?? ''}\0${q.port ?? ''}`;

/** Resolves hosts like OpenSSH, caching each answer for the run. */
export class SshResolver {
  readonly kind: ResolverKind;
  private readonly ssh: string | null;
  private readonly cache = new Map<string, Promise<SshSettings>>();
  private readonly done = new Map<string, SshSettings>();
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly opts: SshResolverOptions = {}) {
    this.env = opts.env ?? process.env;
    const forced = opts.resolver ?? (this.env.LIFEBOAT_SSH_RESOLVER as ResolverKind | undefined);
    this.ssh = forced === 'builtin' ? null : (opts.sshPath ?? findSsh(this.env));
    this.kind = this.ssh ? 'openssh' : 'builtin';
  }

  /** What OpenSSH decides for one destination (cached). */
  settings(q: HostQuery): Promise<SshSettings> {
    const k = key(q);
    let p = this.cache.get(k);
    if (!p) {
      const lopts: LookupOptions = { configPath: this.opts.configPath, user: q.user, port: q.port };
      p = this.ssh
        ? sshG(this.ssh, q, this.opts.configPath, this.env)
        : new Promise((resolve, reject) => {
            try {
              resolve(builtinSettings(q.name, lopts));
            } catch (e) {
              reject(e as Error);
            }
          });
      p.then(
        (s) => this.done.set(k, s),
        () => undefined,
      );
      this.cache.set(k, p);
    }
    return p;
  }

  /** Resolve the hosts and every ProxyJump hop they lead through, in parallel. */
  async prefetch(queries: HostQuery[]): Promise<void> {
    let level = queries;
    for (let depth = 0; level.length && depth <= 8; depth++) {
      const settled = await Promise.all(level.map((q) => this.settings(q)));
      level = settled
        .flatMap((s) => (s.proxyJump ? s.proxyJump.split(',').map((spec) => jumpQuery(spec)) : []))
        .filter((q) => !this.done.has(key(q)));
    }
  }

  /** A resolved host from the cache (prefetch first); throws when it was not resolved. */
  host(q: HostQuery, depth = 0, ownJump = true): Partial<SshHost> {
    if (depth > 8) throw new SshConfigError(`ProxyJump chain for ${q.name} is too long (a loop?)`);
    const s = this.done.get(key(q));
    if (!s) throw new SshConfigError(`${q.name} was not resolved`);
    const { proxyJump, ...h } = settingsToHost(s);
    const out: Partial<SshHost> = {
      ...h,
      origin:
        s.resolver === 'ssh -G'
          ? 'ssh -G'
          : `ssh_config (built-in resolver${s.files?.length ? `: ${s.files.join(', ')}` : ', no file'})`,
    };
    if (proxyJump && ownJump) {
      // `a,b`: ssh reaches b with `-J a` (b's own ProxyJump and ProxyCommand give way), a as configured
      let outer: SshHost | undefined;
      for (const spec of proxyJump.split(',')) {
        const jq = jumpQuery(spec);
        const hop = this.host(jq, depth + 1, !outer);
        const full = { ...hop, transport: 'ssh', name: jq.name, mayBeDown: false } as SshHost;
        if (outer) {
          full.jump = outer;
          delete full.proxyCommand;
        }
        outer = full;
      }
      out.jump = outer;
      delete out.proxyCommand;
    } else if (proxyJump) {
      delete out.proxyCommand;
    }
    return out;
  }
}

function jumpQuery(spec: string): HostQuery {
  const j = parseJumpSpec(spec);
  return {
    name: j.host,
    ...(j.user !== undefined ? { user: j.user } : {}),
    ...(j.port !== undefined ? { port: j.port } : {}),
  };
}

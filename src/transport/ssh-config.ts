// ssh_config as OpenSSH 9.2 reads it (readconf.c), for machines without an `ssh` client: the
// built-in resolver. Where `ssh` is installed, ssh-resolve.ts asks `ssh -G` instead and this
// file only turns its answer into a host (settingsToHost): both answers go through the same
// expansion, so the two resolvers differ only in who read the files.
//
// Semantics kept: keywords case-insensitive, `keyword value` or `keyword=value`, quotes, `#`
// starting a word is a comment; first value wins (IdentityFile accumulates); Host patterns are
// separated by whitespace only, `*` and `?` (exactly one character), `!` negates; Match with
// all/canonical/final/host/originalhost/user/localuser/exec and `!`, `host` against the HostName
// expanded so far; Include (absolute, ~, relative to ~/.ssh, globs, inside a block); the final
// pass that `Match final` asks for; /etc/ssh/ssh_config after the user's file unless -F.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir, hostname as osHostname, userInfo } from 'node:os';
import path from 'node:path';
import type { SshHost } from '../ports.js';

/** ssh expands `~` and %d with the account's home from the password database, not $HOME. */
export function sshHome(): string {
  return userInfo().homedir || homedir();
}

export function expandHome(p: string): string {
  return p === '~' ? sshHome() : p.startsWith('~/') ? sshHome() + p.slice(1) : p;
}

export const DEFAULT_IDENTITY_FILES = [
  '~/.ssh/id_rsa',
  '~/.ssh/id_ecdsa',
  '~/.ssh/id_ecdsa_sk',
  '~/.ssh/id_ed25519',
  '~/.ssh/id_ed25519_sk',
  '~/.ssh/id_xmss',
  '~/.ssh/id_dsa',
];
export const DEFAULT_KNOWN_HOSTS = ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];
export const DEFAULT_GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const SYSTEM_SSH_CONFIG = '/etc/ssh/ssh_config';

/** What OpenSSH decided for one destination: the fields of `ssh -G` lifeboat uses, as printed there. */
export interface SshSettings {
  /** the name asked for (`%n`) */
  host: string;
  hostname: string;
  port: number;
  user: string;
  /** as written (tokens and ~ not expanded, like `ssh -G` prints them) */
  identityFiles: string[];
  /** `[user@]host[:port]` list, comma separated; undefined for none */
  proxyJump?: string;
  /** as written; undefined for none */
  proxyCommand?: string;
  /** expanded, as `ssh -G` prints them */
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  /** seconds; undefined for none */
  connectTimeout?: number;
  hostKeyAlias?: string;
  /** `ssh -G` or `ssh_config (built-in resolver)`, for the dry run and preflight */
  resolver: 'ssh -G' | 'built-in';
  /** files read (built-in resolver), for messages */
  files?: string[];
}

export interface LookupOptions {
  /** -F: this file only, instead of ~/.ssh/config and /etc/ssh/ssh_config */
  configPath?: string;
  /** -l and -p: the inventory's own user and port win over the config, as on ssh's command line */
  user?: string;
  port?: number;
  /** for tests: the system-wide file (default /etc/ssh/ssh_config) */
  systemConfig?: string | null;
}

export class SshConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshConfigError';
  }
}

// ---- tokens ---------------------------------------------------------------------------------

function localHost(): { full: string; short: string } {
  const full = osHostname();
  return { full, short: full.split('.')[0] };
}

export interface TokenValues {
  host: string;
  hostname: string;
  port: number;
  user: string;
  hostKeyAlias?: string;
  proxyJump?: string;
}

/**
 * `%x` tokens as OpenSSH expands them; `allowed` is the set the keyword accepts (unknown ones are an error, as in ssh).
 */
export function expandTokens(value: string, t: TokenValues, allowed: string, what: string): string {
  return value.replace(/%(.?)/g, (whole, c: string) => {
    if (c === '%') return '%';
    if (!c || !allowed.includes(c)) throw new SshConfigError(`${what} '${value}': unknown or unsupported token %${c}`);
    const lh = localHost();
    switch (c) {
      case 'h':
        return t.hostname;
      case 'n':
        return t.host;
      case 'p':
        return String(t.port);
      case 'r':
        return t.user;
      case 'u':
        return userInfo().username;
      case 'd':
        return sshHome();
      case 'i':
        return String(userInfo().uid);
      case 'l':
        return lh.full;
      case 'L':
        return lh.short;
      case 'k':
        return t.hostKeyAlias ?? t.host;
      case 'j':
        return t.proxyJump ?? '';
      case 'C':
        return createHash('sha1')
          .update(lh.full + t.hostname + String(t.port) + t.user + (t.proxyJump ?? ''))
          .digest('hex');
      default:
        return whole;
    }
  });
}

// ---- lexing (misc.c argv_split, strdelim) ------------------------------------------------------

/** Split arguments like OpenSSH: whitespace, quotes, backslash escapes; `#` at a word's start ends the line. */
export function splitArgs(s: string, where: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    if (s[i] === '#') break;
    let arg = '';
    let quote = '';
    for (; i < s.length; i++) {
      const ch = s[i];
      if (!quote && /\s/.test(ch)) break;
      if (
        ch === '\\' &&
        i + 1 < s.length &&
        (s[i + 1] === "'" || s[i + 1] === '"' || s[i + 1] === '\\' || (!quote && s[i + 1] === ' '))
      ) {
        arg += s[++i];
      } else if (!quote && (ch === '"' || ch === "'")) {
        quote = ch;
      } else if (quote && ch === quote) {
        quote = '';
      } else {
        arg += ch;
      }
    }
    if (quote) throw new SshConfigError(`${where}: unterminated quote`);
    out.push(arg);
  }
  return out;
}

/** keyword and the rest of the line (`Keyword value`, `Keyword=value`, `Keyword = value`). */
function splitKeyword(line: string): { keyword: string; rest: string } | null {
  const m = /^[ \t\f\r]*([^\s=]*)[ \t\f\r]*(?:=[ \t\f\r]*)?(.*)$/.exec(line);
  if (!m || !m[1] || m[1].startsWith('#')) return null;
  return { keyword: m[1].toLowerCase(), rest: m[2] };
}

// ---- patterns (match.c) ----------------------------------------------------------------------

/** `*` any run, `?` exactly one character; case-sensitive, as match_pattern(). */
export function matchPattern(s: string, pattern: string): boolean {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[\\s\\S]*')
    .replace(/\?/g, '[\\s\\S]');
  return new RegExp(`^${body}$`).test(s);
}

/** A comma list of patterns with `!` negation (match_pattern_list): 1 match, 0 none, -1 negated match. */
export function matchPatternList(s: string, list: string, lowerPatterns: boolean): -1 | 0 | 1 {
  let got: 0 | 1 = 0;
  for (let sub of list.split(',')) {
    const negated = sub.startsWith('!');
    if (negated) sub = sub.slice(1);
    if (lowerPatterns) sub = sub.toLowerCase();
    if (matchPattern(s, sub)) {
      if (negated) return -1;
      got = 1;
    }
  }
  return got;
}

// ---- reading ---------------------------------------------------------------------------------

interface Options {
  hostname?: string;
  port?: number;
  user?: string;
  identityFiles: string[];
  proxyJump?: string;
  proxyCommand?: string;
  userKnownHostsFiles?: string[];
  globalKnownHostsFiles?: string[];
  connectTimeout?: number;
  hostKeyAlias?: string;
  canonicalize?: string;
  ignoreUnknown?: string;
}

interface Ctx {
  /** the host matched by Host lines: the name as given, or the final hostname in the final pass */
  host: string;
  originalHost: string;
  finalPass: boolean;
  wantFinal: boolean;
  files: string[];
}

const READCONF_MAX_DEPTH = 16;

function parseTime(v: string, where: string): number | undefined {
  if (v.toLowerCase() === 'none') return undefined;
  let total = 0;
  const re = /(\d+)([sSmMhHdDwW]?)/y;
  let i = 0;
  if (!v) throw new SshConfigError(`${where}: invalid time value`);
  while (i < v.length) {
    re.lastIndex = i;
    const m = re.exec(v);
    if (!m) throw new SshConfigError(`${where}: invalid time value '${v}'`);
    const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2].toLowerCase()]!;
    total += Number(m[1]) * mult;
    i = re.lastIndex;
  }
  return total;
}

/** A port given by service name, as ssh's a2port does with getservbyname (from /etc/services). */
function servicePort(name: string): number {
  try {
    for (const line of readFileSync('/etc/services', 'utf8').split('\n')) {
      const f = line.replace(/#.*/, '').trim().split(/\s+/);
      if (f.length < 2) continue;
      const [svc, portProto, ...aliases] = f;
      if (portProto.endsWith('/tcp') && (svc === name || aliases.includes(name)))
        return Number(portProto.split('/')[0]);
    }
  } catch {
    // no services file: only numbers
  }
  return NaN;
}

function checkPerm(file: string): void {
  const st = statSync(file);
  const uid = process.getuid?.() ?? 0;
  if ((st.uid !== 0 && st.uid !== uid) || (st.mode & 0o022) !== 0)
    throw new SshConfigError(`Bad owner or permissions on ${file}`);
}

function globFiles(pattern: string): string[] {
  // only the last component(s) may hold wildcards in practice; expand component by component
  const parts = pattern.split('/');
  let bases = [parts[0] === '' ? '/' : '.'];
  for (let k = parts[0] === '' ? 1 : 0; k < parts.length; k++) {
    const part = parts[k];
    if (part === '') continue;
    const next: string[] = [];
    for (const b of bases) {
      if (/[*?[]/.test(part)) {
        let names: string[] = [];
        try {
          names = readdirSync(b);
        } catch {
          continue;
        }
        const re = new RegExp(
          '^' +
            part
              .replace(/[.+^${}()|\\]/g, '\\$&')
              .replace(/\*/g, '.*')
              .replace(/\?/g, '.') +
            '$',
        );
        for (const n of names.sort())
          if (re.test(n) && (!n.startsWith('.') || part.startsWith('.'))) next.push(path.join(b, n));
      } else {
        const p = path.join(b, part);
        if (existsSync(p)) next.push(p);
      }
    }
    bases = next;
  }
  return bases;
}

function runExec(cmd: string): boolean {
  try {
    execFileSync(process.env.SHELL || '/bin/sh', ['-c', cmd], {
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 30_000,
    });
    return true;
  } catch (e) {
    const err = e as { status?: number | null; code?: string };
    if (err.code === 'ETIMEDOUT') throw new SshConfigError(`Match exec '${cmd}' did not finish within 30 s`);
    return false;
  }
}

function matchLine(
  o: Options,
  args: string[],
  ctx: Ctx,
  lopts: LookupOptions,
  where: string,
  neverMatch: boolean,
): boolean {
  let result = true;
  let attributes = 0;
  const port = o.port ?? 22;
  const ruser = o.user ?? userInfo().username;
  const host = ctx.finalPass
    ? (o.hostname ?? ctx.host)
    : o.hostname !== undefined
      ? expandTokens(
          o.hostname,
          { host: ctx.originalHost, hostname: ctx.originalHost, port, user: ruser },
          'h',
          'HostName',
        )
      : ctx.originalHost;
  for (let i = 0; i < args.length; i++) {
    let attrib = args[i];
    const negate = attrib.startsWith('!');
    if (negate) attrib = attrib.slice(1);
    const a = attrib.toLowerCase();
    if (a === 'all') {
      if (attributes > 0 || i + 1 < args.length)
        throw new SshConfigError(`${where}: 'all' cannot be combined with other Match attributes`);
      if (result) result = !negate;
      return result && !neverMatch;
    }
    attributes++;
    if (a === 'canonical' || a === 'final') {
      if (a === 'final') ctx.wantFinal = true;
      if (ctx.finalPass === negate) result = false;
      continue;
    }
    const arg = args[++i];
    if (arg === undefined || arg === '') throw new SshConfigError(`${where}: Missing Match criteria for ${attrib}`);
    let r: boolean;
    switch (a) {
      case 'host':
        r = matchPatternList(host, arg, true) === 1;
        break;
      case 'originalhost':
        r = matchPatternList(ctx.originalHost, arg, true) === 1;
        break;
      case 'user':
        r = matchPatternList(ruser, arg, false) === 1;
        break;
      case 'localuser':
        r = matchPatternList(userInfo().username, arg, false) === 1;
        break;
      case 'exec': {
        // as ssh: not run when an earlier criterion already failed
        if (!result) continue;
        const cmd = expandTokens(
          arg,
          { host: ctx.originalHost, hostname: host, port, user: ruser, hostKeyAlias: o.hostKeyAlias },
          'CdhiLlnpruk',
          'Match exec',
        );
        r = runExec(cmd);
        break;
      }
      default:
        throw new SshConfigError(`${where}: Unsupported Match attribute ${attrib}`);
    }
    if (r === negate) result = false;
  }
  if (attributes === 0) throw new SshConfigError(`${where}: One or more attributes required for Match`);
  return result && !neverMatch;
}

/** The file's text, or undefined when it cannot be read (a file with bad permissions is an error, as in ssh). */
function openConfig(file: string, checkPermissions: boolean): string | undefined {
  try {
    if (checkPermissions) checkPerm(file);
    return readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof SshConfigError) throw e;
    return undefined;
  }
}

/** A Host line: whether HOST matches one of its patterns and none of its negated ones. */
function hostMatches(host: string, patterns: string[]): boolean {
  let matched = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const p = negated ? raw.slice(1) : raw;
    if (matchPattern(host, p)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** Where an Include argument points: absolute, ~, or relative to ~/.ssh (user file) or /etc/ssh (system file). */
function includePath(arg: string, user: boolean, where: string): string {
  if (arg.startsWith('~') && !user) throw new SshConfigError(`${where}: tilde expansion not allowed in system config`);
  return arg.startsWith('/') || arg.startsWith('~')
    ? expandHome(arg)
    : user
      ? path.join(sshHome(), '.ssh', arg)
      : path.join('/etc/ssh', arg);
}

/** ProxyCommand takes the rest of the line as written; SET: the line is in an active block. */
function setProxyCommand(o: Options, rest: string, where: string, set: boolean): void {
  if (!rest) throw new SshConfigError(`${where}: missing argument.`);
  // `ProxyJump none` does not stand in a later ProxyCommand's way (ssh 9.2 behaves so)
  if (set && o.proxyCommand === undefined && (o.proxyJump === undefined || o.proxyJump.toLowerCase() === 'none'))
    o.proxyCommand = rest;
}

/**
 * One keyword that sets an option: checked on every line, and the first value wins when SET (the line is in an
 * active block). IdentityFile accumulates.
 */
function setOption(o: Options, keyword: string, args: string[], rest: string, where: string, set: boolean): void {
  const one = (): string => {
    if (args.length === 0 || args[0] === '') throw new SshConfigError(`${where}: missing argument.`);
    if (args.length > 1) throw new SshConfigError(`${where}: keyword ${keyword} extra arguments at end of line`);
    return args[0];
  };
  switch (keyword) {
    case 'hostname': {
      const v = one();
      if (set && o.hostname === undefined) o.hostname = v;
      break;
    }
    case 'user': {
      const v = one();
      if (set && o.user === undefined) o.user = v;
      break;
    }
    case 'port': {
      const v = one();
      const p = /^\d+$/.test(v) ? Number(v) : servicePort(v);
      if (!(p > 0 && p <= 65535)) throw new SshConfigError(`${where}: Badly formatted port number.`);
      if (set && o.port === undefined) o.port = p;
      break;
    }
    case 'identityfile': {
      const v = one();
      if (set && !o.identityFiles.includes(v)) o.identityFiles.push(v);
      break;
    }
    case 'proxyjump': {
      const v = rest.replace(/^[\s=]+/, '');
      if (!v) throw new SshConfigError(`${where}: missing argument.`);
      if (set && o.proxyJump === undefined && o.proxyCommand === undefined) o.proxyJump = v.split(/\s+/)[0];
      break;
    }
    case 'userknownhostsfile':
    case 'globalknownhostsfile': {
      if (args.length === 0) throw new SshConfigError(`${where}: missing argument.`);
      const key = keyword === 'userknownhostsfile' ? 'userKnownHostsFiles' : 'globalKnownHostsFiles';
      if (set && o[key] === undefined) o[key] = args;
      break;
    }
    case 'connecttimeout': {
      const v = parseTime(one(), where);
      if (set && o.connectTimeout === undefined) o.connectTimeout = v ?? -1;
      break;
    }
    case 'hostkeyalias': {
      const v = one();
      if (set && o.hostKeyAlias === undefined) o.hostKeyAlias = v;
      break;
    }
    case 'canonicalizehostname': {
      const v = one();
      if (set && o.canonicalize === undefined) o.canonicalize = v.toLowerCase();
      break;
    }
    default:
      // every other keyword is valid for ssh and changes nothing lifeboat uses
      break;
  }
}

function readFile(
  file: string,
  o: Options,
  ctx: Ctx,
  lopts: LookupOptions,
  user: boolean,
  checkPermissions: boolean,
  active: { v: boolean },
  neverMatch: boolean,
  depth: number,
): boolean {
  if (depth > READCONF_MAX_DEPTH) throw new SshConfigError(`Too many recursive configuration includes (${file})`);
  const text = openConfig(file, checkPermissions);
  if (text === undefined) return false;
  ctx.files.push(file);
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const where = `${file} line ${n + 1}`;
    const line = lines[n].replace(/[ \t\r\n\f]+$/, '');
    const kw = splitKeyword(line);
    if (!kw) continue;
    const { keyword, rest } = kw;
    const set = active.v;
    // ProxyCommand (and ProxyJump's raw form) take the rest of the line as written
    if (keyword === 'proxycommand') {
      setProxyCommand(o, rest, where, set);
      continue;
    }
    const args = splitArgs(rest, where);
    if (keyword === 'host') {
      active.v = !neverMatch && hostMatches(ctx.host, args);
    } else if (keyword === 'match') {
      active.v = matchLine(o, args, ctx, lopts, where, neverMatch);
    } else if (keyword === 'include') {
      if (args.length === 0) throw new SshConfigError(`${where}: missing argument.`);
      for (const arg of args) {
        const full = includePath(arg, user, where);
        const outer = active.v;
        for (const f of globFiles(full)) {
          const ok = readFile(f, o, ctx, lopts, user, true, active, neverMatch || !outer, depth + 1);
          if (!ok && existsSync(f)) throw new SshConfigError(`Can't open user config file ${f}`);
          active.v = outer;
        }
      }
    } else {
      setOption(o, keyword, args, rest, where, set);
    }
  }
  return true;
}

function readAll(name: string, o: Options, ctx: Ctx, lopts: LookupOptions): void {
  if (lopts.configPath !== undefined) {
    if (
      lopts.configPath !== 'none' &&
      !readFile(expandHome(lopts.configPath), o, ctx, lopts, true, false, { v: true }, false, 0)
    ) {
      throw new SshConfigError(`Can't open user config file ${lopts.configPath}: No such file or directory`);
    }
    return;
  }
  const userFile = path.join(sshHome(), '.ssh', 'config');
  if (existsSync(userFile)) readFile(userFile, o, ctx, lopts, true, true, { v: true }, false, 0);
  const sys = lopts.systemConfig === undefined ? SYSTEM_SSH_CONFIG : lopts.systemConfig;
  if (sys) readFile(sys, o, ctx, lopts, false, false, { v: true }, false, 0);
  void name;
}

/** The built-in resolver: what `ssh -G [-F configPath] [-l user] [-p port] name` would print. */
export function builtinSettings(name: string, lopts: LookupOptions = {}): SshSettings {
  const o: Options = { identityFiles: [], user: lopts.user, port: lopts.port };
  const ctx: Ctx = { host: name, originalHost: name, finalPass: false, wantFinal: false, files: [] };
  readAll(name, o, ctx, lopts);
  if (o.canonicalize && o.canonicalize !== 'no') {
    throw new SshConfigError(
      `CanonicalizeHostname ${o.canonicalize} needs DNS lookups the built-in resolver does not do: ` +
        'install the OpenSSH client (ssh) or give the host an address',
    );
  }
  let host = name;
  if (o.hostname !== undefined) {
    host = expandTokens(
      o.hostname,
      { host: name, hostname: name, port: o.port ?? 22, user: o.user ?? userInfo().username },
      'h',
      'HostName',
    );
    o.hostname = host;
  }
  host = host.toLowerCase();
  if (ctx.wantFinal) {
    o.hostname = host;
    const final: Ctx = { host, originalHost: name, finalPass: true, wantFinal: false, files: [] };
    readAll(name, o, final, lopts);
  }
  const hostname = (o.hostname ?? host).toLowerCase();
  const user = o.user ?? userInfo().username;
  const port = o.port ?? 22;
  const t: TokenValues = { host: name, hostname, port, user, hostKeyAlias: o.hostKeyAlias };
  const khTokens = 'dhiklLnpru';
  return {
    host: name,
    hostname,
    port,
    user,
    identityFiles: o.identityFiles.length ? o.identityFiles : DEFAULT_IDENTITY_FILES,
    proxyJump: o.proxyJump && o.proxyJump.toLowerCase() !== 'none' ? o.proxyJump : undefined,
    proxyCommand: o.proxyCommand && o.proxyCommand !== 'none' ? o.proxyCommand : undefined,
    userKnownHostsFiles: (o.userKnownHostsFiles ?? DEFAULT_KNOWN_HOSTS).map((f) =>
      expandHome(expandTokens(f, t, khTokens, 'UserKnownHostsFile')),
    ),
    globalKnownHostsFiles: (o.globalKnownHostsFiles ?? DEFAULT_GLOBAL_KNOWN_HOSTS).map((f) =>
      expandHome(expandTokens(f, t, khTokens, 'GlobalKnownHostsFile')),
    ),
    connectTimeout: o.connectTimeout !== undefined && o.connectTimeout >= 0 ? o.connectTimeout : undefined,
    hostKeyAlias: o.hostKeyAlias,
    resolver: 'built-in',
    files: ctx.files,
  };
}

// ---- from settings to a host ------------------------------------------------------------------

/** `[user@]host[:port]` (or `ssh://[user@]host[:port]`) from a ProxyJump list entry. */
export function parseJumpSpec(spec: string): { host: string; user?: string; port?: number } {
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
  } else if (/^\[.+\]$/.test(rest)) {
    rest = rest.slice(1, -1);
  }
  return { host: rest, user, port };
}

/**
 * One host from OpenSSH's settings (either resolver): tokens and ~ expanded in IdentityFile,
 * ProxyCommand expanded; `jump` left for the caller (it needs the hops' own settings).
 */
export function settingsToHost(s: SshSettings): Partial<SshHost> & { proxyJump?: string } {
  const t: TokenValues = {
    host: s.host,
    hostname: s.hostname,
    port: s.port,
    user: s.user,
    hostKeyAlias: s.hostKeyAlias,
    proxyJump: s.proxyJump,
  };
  return {
    address: s.hostname,
    port: s.port,
    user: s.user,
    identityFiles: s.identityFiles.map((f) => expandHome(expandTokens(f, t, 'CdhijkLlnpru', 'IdentityFile'))),
    knownHosts: s.userKnownHostsFiles,
    globalKnownHosts: s.globalKnownHostsFiles,
    ...(s.connectTimeout !== undefined ? { connectTimeoutMs: s.connectTimeout * 1000 } : {}),
    ...(s.hostKeyAlias !== undefined ? { hostKeyAlias: s.hostKeyAlias } : {}),
    ...(s.proxyCommand !== undefined ? { proxyCommand: expandTokens(s.proxyCommand, t, 'hnpr', 'ProxyCommand') } : {}),
    proxyJump: s.proxyJump,
  };
}

/** Fill the fields the config left open with ssh's defaults. */
export function withDefaults(name: string, partial: Partial<SshHost>): SshHost {
  return {
    ...partial,
    transport: 'ssh',
    name,
    address: partial.address ?? name,
    port: partial.port ?? 22,
    user: partial.user ?? userInfo().username,
    identityFiles: partial.identityFiles ?? DEFAULT_IDENTITY_FILES.map(expandHome),
    knownHosts: partial.knownHosts ?? DEFAULT_KNOWN_HOSTS.map(expandHome),
    connectTimeoutMs: partial.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    mayBeDown: partial.mayBeDown ?? false,
  };
}

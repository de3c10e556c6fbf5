// known_hosts as OpenSSH reads it: parsing, matching (plain, wildcard, negated and hashed host
// patterns, `[host]:port` for ports other than 22 with the port-less fallback, HostKeyAlias,
// @revoked), fingerprints, and new hashed entries. `@cert-authority` lines are read so that a
// host known only through a CA is refused with that reason: ssh2 does not offer or verify host
// certificates (docs/SECURITY.md).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';

export interface KnownHostsEntry {
  marker: 'revoked' | 'cert-authority' | null;
  /** the host patterns field as written (comma list, or one `|1|salt|hash`) */
  hosts: string;
  keyType: string;
  /** the raw public key blob */
  key: Buffer;
  file: string;
  line: number;
}

/** `SHA256:…` exactly as `ssh-keygen -l` prints it (base64 without padding). */
export function fingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** Accepts `SHA256:abc`, `SHA256:abc=` or a bare `abc`; returns the canonical form. */
export function normalizeFingerprint(fp: string): string {
  const body = fp
    .trim()
    .replace(/^SHA256:/i, '')
    .replace(/=+$/, '');
  return 'SHA256:' + body;
}

/** The key type named inside a public key blob (`ssh-ed25519`, `ssh-rsa`, …). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

/** The name a host is recorded under: `addr` on port 22, `[addr]:port` otherwise. */
export function hostLookupName(address: string, port: number): string {
  const host = address.toLowerCase();
  return port === 22 ? host : `[${host}]:${port}`;
}

export function expandHome(path: string): string {
  return path === '~' ? homedir() : path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

export function parseKnownHosts(text: string, file = ''): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostsEntry['marker'] = null;
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return; // unknown marker: OpenSSH skips the line too
    }
    if (fields.length < 3) return;
    const [hosts, keyType, b64] = fields;
    const key = Buffer.from(b64, 'base64');
    // a line whose blob does not name its own type is corrupt: ignore it
    if (keyTypeOf(key) !== keyType) return;
    entries.push({ marker, hosts, keyType, key, file, line: i + 1 });
  });
  return entries;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Does the entry's host field match `name` (as built by hostLookupName)? */
export function matchesHost(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (!pattern) continue;
    const negated = pattern.startsWith('!');
    const p = negated ? pattern.slice(1) : pattern;
    const hit = /[*?]/.test(p) ? globToRegExp(p).test(name) : p.toLowerCase() === name;
    if (hit && negated) return false; // a negated match overrides everything
    if (hit) matched = true;
  }
  return matched;
}

export type HostKeyStatus =
  | { status: 'known'; where: string }
  | { status: 'revoked'; where: string }
  /** the host is known with keys of this type, but not this key */
  | { status: 'changed'; known: string[]; where: string }
  /**
   * no entry for this key type; `otherTypes` lists types the host is known with; `ca` the @cert-authority lines for it
   */
  | { status: 'unknown'; otherTypes: string[]; ca: string[] };

/** The name known_hosts is searched for: the HostKeyAlias as written, else addr or [addr]:port. */
export function knownHostsName(address: string, port: number, alias?: string): string {
  return alias ?? hostLookupName(address, port);
}

/**
 * Entries of a known_hosts list that may match a name, in file order. A line of plain names
 * (no wildcard, not hashed) can only match a name it lists (a negated name only ever excludes):
 * those lines are found through an index by name, built once per list (the cache hands every
 * host the same list), so a host's check does not scan a file of one line per host. Lines with
 * wildcards and hashed lines are candidates for every name, as before; matchesHost decides.
 */
const indexes = new WeakMap<readonly KnownHostsEntry[], { byName: Map<string, number[]>; scan: number[] }>();
const INDEX_FROM = 32;

export function candidates(entries: readonly KnownHostsEntry[], name: string): readonly KnownHostsEntry[] {
  if (entries.length < INDEX_FROM) return entries;
  let index = indexes.get(entries);
  if (!index) {
    const byName = new Map<string, number[]>();
    const scan: number[] = [];
    entries.forEach((e, i) => {
      const patterns = e.hosts.split(',').filter(Boolean);
      if (e.hosts.startsWith('|') || patterns.some((p) => /[*?]/.test(p))) return void scan.push(i);
      for (const p of new Set(patterns.map((x) => x.toLowerCase()))) {
        const list = byName.get(p);
        if (list) list.push(i);
        else byName.set(p, [i]);
      }
    });
    index = { byName, scan };
    indexes.set(entries, index);
  }
  const at = [...(index.byName.get(name) ?? []), ...index.scan].sort((a, b) => a - b);
  return at.map((i) => entries[i]);
}

function checkName(entries: readonly KnownHostsEntry[], name: string, key: Buffer): HostKeyStatus {
  const type = keyTypeOf(key);
  const mine = candidates(entries, name).filter((e) => matchesHost(e.hosts, name));
  const revoked = mine.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', where: `${revoked.file}:${revoked.line}` };
  const plain = mine.filter((e) => e.marker === null);
  const same = plain.find((e) => e.key.equals(key));
  if (same) return { status: 'known', where: `${same.file}:${same.line}` };
  const sameType = plain.filter((e) => e.keyType === type);
  if (sameType.length > 0) {
    return {
      status: 'changed',
      known: sameType.map((e) => fingerprint(e.key)),
      where: sameType.map((e) => `${e.file}:${e.line}`).join(', '),
    };
  }
  return {
    status: 'unknown',
    otherTypes: [...new Set(plain.map((e) => e.keyType))],
    ca: mine.filter((e) => e.marker === 'cert-authority').map((e) => `${e.file}:${e.line}`),
  };
}

/**
 * What known_hosts says about `key` presented by address:port, as OpenSSH decides: a revoked
 * key is refused; on a port other than 22 a host not known as `[addr]:port` is looked up as
 * `addr` too, and only a matching key (or a revocation) counts from there.
 */
export function checkHostKey(
  entries: readonly KnownHostsEntry[],
  address: string,
  port: number,
  key: Buffer,
  alias?: string,
): HostKeyStatus {
  const st = checkName(entries, knownHostsName(address, port, alias), key);
  if (st.status !== 'unknown' || alias !== undefined || port === 22) return st;
  const bare = checkName(entries, address.toLowerCase(), key);
  if (bare.status === 'known' || bare.status === 'revoked') return bare;
  return { ...st, ca: [...new Set([...st.ca, ...(bare.status === 'unknown' ? bare.ca : [])])] };
}

/** Read and parse known_hosts files; missing files count as empty. */
export function loadKnownHosts(paths: string[]): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  for (const p of paths) {
    const file = expandHome(p);
    if (!existsSync(file)) continue;
    entries.push(...parseKnownHosts(readFileSync(file, 'utf8'), file));
  }
  return entries;
}

/**
 * known_hosts files parsed once and shared by every connection that reads them: a fan-out to
 * 500 hosts checks 500 keys against one file of 500 lines, which parsed per connection (and
 * kept by each for its host key check) cost O(hosts²) time and memory. A file is read again
 * when it changed (inode, size or modification time), e.g. after a key was recorded in it.
 */
export class KnownHostsCache {
  private readonly files = new Map<string, { signature: string; entries: KnownHostsEntry[] }>();
  private readonly lists = new Map<string, { signature: string; entries: KnownHostsEntry[] }>();

  /** Like loadKnownHosts (missing files count as empty); the result must not be changed. */
  load(paths: string[]): readonly KnownHostsEntry[] {
    const parts: KnownHostsEntry[][] = [];
    const signatures: string[] = [];
    for (const p of paths) {
      const file = expandHome(p);
      let signature: string;
      try {
        const st = statSync(file);
        signature = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
      } catch {
        continue; // missing or unreadable: as loadKnownHosts (existsSync) treats it
      }
      let cached = this.files.get(file);
      if (!cached || cached.signature !== signature) {
        cached = { signature, entries: parseKnownHosts(readFileSync(file, 'utf8'), file) };
        this.files.set(file, cached);
      }
      parts.push(cached.entries);
      signatures.push(`${file}\0${signature}`);
    }
    if (parts.length === 1) return parts[0];
    // several files: their concatenation is shared too, while none of them changes
    const key = paths.join('\0');
    const signature = signatures.join('\0');
    const list = this.lists.get(key);
    if (list && list.signature === signature) return list.entries;
    const entries = parts.flat();
    this.lists.set(key, { signature, entries });
    return entries;
  }
}

/** A hashed known_hosts line (what `HashKnownHosts yes` writes). */
export function hashedEntryLine(
  address: string,
  port: number,
  key: Buffer,
  salt: Buffer = randomBytes(20),
  alias?: string,
): string {
  const name = knownHostsName(address, port, alias);
  const hash = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${hash} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

/** Append a hashed entry for the host; the file (and its folder) are created 0600/0700. */
export function recordHostKey(path: string, address: string, port: number, key: Buffer, alias?: string): void {
  const file = expandHome(path);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const existed = existsSync(file);
  let prefix = '';
  if (existed) {
    const text = readFileSync(file, 'utf8');
    if (text && !text.endsWith('\n')) prefix = '\n';
  }
  appendFileSync(file, prefix + hashedEntryLine(address, port, key, undefined, alias) + '\n', { mode: 0o600 });
  if (!existed) chmodSync(file, 0o600);
}

// Host key algorithms for each key type, newest first (ssh2's defaults; plain `ssh-rsa`
// with SHA-1 signatures is legacy and only offered when the inventory asks).
const ALGOS_BY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256'],
};
export const DEFAULT_HOST_KEY_ALGORITHMS = Object.values(ALGOS_BY_TYPE).flat();

/**
 * Host key algorithms to offer, the types known for this host first (as OpenSSH does),
 * so a server with several keys presents the one we know.
 */
export function hostKeyAlgorithmsFor(
  entries: readonly KnownHostsEntry[],
  address: string,
  port: number,
  alias?: string,
): string[] {
  const name = knownHostsName(address, port, alias);
  const knownTypes = new Set(
    candidates(entries, name)
      .filter((e) => e.marker === null && matchesHost(e.hosts, name))
      .map((e) => e.keyType),
  );
  const first = DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => [...knownTypes].some((t) => ALGOS_BY_TYPE[t]?.includes(a)));
  return [...first, ...DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];
}

// Remote steps over SSH (ssh2): one cached connection per host, host keys checked against
// known_hosts or a pinned fingerprint, keys from ssh-agent then IdentityFile, commands
// wrapped by shell.ts (script on stdin, killed as a process group on timeout/cancel).
import net from 'node:net';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { AnyAuthMethod, AuthenticationType, Client, ConnectConfig, ParsedKey } from 'ssh2';
import type { Connection, SshHost, Transport } from '../ports.js';
import { TransportError } from '../ports.js';
import {
  checkHostKey,
  expandHome,
  fingerprint,
  keyTypeOf,
  knownHostsName,
  KnownHostsCache,
  type HostKeyStatus,
  type KnownHostsEntry,
  normalizeFingerprint,
  recordHostKey,
} from './known-hosts.js';
import { dialSocket, proxyCommandSocket, describeHost, seconds, socketErrorText } from './ssh-socket.js';
import { Deadline } from './deadline.js';
import {
  algorithmsFor,
  openEarly,
  setupError,
  startClient,
  startProxy,
  watchSetup,
  type EarlySocket,
  type Setup,
} from './ssh-setup.js';
import { SshConnection } from './ssh-connection.js';

export { dialSocket, proxyCommandSocket, describeHost, SshConnection };

type KeyLoad = { key: ParsedKey } | { skip: string };
import { DEFAULT_IDENTITY_FILES, DEFAULT_KNOWN_HOSTS } from './ssh-config.js';
import { SshResolver } from './ssh-resolve.js';

export interface SshTransportOptions {
  /** trust on first use: record unknown host keys (hashed) in the first known_hosts file */
  acceptNewHostKeys?: boolean;
  /** asked once per encrypted private key; the answer is cached for the run */
  askPassphrase?: (keyPath: string) => Promise<string>;
  /** ssh-agent socket; default $SSH_AUTH_SOCK, `null` to not use an agent */
  agentSocket?: string | null;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** ssh_config used for hosts without an address (default ~/.ssh/config) */
  sshConfigPath?: string;
  /** called with every TCP socket dialled (tests assert Nagle is off) */
  onSocket?: (socket: net.Socket) => void;
}

// ssh2 is ~40 ms to import: load it on the first connection only.
let ssh2Module: Promise<typeof import('ssh2')> | undefined;
function loadSsh2(): Promise<typeof import('ssh2')> {
  ssh2Module ??= import('ssh2').then((m) => (m as { default?: typeof import('ssh2') }).default ?? m);
  return ssh2Module;
}

export class SshTransport implements Transport<SshHost> {
  private readonly connections = new Map<string, Promise<SshConnection>>();
  /** dials under way: each function ends its dial at once (closeAll) */
  private readonly dialing = new Set<() => void>();
  /** how many times closeAll() ran: a dial that began before one gives up */
  private closes = 0;
  /** dials started by warm() that nobody has asked for yet */
  private readonly warming = new Map<string, Promise<SshConnection>>();
  /** of those, the ones that failed: the first connect() gets the failure instead of a second dial */
  private readonly warmFailures = new Map<string, Promise<SshConnection>>();
  private readonly keys = new Map<string, Promise<KeyLoad>>();
  /** known_hosts files read once for all hosts (again when they change) */
  private readonly knownHosts = new KnownHostsCache();
  /** connects in progress: all of them wait while a passphrase is typed */
  private readonly deadlines = new Set<Deadline>();
  /** host name → fingerprint of the key it presented and we accepted */
  readonly seenHostKeys = new Map<string, string>();

  constructor(private readonly opts: SshTransportOptions = {}) {}

  connect(host: SshHost): Promise<Connection> {
    return this.connectSsh(host);
  }

  /** Same as connect(), typed as the SSH connection (jump hosts need forwardOut). */
  connectSsh(input: SshHost): Promise<SshConnection> {
    // the registry hands this transport SSH hosts only; a caller that did not ask it is refused
    if (input.transport !== 'ssh')
      return Promise.reject(new Error(`${input.name} is reached by ${String(input.transport)}, not SSH`));
    if (!input.address) return this.fromConfig(input).then((h) => this.connectSsh(h));
    const host = this.completeHost(input);
    const key = cacheKey(host);
    this.warming.delete(key);
    const failed = this.warmFailures.get(key);
    if (failed) {
      this.warmFailures.delete(key);
      return failed;
    }
    let conn = this.connections.get(key);
    if (!conn) {
      conn = this.dial(host, () => {
        if (this.connections.get(key) === conn) this.connections.delete(key);
      });
      this.connections.set(key, conn);
      // a failed dial is not cached: the next connect dials again
      conn.catch(() => {
        if (this.connections.get(key) === conn) this.connections.delete(key);
      });
    }
    return conn;
  }

  /**
   * Start connecting now, before anyone needs the connection: the run's set-up (journal, lock)
   * then overlaps the TCP and SSH handshake. Nothing else happens on the host. A dial that fails
   * here is not dialled again: the first connect() for the host reports its failure.
   */
  warm(input: SshHost): void {
    if (input.transport !== 'ssh' || !input.address) return;
    // completed once here: a host without an address is looked up in ssh_config once, not twice
    const host = this.completeHost(input);
    const key = cacheKey(host);
    if (this.connections.has(key)) return;
    const conn = this.connectSsh(host);
    this.warming.set(key, conn);
    conn.then(
      () => {
        if (this.warming.get(key) === conn) this.warming.delete(key);
      },
      () => {
        if (this.warming.get(key) === conn) {
          this.warming.delete(key);
          this.warmFailures.set(key, conn);
        }
      },
    );
  }

  async closeAll(): Promise<void> {
    this.warming.clear();
    this.warmFailures.clear();
    this.closes++;
    for (const abandon of [...this.dialing]) abandon();
    const all = [...this.connections.values()];
    this.connections.clear();
    const settled = await Promise.allSettled(all);
    // targets first, then the jump hosts they tunnel through
    const conns = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    conns.sort((a, b) => depth(b.host) - depth(a.host));
    for (const c of conns) await c.close();
  }

  private resolver: SshResolver | undefined;

  /** A host without an address (a caller that did not resolve the plan): where OpenSSH would connect. */
  private async fromConfig(h: SshHost): Promise<SshHost> {
    this.resolver ??= new SshResolver({ configPath: this.opts.sshConfigPath });
    const q = { name: h.name };
    try {
      await this.resolver.prefetch([q]);
    } catch (err) {
      throw new TransportError(
        'unreachable',
        h.name,
        `host ${h.name} has no address and ssh_config does not resolve it: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
    const c = this.resolver.host(q);
    return { ...h, ...stripUndefined(c), ...stripUndefined({ hostKey: h.hostKey, jump: h.jump ?? c.jump }) } as SshHost;
  }

  /** Defaults for empty lists. */
  private completeHost(host: SshHost): SshHost {
    let h = host;
    if (!h.identityFiles?.length) h = { ...h, identityFiles: DEFAULT_IDENTITY_FILES.map(expandHome) };
    if (!h.knownHosts?.length) h = { ...h, knownHosts: DEFAULT_KNOWN_HOSTS.map(expandHome) };
    if (!h.connectTimeoutMs) h = { ...h, connectTimeoutMs: 10_000 };
    return h;
  }

  private async dial(host: SshHost, onGone: () => void): Promise<SshConnection> {
    // the TCP connection is opened before ssh2 is loaded: the server accepts it and sends its
    // banner meanwhile. An error before the SSH client takes the socket over is kept for it.
    const early = host.jump || host.proxyCommand ? undefined : openEarly(host);
    let Client: typeof import('ssh2').Client;
    const generation = this.closes;
    try {
      ({ Client } = await loadSsh2());
      if (this.closes !== generation) throw abandoned(host);
    } catch (e) {
      early?.socket.destroy();
      throw e;
    }
    const jumpConn = host.jump ? await this.connectJump(host, host.jump) : undefined;

    if (this.closes !== generation) throw abandoned(host);
    const entries = this.knownHosts.load([...host.knownHosts, ...(host.globalKnownHosts ?? [])]);
    const client = new Client();

    return new Promise<SshConnection>((resolve, reject) => {
      const setup = this.beginSetup(host, client, (err) =>
        err ? reject(err) : resolve(new SshConnection(host, client, onGone, setup.sock)),
      );
      const config = this.clientConfig(setup, entries);
      watchSetup(setup);
      this.openStream(setup, config, early, jumpConn);
    });
  }

  /** The jump host's connection; its failure is reported as this host's. */
  private async connectJump(host: SshHost, jump: SshHost): Promise<SshConnection> {
    try {
      return await this.connectSsh(jump);
    } catch (err) {
      if (err instanceof TransportError) {
        throw new TransportError(
          err.kind,
          host.name,
          `${describeHost(host)} via jump host ${jump.name}: ${err.message}`,
          err.fingerprint,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /**
   * A dial's shared state, with its end: `settle` is called once, when the client is ready or
   * the dial failed, timed out (the deadline, paused while a passphrase is typed) or was
   * abandoned by closeAll().
   */
  private beginSetup(host: SshHost, client: Client, settle: (err: TransportError | null) => void): Setup {
    const setup: Setup = {
      host,
      label: describeHost(host),
      client,
      done: false,
      authNotes: [],
      finish: (err) => {
        this.dialing.delete(abandon);
        if (setup.done) return;
        setup.done = true;
        deadline.clear();
        this.deadlines.delete(deadline);
        this.pausedByPrompt.delete(deadline);
        if (err) {
          client.removeAllListeners('ready');
          client.on('error', () => undefined); // late errors of a discarded client
          client.end();
          setup.sock?.destroy();
        }
        settle(err);
      },
    };
    const deadline = new Deadline(host.connectTimeoutMs, () =>
      setup.finish(
        setupError(
          host,
          'unreachable',
          `${setup.label} unreachable: connection timed out after ${seconds(host.connectTimeoutMs)}`,
        ),
      ),
    );
    this.deadlines.add(deadline);
    // closeAll() while this dial is under way ends it now, not at its deadline
    const abandon = () => setup.finish(abandoned(host));
    this.dialing.add(abandon);
    if (this.prompts > 0) this.pauseForPrompt(deadline);
    return setup;
  }

  /** How the client talks to this host: everything but the stream it runs over. */
  private clientConfig(setup: Setup, entries: readonly KnownHostsEntry[]): Omit<ConnectConfig, 'sock'> {
    return {
      username: setup.host.user,
      readyTimeout: 0, // the Deadline of beginSetup covers TCP, handshake and auth
      keepaliveInterval: this.opts.keepaliveIntervalMs ?? 5000,
      keepaliveCountMax: this.opts.keepaliveCountMax ?? 3,
      hostVerifier: this.hostVerifier(setup, entries),
      authHandler: this.authHandler(setup),
      algorithms: algorithmsFor(setup.host, entries),
    };
  }

  /** Checks the host key; a refusal is kept for the error or close that follows it. */
  private hostVerifier(setup: Setup, entries: readonly KnownHostsEntry[]): ConnectConfig['hostVerifier'] {
    const { host } = setup;
    const verifier = (key: Buffer, verify: (ok: boolean) => void): void => {
      const result = this.verifyHostKey(host, entries, key);
      if (result) setup.verifyError = result;
      else this.seenHostKeys.set(host.name, fingerprint(key)); // rehearsal history records which machines were used
      verify(!result);
    };
    return verifier as ConnectConfig['hostVerifier'];
  }

  /** Offers the auth methods one by one, public keys only. */
  private authHandler(setup: Setup): ConnectConfig['authHandler'] {
    const methods = this.authMethods(setup);
    const handler = (
      methodsLeft: AuthenticationType[] | null,
      _partial: boolean | null,
      next: (m: AnyAuthMethod | false) => void,
    ) => {
      const tryNext = async (): Promise<void> => {
        if (methodsLeft && !methodsLeft.includes('publickey')) {
          return next(false);
        }
        while (methods.length) {
          const m = await methods.shift()!();
          if (m) return next(m);
        }
        next(false);
      };
      tryNext().catch(() => next(false));
    };
    return handler as ConnectConfig['authHandler'];
  }

  /** Agent first, then each identity file; an encrypted key asks for its passphrase once. */
  private authMethods(setup: Setup): Array<() => Promise<AnyAuthMethod | null>> {
    const { host } = setup;
    const methods: Array<() => Promise<AnyAuthMethod | null>> = [];
    const agent = this.opts.agentSocket === undefined ? process.env.SSH_AUTH_SOCK : this.opts.agentSocket;
    if (agent) methods.push(async () => ({ type: 'agent', username: host.user, agent }));
    for (const path of host.identityFiles) {
      methods.push(async () => {
        const loaded = await this.loadKey(path);
        if ('skip' in loaded) {
          if (loaded.skip) setup.authNotes.push(loaded.skip);
          return null;
        }
        setup.authNotes.push(path);
        return { type: 'publickey', username: host.user, key: loaded.key };
      });
    }
    if (agent) setup.authNotes = ['ssh-agent'];
    return methods;
  }

  /** The stream the client runs over: the ProxyCommand, a tunnel through the jump host, or the early socket. */
  private openStream(
    setup: Setup,
    config: Omit<ConnectConfig, 'sock'>,
    early: EarlySocket | undefined,
    jumpConn: SshConnection | undefined,
  ): void {
    const { host, label } = setup;
    const start = (stream: Duplex) => startClient(setup, config, stream);
    if (host.proxyCommand) {
      startProxy(setup, host.proxyCommand, start);
    } else if (jumpConn) {
      jumpConn
        .forwardOut(host.address, host.port)
        .then(start, (err: Error) =>
          setup.finish(
            setupError(
              host,
              'unreachable',
              `${label} unreachable via jump host ${host.jump!.name}: ${err.message.replace(/^\(SSH\) /, '')}`,
              err,
            ),
          ),
        );
    } else {
      const { socket: s, error } = early!;
      this.opts.onSocket?.(s);
      if (error)
        setup.finish(
          setupError(
            host,
            'unreachable',
            `${label} unreachable: ${socketErrorText(error as NodeJS.ErrnoException)}`,
            error,
          ),
        );
      else start(s);
    }
  }

  /**
   * null when the key is acceptable, else the refusal. A revoked key is refused, pinned or not;
   * a pin must match the key, and where known_hosts has keys of that type for the host it must
   * agree with them too (docs/SECURITY.md). An unknown key is recorded with --accept-new-host-keys.
   */
  private verifyHostKey(host: SshHost, entries: readonly KnownHostsEntry[], key: Buffer): TransportError | null {
    const st = checkHostKey(entries, host.address, host.port, key, host.hostKeyAlias);
    if (st.status === 'revoked') return revokedKey(host, key, st.where);
    if (host.hostKey) return pinRefusal(host, key, st);
    if (st.status === 'known') return null;
    if (st.status === 'changed') return changedKey(host, key, st);
    if (!st.ca.length && this.opts.acceptNewHostKeys) {
      recordHostKey(host.knownHosts[0], host.address, host.port, key, host.hostKeyAlias);
      return null;
    }
    return unknownKey(host, key, st);
  }

  // While a passphrase prompt is open every connect in progress, and every one that
  // starts meanwhile, waits: none of them may time out because a person is typing.
  private prompts = 0;
  private readonly pausedByPrompt = new Set<Deadline>();

  private promptStarted(): void {
    if (this.prompts++ === 0) for (const d of this.deadlines) this.pauseForPrompt(d);
  }

  private promptEnded(): void {
    if (--this.prompts > 0) return;
    for (const d of this.pausedByPrompt) d.resume();
    this.pausedByPrompt.clear();
  }

  private pauseForPrompt(d: Deadline): void {
    d.pause();
    this.pausedByPrompt.add(d);
  }

  /** Read and parse a private key once per run (asking for its passphrase at most once). */
  private loadKey(path: string): Promise<KeyLoad> {
    let p = this.keys.get(path);
    if (!p) {
      p = (async (): Promise<KeyLoad> => {
        const { utils } = await loadSsh2();
        if (!existsSync(path)) return { skip: '' };
        // as ssh does: a private key of ours that others can read is not used (it is not private any more)
        const st = statSync(path);
        if (process.getuid?.() === st.uid && (st.mode & 0o077) !== 0)
          return {
            skip: `${path} (readable by others, mode ${(st.mode & 0o777).toString(8)}: chmod 600 ${path}; ssh refuses it too)`,
          };
        let data: Buffer;
        try {
          data = readFileSync(path);
        } catch (err) {
          return { skip: `${path} (unreadable: ${(err as Error).message})` };
        }
        let parsed = utils.parseKey(data);
        if (parsed instanceof Error && /encrypted/i.test(parsed.message)) {
          if (!this.opts.askPassphrase) return { skip: `${path} (encrypted; no way to ask for its passphrase)` };
          // the person typing must not make the connection time out
          this.promptStarted();
          try {
            parsed = utils.parseKey(data, await this.opts.askPassphrase(path));
          } finally {
            this.promptEnded();
          }
          if (parsed instanceof Error) return { skip: `${path} (wrong passphrase)` };
        }
        if (parsed instanceof Error) return { skip: `${path} (${parsed.message})` };
        return { key: Array.isArray(parsed) ? parsed[0] : parsed };
      })();
      this.keys.set(path, p);
    }
    return p;
  }
}

function depth(h: SshHost): number {
  return h.jump ? 1 + depth(h.jump) : 0;
}

/** a dial that closeAll() ended before the connection was set up */
function abandoned(host: SshHost): TransportError {
  return new TransportError(
    'unreachable',
    host.name,
    `${describeHost(host)}: connection abandoned (the run ended before it was set up)`,
  );
}

function cacheKey(h: SshHost): string {
  return `${h.name}|${h.user}@${h.address}:${h.port}${h.jump ? ' via ' + cacheKey(h.jump) : ''}`;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---- host key refusals ------------------------------------------------------------------------

/** The command that removes the host's stale line from the known_hosts file of WHERE (`file:line`). */
function removeHint(host: SshHost, where: string): string {
  return `ssh-keygen -R '${knownHostsName(host.address, host.port, host.hostKeyAlias)}' -f ${where.split(':')[0]}`;
}

function revokedKey(host: SshHost, key: Buffer, where: string): TransportError {
  const fp = fingerprint(key);
  return new TransportError(
    'host-key-changed',
    host.name,
    `REVOKED HOST KEY for ${describeHost(host)}: the server presents ${keyTypeOf(key)} ${fp}, which is marked @revoked (${where}). Refusing to connect` +
      `${host.hostKey ? ', although the inventory pins it: a revocation wins over a pin' : ''}.`,
    fp,
  );
}

/** A pinned host: the pin must match the key, and agree with known_hosts where it has keys of that type. */
function pinRefusal(host: SshHost, key: Buffer, st: HostKeyStatus): TransportError | null {
  const label = describeHost(host);
  const fp = fingerprint(key);
  const pinned = normalizeFingerprint(host.hostKey!);
  if (pinned !== fp) {
    return new TransportError(
      'host-key-changed',
      host.name,
      `HOST KEY MISMATCH for ${label}: the inventory pins ${pinned} but the server presents ${keyTypeOf(key)} ${fp}. ` +
        `Someone may be intercepting the connection, or the server was rebuilt. Refusing to connect. ` +
        `If the change is expected, verify the new key out of band and update \`host_key\` in the inventory.`,
      fp,
    );
  }
  if (st.status === 'changed') {
    return new TransportError(
      'host-key-changed',
      host.name,
      `HOST KEY DISAGREEMENT for ${label}: the inventory pins ${pinned}, which the server presents, ` +
        `but known_hosts (${st.where}) has ${st.known.join(', ')} for it. ` +
        'A pin and known_hosts must agree. Refusing to connect. Verify the key out of band, ' +
        `then remove the stale known_hosts line (${removeHint(host, st.where)}) or correct \`host_key\`.`,
      fp,
    );
  }
  return null;
}

/** known_hosts has other keys of this type for the host: never accepted. */
function changedKey(host: SshHost, key: Buffer, st: Extract<HostKeyStatus, { status: 'changed' }>): TransportError {
  const fp = fingerprint(key);
  return new TransportError(
    'host-key-changed',
    host.name,
    `@@@ HOST KEY CHANGED for ${describeHost(host)} @@@ known_hosts (${st.where}) has ${st.known.join(', ')}, ` +
      `but the server now presents ${keyTypeOf(key)} ${fp}. Someone may be intercepting the connection (man in the middle), ` +
      `or the server was reinstalled. Refusing to connect; new keys are never accepted for a known host. ` +
      `If the change is expected, verify the new key out of band, then remove the old entry ` +
      `(${removeHint(host, st.where)}) and connect again with --accept-new-host-keys, or pin \`host_key: ${fp}\` once the old line is gone.`,
    fp,
  );
}

/** No key of this type for the host, and none may be recorded (or a CA is trusted for it, which ssh2 cannot check). */
function unknownKey(host: SshHost, key: Buffer, st: Extract<HostKeyStatus, { status: 'unknown' }>): TransportError {
  const label = describeHost(host);
  const fp = fingerprint(key);
  const type = keyTypeOf(key);
  if (st.ca.length) {
    return new TransportError(
      'host-key-unknown',
      host.name,
      `unknown host key for ${label}: ${type} ${fp}. known_hosts trusts a certificate authority for this host (@cert-authority, ${st.ca.join(', ')}), ` +
        `but lifeboat's SSH library (ssh2) cannot verify host certificates, so the CA cannot vouch for this server. Refusing to connect. ` +
        `Verify the key out of band, then pin \`host_key: ${fp}\` in the inventory or add a plain known_hosts line for it.`,
      fp,
    );
  }
  const others = st.otherTypes.length ? ` (known_hosts has other key types for it: ${st.otherTypes.join(', ')})` : '';
  return new TransportError(
    'host-key-unknown',
    host.name,
    `unknown host key for ${label}: ${type} ${fp}${others}, not in ${host.knownHosts.join(', ')}. ` +
      `Verify it out of band (on the server: ssh-keygen -lf /etc/ssh/ssh_host_${type.replace(/^ssh-|-sha2-.*$/g, '')}_key.pub), ` +
      `then run with --accept-new-host-keys or add \`host_key: ${fp}\` to the inventory.`,
    fp,
  );
}

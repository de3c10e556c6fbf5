// The engine's only ways out: every effect on the world goes through one of these ports.
// Implementations live in transport/, journal/, ui/; unit tests use fakes.

/** What every host has, however it is reached. */
interface HostBase {
  /** inventory name (or `local`) */
  name: string;
  /** what the host is called on screen and in the plan (for SSH: the IP or DNS name dialled) */
  address: string;
  /** per field (address, port, user, …): inventory, inventory defaults, ssh -G, built-in resolver, default */
  origins?: Record<string, string>;
  /** the failed server of a failover: being unreachable is expected, not an error */
  mayBeDown: boolean;
}

/** A host reached over SSH (src/transport/ssh.ts). */
export interface SshHost extends HostBase {
  transport: 'ssh';
  /** IP or DNS name actually dialled (after ~/.ssh/config HostName) */
  address: string;
  port: number;
  user: string;
  /** jump host chain, outermost first (ProxyJump / inventory `jump`) */
  jump?: SshHost;
  /** pinned key fingerprint, `SHA256:base64` as `ssh-keygen -lf` prints it */
  hostKey?: string;
  /** private key files to try after the agent */
  identityFiles: string[];
  /** known_hosts files to verify against (first one receives accepted new keys) */
  knownHosts: string[];
  /** system-wide known_hosts files, read but never written (ssh's GlobalKnownHostsFile) */
  globalKnownHosts?: string[];
  /** the name known_hosts is searched for instead of the address (ssh's HostKeyAlias) */
  hostKeyAlias?: string;
  /** ssh_config ProxyCommand, tokens expanded: run by /bin/sh, its stdin/stdout are the connection */
  proxyCommand?: string;
  /** where the connection settings came from (`ssh -G`, the built-in resolver), when not the inventory */
  origin?: string;
  connectTimeoutMs: number;
  /** extra algorithms the inventory explicitly allows (legacy servers) */
  algorithms?: Record<string, string[]>;
}

/** The operator's machine: `on: local`, or an inventory host that is this machine (src/transport/local.ts). */
export interface LocalHost extends HostBase {
  transport: 'local';
}

/**
 * A host as the runner sees it: everything needed to reach it, already resolved, tagged by the
 * transport that reaches it (src/transport/registry.ts). A new transport adds its variant here.
 */
export type ResolvedHost = SshHost | LocalHost;

/** The tag of a host: which transport reaches it. */
export type TransportKind = ResolvedHost['transport'];

/** The hosts one kind of transport reaches. */
export type HostOf<K extends TransportKind> = Extract<ResolvedHost, { transport: K }>;

export interface ExecRequest {
  /** the shell command, already rendered and quoted */
  command: string;
  /** true: `sudo -n`; a string: `sudo -n -u USER` */
  sudo?: boolean | string;
  env?: Record<string, string>;
  /** kill the command after this long (signal the channel, then close it) */
  timeoutMs?: number;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** aborting kills the remote command, result comes back with `canceled: true` */
  signal?: AbortSignal;
  /**
   * The command is sent only once this resolves (the runner passes its intent record's write,
   * so a session can open while the intent is being synced). When it rejects nothing is sent,
   * and exec rejects with its reason.
   */
  gate?: Promise<unknown>;
}

/** Same shape for success and failure (execa style). */
export interface ExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  canceled: boolean;
  /** signal name when the command was killed by one */
  signal: string | null;
  durationMs: number;
  /** nothing ran: a dry run's stand-in result, taken as the command doing what it should */
  simulated?: boolean;
  /** timed out or canceled after it started, and lifeboat could not confirm that it stopped */
  mayStillRun?: boolean;
}

export type TransportErrorKind =
  | 'unreachable' // could not connect: timeout, refused, no route, DNS
  | 'auth' // connected, but no key was accepted
  | 'host-key-unknown' // host key not in known_hosts and not pinned
  | 'host-key-changed' // host key differs from known_hosts / pin
  | 'connection-lost' // connection dropped while a command ran
  | 'sudo-password'; // sudo -n needs a password

/** A failure to reach or keep a host — distinct from a command that failed. */
export class TransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    readonly host: string,
    message: string,
    readonly fingerprint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

export interface Connection {
  readonly host: ResolvedHost;
  exec(req: ExecRequest): Promise<ExecResult>;
  close(): Promise<void>;
}

/** One way of reaching hosts; `H`: the hosts it reaches (a dry run or a test fake takes any). */
export interface Transport<H extends ResolvedHost = ResolvedHost> {
  /** open (or return the already open) connection; throws TransportError */
  connect(host: H): Promise<Connection>;
  /** start connecting now, for a connect() that comes soon; nothing is reported here */
  warm?(host: H): void;
  /** close every connection */
  closeAll(): Promise<void>;
}

// ---- run-level ports -------------------------------------------------------

import type { RunEvent, JournalRecord } from './engine/events.js';

/**
 * Append-only record of a run. `append` resolves only once the record is written, and synced
 * to disk when it must be (a command's intent, the run's start and end: docs/JOURNAL.md).
 */
export interface Journal {
  append(event: RunEvent): Promise<JournalRecord>;
  close(): Promise<void>;
}

/** The person at the keyboard (or a script answering for them). */
export interface Operator {
  /** who answers, `user@host`, recorded with every decision */
  readonly name: string;
  confirm(q: { step: string; title: string; question: string }): Promise<{ answer: boolean; auto: boolean }>;
  manual(q: {
    step: string;
    title: string;
    instructions: string;
    record?: string;
  }): Promise<{ done: boolean; value?: string; auto: boolean }>;
  /**
   * `output`: the last lines of stderr and stdout (outputTail); `fullOutput`: all of it (redacted), for "show the whole
   * output"
   */
  onFailure(q: {
    step: string;
    title: string;
    host?: string;
    message: string;
    canRollback: boolean;
    preflight: boolean;
    output?: string;
    fullOutput?: string;
  }): Promise<'retry' | 'skip' | 'rollback' | 'abort'>;
  inDoubt(q: {
    step: string;
    title: string;
    host: string;
    command: string;
    lastOutput: string;
  }): Promise<'rerun' | 'done' | 'abort'>;
  /** Ctrl-C while steps run */
  interrupt(q: { running: string[] }): Promise<'stop-step' | 'after-step' | 'continue'>;
  secret(q: { name: string; prompt: string }): Promise<string>;
}

/** Live output and events for the screen; never affects the run. */
export interface Reporter {
  event(record: JournalRecord): void;
  output(step: string, host: string, stream: 'stdout' | 'stderr', text: string): void;
  /** free-form line (warnings, notes) */
  note(text: string, level?: 'info' | 'warn' | 'error'): void;
  /** pause live rendering while a prompt owns the terminal */
  pause(): void;
  resume(): void;
  /** the live view ends its drawing before the summary is printed */
  close(): void | Promise<void>;
}

/** The host `on: local` steps run on: the operator's machine. */
export const LOCAL_HOST: LocalHost = { transport: 'local', name: 'local', address: 'localhost', mayBeDown: false };

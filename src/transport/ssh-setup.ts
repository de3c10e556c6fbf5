// Setting up one SSH connection (SshTransport.dial): the state its parts share, what ssh2's
// errors during setup mean, the algorithms offered, and starting the client over its stream
// (the early TCP socket, a jump host's tunnel, or a ProxyCommand).
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Client, ConnectConfig } from 'ssh2';
import type { SshHost, TransportErrorKind } from '../ports.js';
import { TransportError } from '../ports.js';
import { hostKeyAlgorithmsFor, type KnownHostsEntry } from './known-hosts.js';
import { dialSocket, proxyCommandSocket, socketErrorText } from './ssh-socket.js';

/** One dial under way: what its parts share until it ends. */
export interface Setup {
  readonly host: SshHost;
  readonly label: string;
  readonly client: Client;
  /** finish() ran: the dial is over */
  done: boolean;
  /** the host key's refusal, reported instead of the error or close that follows it */
  verifyError?: TransportError;
  /** what authentication tried, for the message when no key is accepted */
  authNotes: string[];
  /** the stream the client runs over, destroyed when the dial fails */
  sock?: Duplex;
  /** ends the dial: null when the client is ready, else why it failed */
  finish(err: TransportError | null): void;
}

/** the TCP connection of a direct dial, opened before ssh2 is loaded, and its error until then */
export interface EarlySocket {
  socket: net.Socket;
  error?: Error;
}

export function openEarly(host: SshHost): EarlySocket {
  const early: EarlySocket = { socket: dialSocket(host.address, host.port) };
  early.socket.once('error', (e) => {
    early.error = e;
  });
  return early;
}

export function setupError(host: SshHost, kind: TransportErrorKind, message: string, cause?: unknown): TransportError {
  return new TransportError(kind, host.name, message, undefined, { cause });
}

type Ssh2Error = Error & { level?: string; code?: string };

/** The client's events during setup: ready, an error (some only noted), or the server closing. */
export function watchSetup(setup: Setup): void {
  const { client } = setup;
  client.once('ready', () => setup.finish(null));
  client.on('error', (err: Ssh2Error) => {
    if (setup.verifyError) return setup.finish(setup.verifyError);
    const note = authAttemptNote(err);
    if (note) {
      setup.authNotes.push(note);
      return;
    }
    setup.finish(setupFailure(setup, err));
  });
  client.on('close', () => {
    if (setup.verifyError) return setup.finish(setup.verifyError);
    setup.finish(
      setupError(
        setup.host,
        'unreachable',
        `${setup.label} unreachable: the server closed the connection during setup`,
      ),
    );
  });
}

/** ssh2 reports these and goes on with the next auth method: what to note of them, or undefined */
function authAttemptNote(err: Ssh2Error): string | undefined {
  if (
    err.level === 'agent' ||
    (err.level === 'client-authentication' && err.message.startsWith('Error while signing'))
  ) {
    return `${err.level === 'agent' ? 'ssh-agent' : 'a key'} failed: ${err.message}`;
  }
  return undefined;
}

/** What an error of ssh2 during setup means for the operator. */
function setupFailure({ host, label, authNotes }: Setup, err: Ssh2Error): TransportError {
  if (err.level === 'client-authentication') {
    return setupError(
      host,
      'auth',
      `${label}: no key was accepted for user ${host.user} (tried: ${authNotes.join(', ') || 'no keys found'}); ` +
        "add the key to the server's authorized_keys or set identity files",
      err,
    );
  }
  if (err.level === 'client-socket' || err.code) {
    return setupError(host, 'unreachable', `${label} unreachable: ${socketErrorText(err)}`, err);
  }
  if (err.level === 'handshake') {
    return setupError(
      host,
      'unreachable',
      `${label}: SSH handshake failed: ${err.message} (a legacy server may need \`algorithms\` in the inventory)`,
      err,
    );
  }
  return setupError(host, 'unreachable', `${label} unreachable: ${err.message}`, err);
}

/**
 * the host key algorithms known_hosts has for the host first; legacy algorithms only when the inventory asks for them
 */
export function algorithmsFor(host: SshHost, entries: readonly KnownHostsEntry[]): ConnectConfig['algorithms'] {
  const algorithms: ConnectConfig['algorithms'] = {
    serverHostKey: hostKeyAlgorithmsFor(entries, host.address, host.port, host.hostKeyAlias) as never,
  };
  for (const [k, list] of Object.entries(host.algorithms ?? {})) {
    (algorithms as Record<string, unknown>)[k] =
      k === 'serverHostKey' ? [...(algorithms.serverHostKey as string[]), ...list] : { append: list };
  }
  return algorithms;
}

/** Hands the stream to the client, unless the dial is already over. */
export function startClient(setup: Setup, config: Omit<ConnectConfig, 'sock'>, stream: Duplex): void {
  if (setup.done) {
    stream.destroy();
    return;
  }
  setup.sock = stream;
  try {
    setup.client.connect({ sock: stream as unknown as ConnectConfig['sock'], ...config });
  } catch (err) {
    setup.finish(setupError(setup.host, 'unreachable', `${setup.label}: ${(err as Error).message}`, err));
  }
}

/** Runs the host's ProxyCommand and starts the client over it; its error or end during setup fails the dial. */
export function startProxy(setup: Setup, command: string, start: (stream: Duplex) => void): void {
  const { host, label } = setup;
  let proxy: ReturnType<typeof proxyCommandSocket>;
  try {
    proxy = proxyCommandSocket(command);
  } catch (err) {
    setup.finish(
      setupError(
        host,
        'unreachable',
        `${label} unreachable: ProxyCommand could not start: ${(err as Error).message}`,
        err,
      ),
    );
    return;
  }
  proxy.on('error', (err: Error) => {
    if (!setup.done)
      setup.finish(
        setupError(
          host,
          'unreachable',
          `${label} unreachable through its ProxyCommand (${command}): ${err.message}`,
          err,
        ),
      );
  });
  proxy.once('end', () => {
    if (!setup.done)
      setImmediate(() =>
        setup.finish(
          setupError(
            host,
            'unreachable',
            `${label} unreachable: its ProxyCommand (${command}) ended during setup${proxy.stderrTail() ? `: ${proxy.stderrTail()}` : ''}`,
          ),
        ),
      );
  });
  start(proxy);
}

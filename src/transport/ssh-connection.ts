// One SSH connection: commands on exec channels (script on stdin, killed as a process group
// on timeout or cancel), port forwarding for jump hosts, and what a lost connection means for
// the commands still running on it.
import type { Duplex } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import type { Connection, ExecRequest, ExecResult, SshHost } from '../ports.js';
import { TransportError } from '../ports.js';
import { describeHost } from './ssh-socket.js';
import { OutputCollector, bootstrapCommand, buildScript, execResult, isSudoPasswordFailure, killCommand, sudoPasswordMessage } from './shell.js';

interface PendingExec {
  lost(err: TransportError): void;
}

// How long a killed command may take to close its channel before it is closed for it.
const DRAIN_AFTER_KILL_MS = 2000;

export class SshConnection implements Connection {
  alive = true;
  private readonly pending = new Set<PendingExec>();
  /** the server's login shell is bash and leads each command's session: learned from the first command's marker */
  private direct = false;

  constructor(
    readonly host: SshHost,
    readonly client: Client,
    private readonly onGone: () => void,
  ) {
    client.on('error', () => {
      // errors after `ready` are followed by `close`, handled below
    });
    client.on('close', () => {
      this.alive = false;
      this.onGone();
      const err = new TransportError('connection-lost', host.name, `${describeHost(host)}: connection lost while a command ran`);
      for (const p of [...this.pending]) p.lost(err);
    });
  }

  /**
   * A raw exec on this connection (no wrapping). `onOpen` runs as soon as the session is
   * granted, before anything else is parsed: the server's replies that follow (exit status,
   * EOF, close) may sit in the same read and be handled before an awaiting caller resumes,
   * and an event nobody listens to yet is gone.
   */
  private openExec(command: string, onOpen?: (channel: ClientChannel) => void): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      const lost = (why: string) =>
        reject(new TransportError('connection-lost', this.host.name, `${describeHost(this.host)}: ${why}`));
      if (!this.alive) return lost('connection is closed');
      try {
        this.client.exec(command, (err, channel) => {
          if (err) return lost(this.alive ? `could not open a session: ${err.message}` : 'connection lost');
          onOpen?.(channel);
          resolve(channel);
        });
      } catch (err) {
        lost(`could not open a session: ${(err as Error).message}`);
      }
    });
  }

  /** Open a tunnel to address:port from this host (jump host use). */
  forwardOut(address: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      try {
        this.client.forwardOut('127.0.0.1', 0, address, port, (err, stream) => (err ? reject(err) : resolve(stream)));
      } catch (err) {
        reject(err as Error);
      }
    });
  }

  private killGroup(pgid: number, sudo: ExecRequest['sudo']): Promise<void> {
    return this.openExec(killCommand(pgid, sudo)).then(
      (ch) =>
        new Promise<void>((resolve) => {
          ch.on('close', () => resolve());
          ch.resume();
          ch.stderr.resume();
          ch.end();
        }),
      () => undefined,
    );
  }

  async exec(req: ExecRequest): Promise<ExecResult> {
    const started = performance.now();
    if (req.signal?.aborted) {
      return { exitCode: null, stdout: '', stderr: '', timedOut: false, canceled: true, signal: null, durationMs: 0 };
    }
    const script = buildScript(req.command, req.env);
    let exit: { code: number | null; signal: string | null } | null = null;
    const channel = await this.openExec(bootstrapCommand(req.sudo, { direct: this.direct }), (ch) =>
      ch.on('exit', (code: number | null, signal?: string) => {
        exit = { code: code ?? null, signal: signal ?? null };
      }),
    );

    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let gateFailed: { reason: unknown } | undefined;
      let killReason: 'timeout' | 'cancel' | null = null;
      let drainTimer: NodeJS.Timeout | undefined;
      let markerTimer: NodeJS.Timeout | undefined;

      const collector = new OutputCollector(req.onStdout, req.onStderr, (pgid) => {
        if (killReason) startKill(pgid);
      });

      let giveUpTimer: NodeJS.Timeout | undefined;
      const forceClose = () => {
        try {
          channel.signal('KILL'); // reaches the wrapper at least
        } catch {
          // channel already gone
        }
        channel.close();
        // sshd keeps a session open until its process exits: if that never happens,
        // report what we have rather than hang
        giveUpTimer ??= setTimeout(() => settle(), DRAIN_AFTER_KILL_MS);
      };
      const startKill = (pgid: number) => {
        clearTimeout(markerTimer);
        void this.killGroup(pgid, req.sudo).then(() => {
          // orphans outside the group may hold the channel open: don't wait for them
          drainTimer ??= setTimeout(forceClose, DRAIN_AFTER_KILL_MS);
        });
      };
      const kill = (reason: 'timeout' | 'cancel') => {
        if (killReason || settled) return;
        killReason = reason;
        const pgid = collector.marker.pgid;
        if (pgid !== null) startKill(pgid);
        // no process group yet (the script has not started): close the channel after a grace period
        else markerTimer = setTimeout(forceClose, DRAIN_AFTER_KILL_MS);
      };

      const timer = req.timeoutMs !== undefined ? setTimeout(() => kill('timeout'), req.timeoutMs) : undefined;
      const onAbort = () => kill('cancel');
      req.signal?.addEventListener('abort', onAbort, { once: true });

      const cleanup = () => {
        settled = true;
        clearTimeout(timer);
        clearTimeout(drainTimer);
        clearTimeout(markerTimer);
        clearTimeout(giveUpTimer);
        req.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(pendingEntry);
      };
      const pendingEntry: PendingExec = {
        lost: (err) => {
          if (settled) return;
          cleanup();
          collector.end();
          reject(err);
        },
      };
      this.pending.add(pendingEntry);

      channel.on('data', (d: Buffer) => settled || collector.out(d));
      channel.stderr.on('data', (d: Buffer) => settled || collector.err(d));
      const settle = () => {
        if (settled) return;
        collector.end();
        if (gateFailed) {
          // the command was never sent: the remote shell read an empty script and ended
          cleanup();
          reject(gateFailed.reason);
          return;
        }
        const stderr = collector.stderr.toString();
        if (!killReason && exit === null) {
          cleanup();
          reject(new TransportError('connection-lost', this.host.name, `${describeHost(this.host)}: the session ended without an exit status (connection lost?)`));
          return;
        }
        cleanup();
        if (collector.marker.direct && !req.sudo) this.direct = true;
        if (!killReason && isSudoPasswordFailure(req.sudo, collector.marker.seen, stderr)) {
          reject(new TransportError('sudo-password', this.host.name, sudoPasswordMessage(this.host.name, req.sudo)));
          return;
        }
        resolve(execResult(collector, stderr, exit?.code ?? null, exit?.signal ?? null, killReason, started));
      };
      // the connection's own `close` may come right after the channel's: let it claim this first
      channel.on('close', () => setImmediate(settle));
      const send = () => {
        if (settled) return;
        if (killReason || req.signal?.aborted) {
          // timed out or aborted before the command went: send no script, so nothing runs
          killReason ??= 'cancel';
          channel.end();
        } else {
          channel.end(script);
        }
      };
      // the session is open; the command itself goes only once the gate (the intent's sync) opens
      if (!req.gate) send();
      else req.gate.then(send, (reason: unknown) => {
        gateFailed = { reason };
        if (!settled) channel.end();
      });
    });
  }

  close(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      // a peer behind a dead link never answers the goodbye: don't wait for it
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, 2000);
      this.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.end();
    });
  }
}

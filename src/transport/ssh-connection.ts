// One SSH connection: commands on exec channels (script on stdin, killed as a process group
// on timeout or cancel), port forwarding for jump hosts, and what a lost connection means for
// the commands still running on it.
import type { Duplex } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import type { Connection, ExecRequest, ExecResult, SshHost } from '../ports.js';
import { TransportError } from '../ports.js';
import { describeHost } from './ssh-socket.js';
import {
  OutputCollector,
  bootstrapCommand,
  buildScript,
  execResult,
  isSudoPasswordFailure,
  killCommand,
  sudoPasswordMessage,
  MARKER_WAIT_MS,
  KILL_WAIT_MS,
} from './shell.js';

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
    /** the stream the client writes its packets to (corked to send several in one write) */
    private readonly sock?: Duplex,
  ) {
    client.on('error', () => {
      // errors after `ready` are followed by `close`, handled below
    });
    client.on('close', () => {
      this.alive = false;
      this.onGone();
      const err = new TransportError(
        'connection-lost',
        host.name,
        `${describeHost(host)}: connection lost while a command ran`,
      );
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

  /** True once the kill command ran to its end (the group is gone); false when that is not known. */
  private killGroup(pgid: number, sudo: ExecRequest['sudo']): Promise<boolean> {
    let exitCode: number | null = null;
    const opened = this.openExec(killCommand(pgid, sudo), (ch) =>
      ch.on('exit', (code: number | null) => {
        exitCode = code;
      }),
    );
    return opened.then(
      (ch) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => {
            ch.close();
            resolve(false);
          }, KILL_WAIT_MS);
          ch.on('close', () => {
            clearTimeout(timer);
            resolve(exitCode === 0);
          });
          ch.resume();
          ch.stderr.resume();
          ch.end();
        }),
      () => false,
    );
  }

  async exec(req: ExecRequest): Promise<ExecResult> {
    const started = performance.now();
    if (req.signal?.aborted) {
      return { exitCode: null, stdout: '', stderr: '', timedOut: false, canceled: true, signal: null, durationMs: 0 };
    }
    const script = buildScript(req.command, req.env);
    let exit: ExitStatus | null = null;
    const channel = await this.openExec(bootstrapCommand(req.sudo, { direct: this.direct }), (ch) => {
      quietDestroy(ch);
      ch.on('exit', (code: number | null, signal?: string) => {
        exit = { code: code ?? null, signal: signal ?? null };
      });
    });
    return new ChannelExec(this.execOwner(), channel, req, { script, started, exitStatus: () => exit }).run();
  }

  /** what a command's ChannelExec needs of this connection */
  private execOwner(): ExecOwner {
    return {
      host: this.host,
      sock: this.sock,
      pending: this.pending,
      killGroup: (pgid, sudo) => this.killGroup(pgid, sudo),
      learnedDirect: () => {
        this.direct = true;
      },
    };
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

type ExitStatus = { code: number | null; signal: string | null };

/**
 * ssh2's channel ends its writable side again when it is destroyed (once both sides are done);
 * ours was ended when the script went, and a second `end()` builds an ERR_STREAM_ALREADY_FINISHED
 * error with its stack trace, for nobody (~40 µs per command). The same, without ending twice.
 */
function quietDestroy(channel: ClientChannel): void {
  const close = () => channel.close();
  channel.destroy = function (this: ClientChannel) {
    if (!this.writableEnded) this.end();
    close();
    return this;
  };
}

/** What a command on a channel needs of its connection. */
interface ExecOwner {
  readonly host: SshHost;
  /** the connection's stream: the script and its EOF go out in one write */
  readonly sock?: Duplex;
  /** the commands a lost connection fails */
  readonly pending: Set<PendingExec>;
  /** kill the command's process group, from a session of its own: true once it is known gone */
  killGroup(pgid: number, sudo: ExecRequest['sudo']): Promise<boolean>;
  /** the command's marker showed that the login shell leads its session */
  learnedDirect(): void;
}

/**
 * One command on its open session: the script goes once the gate opens; output is collected;
 * a timeout or cancel kills the process group (then the channel, if it does not close); the
 * result comes when the channel closes, or the failure when the connection is lost.
 */
class ChannelExec implements PendingExec {
  private settled = false;
  private gateFailed: { reason: unknown } | undefined;
  private killReason: 'timeout' | 'cancel' | null = null;
  /** the script went to the remote shell: from then on something may run */
  private scriptSent = false;
  /** the kill of the process group, once started; the result waits for it */
  private killing: Promise<boolean> | undefined;
  private waitedForKill = false;
  /** the command is known to have stopped: its group's kill ran to its end */
  private stopConfirmed = false;
  private timer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private markerTimer: NodeJS.Timeout | undefined;
  private giveUpTimer: NodeJS.Timeout | undefined;
  private readonly collector: OutputCollector;
  private readonly onAbort = () => this.kill('cancel');
  private resolve!: (result: ExecResult) => void;
  private reject!: (err: unknown) => void;

  constructor(
    private readonly owner: ExecOwner,
    private readonly channel: ClientChannel,
    private readonly req: ExecRequest,
    private readonly command: { script: string; started: number; exitStatus: () => ExitStatus | null },
  ) {
    this.collector = new OutputCollector(req.onStdout, req.onStderr, (pgid) => {
      if (this.killReason) this.startKill(pgid);
    });
  }

  run(): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.start();
    });
  }

  private start(): void {
    const { req, channel, collector } = this;
    if (req.timeoutMs !== undefined) this.timer = setTimeout(() => this.kill('timeout'), req.timeoutMs);
    req.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.owner.pending.add(this);

    channel.on('data', (d: Buffer) => this.settled || collector.out(d));
    channel.stderr.on('data', (d: Buffer) => this.settled || collector.err(d));
    // the connection's own `close` may come right after the channel's: let it claim this first
    channel.on('close', () => setImmediate(() => this.settle()));
    // the session is open; the command itself goes only once the gate (the intent's sync) opens
    if (!req.gate) this.send();
    else
      req.gate.then(
        () => this.send(),
        (reason: unknown) => {
          this.gateFailed = { reason };
          if (!this.settled) channel.end();
        },
      );
  }

  private send(): void {
    if (this.settled) return;
    if (this.killReason || this.req.signal?.aborted) {
      // timed out or aborted before the command went: send no script, so nothing runs
      this.killReason ??= 'cancel';
      this.channel.end();
    } else {
      this.scriptSent = true;
      // the script's packet and the EOF after it in one write (one system call, one TCP segment)
      const sock = this.owner.sock;
      sock?.cork();
      try {
        this.channel.end(this.command.script);
      } finally {
        sock?.uncork();
      }
    }
  }

  private kill(reason: 'timeout' | 'cancel'): void {
    if (this.killReason || this.settled) return;
    this.killReason = reason;
    const pgid = this.collector.marker.pgid;
    if (pgid !== null) this.startKill(pgid);
    // the script went but its process group is not known yet: wait for it (the script's first
    // line), then kill the group; close the channel only when it never comes
    else if (this.scriptSent) this.markerTimer = setTimeout(() => this.forceClose(), MARKER_WAIT_MS);
    // not sent yet (the gate is closed): it never will be; close the channel after a grace period
    else this.markerTimer = setTimeout(() => this.forceClose(), DRAIN_AFTER_KILL_MS);
  }

  private startKill(pgid: number): void {
    clearTimeout(this.markerTimer);
    this.killing = this.owner.killGroup(pgid, this.req.sudo).then((gone) => {
      this.stopConfirmed = gone;
      // orphans outside the group may hold the channel open: don't wait for them
      if (!this.settled) this.drainTimer ??= setTimeout(() => this.forceClose(), DRAIN_AFTER_KILL_MS);
      return gone;
    });
  }

  private forceClose(): void {
    try {
      this.channel.signal('KILL'); // reaches the wrapper at least
    } catch {
      // channel already gone
    }
    this.channel.close();
    // sshd keeps a session open until its process exits: if that never happens,
    // report what we have rather than hang
    this.giveUpTimer ??= setTimeout(() => this.settle(), DRAIN_AFTER_KILL_MS);
  }

  /** the connection was lost while the command ran */
  lost(err: TransportError): void {
    if (this.settled) return;
    this.cleanup();
    this.collector.end();
    this.reject(err);
  }

  private cleanup(): void {
    this.settled = true;
    clearTimeout(this.timer);
    clearTimeout(this.drainTimer);
    clearTimeout(this.markerTimer);
    clearTimeout(this.giveUpTimer);
    this.req.signal?.removeEventListener('abort', this.onAbort);
    this.owner.pending.delete(this);
  }

  /** the channel closed (or never will): the result, or why there is none */
  private settle(): void {
    if (this.settled) return;
    if (this.killing && !this.waitedForKill) {
      // a group being killed: the result comes once the kill has ended, never while it may still run
      this.waitedForKill = true;
      void this.killing.then(() => this.settle());
      return;
    }
    const { collector, req, owner, killReason } = this;
    collector.end();
    if (this.gateFailed) {
      // the command was never sent: the remote shell read an empty script and ended
      this.cleanup();
      this.reject(this.gateFailed.reason);
      return;
    }
    const stderr = collector.stderr.toString();
    const exit = this.command.exitStatus();
    if (!killReason && exit === null) {
      this.cleanup();
      this.reject(
        new TransportError(
          'connection-lost',
          owner.host.name,
          `${describeHost(owner.host)}: the session ended without an exit status (connection lost?)`,
        ),
      );
      return;
    }
    this.cleanup();
    if (collector.marker.direct && !req.sudo) owner.learnedDirect();
    if (!killReason && isSudoPasswordFailure(req.sudo, collector.marker.seen, stderr)) {
      this.reject(new TransportError('sudo-password', owner.host.name, sudoPasswordMessage(owner.host.name, req.sudo)));
      return;
    }
    // a stop before the script went ran nothing: that stop needs no confirming
    this.resolve(
      execResult(
        collector,
        stderr,
        exit?.code ?? null,
        exit?.signal ?? null,
        killReason,
        this.command.started,
        this.stopConfirmed || !this.scriptSent,
      ),
    );
  }
}

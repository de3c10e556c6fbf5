// `on: local` steps: the same wrapping as remote steps (see shell.ts), run on this machine.
import type { Connection, ExecRequest, ExecResult, LocalHost, Transport } from '../ports.js';
import { TransportError, LOCAL_HOST } from '../ports.js';
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

// execa is only needed once a local step runs: keep it off the CLI's start-up path
const loadExeca = () => import('execa').then((m) => m.execa);

// How long a killed command may take to let go of its pipes before we stop waiting.
const DRAIN_AFTER_KILL_MS = 2000;

export async function execLocal(host: LocalHost, req: ExecRequest): Promise<ExecResult> {
  const started = performance.now();
  const execa = await loadExeca();
  if (req.signal?.aborted) {
    return { exitCode: null, stdout: '', stderr: '', timedOut: false, canceled: true, signal: null, durationMs: 0 };
  }
  const script = buildScript(req.command, req.env);
  let killReason: 'timeout' | 'cancel' | null = null;
  let pendingKill = false;
  /** the group's kill, once started: true when it ran to its end (the group is gone) */
  let killing: Promise<boolean> | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  let markerTimer: NodeJS.Timeout | undefined;

  // the script never reported its group (or its kill left the wrapper behind): kill the wrapper itself
  const killWrapper = () => {
    child.kill('SIGKILL');
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  const runKill = (pgid: number) => {
    clearTimeout(markerTimer);
    // the kill runs through the same sudo as the command (a root-owned group needs it)
    killing = execa('sh', ['-c', killCommand(pgid, req.sudo)], {
      reject: false,
      stdin: 'ignore',
      timeout: KILL_WAIT_MS,
    }).then(
      (r) => r.exitCode === 0,
      () => false,
    );
    // orphans outside the group may hold the pipes open: don't wait for them
    void killing.then(() => (drainTimer ??= setTimeout(killWrapper, DRAIN_AFTER_KILL_MS)));
  };
  const collector = new OutputCollector(req.onStdout, req.onStderr, (pgid) => {
    if (pendingKill) runKill(pgid);
  });

  const child = execa('sh', ['-c', bootstrapCommand(req.sudo)], {
    input: script,
    reject: false,
    buffer: false,
    stripFinalNewline: false,
  });
  child.stdout?.on('data', (d: Buffer) => collector.out(d));
  child.stderr?.on('data', (d: Buffer) => collector.err(d));

  const kill = (reason: 'timeout' | 'cancel') => {
    if (killReason) return;
    killReason = reason;
    const pgid = collector.marker.pgid;
    if (pgid !== null) return runKill(pgid);
    // the script has not reported its group yet (its first line): wait for it, then the wrapper
    pendingKill = true;
    markerTimer = setTimeout(killWrapper, MARKER_WAIT_MS);
  };
  const timer = req.timeoutMs !== undefined ? setTimeout(() => kill('timeout'), req.timeoutMs) : undefined;
  const onAbort = () => kill('cancel');
  req.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const res = await child;
    collector.end();
    const stderr = collector.stderr.toString();
    if (!killReason && isSudoPasswordFailure(req.sudo, collector.marker.seen, stderr)) {
      throw new TransportError('sudo-password', host.name, sudoPasswordMessage(host.name, req.sudo), undefined);
    }
    // a stop's result comes once the group's kill has ended, never while it may still run
    const stopConfirmed = killing ? await killing : false;
    return execResult(collector, stderr, res.exitCode ?? null, res.signal ?? null, killReason, started, stopConfirmed);
  } finally {
    clearTimeout(timer);
    clearTimeout(drainTimer);
    clearTimeout(markerTimer);
    req.signal?.removeEventListener('abort', onAbort);
  }
}

class LocalConnection implements Connection {
  constructor(readonly host: LocalHost) {}
  async exec(req: ExecRequest): Promise<ExecResult> {
    // nothing starts before the gate opens
    if (req.gate) await req.gate;
    return execLocal(this.host, req);
  }
  async close(): Promise<void> {}
}

export class LocalTransport implements Transport<LocalHost> {
  private readonly connections = new Map<string, LocalConnection>();

  /** `host` is the runner's `local` host, or an inventory host that is this machine: run here. */
  async connect(host: LocalHost = LOCAL_HOST): Promise<Connection> {
    let c = this.connections.get(host.name);
    if (!c) {
      c = new LocalConnection(host);
      this.connections.set(host.name, c);
    }
    return c;
  }

  async closeAll(): Promise<void> {
    this.connections.clear();
  }
}

// Command wrapping shared by the SSH and local transports. Pure: strings in, strings out.
//
// How a step's command reaches a shell:
//   1. The process that is started (the SSH exec request, or `sh -c` locally) gets a
//      fixed BOOTSTRAP line. It holds no step text, so nothing secret ever shows up in
//      a process list.
//   2. The real SCRIPT is written to the bootstrap's stdin, followed by EOF. The bootstrap
//      reads it into a variable and `eval`s it, so the command itself sees EOF on stdin.
//   3. The script runs in a session of its own (`setsid -w`), so it leads its own process
//      group. Its first act is to print that group's id on stderr between marker bytes;
//      the transport strips the marker and, on timeout or cancel, kills the whole group
//      (`kill -TERM -- -PGID`, then KILL), which reaches children that a closed channel
//      or an SSH `signal` request would leave running.
//   4. `sudo: true` / `sudo: USER` put `sudo -n [-u USER]` in front of the inner shell;
//      the script still arrives on stdin, and the kill command runs through the same sudo.
//      So the sudo rule must let the user run `setsid` and `kill` without a password
//      (in practice `NOPASSWD: ALL` for that target user: a step can run any command).

import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { ExecResult } from '../ports.js';

// one quoting rule for templates, locks and transports
import { shellQuote } from '../util/shell-quote.js';
export { shellQuote };

/** A sudo target from ExecRequest.sudo, as the prefix of a command line. */
export function sudoPrefix(sudo: boolean | string | undefined): string {
  if (sudo === undefined || sudo === false) return '';
  if (sudo === true) return 'sudo -n ';
  if (sudo === '') throw new Error('sudo user must not be empty');
  return `sudo -n -u ${shellQuote(sudo)} `;
}

// Record separator bytes around the marker: they never occur in ordinary text output.
const MARK = '\x1e';
const MARKER_PREFIX = `${MARK}lifeboat-pgid:`;
// `:direct` after the id: the login shell ran the script itself (bash, session leader)
const MARKER_RE = /\x1elifeboat-pgid:(\d+)(:direct)?\x1e\n/;

// The inner shell's program: read stdin up to EOF, then run it. bash 4.1+: `read -N` with a
// count no script reaches takes the whole input, byte for byte, in a few reads (`read -d ''`,
// kept for older bash, reads a pipe one byte per system call: ~0.3 ms per step); sh: `$(cat)`.
const BASH_READER =
  'if ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 1))); ' +
  'then IFS= read -r -N 2147483647 __lb_s; else IFS= read -r -d "" __lb_s; fi; eval "$__lb_s"';
const SH_READER = '__lb_s=$(cat); eval "$__lb_s"';

/**
 * The fixed command line handed to the remote login shell (or `sh -c` locally).
 * Prefers bash; falls back to sh when bash is missing, and runs without a new session
 * only when `setsid` is missing.
 */
export function bootstrapCommand(sudo?: boolean | string, opts: { direct?: boolean } = {}): string {
  const s = sudoPrefix(sudo);
  // an earlier command on this connection showed that the login shell is bash and leads its
  // session (OpenSSH starts every command so): it reads and runs the script at once, without
  // the checks below (~0.15 ms of the remote shell's time per step)
  if (opts.direct && !s) return `__lb_d=1; ${BASH_READER}`;
  // sshd starts the login shell as a session leader: without sudo (which forks) an
  // `exec` keeps that pid, so the script already leads its process group and `setsid`
  // (a fork and an exec per step) is only needed elsewhere. `read` from /proc is a builtin.
  const leader = s
    ? ''
    : // a bash login shell runs the reader itself: no exec of a second bash (~1-2 ms per step)
      'if read -r _ _ _ _ __lb_g _ </proc/$$/stat 2>/dev/null && [ "$__lb_g" = "$$" ]; then ' +
      `if [ -n "\${BASH_VERSION-}" ]; then unset __lb_g; __lb_d=1; eval "$__lb_r"; exit; fi; ` +
      'exec "$__lb_i" -c "$__lb_r"; fi; ';
  return (
    // `__lb_d` says "ran directly" only when set below, never from the environment
    'unset __lb_d; ' +
    // a bash login shell needs no search for bash
    `if [ -n "\${BASH_VERSION-}" ] || command -v bash >/dev/null 2>&1; then __lb_i=bash; __lb_r=${shellQuote(BASH_READER)}; ` +
    `else __lb_i=sh; __lb_r=${shellQuote(SH_READER)}; fi; ` +
    leader +
    `if command -v setsid >/dev/null 2>&1; then exec ${s}setsid -w "$__lb_i" -c "$__lb_r"; ` +
    `else exec ${s}"$__lb_i" -c "$__lb_r"; fi`
  );
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The script sent on stdin: marker with the process group id, strict mode, exported env,
 * then the command. `pipefail` applies under bash (every shell it runs under when present).
 */
export function buildScript(command: string, env: Record<string, string> = {}): string {
  // the bootstrap reads the script up to a NUL; a shell could not hold one anyway
  if (command.includes('\0')) throw new Error('a command cannot contain a NUL character');
  const lines = [
    // $$ is the process group id: this shell leads a session (sshd's or setsid's)
    `printf '\\036lifeboat-pgid:%s%s\\036\\n' "$$" "\${__lb_d:+:direct}" >&2`,
    'unset __lb_s __lb_i __lb_r __lb_d',
    'set -e',
    'if [ -n "${BASH_VERSION-}" ]; then set -o pipefail; fi',
  ];
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new Error(`invalid environment variable name: ${JSON.stringify(name)}`);
    if (value.includes('\0')) throw new Error(`environment variable ${name} cannot contain a NUL character`);
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  lines.push(command);
  return lines.join('\n') + '\n';
}

// How long a command stopped after its script went may take to report its process group (the
// script's first line): a loaded machine starts the shell late, and without the group only the
// wrapper could be signalled, leaving the command running. Both transports wait this long.
export const MARKER_WAIT_MS = 10_000;
// How long the kill of a process group may take before the result says it was not confirmed.
export const KILL_WAIT_MS = 10_000;

/**
 * Kills a process group: TERM, up to ~0.5 s for it to go, then KILL. Runs with the same
 * sudo as the command it kills. Always exits 0.
 */
export function killCommand(pgid: number, sudo?: boolean | string): string {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`refusing to kill process group ${pgid}`);
  // the external kill (procps / util-linux): dash's builtin rejects `--`, and without `--`
  // procps reads `-PGID` as a signal number
  const k = `${sudoPrefix(sudo) || 'env '}kill`;
  return (
    `${k} -TERM -- -${pgid} 2>/dev/null || exit 0; ` +
    `for __lb_n in 1 2 3 4 5; do sleep 0.1; ${k} -0 -- -${pgid} 2>/dev/null || exit 0; done; ` +
    `${k} -KILL -- -${pgid} 2>/dev/null; exit 0`
  );
}

/**
 * Strips the process-group marker from the start of a stderr stream and remembers the id.
 * Text before the marker (e.g. a sudo complaint) passes through; once the marker was seen,
 * or once text proves there is none, everything passes through unchanged.
 */
export class MarkerFilter {
  pgid: number | null = null;
  /** the login shell ran the script itself (see bootstrapCommand) */
  direct = false;
  private pending = '';
  private done = false;

  get seen(): boolean {
    return this.pgid !== null;
  }

  /** Feed decoded stderr text; returns the text to show. */
  push(text: string): string {
    if (this.done) return text;
    this.pending += text;
    const m = MARKER_RE.exec(this.pending);
    if (m) {
      this.pgid = Number(m[1]);
      this.direct = m[2] !== undefined;
      this.done = true;
      const out = this.pending.slice(0, m.index) + this.pending.slice(m.index + m[0].length);
      this.pending = '';
      return out;
    }
    const start = this.pending.indexOf(MARK);
    if (start === -1) {
      const out = this.pending;
      this.pending = '';
      return out;
    }
    // keep a possible marker start; give up on it when it cannot be a marker after all
    const candidate = this.pending.slice(start);
    const couldBeMarker =
      candidate.length < MARKER_PREFIX.length
        ? MARKER_PREFIX.startsWith(candidate)
        : candidate.startsWith(MARKER_PREFIX) && /^\x1elifeboat-pgid:\d*(?::d?i?r?e?c?t?)?(\x1e)?$/.test(candidate);
    if (couldBeMarker) {
      const out = this.pending.slice(0, start);
      this.pending = candidate;
      return out;
    }
    this.done = true;
    const out = this.pending;
    this.pending = '';
    return out;
  }

  /** End of stream: whatever is still held back. */
  flush(): string {
    const out = this.pending;
    this.pending = '';
    this.done = true;
    return out;
  }
}

/**
 * True when `sudo -n` itself refused for want of a password. Only when the script never
 * started (no marker), so a command that runs sudo on its own is not mistaken for it.
 */
export function isSudoPasswordFailure(
  sudo: boolean | string | undefined,
  markerSeen: boolean,
  stderr: string,
): boolean {
  if (!sudo || markerSeen) return false;
  return /sudo: (a password is required|a terminal is required)/.test(stderr);
}

/** The message of a `sudo-password` TransportError. */
export function sudoPasswordMessage(hostName: string, sudo: boolean | string | undefined): string {
  const as = typeof sudo === 'string' ? ` -u ${sudo}` : '';
  return (
    `sudo on ${hostName} asks for a password (sudo -n${as}): lifeboat never types passwords into sudo. ` +
    `Allow the commands without a password (a NOPASSWD rule in /etc/sudoers.d/) or connect as a user that needs no sudo.`
  );
}

/** Keeps the last `limit` characters of a stream. */
export class TailBuffer {
  private chunks: string[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly limit = 1024 * 1024) {}

  push(text: string): void {
    if (!text) return;
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > this.limit && this.chunks.length > 0) {
      const over = this.size - this.limit;
      const first = this.chunks[0];
      this.truncated = true;
      if (first.length <= over) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.slice(over);
        this.size -= over;
      }
    }
  }

  toString(): string {
    const s = this.chunks.join('');
    this.chunks = s ? [s] : [];
    return s;
  }
}

/**
 * Decodes a command's stdout/stderr as UTF-8 (multi-byte characters split across chunks
 * survive), strips the process-group marker, streams to the callbacks and keeps bounded tails.
 */
export class OutputCollector {
  readonly marker = new MarkerFilter();
  readonly stdout = new TailBuffer();
  readonly stderr = new TailBuffer();
  private readonly outDecoder = new StringDecoder('utf8');
  private readonly errDecoder = new StringDecoder('utf8');
  private ended = false;

  constructor(
    private readonly onStdout?: (chunk: string) => void,
    private readonly onStderr?: (chunk: string) => void,
    /** called once when the process group id is known */
    private readonly onPgid?: (pgid: number) => void,
  ) {}

  out(data: Buffer): void {
    this.emitOut(this.outDecoder.write(data));
  }

  /** `setsid -w` reported the script killed by a signal (its exit code is then the signal number) */
  killedBySignal = false;

  err(data: Buffer): void {
    const hadPgid = this.marker.seen;
    this.emitErr(this.stripWrapperNotice(this.marker.push(this.errDecoder.write(data))));
    if (!hadPgid && this.marker.pgid !== null) this.onPgid?.(this.marker.pgid);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.emitOut(this.outDecoder.end());
    this.emitErr(this.stripWrapperNotice(this.marker.push(this.errDecoder.end()) + this.marker.flush()));
  }

  // `setsid -w` complains when the script dies of a signal; that line is ours, not the command's
  private stripWrapperNotice(text: string): string {
    if (!text.includes('setsid: child')) return text;
    return text.replace(/setsid: child \d+ did not exit normally[^\n]*\n?/g, () => {
      this.killedBySignal = true;
      return '';
    });
  }

  private emitOut(text: string): void {
    if (!text) return;
    this.stdout.push(text);
    this.onStdout?.(text);
  }

  private emitErr(text: string): void {
    if (!text) return;
    this.stderr.push(text);
    this.onStderr?.(text);
  }
}

/** `SIGTERM` for 15 (null when unknown). */
export function signalName(n: number): string | null {
  for (const [name, num] of Object.entries(constants.signals)) if (num === n) return name;
  return null;
}

/**
 * Exit code and signal as reported to the user: a script killed by a signal (not by us)
 * shows the signal, like execa does.
 */
export function finalStatus(
  collector: OutputCollector,
  code: number | null,
  signal: string | null,
): { exitCode: number | null; signal: string | null } {
  if (collector.killedBySignal && code !== null && signal === null) return { exitCode: null, signal: signalName(code) };
  return { exitCode: code, signal };
}

/**
 * The one result shape both transports return, from what was collected and how the command ended.
 * `stopConfirmed`: for a command stopped by a timeout or cancel, whether it is known to have stopped
 * (its group's kill ran to its end, or nothing was ever sent); when not, the result says it may still run.
 */
export function execResult(
  collector: OutputCollector,
  stderr: string,
  code: number | null,
  signal: string | null,
  killReason: 'timeout' | 'cancel' | null,
  startedAt: number,
  stopConfirmed = false,
): ExecResult {
  const status = finalStatus(collector, code, signal);
  const result: ExecResult = {
    exitCode: killReason ? null : status.exitCode,
    stdout: collector.stdout.toString(),
    stderr,
    timedOut: killReason === 'timeout',
    canceled: killReason === 'cancel',
    signal: killReason ? 'SIGTERM' : status.signal,
    durationMs: performance.now() - startedAt,
  };
  if (killReason && !stopConfirmed) result.mayStillRun = true;
  return result;
}

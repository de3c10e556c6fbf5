// The byte stream under an SSH connection: a TCP socket (no delay, keep-alive) or a
// ProxyCommand's stdin/stdout, and socket errors in words.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { Duplex as DuplexStream } from 'node:stream';
import type { SshHost } from '../ports.js';

/**
 * A TCP socket to an SSH server with Nagle's algorithm off: with it on, every small
 * request/response of a step waits for delayed ACKs (~45 ms per command on loopback).
 */
export function dialSocket(address: string, port: number): net.Socket {
  const socket = net.connect({ host: address, port });
  socket.setNoDelay(true);
  return socket;
}

/** ssh_config's ProxyCommand: run by /bin/sh (as ssh does, with `exec`); its stdout and stdin are the connection. */
export function proxyCommandSocket(command: string): DuplexStream & { stderrTail(): string } {
  const child = spawn('/bin/sh', ['-c', `exec ${command}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  const duplex = new DuplexStream({
    read() {
      child.stdout.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      if (!child.stdin.writable) return cb(new Error('ProxyCommand is gone'));
      child.stdin.write(chunk, (err) => cb(err ?? null));
    },
    final(cb) {
      child.stdin.end();
      cb();
    },
    destroy(err, cb) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      cb(err);
    },
  }) as DuplexStream & { stderrTail(): string };
  duplex.stderrTail = () => stderr.trim().split('\n').slice(-3).join('; ');
  child.stdout.on('data', (d: Buffer) => {
    if (!duplex.push(d)) child.stdout.pause();
  });
  child.stdout.on('end', () => duplex.push(null));
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4096);
  });
  child.stdin.on('error', () => undefined); // EPIPE once the command is gone: reported as the connection's end
  child.on('error', (err) => duplex.destroy(err));
  child.on('close', (code, signal) => {
    if (!duplex.destroyed)
      duplex.destroy(
        code
          ? new Error(`ProxyCommand exited with status ${code}${stderr ? `: ${duplex.stderrTail()}` : ''}`)
          : signal
            ? undefined
            : undefined,
      );
  });
  return duplex;
}

export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}

export function describeHost(host: SshHost): string {
  return `host ${host.name} (${host.address}:${host.port})`;
}

export function socketErrorText(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EHOSTUNREACH':
      return 'no route to host';
    case 'ENETUNREACH':
      return 'network is unreachable';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
      return 'connection reset by peer';
    case 'ENOTFOUND':
      return 'name not known (DNS)';
    case 'EAI_AGAIN':
      return 'name lookup failed (DNS)';
    default:
      return err.message;
  }
}

// The SSH transport dials its own TCP socket so Nagle's algorithm can be turned off
// before ssh2 writes its first byte (with it on, every command waits on delayed ACKs).
import { test, expect, vi, afterEach } from 'vitest';
import net from 'node:net';
import { SshTransport, dialSocket } from '../../src/transport/ssh.js';
import { TransportError, type SshHost } from '../../src/ports.js';

afterEach(() => vi.restoreAllMocks());

// A TCP server that accepts and never says anything (not an SSH server).
async function silentServer(): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => sockets.add(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close() {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

const host = (port: number): SshHost => ({
  transport: 'ssh',
  name: 'db2',
  address: '127.0.0.1',
  port,
  user: 'root',
  identityFiles: ['/nonexistent/key'],
  knownHosts: ['/nonexistent/known_hosts'],
  connectTimeoutMs: 300,
  mayBeDown: false,
});

test('dialSocket turns Nagle off', async () => {
  const spy = vi.spyOn(net.Socket.prototype, 'setNoDelay');
  const srv = await silentServer();
  const s = dialSocket('127.0.0.1', srv.port);
  expect(spy).toHaveBeenCalledWith(true);
  expect(spy.mock.contexts).toContain(s);
  s.destroy();
  srv.close();
});

test('the transport dials through dialSocket (setNoDelay(true) on the socket it hands to ssh2)', async () => {
  const spy = vi.spyOn(net.Socket.prototype, 'setNoDelay');
  const srv = await silentServer();
  const seen: net.Socket[] = [];
  const t = new SshTransport({ agentSocket: null, onSocket: (s) => seen.push(s) });
  await expect(t.connect(host(srv.port))).rejects.toThrow(TransportError);
  expect(seen).toHaveLength(1);
  const calls = spy.mock.calls.filter((_, i) => spy.mock.contexts[i] === seen[0]);
  expect(calls).toContainEqual([true]);
  srv.close();
});

test('a server that accepts but never speaks SSH: unreachable, timed out', async () => {
  const srv = await silentServer();
  const t = new SshTransport({ agentSocket: null });
  const err = await t.connect(host(srv.port)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TransportError);
  expect(err).toMatchObject({ kind: 'unreachable', host: 'db2' });
  expect((err as Error).message).toBe(`host db2 (127.0.0.1:${srv.port}) unreachable: connection timed out after 0.3s`);
  srv.close();
});

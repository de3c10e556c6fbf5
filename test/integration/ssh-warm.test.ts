// SshTransport.warm(): `lifeboat run` starts the SSH handshakes while it creates the journal.
// Against a real sshd: a warmed host is dialled once (the run's connect gets that connection);
// a warm dial that fails is reported by the first connect and not dialled again, and the
// next connect after that dials anew (an operator's "retry" must really retry).
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { waitFor } from '../helpers/wait.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { TransportError, type SshHost } from '../../src/ports.js';

let sshd: Sshd;

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

const host = (over: Partial<SshHost> = {}): SshHost => ({
  transport: 'ssh',
  name: 'db1',
  address: '127.0.0.1',
  port: sshd.port,
  user: sshd.user,
  identityFiles: [sshd.clientKeyPath],
  knownHosts: [sshd.knownHostsPath],
  connectTimeoutMs: 5000,
  mayBeDown: false,
  ...over,
});

/** A port on loopback that nothing listens on, and a count of the connections made to it once it does. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('warm', () => {
  test('a warmed host is dialled once: connect returns the warm connection', async () => {
    const t = new SshTransport({ agentSocket: null });
    try {
      const before = sshd.sessionPids().length;
      t.warm(host());
      const a = await t.connect(host());
      const b = await t.connect(host());
      expect(a).toBe(b);
      expect(sshd.sessionPids().length - before).toBe(1);
      const r = await a.exec({ command: 'echo warm' });
      expect(r.stdout.trim()).toBe('warm');
    } finally {
      await t.closeAll();
    }
  });

  test('a warm dial that fails is reported by the first connect, which does not dial again; the next one does', async () => {
    const port = await closedPort();
    const t = new SshTransport({ agentSocket: null });
    try {
      t.warm(host({ port }));
      // the refused dial has failed before anyone asks: the transport holds it as a warm failure
      // (a private field: no public call tells a failed warm dial from one under way)
      const warmFailures = (t as unknown as { warmFailures: Map<string, unknown> }).warmFailures;
      await waitFor(() => warmFailures.size > 0, 'the warm dial to be refused', 10_000, 10);
      // a listener on that port from now on counts what is dialled
      let dials = 0;
      const s = net.createServer((c) => {
        dials++;
        c.destroy();
      });
      await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
      try {
        const e = await t.connect(host({ port })).then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(e).toBeInstanceOf(TransportError);
        expect((e as TransportError).message).toMatch(/refused/);
        expect(dials).toBe(0);
        // a later connect (a retry) dials again
        await t.connect(host({ port })).catch(() => undefined);
        expect(dials).toBe(1);
      } finally {
        await new Promise<void>((r) => s.close(() => r()));
      }
    } finally {
      await t.closeAll();
    }
  });
});

describe('closeAll during a dial', () => {
  test('ends a dial to a host that does not answer at once, not at its connect timeout', async () => {
    // a listener that accepts and never speaks: the SSH handshake waits for its banner
    const silent = net.createServer(() => undefined);
    const accepted = new Promise((r) => silent.once('connection', r));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const t = new SshTransport({ agentSocket: null });
    try {
      const dial = t.connect(host({ port, connectTimeoutMs: 60_000 })).then(
        () => undefined,
        (e: unknown) => e,
      );
      // the dial is under way once the listener has its connection (an event, not a sleep)
      await accepted;
      const closed = t.closeAll();
      const e = await Promise.race([dial, new Promise((r) => setTimeout(() => r('still dialling'), 5000))]);
      expect(e).toBeInstanceOf(TransportError);
      expect((e as TransportError).message).toMatch(/abandoned/);
      await closed;
    } finally {
      silent.close();
    }
  });
});

// SshTransport against a real OpenSSH sshd on loopback (test/helpers/sshd.ts).
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loopbackOnly, startSshd, type Sshd } from '../helpers/sshd.js';
import { waitFor } from '../helpers/wait.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { TransportError, type ExecResult, type SshHost } from '../../src/ports.js';

let sshd: Sshd;
let transport: SshTransport;
let scratch: string;

beforeAll(async () => {
  sshd = await startSshd();
  transport = new SshTransport({ agentSocket: null });
  scratch = mkdtempSync(join(tmpdir(), 'lifeboat-ssh-test-'));
});
afterAll(async () => {
  await transport?.closeAll();
  await sshd?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function hostOf(s: Sshd, over: Partial<SshHost> = {}): SshHost {
  return {
    transport: 'ssh',
    name: 'db1',
    address: '127.0.0.1',
    port: s.port,
    user: s.user,
    identityFiles: [s.clientKeyPath],
    knownHosts: [s.knownHostsPath],
    connectTimeoutMs: 5000,
    mayBeDown: false,
    ...over,
  };
}

/** Remote processes whose command line contains `token` (pgrep -f; this machine is the remote). */
function remoteProcesses(token: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', token], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l && !l.includes('pgrep'));
  } catch {
    return []; // exit 1: nothing matched
  }
}

/**
 * The remote bootstrap shells of this sshd's sessions (this machine is the remote): its descendants whose command
 * line holds the script reader (`__lb_s`).
 */
function bootstrapShells(s: Sshd): number[] {
  const children = new Map<number, { pid: number; args: string }[]>();
  for (const line of execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const ppid = Number(m[2]);
    children.set(ppid, [...(children.get(ppid) ?? []), { pid: Number(m[1]), args: m[3] }]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const ch of children.get(pid) ?? []) {
      if (ch.args.includes('__lb_s')) out.push(ch.pid);
      walk(ch.pid);
    }
  };
  walk(s.pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const unique = () => `${Math.floor(Math.random() * 1e6)}`;

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportError);
  return err as TransportError;
}

describe('exec', () => {
  test('exit codes, stdout and stderr', async () => {
    const c = await transport.connect(hostOf(sshd));
    const r = await c.exec({ command: 'echo out; echo err >&2; exit 3' });
    expect(r).toMatchObject({
      exitCode: 3,
      stdout: 'out\n',
      stderr: 'err\n',
      timedOut: false,
      canceled: false,
      signal: null,
    });
    expect((await c.exec({ command: 'true' })).exitCode).toBe(0);
  });

  test('a failing command is a result, not a transport error; set -e and pipefail hold', async () => {
    const c = await transport.connect(hostOf(sshd));
    const r = await c.exec({ command: 'ls /nonexistent-dir-xyz\necho not-reached' });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('nonexistent-dir-xyz');
    expect((await c.exec({ command: 'false | true' })).exitCode).toBe(1);
    expect((await c.exec({ command: 'nosuchcommand-xyz' })).exitCode).toBe(127);
  });

  test('the command runs in bash, not a login shell, with stdin at EOF', async () => {
    const c = await transport.connect(hostOf(sshd));
    const r = await c.exec({
      command: 'shopt -q login_shell && echo login || echo nologin; cat; echo "${BASH_VERSION:+bash}"',
    });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'nologin\nbash\n' });
  });

  test('env values arrive exactly, and the secret is not on any command line', async () => {
    const c = await transport.connect(hostOf(sshd));
    const secret = `s3cr3t-${unique()}`;
    const env = { PASS: `${secret} 'quoted' $(touch /tmp/lifeboat-never) \`x\``, EMPTY: '', UNI: 'ünï ✓' };
    // the command says when it runs and waits to be let go: the process table is read while it runs
    const running = join(scratch, `running-${unique()}`);
    const go = join(scratch, `go-${unique()}`);
    const p = c.exec({
      command: `printf "%s|%s|%s" "$PASS" "$EMPTY" "$UNI"; touch ${running}; while [ ! -e ${go} ]; do sleep 0.02; done`,
      env,
    });
    const deadline = Date.now() + 20_000;
    while (!existsSync(running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(running)).toBe(true);
    // while it runs, no process on the (remote) machine shows the secret
    expect(remoteProcesses(secret)).toEqual([]);
    writeFileSync(go, '');
    const r = await p;
    expect(r.stdout).toBe(`${env.PASS}||ünï ✓`);
  });

  test('output streams while the command runs, as UTF-8 text', async () => {
    const c = await transport.connect(hostOf(sshd));
    const chunks: string[] = [];
    let settled = false;
    let settledAtFirstChunk: boolean | undefined;
    const p = c.exec({
      command: 'echo first; sleep 0.5; printf "%s\\n" "ünïcödé ✓ 🚀"; echo e1 >&2',
      onStdout: (t) => {
        settledAtFirstChunk ??= settled;
        chunks.push(t);
      },
    });
    const r = await p;
    settled = true;
    expect(settledAtFirstChunk).toBe(false);
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks.join('')).toBe('first\nünïcödé ✓ 🚀\n');
    expect(r.stdout).toBe(chunks.join(''));
    expect(r.stderr).toBe('e1\n');
  });

  test('big output is kept up to the last 1 MiB', async () => {
    const c = await transport.connect(hostOf(sshd));
    let streamed = 0;
    const r = await c.exec({
      command: 'head -c 3000000 /dev/zero | tr "\\0" a; echo END',
      onStdout: (t) => (streamed += t.length),
    });
    expect(streamed).toBe(3_000_004);
    expect(r.stdout.length).toBe(1024 * 1024);
    expect(r.stdout.endsWith('aaaEND\n')).toBe(true);
  });

  test('sudo: true and sudo: USER', async () => {
    const c = await transport.connect(hostOf(sshd));
    expect((await c.exec({ command: 'id -un', sudo: true })).stdout).toBe('root\n');
    expect((await c.exec({ command: 'id -un; cat', sudo: 'nobody', env: { X: 'y z' } })).stdout).toBe('nobody\n');
    expect((await c.exec({ command: 'echo "$X"', sudo: 'nobody', env: { X: 'y z' } })).stdout).toBe('y z\n');
  });
});

describe('timeout and cancel', () => {
  test('a timeout kills the remote command and its children', async () => {
    const c = await transport.connect(hostOf(sshd));
    const token = `9${unique()}`;
    const r = await c.exec({ command: `sleep 1${token} & sleep 2${token}; echo never`, timeoutMs: 500 });
    expect(r).toMatchObject({ exitCode: null, timedOut: true, canceled: false, stdout: '' });
    expect(r.mayStillRun).toBeUndefined();
    expect(remoteProcesses(token)).toEqual([]);
    // the connection is still good
    expect((await c.exec({ command: 'echo ok' })).stdout).toBe('ok\n');
  });

  test('after the first command a connection starts commands directly, and a timeout still kills them all', async () => {
    const t = new SshTransport({ agentSocket: null });
    try {
      const c = await t.connect(hostOf(sshd));
      // the login shell's command line is the bootstrap: the full one first, then the short one
      const first = await c.exec({ command: "tr '\\0' ' ' </proc/$$/cmdline" });
      expect(first.stdout).toContain('command -v setsid');
      const second = await c.exec({ command: "tr '\\0' ' ' </proc/$$/cmdline" });
      expect(second.stdout).not.toContain('command -v');
      expect(second.stdout).toContain('__lb_d=1');
      const token = `8${unique()}`;
      const r = await c.exec({ command: `sleep 1${token} & sleep 2${token}; echo never`, timeoutMs: 500 });
      expect(r).toMatchObject({ exitCode: null, timedOut: true, stdout: '' });
      expect(remoteProcesses(token)).toEqual([]);
    } finally {
      await t.closeAll();
    }
  });

  test('gate: the session opens at once, the command goes only when the gate opens; a closed gate sends nothing', async () => {
    const c = await transport.connect(hostOf(sshd));
    const marker = join(scratch, `gate-${unique()}`);
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const before = new Set(bootstrapShells(sshd));
    const p = c.exec({ command: `touch ${marker}; echo ran`, gate });
    // the server has the exec request: its bootstrap shell runs, waiting for the script on stdin
    // (or, were the script sent at once, has already run it)
    const waiting = () => bootstrapShells(sshd).filter((pid) => !before.has(pid));
    await waitFor(
      () => waiting().length > 0 || existsSync(marker),
      "the gated command's bootstrap shell on the server",
    );
    const shells = waiting();
    // a command after it on the same connection: sshd has handled everything sent before it, so a
    // script sent without waiting for the gate would be in the bootstrap's stdin by now
    expect((await c.exec({ command: 'echo ok' })).stdout).toBe('ok\n');
    expect(existsSync(marker)).toBe(false);
    expect(shells.length).toBeGreaterThan(0);
    expect(shells.filter(alive)).toEqual(shells);
    open();
    let result: ExecResult | undefined;
    let failure: unknown;
    void p.then(
      (r) => (result = r),
      (e: unknown) => (failure = e),
    );
    await waitFor(() => result ?? failure, 'the gated command to end');
    expect(failure).toBeUndefined();
    expect(result!.stdout).toBe('ran\n');
    expect(existsSync(marker)).toBe(true);

    const never = join(scratch, `gate-${unique()}`);
    const closed = Promise.reject(new Error('the journal could not be written'));
    closed.catch(() => undefined); // (the runner awaits its intent itself too)
    const e = await c.exec({ command: `touch ${never}`, gate: closed }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect((e as Error).message).toBe('the journal could not be written');
    // the failure comes once the channel has closed, so the remote shell has ended: had it been sent
    // a script, the script would have run by now
    expect(existsSync(never)).toBe(false);
    // the connection is still good
    expect((await c.exec({ command: 'echo ok' })).stdout).toBe('ok\n');
  });

  test('a timeout before the process group is known still kills the group: the result waits for the late marker and the kill', async () => {
    // the server's stderr reaches the client 3 s late (a slow pipe in front of it), so the script runs
    // `sleep` well before its process-group marker arrives, and the timeout (0.3 s) comes first
    const s = await startSshd({
      extraConfig: ['ForceCommand exec 2> >(sleep 3; exec cat >&2); eval "$SSH_ORIGINAL_COMMAND"'],
    });
    const t = new SshTransport({ agentSocket: null });
    try {
      const c = await t.connect(hostOf(s));
      const token = `6${unique()}`;
      const r = await c.exec({ command: `sleep 1${token}`, timeoutMs: 300 });
      expect(r).toMatchObject({ exitCode: null, timedOut: true, canceled: false });
      expect(r.mayStillRun).toBeUndefined();
      // the whole process table: the sleep must not outlive the result, re-parented or not
      expect(remoteProcesses(token)).toEqual([]);
    } finally {
      await t.closeAll();
      await s.stop();
    }
  });

  test('a timeout whose process group never reports says the command may still be running, and it is', async () => {
    // stderr 30 s late: the marker never comes within the transport's wait (10 s), so only the
    // wrapper can be signalled and the result must not claim the command stopped
    const s = await startSshd({
      extraConfig: ['ForceCommand exec 2> >(sleep 30; exec cat >&2); eval "$SSH_ORIGINAL_COMMAND"'],
    });
    const t = new SshTransport({ agentSocket: null });
    const token = `5${unique()}`;
    try {
      const c = await t.connect(hostOf(s));
      const r = await c.exec({ command: `sleep 1${token}`, timeoutMs: 300 });
      expect(r).toMatchObject({ exitCode: null, timedOut: true, mayStillRun: true });
      expect(remoteProcesses(token).length).toBe(1);
    } finally {
      for (const line of remoteProcesses(token)) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
      await t.closeAll();
      await s.stop();
    }
  });

  test('the result of a stop waits for the group kill to end: a member that ignores TERM and holds no output is gone', async () => {
    const c = await transport.connect(hostOf(sshd));
    const token = `4${unique()}`;
    // the shell dies of TERM and the channel closes at once; the background sleep ignores TERM and
    // holds none of the channel's pipes, so only the kill's KILL (~0.5 s later) ends it
    const r = await c.exec({
      command: `(trap '' TERM; exec sleep 1${token}) >/dev/null 2>&1 </dev/null & sleep 2${token}`,
      timeoutMs: 500,
    });
    expect(r).toMatchObject({ exitCode: null, timedOut: true });
    expect(r.mayStillRun).toBeUndefined();
    expect(remoteProcesses(token)).toEqual([]);
  });

  test('a timeout also kills a command run through sudo', async () => {
    const c = await transport.connect(hostOf(sshd));
    const token = `8${unique()}`;
    const r = await c.exec({ command: `sleep 1${token}`, sudo: 'nobody', timeoutMs: 500 });
    expect(r).toMatchObject({ exitCode: null, timedOut: true });
    expect(remoteProcesses(token)).toEqual([]);
  });

  test('abort kills the remote command; an already aborted signal runs nothing', async () => {
    const c = await transport.connect(hostOf(sshd));
    const token = `7${unique()}`;
    const ac = new AbortController();
    const p = c.exec({ command: `echo started; sleep 1${token}`, signal: ac.signal, onStdout: () => ac.abort() });
    const r = await p;
    expect(r).toMatchObject({ exitCode: null, canceled: true, timedOut: false, stdout: 'started\n' });
    expect(remoteProcesses(token)).toEqual([]);

    const marker = join(scratch, `not-run-${unique()}`);
    const r2 = await c.exec({ command: `touch ${marker}`, signal: AbortSignal.abort() });
    expect(r2.canceled).toBe(true);
    expect(() => statSync(marker)).toThrow();

    // aborted while the session channel is being opened: nothing runs either
    const ac2 = new AbortController();
    const p3 = c.exec({ command: `touch ${marker}`, signal: ac2.signal });
    ac2.abort();
    expect(await p3).toMatchObject({ canceled: true, exitCode: null });
    expect(() => statSync(marker)).toThrow();
  });
});

describe('connections', () => {
  test('connect() twice, even concurrently, gives the same connection', async () => {
    const t = new SshTransport({ agentSocket: null });
    const h = hostOf(sshd, { name: 'same' });
    const [a, b] = await Promise.all([t.connect(h), t.connect(h)]);
    expect(a).toBe(b);
    expect(await t.connect(h)).toBe(a);
    await t.closeAll();
  });

  test('many hosts in parallel through 127.0.0.x', async () => {
    const t = new SshTransport({ agentSocket: null });
    const n = 20;
    const addr = (i: number) => loopbackOnly(sshd, `127.0.0.${i}`);
    const hosts = Array.from({ length: n }, (_, i) => hostOf(sshd, { name: `h${i + 1}`, address: addr(i + 1) }));
    const results = await Promise.all(
      hosts.map(async (h) => {
        const c = await t.connect(h);
        const outs: string[] = [];
        for (let step = 0; step < 3; step++)
          outs.push((await c.exec({ command: `echo ${h.name}-${step} $SSH_CONNECTION` })).stdout);
        return outs;
      }),
    );
    results.forEach((outs, i) => {
      outs.forEach((o, step) => expect(o.startsWith(`h${i + 1}-${step} `)).toBe(true));
      // SSH_CONNECTION = client ip, client port, server ip, server port
      expect(outs[0].trim().split(' ')[3]).toBe(addr(i + 1));
    });
    await t.closeAll();
  });

  test('jump host: the target is reached through the jump connection', async () => {
    const t = new SshTransport({ agentSocket: null });
    const jump = hostOf(sshd, { name: 'bastion', address: '127.0.0.1' });
    const target = hostOf(sshd, { name: 'inner', address: loopbackOnly(sshd, '127.0.0.3'), jump });
    const c = await t.connect(target);
    const r = await c.exec({ command: 'echo $SSH_CONNECTION' });
    // the connection to the target comes from the jump host's sshd (forwarded), not from us
    const [clientIp, , serverIp] = r.stdout.trim().split(' ');
    expect(serverIp).toBe(target.address);
    expect(clientIp).toBe('127.0.0.1');
    // the jump connection is the cached one for the bastion
    expect(await t.connect(jump)).toBeDefined();
    await t.closeAll();
  });

  test("a jump host's key is verified too", async () => {
    const t = new SshTransport({ agentSocket: null });
    const empty = join(scratch, `empty-${unique()}`);
    writeFileSync(empty, '');
    const jump = hostOf(sshd, { name: 'bastion', knownHosts: [empty] });
    const target = hostOf(sshd, { name: 'inner', jump });
    const err = await rejection(t.connect(target));
    expect(err.kind).toBe('host-key-unknown');
    expect(err.host).toBe('inner');
    expect(err.message).toContain('via jump host bastion');
    expect(err.fingerprint).toBe(sshd.hostKeyFingerprint);
    await t.closeAll();
  });

  test('closeAll ends every session on the server', async () => {
    const s = await startSshd();
    try {
      const t = new SshTransport({ agentSocket: null });
      await t.connect(hostOf(s, { name: 'a' }));
      await t.connect(hostOf(s, { name: 'b' }));
      expect(s.sessionPids().length).toBe(2);
      await t.closeAll();
      for (let i = 0; i < 50 && s.sessionPids().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(s.sessionPids()).toEqual([]);
    } finally {
      await s.stop();
    }
  });
});

describe('host keys', () => {
  test('unknown host key is refused, and the message shows the fingerprint and the fix', async () => {
    const empty = join(scratch, `kh-${unique()}`);
    writeFileSync(empty, '');
    const t = new SshTransport({ agentSocket: null });
    const err = await rejection(t.connect(hostOf(sshd, { knownHosts: [empty] })));
    expect(err.kind).toBe('host-key-unknown');
    expect(err.fingerprint).toBe(sshd.hostKeyFingerprint);
    expect(err.message).toContain(sshd.hostKeyFingerprint);
    expect(err.message).toContain('--accept-new-host-keys');
    expect(err.message).toContain(`host_key: ${sshd.hostKeyFingerprint}`);
    expect(readFileSync(empty, 'utf8')).toBe('');
  });

  test('pinned fingerprint: right one connects, wrong one is refused as changed', async () => {
    const empty = join(scratch, `kh-${unique()}`);
    const t = new SshTransport({ agentSocket: null });
    const good = await t.connect(
      hostOf(sshd, { name: 'pinned', knownHosts: [empty], hostKey: sshd.hostKeyFingerprint }),
    );
    expect((await good.exec({ command: 'echo ok' })).stdout).toBe('ok\n');
    const wrong = 'SHA256:' + 'A'.repeat(43);
    const err = await rejection(
      t.connect(hostOf(sshd, { name: 'pinned-wrong', knownHosts: [sshd.knownHostsPath], hostKey: wrong })),
    );
    expect(err.kind).toBe('host-key-changed');
    expect(err.message).toContain(wrong);
    expect(err.message).toContain(sshd.hostKeyFingerprint);
    await t.closeAll();
  });

  test('TOFU records a hashed entry (0600) that works next time; a changed key is refused even with TOFU', async () => {
    const s = await startSshd();
    try {
      const kh = join(scratch, `tofu-${unique()}`, 'known_hosts');
      const tofu = new SshTransport({ agentSocket: null, acceptNewHostKeys: true });
      const c = await tofu.connect(hostOf(s, { knownHosts: [kh] }));
      expect((await c.exec({ command: 'echo ok' })).stdout).toBe('ok\n');
      await tofu.closeAll();
      const text = readFileSync(kh, 'utf8');
      expect(text).toMatch(/^\|1\|[^|]+\|[^ ]+ ssh-ed25519 [A-Za-z0-9+/=]+\n$/);
      expect(text).not.toContain('127.0.0.1');
      expect(statSync(kh).mode & 0o777).toBe(0o600);
      // OpenSSH reads it too
      expect(execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${s.port}`, '-f', kh], { encoding: 'utf8' })).toContain(
        'ssh-ed25519',
      );

      const strict = new SshTransport({ agentSocket: null });
      expect(
        (await (await strict.connect(hostOf(s, { knownHosts: [kh] }))).exec({ command: 'echo again' })).stdout,
      ).toBe('again\n');
      await strict.closeAll();

      const oldFp = s.hostKeyFingerprint;
      const newFp = await s.rekey();
      for (const t of [
        new SshTransport({ agentSocket: null }),
        new SshTransport({ agentSocket: null, acceptNewHostKeys: true }),
      ]) {
        const err = await rejection(t.connect(hostOf(s, { knownHosts: [kh] })));
        expect(err.kind).toBe('host-key-changed');
        expect(err.fingerprint).toBe(newFp);
        expect(err.message).toContain('HOST KEY CHANGED');
        expect(err.message).toContain(oldFp);
        expect(err.message).toContain(newFp);
      }
      expect(readFileSync(kh, 'utf8')).toBe(text);
    } finally {
      await s.stop();
    }
  });

  test('changed key after rekey() is refused with the helper-written known_hosts', async () => {
    const s = await startSshd();
    try {
      const t = new SshTransport({ agentSocket: null });
      await t.connect(hostOf(s));
      await t.closeAll();
      await s.rekey();
      const err = await rejection(new SshTransport({ agentSocket: null }).connect(hostOf(s)));
      expect(err.kind).toBe('host-key-changed');
    } finally {
      await s.stop();
    }
  });

  test('@revoked key is refused', async () => {
    const kh = join(scratch, `revoked-${unique()}`);
    writeFileSync(kh, readFileSync(sshd.knownHostsPath, 'utf8') + `@revoked * ${sshd.hostPublicKey}\n`);
    const err = await rejection(new SshTransport({ agentSocket: null }).connect(hostOf(sshd, { knownHosts: [kh] })));
    expect(err.kind).toBe('host-key-changed');
    expect(err.message).toContain('REVOKED');
  });
});

describe('algorithms', () => {
  test('legacy algorithms stay off unless the host asks for them', async () => {
    const s = await startSshd({ extraConfig: ['Ciphers aes128-cbc'] });
    try {
      const err = await rejection(new SshTransport({ agentSocket: null }).connect(hostOf(s, { name: 'old' })));
      expect(err.kind).toBe('unreachable');
      expect(err.message).toContain('handshake failed');
      expect(err.message).toContain('algorithms');
      const t = new SshTransport({ agentSocket: null });
      const c = await t.connect(hostOf(s, { name: 'old', algorithms: { cipher: ['aes128-cbc'] } }));
      expect((await c.exec({ command: 'echo legacy' })).stdout).toBe('legacy\n');
      await t.closeAll();
    } finally {
      await s.stop();
    }
  });
});

describe('auth', () => {
  test('ssh-agent is used (no identity files at all)', async () => {
    const sock = join(scratch, `agent-${unique()}.sock`);
    const agent = execFileSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent)![1]);
    try {
      execFileSync('ssh-add', ['-q', sshd.clientKeyPath], {
        env: { ...process.env, SSH_AUTH_SOCK: sock },
        stdio: 'ignore',
      });
      const t = new SshTransport({ agentSocket: sock });
      const c = await t.connect(hostOf(sshd, { name: 'via-agent', identityFiles: ['/nonexistent'] }));
      expect((await c.exec({ command: 'echo agent' })).stdout).toBe('agent\n');
      await t.closeAll();
    } finally {
      process.kill(pid);
    }
  });

  test('a stale agent socket is skipped; identity files still work', async () => {
    const t = new SshTransport({ agentSocket: join(scratch, 'no-such-agent.sock') });
    const c = await t.connect(hostOf(sshd, { name: 'stale-agent' }));
    expect((await c.exec({ command: 'echo key' })).stdout).toBe('key\n');
    await t.closeAll();
    const err = await rejection(
      new SshTransport({ agentSocket: join(scratch, 'no-such-agent.sock') }).connect(
        hostOf(sshd, { name: 'stale-agent', identityFiles: ['/nonexistent'] }),
      ),
    );
    expect(err.kind).toBe('auth');
    expect(err.message).toContain('ssh-agent failed');
  });

  test('a host without an address is resolved through ssh_config', async () => {
    const cfg = join(scratch, `ssh_config-${unique()}`);
    writeFileSync(
      cfg,
      `Host db-alias\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.user}\n  IdentityFile ${sshd.clientKeyPath}\n  UserKnownHostsFile ${sshd.knownHostsPath}\n`,
    );
    const t = new SshTransport({ agentSocket: null, sshConfigPath: cfg });
    const c = await t.connect({
      transport: 'ssh',
      name: 'db-alias',
      address: '',
      port: 22,
      user: 'nobody',
      identityFiles: [],
      knownHosts: [],
      connectTimeoutMs: 5000,
      mayBeDown: false,
    });
    expect(c.host).toMatchObject({ address: '127.0.0.1', port: sshd.port, user: sshd.user });
    expect((await c.exec({ command: 'echo via-config' })).stdout).toBe('via-config\n');
    await t.closeAll();
  });

  test('no accepted key: auth error', async () => {
    const other = join(scratch, `other-${unique()}`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const err = await rejection(
      new SshTransport({ agentSocket: null }).connect(hostOf(sshd, { identityFiles: ['/nonexistent', other] })),
    );
    expect(err.kind).toBe('auth');
    expect(err.message).toContain(other);
  });

  test('an encrypted key asks for its passphrase once, for all hosts', async () => {
    const s = await startSshd({ clientKeyPassphrase: 'correct horse' });
    try {
      const asked: string[] = [];
      const t = new SshTransport({
        agentSocket: null,
        askPassphrase: async (path) => {
          asked.push(path);
          await new Promise((r) => setTimeout(r, 100));
          return 'correct horse';
        },
      });
      const conns = await Promise.all(
        [1, 2, 3].map((i) => t.connect(hostOf(s, { name: `e${i}`, address: loopbackOnly(s, `127.0.0.${i}`) }))),
      );
      for (const c of conns) expect((await c.exec({ command: 'echo ok' })).stdout).toBe('ok\n');
      expect(asked).toEqual([s.clientKeyPath]);
      await t.closeAll();

      // the connect timeout stands still while the passphrase is typed (and the key decrypted)
      const slow = new SshTransport({
        agentSocket: null,
        askPassphrase: () => new Promise((r) => setTimeout(() => r('correct horse'), 1000)),
      });
      const c = await slow.connect(hostOf(s, { name: 'slow-typist', connectTimeoutMs: 500 }));
      expect((await c.exec({ command: 'echo typed' })).stdout).toBe('typed\n');
      await slow.closeAll();

      const wrong = new SshTransport({ agentSocket: null, askPassphrase: async () => 'wrong' });
      const err = await rejection(wrong.connect(hostOf(s)));
      expect(err.kind).toBe('auth');
      expect(err.message).toContain('wrong passphrase');
    } finally {
      await s.stop();
    }
  });
});

/** A TCP relay to the sshd whose link can be cut (data silently dropped, nothing closed). */
async function cuttableLink(target: number): Promise<{ port: number; cut(): void; close(): void }> {
  let down = false;
  const pairs: net.Socket[] = [];
  // half-open allowed: a cut link must not pass a FIN back either
  const srv = net.createServer({ allowHalfOpen: true }, (inbound) => {
    const outbound = net.connect(target, '127.0.0.1');
    pairs.push(inbound, outbound);
    inbound.on('data', (d) => down || outbound.write(d));
    outbound.on('data', (d) => down || inbound.write(d));
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    cut: () => (down = true),
    close() {
      pairs.forEach((s) => s.destroy());
      srv.close();
    },
  };
}

describe('failures to reach or keep a host', () => {
  test('link down mid-command (no FIN, no RST): keepalives notice, connection-lost', async () => {
    const link = await cuttableLink(sshd.port);
    // the relay's port differs from the sshd's: trust the key by pin
    const t = new SshTransport({ agentSocket: null, keepaliveIntervalMs: 200, keepaliveCountMax: 2 });
    const token = `2${unique()}`;
    try {
      const c = await t.connect(hostOf(sshd, { name: 'linkdown', port: link.port, hostKey: sshd.hostKeyFingerprint }));
      expect((await c.exec({ command: 'echo up' })).stdout).toBe('up\n');
      const err = await rejection(c.exec({ command: `echo x; sleep 1${token}`, onStdout: () => link.cut() }));
      expect(err.kind).toBe('connection-lost');
      await t.closeAll();
    } finally {
      link.close();
    }
    // the server notices on its own later; don't leave the sleep behind
    for (const line of remoteProcesses(token)) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
  });

  test('closeAll returns even when a link is dead', async () => {
    const link = await cuttableLink(sshd.port);
    try {
      const t = new SshTransport({ agentSocket: null });
      await t.connect(hostOf(sshd, { name: 'dead-link', port: link.port, hostKey: sshd.hostKeyFingerprint }));
      link.cut();
      await t.closeAll(); // the test's own timeout is the failure here
    } finally {
      link.close();
    }
  });

  test('closed port: connection refused', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    const err = await rejection(new SshTransport({ agentSocket: null }).connect(hostOf(sshd, { name: 'db2', port })));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe(`host db2 (127.0.0.1:${port}) unreachable: connection refused`);
  });

  test('a listener that never speaks SSH: connection timed out', async () => {
    const held: net.Socket[] = [];
    const srv = net.createServer((s) => held.push(s));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const err = await rejection(
        new SshTransport({ agentSocket: null }).connect(hostOf(sshd, { name: 'db2', port, connectTimeoutMs: 400 })),
      );
      expect(err.kind).toBe('unreachable');
      expect(err.message).toBe(`host db2 (127.0.0.1:${port}) unreachable: connection timed out after 0.4s`);
    } finally {
      held.forEach((s) => s.destroy());
      srv.close();
    }
  });

  test('the session process killed mid-command: connection-lost, and the next connect dials again', async () => {
    const s = await startSshd();
    try {
      const t = new SshTransport({ agentSocket: null });
      const h = hostOf(s, { name: 'victim' });
      const c = await t.connect(h);
      const token = `6${unique()}`;
      const p = c.exec({
        command: `echo running; sleep 1${token}`,
        onStdout: () => {
          // kill every per-connection sshd from outside, like a crash or a kill by an admin
          for (const pid of s.sessionPids()) process.kill(pid, 'SIGKILL');
        },
      });
      const err = await rejection(p);
      expect(err.kind).toBe('connection-lost');
      expect(err.host).toBe('victim');
      const again = await t.connect(h);
      expect(again).not.toBe(c);
      expect((await again.exec({ command: 'echo back' })).stdout).toBe('back\n');
      await expect(c.exec({ command: 'true' })).rejects.toMatchObject({ kind: 'connection-lost' });
      await t.closeAll();
      // the orphaned sleep of the killed session
      for (const line of remoteProcesses(token)) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
    } finally {
      await s.stop();
    }
  });

  test("a command that ends before its session is handed back keeps its exit status (the server's replies in one read)", async () => {
    // Under load, the exec's reply, the exit status, EOF and close can reach the client in one
    // read and be parsed in one go, before the code that asked for the session runs again. This
    // holds the client's event loop from the moment the exec request is written until the command
    // has ended on the server, so the replies arrive together. (Once in three loaded CI runs, the
    // exit status was lost that way and a sudo refusal came out as "connection lost".)
    const bin = join(scratch, `fakebin-${unique()}`);
    const ran = join(bin, 'ran');
    execFileSync('mkdir', ['-p', bin]);
    writeFileSync(join(bin, 'sudo'), `#!/bin/sh\necho "sudo: a password is required" >&2\n: >${ran}\nexit 1\n`);
    chmodSync(join(bin, 'sudo'), 0o755);
    const s = await startSshd({ setEnv: { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin` } });
    try {
      const t = new SshTransport({ agentSocket: null });
      const c = (await t.connect(hostOf(s))) as unknown as {
        client: { _protocol: { exec: (...a: unknown[]) => void } };
      };
      const protocol = c.client._protocol;
      const sendExec = protocol.exec.bind(protocol);
      let held = false;
      protocol.exec = (...args: unknown[]) => {
        sendExec(...args);
        // the request is on the wire (a socket write is tried at once); hold until the command ran
        const until = Date.now() + 20_000;
        while (!existsSync(ran) && Date.now() < until) execFileSync('sleep', ['0.01']);
        held = existsSync(ran);
        // and until sshd has seen it end and sent what follows (status, EOF, close)
        execFileSync('sleep', ['0.3']);
      };
      const err = await rejection(
        (c as unknown as import('../../src/ports.js').Connection).exec({ command: 'id', sudo: 'postgres' }),
      );
      expect(held).toBe(true);
      expect(err.kind, err.message).toBe('sudo-password');
      await t.closeAll();
    } finally {
      await s.stop();
    }
  });

  test('sudo that wants a password is a sudo-password error', async () => {
    // a stand-in sudo on the server's PATH that answers like sudo -n without NOPASSWD
    const bin = join(scratch, `fakebin-${unique()}`);
    execFileSync('mkdir', ['-p', bin]);
    writeFileSync(join(bin, 'sudo'), '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n');
    chmodSync(join(bin, 'sudo'), 0o755);
    const s = await startSshd({ setEnv: { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin` } });
    try {
      const t = new SshTransport({ agentSocket: null });
      const c = await t.connect(hostOf(s));
      const err = await rejection(c.exec({ command: 'id', sudo: 'postgres' }));
      // if the kind differs, the message and the server's log say which side ended it
      expect(err.kind, `${err.message}\n--- sshd log:\n${readFileSync(s.logPath, 'utf8').slice(-3000)}`).toBe(
        'sudo-password',
      );
      expect(err.message).toContain('NOPASSWD');
      // a command of its own that fails the same way is just a failed command
      const r = await c.exec({ command: 'sudo -n true' });
      expect(r.exitCode).toBe(1);
      await t.closeAll();
    } finally {
      await s.stop();
    }
  });
});

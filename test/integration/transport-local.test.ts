// LocalTransport: `on: local` steps, same wrapping and semantics as remote ones.
import { describe, test, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalTransport } from '../../src/transport/local.js';
import { LOCAL_HOST } from '../../src/ports.js';

const transport = new LocalTransport();
const unique = () => `${Math.floor(Math.random() * 1e6)}`;

function processes(token: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', token], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l && !l.includes('pgrep'));
  } catch {
    return [];
  }
}

describe('LocalTransport', () => {
  test('one connection for the local host', async () => {
    expect(await transport.connect(LOCAL_HOST)).toBe(await transport.connect());
  });

  test('exit codes, stdout, stderr, set -e, pipefail, EOF on stdin', async () => {
    const c = await transport.connect();
    expect(await c.exec({ command: 'echo out; echo err >&2; exit 4' })).toMatchObject({
      exitCode: 4,
      stdout: 'out\n',
      stderr: 'err\n',
      timedOut: false,
      canceled: false,
      signal: null,
    });
    expect(await c.exec({ command: 'false\necho no' })).toMatchObject({ exitCode: 1, stdout: '' });
    expect(await c.exec({ command: 'false | true\necho no' })).toMatchObject({ exitCode: 1, stdout: '' });
    expect(await c.exec({ command: 'cat; echo "${BASH_VERSION:+bash}"' })).toMatchObject({
      exitCode: 0,
      stdout: 'bash\n',
    });
  });

  test('the script arrives whole: backslashes, blank lines, no final newline, multibyte and odd bytes, 2 MB', async () => {
    const c = await transport.connect();
    // a here-document hands the script's own text on: any byte lost or changed in transit shows
    const head = 'a\\b \\\n  two  spaces\t\n\n\nünï €\n';
    const small = await c.exec({ command: `cat <<'EOF_LB'\n${head}last\nEOF_LB` });
    expect(small.stdout).toBe(`${head}last\n`);
    const big = `${head}${'x'.repeat(2 * 1024 * 1024)}\nlast`;
    const r = await c.exec({ command: `sha256sum <<'EOF_LB'\n${big}\nEOF_LB` });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split(' ')[0]).toBe(createHash('sha256').update(`${big}\n`).digest('hex'));
  });

  test('env is exported quoted; the secret is not on a command line', async () => {
    const c = await transport.connect();
    const secret = `local-secret-${unique()}`;
    // the command says when it runs and waits to be let go: the process table is read while it runs
    const dir = mkdtempSync(join(tmpdir(), 'lb-local-env-'));
    const p = c.exec({
      command: `printf "%s" "$S"; touch ${dir}/running; while [ ! -e ${dir}/go ]; do sleep 0.02; done`,
      env: { S: `${secret} $(id) 'q'` },
    });
    const deadline = Date.now() + 20_000;
    while (!existsSync(join(dir, 'running')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(join(dir, 'running'))).toBe(true);
    expect(processes(secret)).toEqual([]);
    writeFileSync(join(dir, 'go'), '');
    expect((await p).stdout).toBe(`${secret} $(id) 'q'`);
    // the check can see a leak: a value in a process's arguments is found while it runs
    // (the command text itself never is: it reaches the shell on stdin)
    const leak = `local-leak-${unique()}`;
    const q = c.exec({
      command: `touch ${dir}/running2; sh -c 'while [ ! -e "$1" ]; do sleep 0.02; done' sh ${dir}/go2 ${leak}`,
    });
    while (!existsSync(join(dir, 'running2')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(processes(leak)).not.toEqual([]);
    writeFileSync(join(dir, 'go2'), '');
    await q;
    rmSync(dir, { recursive: true, force: true });
  });

  test('streams as it runs', async () => {
    const c = await transport.connect();
    const chunks: string[] = [];
    let done = false;
    let doneAtFirst: boolean | undefined;
    const r = await c.exec({
      command: 'echo one; sleep 0.4; echo "two ✓"',
      onStdout: (t) => {
        doneAtFirst ??= done;
        chunks.push(t);
      },
    });
    done = true;
    expect(doneAtFirst).toBe(false);
    expect(chunks.join('')).toBe('one\ntwo ✓\n');
    expect(r.stdout).toBe('one\ntwo ✓\n');
  });

  test('timeout kills the whole process group', async () => {
    const c = await transport.connect();
    const token = `5${unique()}`;
    const r = await c.exec({ command: `sleep 1${token} & sleep 2${token}`, timeoutMs: 400 });
    expect(r).toMatchObject({ exitCode: null, timedOut: true, canceled: false });
    expect(processes(token)).toEqual([]);
  });

  test('the result of a stop waits for the group kill to end: a member that ignores TERM and holds no output is gone', async () => {
    const c = await transport.connect();
    const token = `3${unique()}`;
    const r = await c.exec({
      command: `(trap '' TERM; exec sleep 1${token}) >/dev/null 2>&1 </dev/null & sleep 2${token}`,
      timeoutMs: 400,
    });
    expect(r).toMatchObject({ exitCode: null, timedOut: true });
    expect(r.mayStillRun).toBeUndefined();
    expect(processes(token)).toEqual([]);
  });

  test('abort kills it too; an already aborted signal runs nothing', async () => {
    const c = await transport.connect();
    const token = `4${unique()}`;
    const ac = new AbortController();
    const r = await c.exec({ command: `echo go; sleep 1${token}`, signal: ac.signal, onStdout: () => ac.abort() });
    expect(r).toMatchObject({ exitCode: null, canceled: true, stdout: 'go\n' });
    expect(processes(token)).toEqual([]);
    expect(await c.exec({ command: 'echo no', signal: AbortSignal.abort() })).toMatchObject({
      canceled: true,
      stdout: '',
    });
  });

  test('sudo: true and sudo: USER (run as root here), killed through sudo on timeout', async () => {
    const c = await transport.connect();
    expect((await c.exec({ command: 'id -un', sudo: true })).stdout).toBe('root\n');
    expect((await c.exec({ command: 'id -un', sudo: 'nobody' })).stdout).toBe('nobody\n');
    const token = `3${unique()}`;
    const r = await c.exec({ command: `sleep 1${token}`, sudo: 'nobody', timeoutMs: 400 });
    expect(r.timedOut).toBe(true);
    expect(processes(token)).toEqual([]);
  });

  test('a command killed by a signal reports the signal', async () => {
    const c = await transport.connect();
    expect(await c.exec({ command: 'kill -KILL $$' })).toMatchObject({ exitCode: null, signal: 'SIGKILL', stderr: '' });
  });
});

test('the registry hands `local` hosts to the local transport, and SSH refuses them', async () => {
  const { makeTransports, transportFor, closeAll } = await import('../../src/transport/registry.js');
  const { SshTransport } = await import('../../src/transport/ssh.js');
  const transports = await makeTransports({ operator: { secret: async () => '' } as never });
  expect(transportFor(transports, LOCAL_HOST)).toBeInstanceOf(LocalTransport);
  expect(transports.ssh).toBeInstanceOf(SshTransport);
  const c = await transportFor(transports, { ...LOCAL_HOST }).connect({ ...LOCAL_HOST });
  expect((await c.exec({ command: 'echo "$$" >/dev/null; echo here' })).stdout).toBe('here\n');
  await expect(transports.ssh.connect({ ...LOCAL_HOST } as never)).rejects.toThrow(/reached by local, not SSH/);
  await closeAll(transports);
});

test('local sudo that wants a password is a sudo-password error', async () => {
  const { mkdtempSync, writeFileSync, chmodSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { TransportError } = await import('../../src/ports.js');
  const bin = mkdtempSync(join(tmpdir(), 'lifeboat-fakesudo-'));
  writeFileSync(join(bin, 'sudo'), '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n');
  chmodSync(join(bin, 'sudo'), 0o755);
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved}`;
  try {
    const c = await new LocalTransport().connect();
    const err = await c.exec({ command: 'id', sudo: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ kind: 'sudo-password', host: 'local' });
  } finally {
    process.env.PATH = saved;
    rmSync(bin, { recursive: true, force: true });
  }
});

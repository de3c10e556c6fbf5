// The loopback sshd harness itself: other integration tests build on it.
import { test, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { startSshd } from '../helpers/sshd.js';

function ssh(args: string[], command: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync('ssh', [...args, command], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (e) {
    return { ok: false, out: String((e as { stderr?: unknown }).stderr) };
  }
}

test('startSshd serves every 127.0.0.x with the written known_hosts, rekey changes the key, stop cleans up', async () => {
  const s = await startSshd();
  try {
    expect(s.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(ssh(s.sshArgs('127.0.0.1'), 'echo hi')).toEqual({ ok: true, out: 'hi\n' });
    expect(s.allLoopback, 'rdomain lo: every 127.0.0.x must answer').toBe(true);
    expect(ssh(s.sshArgs('127.0.0.7'), 'echo seven').out).toBe('seven\n');
    const old = s.hostKeyFingerprint;
    const fp = await s.rekey();
    expect(fp).not.toBe(old);
    expect(s.hostKeyFingerprint).toBe(fp);
    const changed = ssh(s.sshArgs(), 'echo hi');
    expect(changed.ok).toBe(false);
    expect(changed.out).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
  } finally {
    await s.stop();
  }
  expect(existsSync(s.dir)).toBe(false);
});

test('hostsPerPort spreads hosts over ports, each with its known_hosts entry (the bench past 125 hosts)', async () => {
  const s = await startSshd({ knownHostsCount: 5, hostsPerPort: 2 });
  try {
    expect(s.allLoopback, 'rdomain lo: every 127.0.0.x must answer').toBe(true);
    const ports = [1, 2, 3, 4, 5].map((i) => s.portOf(i));
    expect(ports[0]).toBe(s.port);
    expect(ports[1]).toBe(s.port);
    expect(new Set(ports).size).toBe(3);
    const lines = readFileSync(s.knownHostsPath, 'utf8').trim().split('\n');
    for (const [i, port] of ports.entries())
      expect(lines[i]).toMatch(new RegExp(`^\\[127\\.0\\.0\\.${i + 1}\\]:${port} `));
    // host 5 answers on its own port, with the host key known_hosts holds for it
    const args = s.sshArgs('127.0.0.5');
    args[1] = String(s.portOf(5));
    expect(ssh(args, 'echo five')).toEqual({ ok: true, out: 'five\n' });
  } finally {
    await s.stop();
  }
});

// The loopback sshd harness itself: other integration tests build on it.
import { test, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

// SSH trust through the real CLI and a real sshd: an unknown host key, a changed key, a pinned
// key that differs, a jump host whose key changed: each run is refused with the fingerprint and
// the way to fix it, and no command runs (a marker file never appears). Trust on first use
// records a hashed entry and never accepts a changed key. Legacy algorithms stay off unless
// the inventory asks.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useHostileProjects, runbookYaml, type Project, type ProjectOptions } from '../helpers/hostile-project.js';
import { SshTransport } from '../../src/transport/ssh.js';
import type { SshHost } from '../../src/ports.js';
import { resolveHost } from '../../src/plan/resolve.js';

const lab = useHostileProjects();
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'lb-trust-'));
});
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
});

let n = 0;
/** A project whose runbook would create `marker` in its preflight and in its first step. */
function trustProject(o: ProjectOptions, host = 'target'): { p: Project; marker: string } {
  const p = lab.project(o);
  const marker = path.join(scratch, `ran-${++n}`);
  p.write(
    'rb.yaml',
    runbookYaml('rb', ['  - id: touch', '    on: t', `    run: touch ${marker}`].join('\n'), '', host).replace(
      'run: "true"',
      `run: touch ${marker}-pre`,
    ),
  );
  return { p, marker };
}

function knownHosts(lines: string[]): string {
  const f = path.join(scratch, `known_hosts-${++n}`);
  writeFileSync(f, lines.length ? lines.join('\n') + '\n' : '', { mode: 0o600 });
  return f;
}

/** A public key line (`ssh-ed25519 AAAA…`) and fingerprint of a fresh key nobody serves. */
function otherKey(): { line: string; fp: string } {
  const k = path.join(scratch, `other-${++n}`);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k], { stdio: 'ignore' });
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', k + '.pub'], { encoding: 'utf8' }).split(' ')[1];
  return {
    line: readFileSync(k + '.pub', 'utf8')
      .trim()
      .split(' ')
      .slice(0, 2)
      .join(' '),
    fp,
  };
}

const entry = (addr: string, key: string) => `[${addr}]:${lab.sshd.port} ${key}`;

describe('host keys that must not be trusted', () => {
  it('an unknown host key: refused with its fingerprint and both ways to trust it; nothing runs', async () => {
    const { p, marker } = trustProject({ knownHosts: knownHosts([]) });
    const r = await p.run('rb');
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain(
      `unknown host key for host target (127.0.0.1:${lab.sshd.port}): ssh-ed25519 ${lab.sshd.hostKeyFingerprint}`,
    );
    expect(out).toContain('--accept-new-host-keys');
    expect(out).toContain(`host_key: ${lab.sshd.hostKeyFingerprint}`);
    expect(out).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(marker + '-pre')).toBe(false);
  });

  it('the refusal is said once for the host; each step on it says briefly why it did not run, naming the host', async () => {
    const p = lab.project({ knownHosts: knownHosts([]) });
    const marker = path.join(scratch, `ran-${++n}`);
    p.write(
      'rb.yaml',
      [
        'lifeboat: 1',
        'kind: runbook',
        'name: rb',
        'version: 1.0.0',
        'title: rb probe',
        'service: probe',
        'tier: routine',
        'owner: ops@example.com',
        'roles: { t: target }',
        'steps:',
        ...['one', 'two', 'three'].flatMap((id) => [
          `  - id: ${id}`,
          '    on: t',
          `    run: touch ${marker}-${id}`,
          '    on_failure: continue',
        ]),
        '',
      ].join('\n'),
    );
    const r = await p.run('rb');
    const out = r.stdout + r.stderr;
    // the live lines, before the summary table
    const live = out.slice(0, out.indexOf('\nstep '));
    const count = (s: string, what: string) => s.split(what).length - 1;
    expect(count(live, `unknown host key for host target (127.0.0.1:${lab.sshd.port})`), live).toBe(1);
    expect(count(live, 'Verify it out of band'), live).toBe(1);
    for (const id of ['one', 'two', 'three']) {
      expect(live).toMatch(
        new RegExp(
          `\\[${id} @ target\\] REFUSED: target's host key was refused \\(unknown key; why and what to do: see host target\\): nothing was sent`,
        ),
      );
      expect(existsSync(`${marker}-${id}`)).toBe(false);
    }
    // the summary: each step's row is brief; the host's row says it in full, once
    const summary = out.slice(out.indexOf('\nstep '));
    expect(count(summary, 'Verify it out of band'), summary).toBe(1);
    expect(summary).toMatch(/one\s+target\s+FAILED\S*\s+\S+\s+target's host key was refused/);
  });

  it('a changed host key (known_hosts has another key): refused as a possible man in the middle, with the fix; nothing runs', async () => {
    const old = otherKey();
    const kh = knownHosts([entry('127.0.0.1', old.line)]);
    const { p, marker } = trustProject({ knownHosts: kh });
    const r = await p.run('rb', ['--accept-new-host-keys']);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain('HOST KEY CHANGED for host target');
    expect(out).toContain(old.fp);
    expect(out).toContain(`now presents ssh-ed25519 ${lab.sshd.hostKeyFingerprint}`);
    expect(out).toContain(`ssh-keygen -R '[127.0.0.1]:${lab.sshd.port}' -f ${kh}`);
    expect(out).toMatch(/new keys are never accepted for a known host/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(marker + '-pre')).toBe(false);
    // --accept-new-host-keys did not touch the file
    expect(readFileSync(kh, 'utf8')).toBe(entry('127.0.0.1', old.line) + '\n');
  });

  it('a pinned host_key that differs from the one presented: refused even though known_hosts trusts the server', async () => {
    const pinned = otherKey();
    const { p, marker } = trustProject({ hosts: { target: { address: '127.0.0.1', host_key: pinned.fp } } });
    const r = await p.run('rb', ['--accept-new-host-keys']);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain(
      `HOST KEY MISMATCH for host target (127.0.0.1:${lab.sshd.port}): the inventory pins ${pinned.fp} but the server presents ssh-ed25519 ${lab.sshd.hostKeyFingerprint}`,
    );
    expect(out).toMatch(/update `host_key` in the inventory/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(marker + '-pre')).toBe(false);
  });

  it('a pinned host_key that matches is enough on its own (no known_hosts entry needed)', async () => {
    const { p, marker } = trustProject({
      knownHosts: knownHosts([]),
      hosts: { target: { address: '127.0.0.1', host_key: lab.sshd.hostKeyFingerprint } },
    });
    const r = await p.run('rb');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it('a jump host whose key changed: refused naming the jump host and its fingerprint; the target behind it runs nothing', async () => {
    // the jump host and the target are two addresses of the one sshd (every 127.0.0.x)
    expect(lab.sshd.allLoopback, 'this sshd answers on 127.0.0.1 only: the jump host case needs every 127.0.0.x').toBe(
      true,
    );
    const old = otherKey();
    // the target (127.0.0.2) is trusted; the jump host (127.0.0.3) is known with another key
    const kh = knownHosts([entry('127.0.0.2', lab.sshd.hostPublicKey), entry('127.0.0.3', old.line)]);
    const hosts = { target: { address: '127.0.0.2', jump: 'bastion' }, bastion: { address: '127.0.0.3' } };
    const { p, marker } = trustProject({ knownHosts: kh, hosts });
    const r = await p.run('rb', ['--accept-new-host-keys']);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain('via jump host bastion');
    expect(out).toContain('HOST KEY CHANGED for host bastion');
    expect(out).toContain(lab.sshd.hostKeyFingerprint);
    expect(out).toContain(`ssh-keygen -R '[127.0.0.3]:${lab.sshd.port}'`);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(marker + '-pre')).toBe(false);
    // the same project with the jump host's key right goes through the jump host
    const good = knownHosts([entry('127.0.0.2', lab.sshd.hostPublicKey), entry('127.0.0.3', lab.sshd.hostPublicKey)]);
    const { p: p2, marker: m2 } = trustProject({ knownHosts: good, hosts });
    const ok = await p2.run('rb');
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(existsSync(m2)).toBe(true);
    // the jump host was dialled (a tunnelled connection shows as coming from the jump sshd itself)
    expect(readFileSync(lab.sshd.logPath, 'utf8')).toMatch(/Connection from \S+ port \d+ on 127\.0\.0\.3 port/);
  });
});

describe('trust on first use (--accept-new-host-keys)', () => {
  it('records a hashed entry (the address is not readable in the file), then a changed key is refused', async () => {
    const kh = knownHosts([]);
    const { p, marker } = trustProject({ knownHosts: kh });
    const first = await p.run('rb', ['--accept-new-host-keys']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
    const text = readFileSync(kh, 'utf8');
    expect(text).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 AAAA[A-Za-z0-9+/=]+\n$/);
    expect(text).not.toContain('127.0.0.1');
    // ssh-keygen finds the hashed entry under the name ssh would look up
    expect(
      execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${lab.sshd.port}`, '-f', kh], { encoding: 'utf8' }),
    ).toContain('ssh-ed25519');
    // a run without the flag now trusts the recorded key
    rmSync(marker);
    const again = await p.run('rb');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);
    rmSync(marker + '-pre');

    // the server's key changes: refused, with or without the flag, and the file is left alone
    const newFp = await lab.sshd.rekey();
    for (const extra of [['--accept-new-host-keys'], []]) {
      const r = await p.run('rb', extra);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain(`HOST KEY CHANGED for host target`);
      expect(r.stdout + r.stderr).toContain(newFp);
      expect(existsSync(marker)).toBe(false);
      expect(existsSync(marker + '-pre')).toBe(false);
    }
    expect(readFileSync(kh, 'utf8')).toBe(text);
  });
});

describe('algorithms', () => {
  const require = createRequire(import.meta.url);
  const ssh2 = require('ssh2') as typeof import('ssh2');
  const constants = require('ssh2/lib/protocol/constants.js') as Record<string, string[]>;
  const WEAK =
    /^(ssh-rsa|ssh-dss|diffie-hellman-group1-sha1|diffie-hellman-group14-sha1|diffie-hellman-group-exchange-sha1|.*-cbc|3des.*|arcfour.*|blowfish.*|cast128.*|hmac-md5.*|hmac-sha1-96|hmac-ripemd160.*)$/;

  function hostOf(over: Partial<SshHost> = {}): SshHost {
    return {
      transport: 'ssh',
      name: 'db1',
      address: '127.0.0.1',
      port: lab.sshd.port,
      user: lab.sshd.user,
      identityFiles: [lab.sshd.clientKeyPath],
      knownHosts: [lab.sshd.knownHostsPath],
      connectTimeoutMs: 5000,
      mayBeDown: false,
      ...over,
    };
  }

  /** The `algorithms` the transport hands to ssh2 when connecting to `host`. */
  async function algorithmsFor(host: SshHost): Promise<Record<string, unknown>> {
    const proto = ssh2.Client.prototype as unknown as {
      connect: (cfg: { algorithms?: Record<string, unknown> }) => unknown;
    };
    const original = proto.connect;
    let seen: Record<string, unknown> | undefined;
    proto.connect = function (this: unknown, cfg) {
      seen = cfg.algorithms;
      return original.call(this, cfg);
    };
    const t = new SshTransport({ agentSocket: null });
    try {
      await t.connect(host).catch(() => undefined);
    } finally {
      proto.connect = original;
      await t.closeAll();
    }
    expect(seen).toBeDefined();
    return seen!;
  }

  /** The list ssh2 will offer for a category, given what the transport passed. */
  function effective(passed: unknown, defaults: string[]): string[] {
    if (passed === undefined) return defaults;
    if (Array.isArray(passed)) return passed as string[];
    const o = passed as { append?: string[]; prepend?: string[]; remove?: string[] };
    return [...(o.prepend ?? []), ...defaults, ...(o.append ?? [])].filter((a) => !(o.remove ?? []).includes(a));
  }

  it('by default no legacy algorithm is offered (host keys, key exchange, ciphers, MACs)', async () => {
    const a = await algorithmsFor(hostOf());
    const offered = {
      serverHostKey: effective(a.serverHostKey, constants.DEFAULT_SERVER_HOST_KEY),
      kex: effective(a.kex, constants.DEFAULT_KEX),
      cipher: effective(a.cipher, constants.DEFAULT_CIPHER),
      hmac: effective(a.hmac, constants.DEFAULT_MAC),
    };
    for (const [k, list] of Object.entries(offered)) {
      expect(list.length, k).toBeGreaterThan(0);
      expect(
        list.filter((x) => WEAK.test(x)),
        k,
      ).toEqual([]);
    }
    // ssh2's own default host key list has ssh-rsa (SHA-1 signatures): the transport must replace it
    expect(Array.isArray(a.serverHostKey)).toBe(true);
  });

  it('a host that lists legacy algorithms gets exactly those added, nothing else', async () => {
    const a = await algorithmsFor(
      hostOf({
        algorithms: { cipher: ['aes128-cbc'], serverHostKey: ['ssh-rsa'], kex: ['diffie-hellman-group14-sha1'] },
      }),
    );
    const hk = effective(a.serverHostKey, constants.DEFAULT_SERVER_HOST_KEY);
    expect(hk.filter((x) => WEAK.test(x))).toEqual(['ssh-rsa']);
    expect(effective(a.cipher, constants.DEFAULT_CIPHER).filter((x) => WEAK.test(x))).toEqual(['aes128-cbc']);
    expect(effective(a.kex, constants.DEFAULT_KEX).filter((x) => WEAK.test(x))).toEqual([
      'diffie-hellman-group14-sha1',
    ]);
    expect(effective(a.hmac, constants.DEFAULT_MAC).filter((x) => WEAK.test(x))).toEqual([]);
    // another host of the same run is not affected
    const b = await algorithmsFor(hostOf({ name: 'db2' }));
    expect(effective(b.cipher, constants.DEFAULT_CIPHER).filter((x) => WEAK.test(x))).toEqual([]);
  });

  it('an inventory `algorithms:` entry reaches the host it is written on only', () => {
    const inv = {
      lifeboat: 1,
      kind: 'inventory',
      name: 'x',
      defaults: { port: 22 },
      hosts: {
        old: { address: '10.0.0.1', algorithms: { cipher: ['aes128-cbc'] } },
        new: { address: '10.0.0.2' },
        behind: { address: '10.0.0.3', jump: 'old' },
      },
    } as unknown as Parameters<typeof resolveHost>[0];
    expect(resolveHost(inv, 'old').algorithms).toEqual({ cipher: ['aes128-cbc'] });
    expect(resolveHost(inv, 'new').algorithms).toBeUndefined();
    // a host behind a legacy jump host does not inherit its algorithms
    const behind = resolveHost(inv, 'behind');
    expect(behind.algorithms).toBeUndefined();
    expect(behind.jump?.algorithms).toEqual({ cipher: ['aes128-cbc'] });
  });
});

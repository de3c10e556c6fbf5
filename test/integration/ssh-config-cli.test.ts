// Hosts without an address, through the real CLI and a real sshd: the inventory's ssh_config
// (found next to the inventory), resolved by `ssh -G` and by the built-in resolver; a ProxyCommand
// that carries the connection; where each value came from in the dry run; files the inventory
// names that do not exist.
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { useHostileProjects, runbookYaml, type Project } from '../helpers/hostile-project.js';

const lab = useHostileProjects({ sshd: { knownHostsCount: 1 } });

/**
 * A project whose host `viaproxy` has no address: its ssh_config (next to the inventory) names a
 * HostName that does not exist in DNS and a ProxyCommand (OpenSSH's own `ssh -W`) that reaches
 * the sshd; known_hosts knows the key under that name. Only the ProxyCommand can make it work.
 */
function proxyProject(proxyCommand?: string): { p: Project; marker: string; proxied: string } {
  const p = lab.project({ hosts: { viaproxy: {} }, knownHosts: 'known_hosts' });
  const marker = path.join(p.dir, 'ran');
  const proxied = path.join(p.dir, 'proxied');
  const sshW = `ssh -F none -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${lab.sshd.knownHostsPath} -o GlobalKnownHostsFile=/dev/null -i ${lab.sshd.clientKeyPath} -l ${lab.sshd.user} -p ${lab.sshd.port} -W 127.0.0.1:%p 127.0.0.1`;
  p.write('inventories/known_hosts', `[through-proxy.invalid]:${lab.sshd.port} ${lab.sshd.hostPublicKey}\n`, 0o600);
  p.write(
    'inventories/t.yaml',
    readFileSync(path.join(p.dir, 'inventories/t.yaml'), 'utf8') + 'ssh_config: ssh_config\n',
  );
  p.write(
    'inventories/ssh_config',
    [
      'Host viaproxy',
      '  HostName through-proxy.invalid',
      `  ProxyCommand ${proxyCommand ?? `sh -c 'echo %h:%p > ${proxied}; exec ${sshW}'`}`,
      '',
    ].join('\n'),
  );
  p.write(
    'rb.yaml',
    runbookYaml('rb', ['  - id: touch', '    on: t', `    run: touch ${marker}`].join('\n'), '', 'viaproxy'),
  );
  return { p, marker, proxied };
}

describe('ssh_config next to the inventory, ProxyCommand', () => {
  for (const resolver of ['openssh', 'builtin'] as const) {
    it(`a ProxyCommand carries the connection (${resolver === 'openssh' ? 'ssh -G' : 'built-in resolver'})`, async () => {
      const { p, marker, proxied } = proxyProject();
      const env = { LIFEBOAT_SSH_RESOLVER: resolver };
      const dry = await p.run('rb', ['--dry-run'], { env });
      expect(dry.code, dry.stdout + dry.stderr).toBe(0);
      expect(dry.stdout).toContain(`viaproxy → ${lab.sshd.user}@through-proxy.invalid:${lab.sshd.port}`);
      expect(dry.stdout).toContain('through ProxyCommand: sh -c');
      expect(dry.stdout).toMatch(
        resolver === 'openssh'
          ? /address, ProxyCommand: ssh -G/
          : /address, ProxyCommand: ssh_config \(built-in resolver: \S+inventories\/ssh_config\)/,
      );
      expect(dry.stdout).toMatch(/port, user, identity files: inventory defaults/);
      expect(existsSync(proxied)).toBe(false); // a dry run starts no ProxyCommand
      const pre = await p.cli(['preflight', 'rb', '-i', 't', '--plain', '--state-dir', p.stateDir], { env });
      expect(pre.code, pre.stdout + pre.stderr).toBe(0);
      expect(pre.stdout).toMatch(
        resolver === 'openssh'
          ? /address, ProxyCommand: ssh -G/
          : /address, ProxyCommand: ssh_config \(built-in resolver/,
      );
      const r = await p.run('rb', [], { env });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(existsSync(marker)).toBe(true);
      expect(readFileSync(proxied, 'utf8').trim()).toBe(`through-proxy.invalid:${lab.sshd.port}`);
    });
  }

  it('a ProxyCommand that fails: unreachable, with what it said; nothing runs', async () => {
    const { p, marker } = proxyProject(`sh -c 'echo no route to the DMZ >&2; exit 3'`);
    const r = await p.run('rb');
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/ProxyCommand .*no route to the DMZ/);
    expect(existsSync(marker)).toBe(false);
  });

  it('an ssh_config the inventory names that does not exist: a validation error at its line and column', async () => {
    const p = lab.project({ hosts: { alias: {} } });
    const inv = readFileSync(path.join(p.dir, 'inventories/t.yaml'), 'utf8') + 'ssh_config: no-such-config\n';
    p.write('inventories/t.yaml', inv);
    p.write('rb.yaml', runbookYaml('rb', '', '', 'alias'));
    const line = inv.split('\n').findIndex((l) => l.startsWith('ssh_config:')) + 1;
    const v = await p.cli(['validate', '.']);
    expect(v.code).not.toBe(0);
    expect(v.stdout + v.stderr).toContain(`inventories/t.yaml:${line}:13`);
    expect(v.stdout + v.stderr).toContain(
      `ssh_config: ${path.join(p.dir, 'inventories/no-such-config')} does not exist`,
    );
    const r = await p.run('rb');
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('nothing was run');
  });

  it('an identity_file from the environment that does not exist: the run refuses at its line and column', async () => {
    const p = lab.project();
    const inv = readFileSync(path.join(p.dir, 'inventories/t.yaml'), 'utf8').replace(
      /identity_file: "[^"]*"/,
      'identity_file: "${KEYS:-keys}/id"',
    );
    p.write('inventories/t.yaml', inv);
    p.write('rb.yaml', runbookYaml('rb', ''));
    const line = inv.split('\n').findIndex((l) => l.includes('identity_file')) + 1;
    const v = await p.cli(['validate', '.']);
    expect(v.stdout + v.stderr).not.toContain('missing-file'); // it depends on the environment: checked by the run
    const r = await p.run('rb', [], { env: { KEYS: path.join(p.dir, 'nowhere') } });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(new RegExp(`inventories/t\\.yaml:${line}:\\d+`));
    expect(r.stdout + r.stderr).toContain(`identity_file: ${path.join(p.dir, 'nowhere/id')} does not exist`);
  });
});

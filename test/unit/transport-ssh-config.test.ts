import { test, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { resolveFromSshConfig, withDefaults } from '../../src/transport/ssh-config.js';

let dir: string;
let config: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-sshcfg-'));
  config = join(dir, 'config');
  writeFileSync(
    config,
    [
      'Host bastion',
      '  HostName 198.18.0.5',
      '  User jump',
      '  Port 2022',
      '',
      'Host db*',
      '  HostName %h.internal',
      '  User admin',
      '  IdentityFile ~/.ssh/db_%r',
      '  IdentityFile /keys/second',
      '  ProxyJump bastion',
      '  ConnectTimeout 4',
      '  UserKnownHostsFile ~/.ssh/kh1 /etc/kh2',
      '',
      'Host chain',
      '  ProxyJump ops@outer:2200,bastion',
      '',
      'Host direct',
      '  ProxyJump none',
      '',
      'Match exec "touch ' + join(dir, 'EXECUTED') + '"',
      '  User nobody',
      '',
      'Host *',
      '  Port 22',
    ].join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('HostName with %h, User, IdentityFile with tokens and ~, ProxyJump, ConnectTimeout, UserKnownHostsFile', () => {
  const r = resolveFromSshConfig('db2', config);
  expect(r.address).toBe('db2.internal');
  expect(r.user).toBe('admin');
  expect(r.port).toBe(22);
  expect(r.identityFiles).toEqual([join(homedir(), '.ssh/db_admin'), '/keys/second']);
  expect(r.connectTimeoutMs).toBe(4000);
  expect(r.knownHosts).toEqual([join(homedir(), '.ssh/kh1'), '/etc/kh2']);
  expect(r.jump).toMatchObject({ name: 'bastion', address: '198.18.0.5', user: 'jump', port: 2022 });
  expect(r.jump?.jump).toBeUndefined();
});

test('a ProxyJump chain: the first hop is outermost; user@host:port overrides', () => {
  const r = resolveFromSshConfig('chain', config);
  expect(r.address).toBe('chain');
  expect(r.jump).toMatchObject({ name: 'bastion', address: '198.18.0.5' });
  expect(r.jump?.jump).toMatchObject({ name: 'outer', address: 'outer', user: 'ops', port: 2200 });
});

test('ProxyJump none, unknown hosts, missing config file', () => {
  expect(resolveFromSshConfig('direct', config).jump).toBeUndefined();
  expect(resolveFromSshConfig('elsewhere', config)).toEqual({ address: 'elsewhere', port: 22 });
  expect(resolveFromSshConfig('elsewhere', join(dir, 'missing'))).toEqual({ address: 'elsewhere' });
});

test('Match exec is never run', () => {
  resolveFromSshConfig('db1', config);
  expect(() => rmSync(join(dir, 'EXECUTED'))).toThrow();
});

test('withDefaults fills what ssh would', () => {
  const h = withDefaults('x', { address: '198.18.0.9' });
  expect(h).toMatchObject({ name: 'x', address: '198.18.0.9', port: 22, user: userInfo().username, connectTimeoutMs: 10_000, mayBeDown: false });
  expect(h.identityFiles[0]).toBe(join(homedir(), '.ssh/id_ed25519'));
  expect(h.knownHosts).toEqual([join(homedir(), '.ssh/known_hosts')]);
});

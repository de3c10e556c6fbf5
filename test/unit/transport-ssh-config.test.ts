// The built-in ssh_config resolver's pieces, without a network (the comparison with OpenSSH
// itself is test/integration/conformance-ssh-config.test.ts).
import { test, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import {
  builtinSettings,
  matchPattern,
  matchPatternList,
  parseJumpSpec,
  settingsToHost,
  splitArgs,
  SshConfigError,
} from '../../src/transport/ssh-config.js';
import { parseSshG, SshResolver } from '../../src/transport/ssh-resolve.js';

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
      'Host outer',
      '  ProxyJump far',
      'Host db*',
      '  HostName %h.internal',
      '  User admin',
      '  IdentityFile ~/.ssh/db_%r',
      '  ProxyJump bastion',
      '  ConnectTimeout 4',
      'Host chain',
      '  ProxyJump ops@outer:2200,bastion',
      'Host proxied',
      '  ProxyCommand nc %h %p',
      '',
    ].join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('arguments: quotes, escapes, # at a word start ends the line, # inside a word stays', () => {
  expect(splitArgs(`a "b c" 'd e' f\\ g h#i # j`, 'x')).toEqual(['a', 'b c', 'd e', 'f g', 'h#i']);
  expect(() => splitArgs('"open', 'x')).toThrow(SshConfigError);
});

test('patterns: ? is exactly one character, * any run, case-sensitive; lists with negation', () => {
  expect(matchPattern('db', 'db?')).toBe(false);
  expect(matchPattern('db1', 'db?')).toBe(true);
  expect(matchPattern('a.b.c', '*.c')).toBe(true);
  expect(matchPattern('DB1', 'db1')).toBe(false);
  expect(matchPatternList('ab', 'a*,!ab', true)).toBe(-1);
  expect(matchPatternList('ac', 'A*,!ab', true)).toBe(1);
});

test('jump specs', () => {
  expect(parseJumpSpec('ops@outer:2200')).toEqual({ host: 'outer', user: 'ops', port: 2200 });
  expect(parseJumpSpec('ssh://[fe80::1]:22')).toEqual({ host: 'fe80::1', user: undefined, port: 22 });
});

test('ssh -G output is read field by field', () => {
  const s = parseSshG(
    'db1',
    [
      'host db1',
      'hostname 10.0.0.1',
      'port 2222',
      'user u',
      'identityfile ~/.ssh/a',
      'identityfile /b',
      'proxycommand nc %h %p',
      'userknownhostsfile /k1 /k2',
      'connecttimeout none',
      'hostkeyalias al',
    ].join('\n'),
  );
  expect(s).toMatchObject({
    hostname: '10.0.0.1',
    port: 2222,
    user: 'u',
    identityFiles: ['~/.ssh/a', '/b'],
    proxyCommand: 'nc %h %p',
    userKnownHostsFiles: ['/k1', '/k2'],
    hostKeyAlias: 'al',
  });
  expect(s.connectTimeout).toBeUndefined();
});

test('tokens and ~ are expanded from the final values (home from the password database)', () => {
  const h = settingsToHost(builtinSettings('db2', { configPath: config }));
  expect(h).toMatchObject({
    address: 'db2.internal',
    user: 'admin',
    port: 22,
    connectTimeoutMs: 4000,
    identityFiles: [join(userInfo().homedir, '.ssh/db_admin')],
  });
  expect(settingsToHost(builtinSettings('proxied', { configPath: config })).proxyCommand).toBe('nc proxied 22');
});

test('ProxyJump chains: the first hop as configured, later hops reached through the earlier ones', async () => {
  const r = new SshResolver({ configPath: config, resolver: 'builtin' });
  await r.prefetch([{ name: 'chain' }]);
  const h = r.host({ name: 'chain' });
  expect(h.address).toBe('chain');
  expect(h.jump).toMatchObject({ name: 'bastion', address: '198.18.0.5', user: 'jump', port: 2022 });
  expect(h.jump?.jump).toMatchObject({ name: 'outer', user: 'ops', port: 2200 });
  // outer's own ProxyJump (far) applies: it is the first hop
  expect(h.jump?.jump?.jump).toMatchObject({ name: 'far', address: 'far' });
});

test('-l and -p (the inventory) win over the config', () => {
  expect(builtinSettings('db1', { configPath: config, user: 'me', port: 2 })).toMatchObject({ user: 'me', port: 2 });
});

test('a missing -F file is an error, as for ssh', () => {
  expect(() => builtinSettings('x', { configPath: join(dir, 'missing') })).toThrow(/Can't open user config file/);
});

// ssh_config conformance: every case of conformance/ssh-config-cases.ts is resolved by the
// installed OpenSSH (`ssh -G`), by lifeboat through `ssh -G` and by lifeboat's built-in
// resolver, and the answers are compared field by field. Zero differences are allowed.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { SSH_CONFIG_CASES, type SshConfigCase } from './conformance/ssh-config-cases.js';
import { builtinSettings, type SshSettings } from '../../src/transport/ssh-config.js';
import { SshResolver } from '../../src/transport/ssh-resolve.js';

const sshDir = path.join(userInfo().homedir, '.ssh');
let root: string;
let inc: string;
let createdSshDir = false;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'lb-sshcfg-conf-'));
  if (!existsSync(sshDir)) {
    mkdirSync(sshDir, { mode: 0o700 });
    createdSshDir = true;
  }
  inc = path.basename(mkdtempSync(path.join(sshDir, 'lifeboat-conformance-')));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(path.join(sshDir, inc), { recursive: true, force: true });
  if (createdSshDir) rmSync(sshDir, { recursive: true, force: true });
});

/** Write a case's files; returns the -F file. */
function materialize(k: SshConfigCase, i: number): string {
  const dir = path.join(root, `case-${i}`);
  const incRel = `${inc}/case-${i}`;
  const fill = (t: string) => t.replaceAll('$D', dir).replaceAll('$INC', incRel);
  for (const [rel, text] of Object.entries(k.files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), fill(text));
  }
  for (const [rel, text] of Object.entries(k.homeFiles ?? {})) {
    mkdirSync(path.join(sshDir, incRel), { recursive: true });
    writeFileSync(path.join(sshDir, incRel, rel), fill(text));
  }
  return path.join(dir, 'config');
}

type Answer = { error: true; why?: string } | { error: false; fields: Record<string, string> };

/** `ssh -G` itself, read independently of lifeboat's parser. */
function openssh(k: SshConfigCase, config: string): Answer {
  const args = [
    '-G',
    '-F',
    config,
    ...(k.user ? ['-l', k.user] : []),
    ...(k.port ? ['-p', String(k.port)] : []),
    '--',
    k.host,
  ];
  let out: string;
  try {
    out = execFileSync('ssh', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return { error: true };
  }
  const map = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0) map.set(line.slice(0, i), [...(map.get(line.slice(0, i)) ?? []), line.slice(i + 1)]);
  }
  const one = (key: string, none?: string) => {
    const v = map.get(key)?.[0];
    return v === undefined || v === none ? '' : v;
  };
  return {
    error: false,
    fields: {
      hostname: one('hostname'),
      port: one('port'),
      user: one('user'),
      identityfile: (map.get('identityfile') ?? []).join('\n'),
      proxyjump: one('proxyjump', 'none'),
      proxycommand: one('proxycommand', 'none'),
      userknownhostsfile: one('userknownhostsfile'),
      connecttimeout: one('connecttimeout', 'none'),
      hostkeyalias: one('hostkeyalias'),
    },
  };
}

function fieldsOf(s: SshSettings): Record<string, string> {
  return {
    hostname: s.hostname,
    port: String(s.port),
    user: s.user,
    identityfile: s.identityFiles.join('\n'),
    proxyjump: s.proxyJump ?? '',
    proxycommand: s.proxyCommand ?? '',
    userknownhostsfile: s.userKnownHostsFiles.join(' '),
    connecttimeout: s.connectTimeout === undefined ? '' : String(s.connectTimeout),
    hostkeyalias: s.hostKeyAlias ?? '',
  };
}

function builtin(k: SshConfigCase, config: string): Answer {
  try {
    return {
      error: false,
      fields: fieldsOf(builtinSettings(k.host, { configPath: config, user: k.user, port: k.port })),
    };
  } catch (e) {
    return { error: true, why: (e as Error).message };
  }
}

async function viaSshG(k: SshConfigCase, config: string): Promise<Answer> {
  const r = new SshResolver({ configPath: config, resolver: 'openssh' });
  try {
    return { error: false, fields: fieldsOf(await r.settings({ name: k.host, user: k.user, port: k.port })) };
  } catch (e) {
    return { error: true, why: (e as Error).message };
  }
}

function differences(expected: Answer, actual: Answer): string[] {
  if (expected.error || actual.error)
    return expected.error === actual.error
      ? []
      : [
          `ssh ${expected.error ? 'fails' : 'succeeds'}, lifeboat ${actual.error ? `fails (${actual.why})` : 'succeeds'}`,
        ];
  return Object.keys(expected.fields)
    .filter((f) => expected.fields[f] !== actual.fields[f])
    .map((f) => `${f}: ssh '${expected.fields[f]}', lifeboat '${actual.fields[f]}'`);
}

describe('ssh_config: lifeboat resolves every case as OpenSSH does', () => {
  test(`${SSH_CONFIG_CASES.length} cases, both resolvers, zero differences`, async () => {
    expect(SSH_CONFIG_CASES.length).toBeGreaterThanOrEqual(40);
    const diffs: string[] = [];
    const matched = { builtin: 0, sshG: 0 };
    // OpenSSH and the built-in resolver one case after the other; then lifeboat's `ssh -G`
    // resolver for all cases at once, as a run asks for all its hosts
    const sync = SSH_CONFIG_CASES.map((k, i) => {
      const config = materialize(k, i);
      return { config, expected: openssh(k, config), builtin: builtin(k, config) };
    });
    await Promise.all(
      SSH_CONFIG_CASES.map(async (k, i) => {
        const { config, expected } = sync[i];
        const b = differences(expected, sync[i].builtin);
        const g = differences(expected, await viaSshG(k, config));
        if (!b.length) matched.builtin++;
        if (!g.length) matched.sshG++;
        for (const d of b) diffs.push(`[built-in] ${k.name}: ${d}`);
        for (const d of g) diffs.push(`[ssh -G] ${k.name}: ${d}`);
      }),
    );
    console.log(
      `ssh_config conformance: ${SSH_CONFIG_CASES.length} cases; built-in resolver matches ${matched.builtin}, ssh -G resolver matches ${matched.sshG}`,
    );
    expect(diffs).toEqual([]);
  }, 120_000);
});

// Generated configurations: blocks of Host and Match lines over a few names, patterns and
// values, so that fields meet in ways no list of cases thinks of. A failure found here becomes
// a named case in conformance/ssh-config-cases.ts.
const hostPattern = fc.constantFrom(
  'db1',
  'db?',
  'db*',
  '*',
  '!db2',
  '!web',
  'web',
  '*.internal',
  'a,db1',
  'DB1',
  'd?1',
);
const criterion = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('host', '!host', 'originalhost', '!originalhost'),
      fc.constantFrom('db1', 'db*', '*.internal', 'web,db?', '!db2,*', 'DB1'),
    )
    .map(([a, v]) => `${a} ${v}`),
  fc.tuple(fc.constantFrom('user', '!user'), fc.constantFrom('admin', 'root', 'a*')).map(([a, v]) => `${a} ${v}`),
  fc.constant('final'),
  fc.constant('canonical'),
);
const option = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('HostName', 'hostname', 'HOSTNAME'),
      fc.constantFrom('%h.internal', '10.0.0.7', 'Web.Example', 'db1'),
    )
    .map(([k, v]) => `${k} ${v}`),
  fc
    .tuple(fc.constantFrom('User', 'user', 'USER'), fc.constantFrom('admin', 'root', 'ops # comment'))
    .map(([k, v]) => `${k} ${v}`),
  fc
    .tuple(fc.constantFrom('Port', 'port', 'Port='), fc.constantFrom('2222', '22', '2200'))
    .map(([k, v]) => `${k} ${v}`),
  fc
    .tuple(fc.constantFrom('IdentityFile', 'identityfile'), fc.constantFrom('~/.ssh/id_%h', '/k/%r', '"/k/a b"'))
    .map(([k, v]) => `${k} ${v}`),
  fc
    .tuple(fc.constantFrom('ProxyJump', 'proxyjump'), fc.constantFrom('bastion', 'none', 'u@j:2,k'))
    .map(([k, v]) => `${k} ${v}`),
  fc.constantFrom('ProxyCommand nc %h %p', 'ConnectTimeout 7', 'HostKeyAlias al-%h'.replace('%h', 'x')),
);
const block = fc
  .tuple(
    fc.oneof(
      fc.array(hostPattern, { minLength: 1, maxLength: 3 }).map((p) => `Host ${p.join(' ')}`),
      fc
        .oneof(fc.constant(['all']), fc.array(criterion, { minLength: 1, maxLength: 2 }))
        .map((c) => `Match ${c.join(' ')}`),
    ),
    fc.array(option, { minLength: 1, maxLength: 3 }),
  )
  .map(([head, opts]) => [head, ...opts.map((o) => `  ${o}`)].join('\n'));

describe('ssh_config: generated configurations', () => {
  test('the built-in resolver agrees with ssh -G on generated configurations', () => {
    let n = 0;
    fc.assert(
      fc.property(
        fc.array(block, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('db1', 'db2', 'web', 'x.internal'),
        fc.option(fc.constantFrom('admin', 'root'), { nil: undefined }),
        (blocks, host, user) => {
          const k: SshConfigCase = { name: `generated ${n}`, files: { config: blocks.join('\n') + '\n' }, host, user };
          const config = materialize(k, 10_000 + n++);
          expect(
            differences(openssh(k, config), builtin(k, config)),
            `${k.files.config}\n(host ${host}${user ? `, -l ${user}` : ''})`,
          ).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  }, 180_000);
});

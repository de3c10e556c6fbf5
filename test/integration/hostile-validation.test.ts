// Hostile files: inventory fields that are not host names, addresses or user names, include
// names that try to leave the project, links out of it, template overrides that read other
// files, raw inserts. Each gets a clear error at file:line:col from the real CLI, and nothing
// worse (no file outside the project is printed, nothing runs).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, symlinkSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lifeboat } from '../helpers/cli.js';
import { runbookYaml } from '../helpers/hostile-project.js';

let dir: string;
let outside: string;
const SECRET_LINE = 'outside-secret-line-7f3a: do not print';

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lb-hostile-validate-'));
  outside = mkdtempSync(path.join(tmpdir(), 'lb-outside-'));
  writeFileSync(path.join(outside, 'private.yaml'), `${SECRET_LINE}\nkind: runbook\n`);
  writeFileSync(path.join(outside, 'other.yaml'), runbookYaml('outsider', '  - id: x\n    on: t\n    run: "true"'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

function project(name: string): { root: string; write: (rel: string, text: string) => string } {
  const root = path.join(dir, name);
  mkdirSync(path.join(root, 'inventories'), { recursive: true });
  writeFileSync(
    path.join(root, 'site.yaml'),
    'lifeboat: 1\nkind: site\norganisation: Hostile Test Ltd\nrecovery_order: [rb]\n',
  );
  return {
    root,
    write: (rel, text) => {
      const p = path.join(root, rel);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, text);
      return p;
    },
  };
}

const inv = (hosts: string[], name = 't') =>
  [
    'lifeboat: 1',
    'kind: inventory',
    `name: ${name}`,
    'environment: rehearsal',
    'hosts:',
    ...hosts.map((h) => `  ${h}`),
    '',
  ].join('\n');

describe('inventory values that are not host names, addresses or users', () => {
  // [line in the file (1-based), the YAML of the host, what the message says]
  const cases: [string, RegExp][] = [
    [
      'a: { address: "127.0.0.1; touch /tmp/pwned" }',
      /address: '127\.0\.0\.1; touch \/tmp\/pwned' is not a valid host name or address/,
    ],
    [
      'b: { address: "-oProxyCommand=touch /tmp/pwned" }',
      /address: '-oProxyCommand=touch \/tmp\/pwned' is not a valid host name or address/,
    ],
    ['c: { address: "$(touch /tmp/pwned)" }', /is not a valid host name or address/],
    ['d: { address: "`id`.example.com" }', /is not a valid host name or address/],
    ['e: { address: "db1.example.com\\nProxyCommand x" }', /is not a valid host name or address/],
    ['f: { address: "ｄｂ１.example.com" }', /is not a valid host name or address/],
    ['g: { address: "db1 .example.com" }', /is not a valid host name or address/],
    ['g2: { address: "db1.ex\u0430mple.com" }', /is not a valid host name or address/], // Cyrillic a
    ['g3: { address: "db1\u200b.example.com" }', /is not a valid host name or address/], // zero-width space
    ['g4: { address: "10.0.0.1", user: "r\u043eot" }', /is not a valid user name/], // Cyrillic o
    ['h: { address: "10.0.0.1", user: "root;id" }', /user: 'root;id' is not a valid user name/],
    ['i: { address: "10.0.0.1", user: "-oProxyCommand=x" }', /user: '-oProxyCommand=x' is not a valid user name/],
    ['j: { address: "10.0.0.1", user: "root$(id)" }', /is not a valid user name/],
    ['k: { address: "10.0.0.1", user: "ro ot" }', /is not a valid user name/],
    ['"l;touch /tmp/pwned": { address: "10.0.0.1" }', /hosts: invalid name 'l;touch \/tmp\/pwned'/],
    ['"m\\u2028x": { address: "10.0.0.1" }', /hosts: invalid name/],
    [
      'o: { address: "10.0.0.1", host_key: "SHA256:abc; touch /tmp/pwned" }',
      /host_key: 'SHA256:abc; touch \/tmp\/pwned' is not a host key fingerprint/,
    ],
    [
      'q: { address: "10.0.0.1\u001b[2J\u001b]0;owned\u0007" }',
      /address: '10\.0\.0\.1\\u001b\[2J\\u001b\]0;owned\\u0007' is not a valid host name/,
    ],
    ['p: { address: "10.0.0.1", port: "22; touch /tmp/pwned" }', /port/],
  ];

  it('lifeboat validate reports each one at its own file:line:col', async () => {
    const p = project('inv');
    const file = p.write(
      'inventories/bad.yaml',
      inv(
        cases.map(([h]) => h),
        'bad',
      ),
    );
    const r = await lifeboat(['validate', file], { cwd: p.root });
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    cases.forEach(([h, re], i) => {
      const line = 6 + i; // hosts start on line 6
      const col =
        h.includes('address') && re.source.includes('address')
          ? h.indexOf('address: ') + 3 + 'address: '.length
          : undefined;
      const mine = out
        .split('\n')
        .filter((l) => l.startsWith(`${file}:${line}:`) || l.startsWith(`inventories/bad.yaml:${line}:`));
      expect(mine.length, `line ${line}: ${h}\n${out}`).toBeGreaterThan(0);
      expect(mine.join('\n'), h).toMatch(re);
      if (col) expect(mine.join('\n'), h).toContain(`:${line}:${col}: error`);
    });
    expect(out).toMatch(new RegExp(`${cases.length} errors`));
    // a value is quoted back with its control characters escaped: no terminal escapes reach the screen
    expect(out).not.toMatch(/\u001b/);
  });

  it('a jump through a name that is not an inventory host is an error at its place', async () => {
    const p = project('jump');
    const file = p.write('inventories/j.yaml', inv(['a: { address: 10.0.0.1, jump: "x; touch /tmp/pwned" }'], 'j'));
    const r = await lifeboat(['validate', file], { cwd: p.root });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(
      `:6:33: error: host 'a' jumps through 'x; touch /tmp/pwned', which is not a host of this inventory [unknown-host]`,
    );
  });

  it('a run with such an inventory refuses before connecting, and says where', async () => {
    const p = project('inv-run');
    p.write('inventories/bad.yaml', inv(['target: { address: "127.0.0.1; touch /tmp/lb-pwned-run" }'], 'bad'));
    p.write('rb.yaml', runbookYaml('rb', '  - id: x\n    on: t\n    run: touch /tmp/lb-pwned-run2'));
    const r = await lifeboat(
      ['run', 'rb', '-i', 'bad', '--yes', '--plain', '--state-dir', path.join(p.root, '.lifeboat')],
      { cwd: p.root },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/inventories\/bad\.yaml:6:\d+: error: host 'target' › address/);
    expect(r.stderr).toMatch(/nothing was run/);
    expect(existsSync('/tmp/lb-pwned-run')).toBe(false);
    expect(existsSync('/tmp/lb-pwned-run2')).toBe(false);
  });
});

describe('values from ssh_config (not checked by the schema)', () => {
  it('a HostName or User with shell syntax from ssh_config stops the run before anything connects', async () => {
    const p = project('sshcfg');
    const cases: [string, RegExp][] = [
      // OpenSSH itself refuses this line (two words): the run stops with its reason
      [
        'HostName x$(touch /tmp/lb-pwned-cfg)y',
        /keyword hostname extra arguments at end of line[\s\S]*nothing was run/,
      ],
      [
        'HostName x$(touch${IFS}/tmp/lb-pwned-cfg)y',
        /host 'cfg': ssh_config gives it the HostName 'x\$\(touch\$\{ifs\}\/tmp\/lb-pwned-cfg\)y', which is not a host name or address: nothing was run/,
      ],
      [
        'HostName 127.0.0.1\n  User r`touch /tmp/lb-pwned-cfg`',
        /keyword user extra arguments at end of line[\s\S]*nothing was run/,
      ],
      [
        'HostName 127.0.0.1\n  User r`touch${IFS}/tmp/lb-pwned-cfg`',
        /host 'cfg': ssh_config gives it the User 'r`touch\$\{IFS\}\/tmp\/lb-pwned-cfg`', which is not a user name: nothing was run/,
      ],
    ];
    p.write(
      'rb.yaml',
      runbookYaml('rb', '  - id: x\n    on: c\n    run: touch /tmp/lb-pwned-cfg2').replace(
        'roles: { t: target }',
        'roles: { t: target, c: cfg }',
      ),
    );
    for (const [cfg, re] of cases) {
      p.write('ssh_cfg', `Host cfg\n  ${cfg}\n`);
      p.write(
        'inventories/t.yaml',
        inv(['target: { address: 127.0.0.1 }', 'cfg: {}']).replace('hosts:', 'ssh_config: ../ssh_cfg\nhosts:'),
      );
      for (const extra of [[], ['--dry-run']]) {
        const r = await lifeboat(
          ['run', 'rb', '-i', 't', '--yes', '--plain', '--state-dir', path.join(p.root, '.lifeboat'), ...extra],
          { cwd: p.root },
        );
        expect(r.code, cfg).toBe(1);
        expect(r.stderr, cfg).toMatch(re);
      }
    }
    expect(existsSync('/tmp/lb-pwned-cfg')).toBe(false);
    expect(existsSync('/tmp/lb-pwned-cfg2')).toBe(false);
  });
});

describe('names and paths that try to leave the project', () => {
  it('include names are names, not paths', async () => {
    const p = project('inc');
    const file = p.write(
      'rb.yaml',
      runbookYaml(
        'rb',
        ['  - id: a', '    include: ../../etc/passwd', '  - id: b', `    include: ${path.join(outside, 'other')}`].join(
          '\n',
        ),
      ),
    );
    const r = await lifeboat(['validate', '.'], { cwd: p.root });
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    const at = (needle: string) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes(needle)) + 1;
    expect(out).toContain(
      `rb.yaml:${at('../../etc/passwd')}:14: error: step 'a' › include: '../../etc/passwd' is not a valid name`,
    );
    expect(out).toMatch(new RegExp(`rb\\.yaml:${at(outside)}:14: error: step 'b' › include: .* is not a valid name`));
    // a runbook outside the project is not found by its name either
    p.write('rb.yaml', runbookYaml('rb', '  - id: c\n    include: outsider'));
    const r2 = await lifeboat(['validate', '.'], { cwd: p.root });
    expect(r2.stdout + r2.stderr).toMatch(
      /rb\.yaml:\d+:14: error: step 'c' includes 'outsider', which is not a runbook of this project/,
    );
    expect(out).not.toContain('root:x:0:0');
    void file;
  });

  it('a YAML link out of the project is not read (its content is never printed), a link inside is', async () => {
    const p = project('links');
    p.write('inventories/t.yaml', inv(['target: { address: 127.0.0.1 }']));
    symlinkSync(path.join(outside, 'private.yaml'), path.join(p.root, 'leak.yaml'));
    symlinkSync('/etc/shadow', path.join(p.root, 'shadow.yaml'));
    symlinkSync(path.join(outside, 'other.yaml'), path.join(p.root, 'outsider.yaml'));
    symlinkSync(path.join(outside, 'missing.yaml'), path.join(p.root, 'dangling.yaml'));
    p.write('real/inside.yaml', runbookYaml('inside', '  - id: x\n    on: t\n    run: "true"'));
    symlinkSync(path.join(p.root, 'real', 'inside.yaml'), path.join(p.root, 'alias-inside.yml'));
    const r = await lifeboat(['validate', '.'], { cwd: p.root });
    const out = r.stdout + r.stderr;
    expect(out).not.toContain(SECRET_LINE);
    expect(out).not.toMatch(/^\s*\d+ \| root:/m);
    for (const f of ['leak.yaml', 'shadow.yaml', 'outsider.yaml', 'dangling.yaml']) {
      expect(out).toContain(
        `${f}: error: a symbolic link that leads out of the project folder (or nowhere): not read [file-unreadable]`,
      );
    }
    // the link inside is read (and so clashes with the file it points to)
    expect(out).toMatch(
      /(alias-inside\.yml|real\/inside\.yaml):3:7: error: runbook name 'inside' is already used by (real\/inside\.yaml|alias-inside\.yml)/,
    );
    // a runbook outside is not in the project: `run outsider` does not find it
    const run = await lifeboat(['run', 'outsider', '-i', 't', '--dry-run'], { cwd: p.root });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no runbook named 'outsider'/);
  });

  it('--templates cannot read a file outside its folder (link, linked partials folder, ../ partial)', async () => {
    const p = project('tpl');
    p.write('inventories/t.yaml', inv(['target: { address: 127.0.0.1 }']));
    p.write('rb.yaml', runbookYaml('rb', '  - id: x\n    on: t\n    run: "true"'));
    const link = path.join(p.root, 'brand-link');
    mkdirSync(path.join(link, 'partials'), { recursive: true });
    symlinkSync(path.join(outside, 'private.yaml'), path.join(link, 'partials', 'cover.md.hbs'));
    const dirLink = path.join(p.root, 'brand-dir');
    mkdirSync(dirLink);
    mkdirSync(path.join(outside, 'partials'), { recursive: true });
    writeFileSync(path.join(outside, 'partials', 'cover.md.hbs'), SECRET_LINE + '\n');
    symlinkSync(path.join(outside, 'partials'), path.join(dirLink, 'partials'));
    const dotdot = path.join(p.root, 'brand-dotdot');
    mkdirSync(path.join(dotdot, 'partials'), { recursive: true });
    writeFileSync(
      path.join(dotdot, 'partials', 'cover.md.hbs'),
      `{{> ../../../${path.relative(dotdot, path.join(outside, 'partials', 'cover.md'))} }}\n`,
    );
    for (const t of ['brand-link', 'brand-dir', 'brand-dotdot']) {
      const r = await lifeboat(['plan', '.', '-i', 't', '-o', '-', '--format', 'md', '--templates', t], {
        cwd: p.root,
      });
      expect(r.code, `${t}: ${r.stderr}`).not.toBe(0);
      expect(r.stdout + r.stderr, t).not.toContain(SECRET_LINE);
      expect(r.stderr, t).toMatch(/templates?|partial/i);
    }
  });
});

describe('a committed history file with terminal escapes', () => {
  it('lifeboat drills shows its text, never obeys it', async () => {
    const p = project('hist');
    p.write('inventories/t.yaml', inv(['target: { address: 127.0.0.1 }']));
    p.write('rb.yaml', runbookYaml('rb', '  - id: x\n    on: t\n    run: "true"'));
    const entry = {
      runbook: 'rb',
      version: '1.0.0\u001b[2J\u001b]0;pwned\u0007',
      digest: 'x',
      inventory: 't',
      inventory_digest: 'y',
      environment: 'rehearsal',
      mode: 'rehearsal',
      operator: 'mallory\u001b[31m',
      started_at: '2026-11-20T10:00:00.000Z',
      finished_at: '2026-11-20T10:00:01.000Z',
      result: 'passed',
      duration_ms: 1000,
      steps: [],
      run_id: '20261120-100000-rb-abcd',
    };
    mkdirSync(path.join(p.root, '.lifeboat'), { mode: 0o700 });
    writeFileSync(path.join(p.root, '.lifeboat', 'history.jsonl'), JSON.stringify(entry) + '\n');
    const r = await lifeboat(['drills', '.'], { cwd: p.root });
    expect(r.stdout).toMatch(/^rb\s/m);
    expect(r.stdout).toContain('1.0.0\\e[2J\\e]0;pwned\\x07');
    expect(r.stdout + r.stderr).not.toMatch(/[\u001b\u0007]/);
  });
});

describe('values handed to a second shell', () => {
  it('eval, sh -c, su -c and ssh HOST CMD are flagged at the value; the $1 way and the ssh host itself are not', async () => {
    const p = project('reparse');
    p.write(
      'inventories/t.yaml',
      inv(['target: { address: 127.0.0.1 }'])
        .replace('hosts:', 'hosts:')
        .replace(/\n$/, '\nvars: { v: "x; touch /tmp/lb-pwned-reparse" }\n'),
    );
    const file = p.write(
      'rb.yaml',
      runbookYaml(
        'rb',
        [
          '  - id: a',
          '    on: t',
          '    run: eval echo {{ vars.v }}',
          '  - id: b',
          '    on: t',
          '    run: sudo bash -c {{ vars.v }}',
          '  - id: c',
          '    on: t',
          '    run: su - postgres -c {{ vars.v }}',
          '  - id: d',
          '    on: t',
          '    run: ssh -o BatchMode=yes {{ host.address }} ls {{ vars.v }}',
          '  - id: e',
          '    on: t',
          '    run: trap {{ vars.v }} EXIT; true',
          '  - id: fine',
          '    on: t',
          '    run: |',
          '      sh -c \'ls -- "$1"\' sh {{ vars.v }}',
          '      rsync -e ssh {{ vars.v }} /tmp/x/',
          '      echo {{ vars.v }} | ssh {{ host.address }} cat',
          '      runuser -u postgres -- ls {{ vars.v }}',
        ].join('\n'),
        'vars: { v: "x" }',
      ),
    );
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = (needle: string) => {
      const l = lines.findIndex((x) => x.includes(needle));
      return `${l + 1}:${lines[l].indexOf('{{ vars.v }}') + 1}`;
    };
    const r = await lifeboat(['validate', '.'], { cwd: p.root });
    const out = r.stdout + r.stderr;
    expect(out).toContain(
      `rb.yaml:${at('eval echo')}: warning: step 'a' run: {{ vars.v }} is handed to eval, which parses it as shell again`,
    );
    expect(out).toContain(`rb.yaml:${at('bash -c')}: warning: step 'b' run: {{ vars.v }} is handed to bash -c`);
    expect(out).toContain(`rb.yaml:${at('su - postgres')}: warning: step 'c' run: {{ vars.v }} is handed to su -c`);
    expect(out).toContain(`rb.yaml:${at('ssh -o BatchMode')}: warning: step 'd' run: {{ vars.v }} is handed to ssh`);
    expect(out).toContain(`rb.yaml:${at('trap')}: warning: step 'e' run: {{ vars.v }} is handed to trap`);
    expect((out.match(/\[dr-reparsed\]/g) ?? []).length).toBe(5);
    expect(r.code).toBe(0);
    expect((await lifeboat(['validate', '--strict', '.'], { cwd: p.root })).code).toBe(1);
  });
});

describe('commands pasted from a wiki', () => {
  it('look-alike characters in commands are flagged at their own file:line:col, with the ASCII to type', async () => {
    const p = project('wiki');
    p.write('inventories/t.yaml', inv(['target: { address: 127.0.0.1 }']));
    const file = p.write(
      'rb.yaml',
      runbookYaml(
        'rb',
        [
          '  - id: dash',
          '    on: t',
          '    run: pg_ctl status \u2013D /var/lib/postgresql/15/main',
          '  - id: quotes',
          '    on: t',
          '    run: |',
          '      echo start',
          '      grep \u2018primary_conninfo\u2019 /etc/x.conf\uff1becho done',
          '  - id: nbsp',
          '    on: t',
          '    run: "ls -l\\u00a0/srv"',
          '  - id: zw',
          '    on: t',
          '    skip_if: test -e /srv/\u200bdone',
          '  - id: fine',
          '    on: t',
          "    run: echo 'Café – ok in a message' ; true",
        ].join('\n'),
      ),
    );
    const text = readFileSync(file, 'utf8').split('\n');
    const at = (needle: string) => {
      const l = text.findIndex((x) => x.includes(needle));
      return `${l + 1}:${text[l].indexOf(needle) + 1}`;
    };
    const r = await lifeboat(['validate', '.'], { cwd: p.root });
    const out = r.stdout + r.stderr;
    expect(out).toContain(
      `rb.yaml:${at('\u2013')}: warning: step 'dash' run: an en dash – (U+2013) where the shell expects -`,
    );
    expect(out).toContain(
      `rb.yaml:${at('\u2018')}: warning: step 'quotes' run: a left single quotation mark ‘ (U+2018) where the shell expects ' (and 2 more such characters)`,
    );
    expect(out).toMatch(
      /rb\.yaml:\d+:\d+: warning: step 'nbsp' run: a no-break space \(U\+00A0\) where the shell expects a space/,
    );
    expect(out).toContain(`rb.yaml:${at('\u200b')}: warning: step 'zw' skip_if: a zero-width space (U+200B)`);
    // one warning per field; the en dash inside a quoted message is flagged too (a warning, not an error)
    expect((out.match(/\[dr-lookalike\]/g) ?? []).length).toBe(5);
    expect(r.code).toBe(0);
    const strict = await lifeboat(['validate', '--strict', '.'], { cwd: p.root });
    expect(strict.code).toBe(1);
  });
});

describe('raw inserts', () => {
  it('{{{ raw }}} is flagged by validate at file:line:col, fails --strict, and is warned about before a run', async () => {
    const p = project('raw');
    p.write('inventories/t.yaml', inv(['target: { address: 127.0.0.1 }']));
    const file = p.write('rb.yaml', runbookYaml('rb', '  - id: x\n    on: t\n    run: echo {{{ roles.t }}}'));
    const line =
      readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('{{{')) + 1;
    const r = await lifeboat(['validate', '.'], { cwd: p.root });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain(
      `rb.yaml:${line}:15: warning: step 'x' run: {{{ roles.t }}} inserts raw text, unquoted, into a shell command [dr-raw-insert]`,
    );
    const strict = await lifeboat(['validate', '--strict', '.'], { cwd: p.root });
    expect(strict.code).toBe(1);
    const dry = await lifeboat(['run', 'rb', '-i', 't', '--dry-run'], { cwd: p.root });
    expect(dry.stderr).toContain(`rb.yaml:${line}:15: warning`);
    expect(dry.stderr).toContain('dr-raw-insert');
  });
});

import { describe, test, expect, beforeEach, afterEach } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  MarkerFilter,
  OutputCollector,
  TailBuffer,
  bootstrapCommand,
  buildScript,
  isSudoPasswordFailure,
  killCommand,
  shellQuote,
  sudoPrefix,
} from '../../src/transport/shell.js';

describe('shellQuote', () => {
  test('leaves safe words alone, quotes the rest', () => {
    expect(shellQuote('abc')).toBe('abc');
    expect(shellQuote('/var/lib/postgresql/15/main')).toBe('/var/lib/postgresql/15/main');
    expect(shellQuote('198.18.0.100/24')).toBe('198.18.0.100/24');
    expect(shellQuote('a=b,c:d@e%f+g-h_i')).toBe('a=b,c:d@e%f+g-h_i');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('$HOME')).toBe("'$HOME'");
    expect(shellQuote('~')).toBe("'~'");
    expect(shellQuote('*')).toBe("'*'");
  });

  describe('through real bash, nothing is ever executed', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'lifeboat-quote-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    // Runs `printf '%s' VALUE` in bash inside `dir`; returns what bash printed.
    const roundTrip = (value: string): string =>
      execFileSync('bash', ['-c', `printf '%s' ${shellQuote(value)}`], { cwd: dir, encoding: 'utf8' });

    const payloads = [
      '; touch X',
      '$(touch X)',
      '`touch X`',
      'a\ntouch X',
      "'; touch X; '",
      '"; touch X; "',
      "\\'; touch X #",
      '--opt=1 && touch X',
      '| touch X',
      '& touch X &',
      '> X',
      '${IFS}touch${IFS}X',
      '$((1+1))',
      'ünïcödé ✓ 🚀 $(touch X)',
      '*',
      '~root',
      '!!',
      '',
      ' ',
      '\t\r\n',
    ];
    test.each(payloads.map((p) => [JSON.stringify(p), p]))('payload %s', (_name, payload) => {
      expect(roundTrip(payload)).toBe(payload);
      expect(readdirSync(dir)).toEqual([]);
    });

    test('any string without NUL comes back unchanged (property)', () => {
      fc.assert(
        fc.property(
          fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0')),
          (s) => {
            // bash would mangle invalid UTF-16 surrogates on the way back; compare bytes
            expect(Buffer.from(roundTrip(s))).toEqual(Buffer.from(s));
          },
        ),
        { numRuns: 40 },
      );
      expect(readdirSync(dir)).toEqual([]);
    }, 30_000); // one bash per run: a loaded machine needs more than the default 5 s
  });
});

describe('shellQuote through sh and bash, 1,200 generated values at once', () => {
  // one shell per interpreter prints every quoted value back, NUL-separated: each must come back
  // byte for byte, and nothing may run (a value that escaped its quotes would create a file)
  const values = fc
    .sample(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.string({ unit: fc.constantFrom(...'\'"\\$`!*?~#&;|<>(){}[] \t\n\r=%^,:@-'), maxLength: 30 }),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
      ),
      { numRuns: 1_200, seed: 20261207 },
    )
    .map((v) => v.replaceAll('\0', ''));

  for (const shell of ['sh', 'bash']) {
    test(`${shell}: every value comes back unchanged and nothing runs`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'lifeboat-quote-'));
      try {
        const script = `printf '%s\\0' ${values.map((v) => shellQuote(v)).join(' ')}`;
        const r = spawnSync(shell, ['-c', script], { cwd: dir, encoding: 'buffer', maxBuffer: 1 << 24 });
        expect(r.status, r.stderr.toString()).toBe(0);
        const back = r.stdout.toString('binary').split('\0').slice(0, -1);
        expect(back).toHaveLength(values.length);
        // compare bytes: a shell passes bytes, and lone surrogates have no UTF-8 of their own
        back.forEach((b, i) =>
          expect(Buffer.from(b, 'binary'), JSON.stringify(values[i])).toEqual(Buffer.from(values[i])),
        );
        expect(readdirSync(dir)).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('sudoPrefix', () => {
  test('true, a user, none', () => {
    expect(sudoPrefix(undefined)).toBe('');
    expect(sudoPrefix(false)).toBe('');
    expect(sudoPrefix(true)).toBe('sudo -n ');
    expect(sudoPrefix('postgres')).toBe('sudo -n -u postgres ');
    expect(sudoPrefix('a b;id')).toBe("sudo -n -u 'a b;id' ");
    expect(() => sudoPrefix('')).toThrow();
  });
});

describe('bootstrap + script through real shells', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-wrap-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // What a remote login shell does: `sh -c BOOTSTRAP` with the script on stdin.
  const run = (command: string, env?: Record<string, string>, shell = 'sh') => {
    const r = spawnSync(shell, ['-c', bootstrapCommand()], {
      cwd: dir,
      input: buildScript(command, env),
      encoding: 'utf8',
    });
    const f = new MarkerFilter();
    const stderr = f.push(r.stderr) + f.flush();
    return { code: r.status, stdout: r.stdout, stderr, pgid: f.pgid };
  };

  test('exit codes, stdout, stderr; the marker carries a process group id and is stripped', () => {
    const r = run('echo out; echo err >&2; exit 7');
    expect(r).toMatchObject({ code: 7, stdout: 'out\n', stderr: 'err\n' });
    expect(r.pgid).toBeGreaterThan(1);
  });

  test('set -e stops at the first failure; pipefail applies', () => {
    expect(run('false\necho after')).toMatchObject({ code: 1, stdout: '' });
    expect(run('false | true\necho after')).toMatchObject({ code: 1, stdout: '' });
    expect(run('true | false || echo handled')).toMatchObject({ code: 0, stdout: 'handled\n' });
  });

  test('the command sees EOF on stdin', () => {
    expect(run('cat; echo done')).toMatchObject({ code: 0, stdout: 'done\n' });
    expect(run('read -r line || echo eof')).toMatchObject({ code: 0, stdout: 'eof\n' });
  });

  test('multi-line commands, heredocs, functions and quotes survive', () => {
    const cmd = `f() { echo "fn:$1"; }\nf 'a b'\ncat <<'EOF'\n$NOT_EXPANDED \`x\`\nEOF\necho "last"`;
    expect(run(cmd)).toMatchObject({ code: 0, stdout: 'fn:a b\n$NOT_EXPANDED `x`\nlast\n' });
  });

  test('env values are exported quoted and never executed', () => {
    const env = { A: '$(touch X)', B: "it's; touch X", C: 'line1\nline2', D: '' };
    const r = run('printf "%s|" "$A" "$B" "$C" "$D"; bash -c \'printf "%s" "$A"\'', env);
    expect(r.stdout).toBe("$(touch X)|it's; touch X|line1\nline2||$(touch X)");
    expect(readdirSync(dir)).toEqual([]);
    expect(() => buildScript('true', { 'BAD NAME': 'x' })).toThrow(/invalid environment variable name/);
    expect(() => buildScript('true', { A: 'x\0y' })).toThrow(/NUL/);
    expect(() => buildScript('echo a\0b')).toThrow(/NUL/);
  });

  test('the bootstrap carries no part of the command', () => {
    expect(bootstrapCommand()).not.toContain('SECRET');
    expect(buildScript('echo SECRET')).toContain('SECRET');
  });

  test('without bash: falls back to sh with set -e', () => {
    // a PATH that has sh, setsid and cat but no bash
    const bin = join(dir, 'bin');
    execFileSync('mkdir', [bin]);
    for (const tool of ['sh', 'setsid', 'cat']) {
      const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
      execFileSync('ln', ['-s', real, join(bin, tool)]);
    }
    const r = spawnSync('/bin/sh', ['-c', bootstrapCommand()], {
      cwd: dir,
      env: { PATH: bin },
      input: buildScript('echo "bash:${BASH_VERSION-none}"; false; echo not-reached', { V: 'a b' }),
      encoding: 'utf8',
    });
    expect(r.stdout).toBe('bash:none\n');
    expect(r.status).toBe(1);
    const f = new MarkerFilter();
    expect(f.push(r.stderr) + f.flush()).toBe('');
    expect(f.pgid).toBeGreaterThan(1);
  });

  test('works when the login shell is bash too', () => {
    expect(run('echo "$BASH_VERSION" | grep -q . && echo bash', undefined, 'bash')).toMatchObject({
      code: 0,
      stdout: 'bash\n',
    });
  });
});

describe('killCommand', () => {
  test('refuses nonsense group ids and uses the same sudo', () => {
    expect(() => killCommand(0)).toThrow();
    expect(() => killCommand(1)).toThrow();
    expect(() => killCommand(-5)).toThrow();
    expect(killCommand(1234)).toContain('env kill -TERM -- -1234');
    expect(killCommand(1234, 'postgres')).toContain('sudo -n -u postgres kill -KILL -- -1234');
  });
});

describe('MarkerFilter', () => {
  const marker = '\x1elifeboat-pgid:4242\x1e\n';

  test('marker split over many chunks', () => {
    const f = new MarkerFilter();
    let out = '';
    for (const ch of (marker + 'after').split('')) out += f.push(ch);
    expect(out + f.flush()).toBe('after');
    expect(f.pgid).toBe(4242);
  });

  test('text before the marker (a sudo complaint) passes through', () => {
    const f = new MarkerFilter();
    expect(f.push('sudo: hello\n' + marker + 'x')).toBe('sudo: hello\nx');
    expect(f.pgid).toBe(4242);
  });

  test('a look-alike that is not a marker is released', () => {
    const f = new MarkerFilter();
    expect(f.push('\x1elifeboat')).toBe('');
    expect(f.push('-other')).toBe('\x1elifeboat-other');
    expect(f.pgid).toBeNull();
    expect(f.push('\x1elifeboat-pgid:1\x1e\n')).toBe('\x1elifeboat-pgid:1\x1e\n'); // after giving up, no stripping
  });

  test('the ":direct" form, whole and split over chunks, says the login shell ran the script', () => {
    const direct = '\x1elifeboat-pgid:77:direct\x1e\n';
    let f = new MarkerFilter();
    expect(f.push(direct + 'x')).toBe('x');
    expect([f.pgid, f.direct]).toEqual([77, true]);
    f = new MarkerFilter();
    let out = '';
    for (const ch of (direct + 'after').split('')) out += f.push(ch);
    expect(out + f.flush()).toBe('after');
    expect([f.pgid, f.direct]).toEqual([77, true]);
    f = new MarkerFilter();
    f.push(marker);
    expect(f.direct).toBe(false);
    // only ":direct" itself: anything else after the id is no marker
    f = new MarkerFilter();
    expect(f.push('\x1elifeboat-pgid:77:other\x1e\n')).toBe('\x1elifeboat-pgid:77:other\x1e\n');
    expect(f.pgid).toBeNull();
  });

  test('no marker at all', () => {
    const f = new MarkerFilter();
    expect(f.push('sudo: a password is required\n')).toBe('sudo: a password is required\n');
    expect(f.flush()).toBe('');
    expect(f.seen).toBe(false);
  });
});

describe('OutputCollector', () => {
  test('multi-byte UTF-8 split across chunks; callbacks and tails agree', () => {
    const seen: string[] = [];
    const c = new OutputCollector((t) => seen.push(t));
    const bytes = Buffer.from('héllo ✓ 🚀');
    for (let i = 0; i < bytes.length; i++) c.out(bytes.subarray(i, i + 1));
    c.end();
    expect(seen.join('')).toBe('héllo ✓ 🚀');
    expect(c.stdout.toString()).toBe('héllo ✓ 🚀');
    expect(seen.join('')).not.toContain('\ufffd');
  });

  test('setsid notice is stripped and remembered', () => {
    const c = new OutputCollector();
    c.err(Buffer.from('\x1elifeboat-pgid:99\x1e\nreal error\nsetsid: child 99 did not exit normally: Success\n'));
    c.end();
    expect(c.stderr.toString()).toBe('real error\n');
    expect(c.killedBySignal).toBe(true);
    expect(c.marker.pgid).toBe(99);
  });
});

describe('TailBuffer', () => {
  test('keeps the last N characters', () => {
    const t = new TailBuffer(10);
    t.push('0123456789');
    t.push('abc');
    expect(t.toString()).toBe('3456789abc');
    t.push('x'.repeat(25));
    expect(t.toString()).toBe('x'.repeat(10));
    expect(t.truncated).toBe(true);
  });
});

test('isSudoPasswordFailure only when the script never started', () => {
  expect(isSudoPasswordFailure(true, false, 'sudo: a password is required\n')).toBe(true);
  expect(isSudoPasswordFailure('postgres', false, 'sudo: a terminal is required to read the password')).toBe(true);
  expect(isSudoPasswordFailure(true, true, 'sudo: a password is required\n')).toBe(false);
  expect(isSudoPasswordFailure(undefined, false, 'sudo: a password is required\n')).toBe(false);
});

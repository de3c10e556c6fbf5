// Secrets never leave in clear: a run whose steps print a secret (plain, base64 in several
// shapes, URL-encoded, each line of a multi-line secret) to stdout and stderr, and whose last
// step fails with the secret in its error, is run through the real CLI over a real sshd; then
// every artefact is searched: the CLI's own output (plain and --verbose), everything under the
// state folder, `log`, `log --json`, `runs --json`, the dry run (text and JSON) and the DR
// plan (HTML, Markdown, PDF text).
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { type CliResult } from '../helpers/cli.js';
import { useHostileProjects, runbookYaml, filesUnder, leaks, type Project } from '../helpers/hostile-project.js';

const PW = `Pa55 w/rd+é&=?"'$x!(1)*`; // env secret: shell, URL and JSON special characters, non-ASCII
const ML = ['line-one-AAAA-1f7c', 'line-two-BBBB-2e9d', 'line-three-CCC-3d01']; // multi-line file secret
const FW = 'world-readable-secret-5521'; // file secret others can read

const b64 = (s: string) => Buffer.from(s).toString('base64');
/** The base64 characters that depend on `s` alone when it sits at byte offset k of a longer text. */
function b64Inner(s: string): string[] {
  const bytes = Buffer.from(s);
  return [0, 1, 2].map((k) =>
    Buffer.concat([Buffer.alloc(k), bytes])
      .toString('base64')
      .slice([0, 2, 3][k], Math.floor(((k + bytes.length) * 8) / 6)),
  );
}

/** Every form of every secret that must never be found. */
function needles(): string[] {
  const out = new Set<string>();
  for (const v of [PW, ML.join('\n'), FW]) {
    out.add(v);
    out.add(b64(v));
    out.add(b64(v).replace(/=+$/, ''));
    for (const x of b64Inner(v)) out.add(x);
    out.add(encodeURIComponent(v));
    out.add(JSON.stringify(v).slice(1, -1));
  }
  // Python's quote(safe='') escapes ! ' ( ) * too
  out.add(encodeURIComponent(PW).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
  for (const l of ML) {
    out.add(l);
    out.add(b64(l));
  }
  // distinctive pieces: a secret cut in half must not show either
  out.add(PW.slice(0, 10));
  out.add(FW.slice(0, 14));
  return [...out].filter((n) => n.length >= 6);
}

const lab = useHostileProjects();
let p: Project;
let runs: { plain: CliResult; verbose: CliResult };
const env = { HOSTILE_PW: PW };

beforeAll(async () => {
  p = lab.project();
  p.write('ml.secret', ML.join('\n') + '\n', 0o600);
  p.write('fw.secret', FW + '\n', 0o644);
  chmodSync(path.join(p.dir, 'fw.secret'), 0o644);
  const echo = [
    'printf \'%s\\n\' "$PW"',
    'printf \'%s\' "$PW" | base64 -w0; echo',
    'printf \'%s\\n\' "$PW" | base64 -w0; echo',
    'printf \'admin:%s\' "$PW" | base64 -w0; echo',
    'printf \'x%s\' "$PW" | base64 -w0 >&2; echo >&2',
    'python3 -c \'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))\' "$PW"',
    'python3 -c \'import sys, json; print(json.dumps(sys.argv[1]))\' "$PW" >&2',
    'printf \'%s\\n\' "$ML"',
    'printf \'%s\\n\' "$ML" >&2',
    'printf \'%s\' "$ML" | base64 -w0; echo',
    'printf \'%s\\n\' "$FW" "$FW" >&2',
  ];
  p.write(
    'leak.yaml',
    runbookYaml(
      'leak',
      [
        '  - id: echo',
        '    on: t',
        '    env: { PW: "{{ secrets.pw }}", ML: "{{ secrets.ml }}", FW: "{{ secrets.fw }}" }',
        '    run: |',
        ...echo.map((l) => `      ${l}`),
        '    capture: got',
        '  - id: gate',
        '    confirm: Go on with {{ secrets.fw }} in mind?',
        '  - id: again',
        '    on: t',
        "    run: printf '%s\\n' {{ captured.got }} {{ secrets.pw }}",
        '  - id: fails',
        '    on: t',
        '    run: echo login failed for {{ secrets.pw }} >&2; echo {{ secrets.fw }} >&2; exit 3',
      ].join('\n'),
      ['secrets:', '  pw: { env: HOSTILE_PW }', '  ml: { file: ml.secret }', '  fw: { file: fw.secret }'].join('\n'),
    ),
  );
  p.write('site.yaml', 'lifeboat: 1\nkind: site\norganisation: Hostile Test Ltd\nrecovery_order: [leak]\n');
  const plain = await p.run('leak', [], { env });
  const verbose = await p.run('leak', ['--verbose'], { env });
  runs = { plain, verbose };
});

function expectClean(label: string, text: string) {
  expect(leaks(text, needles()), `${label} leaks a secret:\n${text.slice(0, 4000)}`).toEqual([]);
}

describe('a run that prints its secrets', () => {
  it('ran for real: the steps printed (redacted) output and the failing step failed', () => {
    for (const r of [runs.plain, runs.verbose]) {
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(/fails\s+target\s+FAILED/);
      expect(r.stdout).toMatch(/exit code 3: \*\*\*/);
    }
    expect(runs.verbose.stdout).toMatch(/fails@target ! login failed for \*\*\*/);
    // --verbose streamed the echo lines, each one masked
    expect(runs.verbose.stdout).toMatch(/echo@target \| \*\*\*/);
    expect((runs.verbose.stdout.match(/\*\*\*/g) ?? []).length).toBeGreaterThan(10);
  });

  it('the terminal output (plain and --verbose, stdout and stderr) holds none of them', () => {
    expectClean('plain stdout', runs.plain.stdout);
    expectClean('plain stderr', runs.plain.stderr);
    expectClean('verbose stdout', runs.verbose.stdout);
    expectClean('verbose stderr', runs.verbose.stderr);
  });

  it('no file under the state folder holds any of them, nor a private key', () => {
    const files = filesUnder(p.stateDir);
    expect(files.some((f) => f.endsWith('journal.jsonl'))).toBe(true);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expectClean(f, text);
      expect(text, f).not.toContain('PRIVATE KEY');
      expect(text, f).not.toContain(readFileSync(lab.sshd.clientKeyPath, 'utf8').split('\n')[1]);
    }
  });

  it('no process on the target shows a secret on its command line while a step using it runs', async () => {
    const out = path.join(p.dir, 'cmdlines');
    // over SSH, and on the operator's machine (`on: local`)
    p.write(
      'ps.yaml',
      runbookYaml(
        'ps',
        ['t', 'local']
          .flatMap((on) => [
            `  - id: ps-${on}`,
            `    on: ${on}`,
            '    env: { PW: "{{ secrets.pw }}" }',
            `    run: ': {{ secrets.pw }}; for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" || true; echo; done > ${out}-${on} 2>/dev/null; true'`,
          ])
          .join('\n'),
        'secrets:\n  pw: { env: HOSTILE_PW }',
      ),
    );
    const r = await p.run('ps', [], { env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const on of ['t', 'local']) {
      const text = readFileSync(`${out}-${on}`, 'utf8');
      // the dump saw the step's own wrapper (the bootstrap that reads the script from stdin)
      expect(text, on).toContain('__lb_s');
      expectClean(`/proc/*/cmdline during a step on ${on}`, text);
    }
  });

  it('lifeboat log, log --json --verbose and runs --json hold none of them', async () => {
    const args = ['--state-dir', p.stateDir];
    for (const a of [
      ['log', ...args],
      ['log', '--json', ...args],
      ['log', '--verbose', ...args],
      ['runs', '--json', ...args],
      ['runs', ...args],
    ]) {
      const r = await p.cli(a, { env });
      expect(r.code, `${a.join(' ')}: ${r.stderr}`).not.toBe(2);
      expect(r.stdout.length, a.join(' ')).toBeGreaterThan(20);
      expectClean(a.join(' '), r.stdout + r.stderr);
    }
  });

  it('the dry run, text and --format json, holds none of them', async () => {
    const text = await p.run('leak', ['--dry-run'], { env });
    const json = await p.run('leak', ['--dry-run', '--format', 'json'], { env });
    expect(text.stdout, text.stderr).toContain('<from HOSTILE_PW>');
    expect(JSON.parse(json.stdout).steps.length).toBeGreaterThan(3);
    expectClean('dry run', text.stdout + text.stderr);
    expectClean('dry run json', json.stdout + json.stderr);
  });

  it('the DR plan (HTML, Markdown, PDF text) holds none of them', async () => {
    for (const f of ['plan.html', 'plan.md']) {
      const r = await p.cli(['plan', '.', '-i', 't', '-o', f], { env });
      expect(r.code, r.stderr).toBe(0);
      expectClean(f, readFileSync(path.join(p.dir, f), 'utf8'));
    }
    const pdf = await p.cli(['plan', '.', '-i', 't', '-o', 'plan.pdf'], { env, timeoutMs: 120_000 });
    // Chromium and pdftotext (poppler-utils) are installed by .ci/run: without them this fails
    expect(pdf.code, pdf.stderr).toBe(0);
    const text = execFileSync('pdftotext', [path.join(p.dir, 'plan.pdf'), '-'], { encoding: 'utf8' });
    expect(text).toContain('leak');
    expectClean('plan.pdf', text);
  });
});

describe('where secrets come from', () => {
  it('a secret file others can read is named in a warning with the fix; a private one is not', () => {
    const fw = path.join(p.dir, 'fw.secret');
    expect(runs.plain.stderr).toContain(
      `warning: secret 'fw' comes from ${fw}, which others can read (mode 644): chmod 600 ${fw}`,
    );
    expect(runs.plain.stderr).not.toMatch(/secret 'ml' comes from/);
  });

  it('a missing env secret stops the run before anything connects, naming the variable only', async () => {
    const r = await p.run('leak', [], { env: {} });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/secret 'pw': environment variable HOSTILE_PW is not set/);
    expect(existsSync(path.join(p.stateDir, 'runs'))).toBe(true); // the earlier runs
    expect(r.stdout).not.toMatch(/connected/);
  });
});

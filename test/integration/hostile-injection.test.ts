// Hostile values inserted into commands through the template rules and run on a real sshd:
// each value must arrive as exactly one argument, byte for byte, and no command hidden in it
// may run (its marker file never appears on the target's filesystem).
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useHostileProjects, runbookYaml } from '../helpers/hostile-project.js';

const lab = useHostileProjects();
// where an injected command would leave its mark (the target is this machine), and where the
// steps write the argv they received
const markers = mkdtempSync(path.join(tmpdir(), 'lb-markers-'));
const outDir = mkdtempSync(path.join(tmpdir(), 'lb-argv-'));

afterAll(async () => {
  rmSync(markers, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});

/** Hostile values: each would create markers/pwned-N if any part of it ran as a command. */
function hostileValues(): string[] {
  const m = (n: number) => path.join(markers, `pwned-${n}`);
  return [
    `x; touch ${m(1)}`,
    `x && touch ${m(2)}`,
    `$(touch ${m(3)})`,
    `\`touch ${m(4)}\``,
    `a\ntouch ${m(5)}`,
    `it's "q"; touch ${m(6)}`,
    `'; touch ${m(7)}; echo '`,
    `"; touch ${m(8)}; echo "`,
    `--output=${m(9)}`,
    `x\uFF1Btouch ${m(10)}`, // fullwidth semicolon
    `a\u2028touch ${m(11)}`, // line separator
    `a\rtouch ${m(12)}`,
    `\${IFS}touch\${IFS}${m(13)}`,
    `x | touch ${m(14)}`,
    `x > ${m(15)}`,
    `x\\'; touch ${m(16)} #`,
    `$'\\n'touch ${m(17)}`,
    `*`,
    `~root`,
    `!! -e ${m(18)}`,
    `a\ttouch ${m(19)} \u0085 \u00a0`,
    `x&touch ${m(20)}&`,
    `<(touch ${m(21)})`,
    ``,
    ` leading and trailing spaces `,
  ];
}

function argvFile(n: string): string {
  return path.join(outDir, n);
}

/** What `printf '%s\0' ARG…` wrote: the list of arguments the command received. */
function argvOf(n: string): string[] {
  const raw = readFileSync(argvFile(n), 'utf8');
  return raw.split('\0').slice(0, -1);
}

describe('hostile values in templates over real SSH', () => {
  const values = hostileValues();

  it('vars, env values, skip_if guards and captured values arrive as one argument each; nothing injected runs', async () => {
    const vars: Record<string, string> = { outdir: outDir };
    values.forEach((v, i) => {
      vars[`v${i}`] = v;
    });
    const p = lab.project({ vars });
    const steps: string[] = [];
    values.forEach((_, i) => {
      steps.push(
        `  - id: var-${i}`,
        '    on: t',
        `    skip_if: test {{ vars.v${i} }} = never-equal-${i}`,
        `    env: { V: "{{ vars.v${i} }}" }`,
        `    run: printf '%s\\0' {{ vars.v${i} }} > {{ vars.outdir }}/var-${i}; printf '%s\\0' "$V" > {{ vars.outdir }}/env-${i}; printf '%s' {{ vars.v${i} }}`,
        `    capture: c${i}`,
        `  - id: cap-${i}`,
        '    on: t',
        `    run: printf '%s\\0' {{ captured.c${i} }} > {{ vars.outdir }}/cap-${i}`,
      );
    });
    p.write('inject.yaml', runbookYaml('inject', steps.join('\n')));
    const r = await p.run('inject');
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readdirSync(markers)).toEqual([]);
    values.forEach((v, i) => {
      expect(argvOf(`var-${i}`), `var ${i}`).toEqual([v]);
      expect(argvOf(`env-${i}`), `env ${i}`).toEqual([v]);
      // capture trims its output (documented): what is left arrives whole
      expect(argvOf(`cap-${i}`), `captured ${i}`).toEqual([v.trim()]);
    });
  });

  it('secrets with shell syntax, in commands and in env, arrive as one argument; nothing injected runs', async () => {
    const p = lab.project({ vars: { outdir: outDir } });
    const pick = [0, 2, 3, 4, 6, 7, 9, 10];
    const env: Record<string, string> = {};
    const secrets: string[] = [];
    const steps: string[] = [];
    for (const i of pick) {
      env[`HOSTILE_S${i}`] = values[i];
      secrets.push(`  s${i}: { env: HOSTILE_S${i} }`);
      steps.push(
        `  - id: sec-${i}`,
        '    on: t',
        `    env: { S: "{{ secrets.s${i} }}" }`,
        `    run: printf '%s\\0' {{ secrets.s${i} }} > {{ vars.outdir }}/sec-${i}; printf '%s\\0' "$S" > {{ vars.outdir }}/secenv-${i}`,
      );
    }
    p.write('sec.yaml', runbookYaml('sec', steps.join('\n'), `secrets:\n${secrets.join('\n')}`));
    const r = await p.run('sec', [], { env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readdirSync(markers)).toEqual([]);
    for (const i of pick) {
      expect(argvOf(`sec-${i}`), `secret ${i}`).toEqual([values[i]]);
      expect(argvOf(`secenv-${i}`), `secret env ${i}`).toEqual([values[i]]);
    }
  });

  it('values typed by the operator (--answer) arrive as one argument; nothing injected runs', async () => {
    const p = lab.project({ vars: { outdir: outDir } });
    const pick = [0, 1, 2, 3, 6, 7, 8, 9, 12, 14];
    const steps: string[] = [];
    const answers: string[] = [];
    for (const i of pick) {
      steps.push(
        `  - id: ask-${i}`,
        '    manual: Type the value.',
        `    record: typed${i}`,
        `  - id: use-${i}`,
        '    on: t',
        `    run: printf '%s\\0' {{ captured.typed${i} }} > {{ vars.outdir }}/ans-${i}`,
      );
      answers.push('--answer', `ask-${i}=${values[i]}`);
    }
    p.write('ask.yaml', runbookYaml('ask', steps.join('\n')));
    const r = await p.run('ask', ['--yes-manual', ...answers]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readdirSync(markers)).toEqual([]);
    for (const i of pick) expect(argvOf(`ans-${i}`), `answer ${i}`).toEqual([values[i].trim()]);
  });

  it('inventory fields in templates (user with $, IPv6 literal, trailing-dot name) arrive as one argument each', async () => {
    const p = lab.project({
      vars: { outdir: outDir },
      hosts: {
        target: { address: '127.0.0.1' },
        odd: { address: '[::1]', user: 'svc.x-1$' },
        dns: { address: 'db-1.example.com.', user: '_backup' },
      },
    });
    p.write(
      'inv.yaml',
      runbookYaml(
        'inv',
        [
          '  - id: show',
          '    on: t',
          "    run: printf '%s\\0' {{ hosts.odd.user }} {{ hosts.odd.address }} {{ hosts.dns.address }} {{ hosts.dns.user }} {{ host.name }} {{ host.address }} {{ roles.t }} > {{ vars.outdir }}/inv",
        ].join('\n'),
      ),
    );
    const r = await p.run('inv');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(argvOf('inv')).toEqual([
      'svc.x-1$',
      '[::1]',
      'db-1.example.com.',
      '_backup',
      'target',
      '127.0.0.1',
      'target',
    ]);
    expect(readdirSync(markers)).toEqual([]);
  });

  it('a value in a here-document is refused at validation (quoting does not apply there); through env: it arrives intact', async () => {
    const vals = [values[2], values[3], `x\nEOF\ntouch ${path.join(markers, 'pwned-eof')}\ncat <<EOF`];
    const p = lab.project({ vars: { outdir: outDir, h0: vals[0], h1: vals[1], h2: vals[2] } });
    const file = p.write(
      'here.yaml',
      runbookYaml(
        'here',
        [
          '  - id: unquoted',
          '    on: t',
          '    run: |',
          '      cat > {{ vars.outdir }}/here-0 <<EOF',
          '      password={{ vars.h0 }}',
          '      EOF',
          '  - id: quoted',
          '    on: t',
          '    run: |',
          "      cat > {{ vars.outdir }}/here-1 <<-'END'",
          '      	{{ vars.h2 }}',
          '      	END',
        ].join('\n'),
      ),
    );
    const lines = readFileSync(file, 'utf8').split('\n');
    const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
    const v = await p.cli(['validate', '.']);
    expect(v.code).toBe(1);
    expect(v.stdout + v.stderr).toContain(
      `here.yaml:${lineOf('password={{')}:16: error: step 'unquoted' run: {{ vars.h0 }} sits inside a here-document, where shell quoting does not apply [template-in-heredoc]`,
    );
    expect(v.stdout + v.stderr).toContain(
      `here.yaml:${lineOf('{{ vars.h2 }}')}:8: error: step 'quoted' run: {{ vars.h2 }} sits inside a here-document`,
    );
    // the templates outside the bodies (the file names) are fine
    expect((v.stdout + v.stderr).match(/template-in-heredoc/g)?.length).toBe(2);
    const r = await p.run('here');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nothing was run/);
    expect(readdirSync(markers)).toEqual([]);

    // the way the hint shows: env, then $NAME in the body (an expansion is not run again)
    p.write(
      'here.yaml',
      runbookYaml(
        'here',
        vals
          .map((_, i) =>
            [
              `  - id: env-${i}`,
              '    on: t',
              `    env: { H: "{{ vars.h${i} }}" }`,
              '    run: |',
              `      cat > {{ vars.outdir }}/here-env-${i} <<EOF`,
              '      $H',
              '      EOF',
            ].join('\n'),
          )
          .join('\n'),
      ),
    );
    const ok = await p.run('here');
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    vals.forEach((val, i) =>
      expect(readFileSync(path.join(outDir, `here-env-${i}`), 'utf8'), `heredoc ${i}`).toBe(val + '\n'),
    );
    expect(readdirSync(markers)).toEqual([]);
  });

  it('a value holding a NUL is refused with a clear message, and its command never runs', async () => {
    const p = lab.project({ vars: { outdir: outDir, n: 'a\0b' } });
    p.write(
      'nul.yaml',
      runbookYaml(
        'nul',
        ['  - id: nul', '    on: t', `    run: printf '%s' {{ vars.n }}; touch ${path.join(markers, 'nul-ran')}`].join(
          '\n',
        ),
      ),
    );
    const r = await p.run('nul');
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/NUL/);
    expect(existsSync(path.join(markers, 'nul-ran'))).toBe(false);
  });
});

describe('the printed commands stay readable and honest', () => {
  it('terminal escape sequences from a remote host are shown as text, not obeyed (--verbose, summary, log)', async () => {
    const p = lab.project();
    p.write(
      'esc.yaml',
      runbookYaml(
        'esc',
        [
          '  - id: esc',
          '    on: t',
          "    run: printf 'a\\033[2J\\033]0;owned\\007b\\rSUCCEEDED fake\\n'; printf 'err\\033[31mred\\n' >&2",
          '    capture: x',
          '  - id: fail',
          '    on: t',
          "    run: printf 'boom\\033[2J\\033]0;t\\007\\n' >&2; exit 4",
        ].join('\n'),
      ),
    );
    const r = await p.run('esc', ['--verbose']);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain('esc@target | a\\e[2J\\e]0;owned\\x07b\\rSUCCEEDED fake');
    expect(out).toMatch(/fail\s+target\s+FAILED\s+\S+\s+exit code 4: boom\\e\[2J/);
    expect(out).not.toMatch(/[\u001b\u0007\r]/);
    const log = await p.cli(['log', '--verbose', '--state-dir', p.stateDir]);
    expect(log.stdout).toContain('boom\\e[2J');
    expect(log.stdout).not.toMatch(/[\u001b\u0007]/);
  });

  it('dry run shows each hostile value quoted, as one word', async () => {
    const p = lab.project({ vars: { a: 'x; touch /nonexistent/pwned', b: 'plain-value_1.2' } });
    p.write(
      'show.yaml',
      runbookYaml('show', ['  - id: show', '    on: t', '    run: echo {{ vars.a }} {{ vars.b }}'].join('\n')),
    );
    const r = await p.run('show', ['--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`$ echo 'x; touch /nonexistent/pwned' plain-value_1.2`);
  });
});

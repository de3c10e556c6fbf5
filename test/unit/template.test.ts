// Templates: which references a template holds, where, whether inside quotes; and that a
// rendered shell command can never run a value as code (checked with a real bash).
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTemplate, render, TemplateError, type RenderContext } from '../../src/plan/template.js';

const ctx = (vars: Record<string, unknown>, extra: Partial<RenderContext> = {}): RenderContext => ({
  vars,
  roles: { standby: 'db2' },
  hosts: {},
  captured: {},
  secrets: { pw: 's3cret' },
  ...extra,
});

describe('parseTemplate', () => {
  it('lists refs with parts, line and column', () => {
    const t = parseTemplate('ip addr add {{ vars.vip }} dev {{vars.dev}}\necho {{ hosts.standby.address }}');
    expect(t.problems).toEqual([]);
    expect(t.refs.map((r) => [r.path, r.parts, r.line, r.column, r.raw])).toEqual([
      ['vars.vip', ['vars', 'vip'], 1, 12, false],
      ['vars.dev', ['vars', 'dev'], 1, 31, false],
      ['hosts.standby.address', ['hosts', 'standby', 'address'], 2, 5, false],
    ]);
  });

  it('marks raw insertions', () => {
    expect(parseTemplate('echo {{{ vars.x }}}').refs[0]).toMatchObject({ raw: true, path: 'vars.x' });
  });

  it('knows when a ref sits inside quotes of the command', () => {
    const q = (s: string) => parseTemplate(s).refs.map((r) => r.inQuotes);
    expect(q("grep ' {{ vars.vip }}/' f")).toEqual([true]);
    expect(q('echo "x={{ vars.a }}" {{ vars.b }}')).toEqual([true, false]);
    expect(q("echo 'it''s' {{ vars.a }}")).toEqual([false]);
    expect(q('echo \\" {{ vars.a }} \\"')).toEqual([false]);
    // a command substitution is a fresh context, even inside double quotes
    expect(q('test -n "$(ls -A {{ vars.d }})"')).toEqual([false]);
    expect(q('test -n "$(echo "{{ vars.d }}")"')).toEqual([true]);
    expect(q('echo "`cat {{ vars.f }}`"')).toEqual([false]);
    expect(q("echo $(printf '%s' {{ vars.a }}) '{{ vars.b }}'")).toEqual([false, true]);
  });

  it('reports malformed templates as template-syntax', () => {
    expect(parseTemplate('echo {{ vars.x }').problems[0]).toMatchObject({
      code: 'template-syntax',
      message: expect.stringContaining('not closed'),
    });
    expect(parseTemplate('{{ vars. }}').problems[0]).toMatchObject({ code: 'template-syntax' });
    expect(parseTemplate('a\nb {{ }}').problems[0]).toMatchObject({ code: 'template-syntax', line: 2 });
  });

  it('refuses helpers and blocks as template-logic', () => {
    expect(parseTemplate('{{#if vars.x}}y{{/if}}').problems[0].code).toBe('template-logic');
    expect(parseTemplate('{{ lookup vars "x" }}').problems[0].code).toBe('template-logic');
    expect(parseTemplate('{{> partial }}').problems[0].code).toBe('template-logic');
  });

  it('leaves text without {{ alone', () => {
    expect(parseTemplate('echo } { }} {').refs).toEqual([]);
    expect(render('echo } {', ctx({}), 'shell')).toBe('echo } {');
  });
});

describe('render', () => {
  it('prints safe values as they are and quotes the rest', () => {
    expect(render('ip addr add {{ vars.vip }} dev eth0', ctx({ vip: '198.18.0.100/24' }), 'shell')).toBe(
      'ip addr add 198.18.0.100/24 dev eth0',
    );
    expect(render('echo {{ vars.x }}', ctx({ x: 'a b' }), 'shell')).toBe("echo 'a b'");
    expect(render('echo {{ vars.x }}', ctx({ x: '' }), 'shell')).toBe("echo ''");
    expect(render('Promote {{ roles.standby }}? {{ vars.x }}', ctx({ x: 'a b' }), 'text')).toBe('Promote db2? a b');
  });

  it('hides secrets in display modes only', () => {
    expect(render('PGPASSWORD={{ secrets.pw }}', ctx({}), 'shell')).toBe('PGPASSWORD=s3cret');
    expect(render('PGPASSWORD={{ secrets.pw }}', ctx({}), 'shell-display')).toBe('PGPASSWORD=<secret pw>');
  });

  it('refuses unknown values instead of printing nothing', () => {
    expect(() => render('echo {{ vars.nope }}', ctx({}), 'shell')).toThrow(TemplateError);
    expect(() => render('echo {{ secrets.nope }}', ctx({}), 'shell')).toThrow(TemplateError);
    expect(() => render('echo {{ vars.toString }}', ctx({}), 'shell')).toThrow(TemplateError);
    expect(() => render('echo {{ constructor }}', ctx({}), 'shell')).toThrow(TemplateError);
  });

  describe('through a real bash: a value is data, never code', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-tpl-'));
    const marker = path.join(dir, 'pwned');
    const hostile = [
      `; touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `a\ntouch ${marker}`,
      `'; touch ${marker}; echo '`,
      `"; touch ${marker}; echo "`,
      `x' "$(touch ${marker})" 'y`,
      `--x=$(touch ${marker})`,
      `&& touch ${marker}`,
      `| touch ${marker}`,
      `> ${marker}`,
      `\\'; touch ${marker} #`,
      `日本語 ünïcödé ${'\u202e'}; touch ${marker}`,
      `*`,
      `~root`,
      `$HOME`,
      `!!`,
    ];
    for (const value of hostile) {
      it(JSON.stringify(value).slice(0, 40), () => {
        const cmd = render('printf "%s\\n" {{ vars.v }}', ctx({ v: value }), 'shell');
        const out = execFileSync('bash', ['-c', cmd], { cwd: dir, encoding: 'utf8' });
        expect(existsSync(marker)).toBe(false);
        // the value arrives as one argument, byte for byte
        expect(out).toBe(value + '\n');
      });
    }
    it('cleans up', () => {
      rmSync(dir, { recursive: true, force: true });
    });
  });
});

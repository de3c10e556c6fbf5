// The YAML reader: positions of nodes (flow and block style, block scalars, templates inside
// strings), and every kind of broken file as a diagnostic, never a throw.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, openSync, ftruncateSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseYamlText, readYamlFile, type YamlFile } from '../../src/load/read-yaml.js';
import { templatePosition } from '../../src/load/positions.js';
import { parseTemplate } from '../../src/plan/template.js';

const parse = (text: string): YamlFile => {
  const r = parseYamlText('t.yaml', text);
  expect(r.diagnostics).toEqual([]);
  return r.file!;
};

describe('spanOf', () => {
  const f = parse(
    [
      'lifeboat: 1', // 1
      'roles: { primary: { host: db1 }, standby: db2 }', // 2
      'steps:', // 3
      '  - id: a', // 4
      '    on: [standby, primary]', // 5
      '    run: |', // 6
      '      echo one', // 7
      '      echo {{ vars.x }}', // 8
      '  - { id: b, run: "echo {{ vars.y }}" }', // 9
    ].join('\n') + '\n',
  );

  it('finds values and keys in block style', () => {
    expect(f.spanOf(['steps', 0, 'id'])).toMatchObject({ line: 4, col: 9 });
    expect(f.spanOf(['steps', 0, 'id'], true)).toMatchObject({ line: 4, col: 5 });
    expect(f.spanOf(['steps', 0, 'on', 1])).toMatchObject({ line: 5, col: 19, endLine: 5, endCol: 26 });
    expect(f.spanOf(['steps', 0, 'run'])).toMatchObject({ line: 6, col: 10 });
  });

  it('finds values in flow style', () => {
    expect(f.spanOf(['roles', 'primary', 'host'])).toMatchObject({ line: 2, col: 27 });
    expect(f.spanOf(['roles', 'standby'])).toMatchObject({ line: 2, col: 43 });
    expect(f.spanOf(['steps', 1, 'run'])).toMatchObject({ line: 9, col: 19 });
  });

  it('falls back to the nearest existing parent for a missing path', () => {
    expect(f.spanOf(['steps', 0, 'nope'])).toMatchObject({ line: 4, col: 5 });
    expect(f.spanOf(['steps', 7])).toMatchObject({ line: 4 });
  });

  it('places a template inside a block scalar, a flow string and a folded scalar', () => {
    const at = (p: (string | number)[], src: string) => {
      const r = parseTemplate(src).refs[0];
      return templatePosition(f, p, src, r.line, r.column);
    };
    expect(at(['steps', 0, 'run'], 'echo one\necho {{ vars.x }}\n')).toMatchObject({ line: 8, col: 12, endCol: 24 });
    expect(at(['steps', 1, 'run'], 'echo {{ vars.y }}')).toMatchObject({ line: 9, col: 25 });
    const g = parse('manual: >\n  Check the\n  address {{ vars.vip }}\n  now.\nq: "a \\"b\\" {{ vars.z }}"\n');
    const m = (g.data as { manual: string }).manual;
    const r = parseTemplate(m).refs[0];
    expect(templatePosition(g, ['manual'], m, r.line, r.column)).toMatchObject({ line: 3, col: 11 });
    const q = (g.data as { q: string }).q;
    const r2 = parseTemplate(q).refs[0];
    expect(templatePosition(g, ['q'], q, r2.line, r2.column)).toMatchObject({ line: 5, col: 13 });
  });
});

describe('broken YAML is a diagnostic', () => {
  const one = (text: string) => {
    const r = parseYamlText('t.yaml', text);
    expect(r.diagnostics.length).toBeGreaterThan(0);
    return r.diagnostics[0];
  };

  it('tab indentation', () => {
    expect(one('a:\n\tb: 1\n')).toMatchObject({
      code: 'yaml-tab-as-indent',
      line: 2,
      message: expect.stringContaining('Tabs'),
    });
  });
  it('duplicate key names the key and its first line', () => {
    expect(one('a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n')).toMatchObject({
      code: 'yaml-duplicate-key',
      line: 5,
      col: 3,
      message: "YAML: duplicate key 'c' (first at line 3)",
    });
  });
  it('bad indentation', () => {
    expect(one('a:\n  b: 1\n   c: 2\n').hint).toMatch(/indentation/);
  });
  it('an alias to nowhere points at the alias', () => {
    expect(one('a: 1\nb: *nowhere\n')).toMatchObject({
      code: 'yaml-alias',
      line: 2,
      col: 4,
      message: expect.stringContaining('*nowhere'),
    });
  });
  it('several documents', () => {
    expect(one('a: 1\n---\nb: 2\n')).toMatchObject({
      code: 'yaml-multiple-docs',
      line: 2,
      message: expect.stringContaining('several documents'),
    });
  });
  it('an empty file, or only comments', () => {
    expect(one('')).toMatchObject({ code: 'empty-file' });
    expect(one('# todo\n\n# later\n')).toMatchObject({ code: 'empty-file' });
  });
  it('an alias bomb', () => {
    const lines = ['a: &a [x,x,x,x,x,x,x,x,x,x]'];
    for (let i = 1; i < 8; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill('*' + String.fromCharCode(96 + i))
          .join(',')}]`,
      );
    expect(one(lines.join('\n') + '\n')).toMatchObject({ code: 'yaml-alias-bomb' });
  });
  it('deep nesting', () => {
    expect(one('a: ' + '['.repeat(10_000) + ']'.repeat(10_000) + '\n').message).toMatch(/nested too deeply/);
  });
  it('unclosed quote', () => {
    expect(one('a: "open\nb: 1\n').code).toMatch(/^yaml-/);
  });
});

describe('files that are not YAML text', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-yaml-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a missing file', () => {
    expect(readYamlFile(path.join(dir, 'nope.yaml')).diagnostics[0]).toMatchObject({
      code: 'file-unreadable',
      message: 'file not found',
    });
  });
  it('a directory', () => {
    mkdirSync(path.join(dir, 'd.yaml'));
    expect(readYamlFile(path.join(dir, 'd.yaml')).diagnostics[0]).toMatchObject({
      code: 'file-unreadable',
      message: expect.stringContaining('directory'),
    });
  });
  it('a FIFO (read without blocking)', () => {
    const p = path.join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [p]);
    expect(readYamlFile(p).diagnostics[0]).toMatchObject({
      code: 'file-unreadable',
      message: expect.stringContaining('FIFO'),
    });
  });
  it('a 50 MB file (sparse: not read)', () => {
    const p = path.join(dir, 'big.yaml');
    const fd = openSync(p, 'w');
    ftruncateSync(fd, 50 * 1024 * 1024);
    closeSync(fd);
    expect(readYamlFile(p).diagnostics[0]).toMatchObject({
      code: 'file-too-large',
      message: expect.stringContaining('50.0 MiB'),
    });
  });
  it('non-UTF-8 bytes, with the position of the first bad byte', () => {
    const p = path.join(dir, 'latin1.yaml');
    writeFileSync(p, Buffer.from('a: 1\ntitle: Caf\xe9\n', 'latin1'));
    expect(readYamlFile(p).diagnostics[0]).toMatchObject({ code: 'not-utf8', line: 2, col: 11 });
  });
  it('a byte order mark is fine', () => {
    const p = path.join(dir, 'bom.yaml');
    writeFileSync(p, '\ufeffa: 1\n');
    const r = readYamlFile(p);
    expect(r.diagnostics).toEqual([]);
    expect(r.file!.data).toEqual({ a: 1 });
  });
});

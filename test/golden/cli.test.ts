// One golden case through the real CLI binary (dist/src/bin.cjs and the bundle it loads, built by `npm test`):
// the text format with source line and caret, and the exit codes 0 / 1 / 2.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'dist/src/bin.cjs');
const update = process.env.UPDATE_GOLDEN === '1';

function lifeboat(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function golden(name: string, actual: string) {
  const file = path.join(root, 'test/golden/cli', name);
  // a missing golden fails: UPDATE_GOLDEN=1 writes it, to be read and committed
  if (update) writeFileSync(file, actual);
  expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1, read it, commit it`).toBe(true);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe('lifeboat validate (the built binary)', () => {
  it('is built', () => {
    expect(existsSync(cli), 'run `npm run build` first').toBe(true);
  });

  it('prints each problem with file:line:col, the source line and a caret, and exits 1', () => {
    const r = lifeboat(
      'validate',
      '--no-git',
      'test/golden/bad/template-in-quotes',
      'test/golden/bad/undefined-var-block-scalar/rb.yaml',
    );
    expect(r.code).toBe(1);
    golden('template-in-quotes.txt', r.stdout);
    expect(r.stdout).toMatch(
      /^test\/golden\/bad\/template-in-quotes\/rb\.yaml:17:17: error: .* \[template-in-quotes\]\n {2}17 \| .*\n {5}\| {17}\^+\n/m,
    );
  });

  it('exits 0 on warnings, 1 on the same warnings with --strict', () => {
    const dir = 'test/golden/bad/dr-raw-insert';
    expect(lifeboat('validate', '--no-git', dir).code).toBe(0);
    const strict = lifeboat('validate', '--no-git', '--strict', dir);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain("error: step 'a' run: {{{ vars.vip }}} inserts raw text");
  });

  it('exits 0 and prints nothing with -q on a clean project', () => {
    const r = lifeboat('validate', '--no-git', '-q', 'test/golden/good');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('gives JSON with --format json', () => {
    const r = lifeboat('validate', '--no-git', '--format', 'json', 'test/golden/bad/duplicate-id');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.errors).toBe(1);
    expect(j.diagnostics[0]).toMatchObject({ line: 18, col: 9, severity: 'error', code: 'duplicate-id' });
  });

  it('exits 2 on a bad command line', () => {
    const r = lifeboat('validate', '--no-such-option');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--no-such-option'");
  });

  it('reports a missing path as a problem (exit 1), not a crash', () => {
    const r = lifeboat('validate', '--no-git', 'test/golden/does-not-exist.yaml');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('no such file or folder');
  });
});

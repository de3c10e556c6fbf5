// Golden tests of validation: each folder of test/golden/bad/ is a small project with
// mistakes; expected.txt lists every diagnostic (file:line:col severity code, then its
// message). test/golden/good/ (a small project of its own) and the shipped runbooks/ must
// produce none. UPDATE_GOLDEN=1 rewrites expected.txt.
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validatePaths, type ValidateOptions } from '../../src/load/validate.js';
import type { Diagnostic } from '../../src/model/diagnostic.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BAD = path.join(here, 'bad');
const GOOD = path.join(here, 'good');
const update = process.env.UPDATE_GOLDEN === '1';

function render(dir: string, diags: Diagnostic[]): string {
  const rel = (f: string) => path.relative(dir, path.resolve(f)).split(path.sep).join('/');
  // messages name other files by their path from the working folder: show them from the case folder
  const prefix = path.relative(process.cwd(), dir).split(path.sep).join('/') + '/';
  return (
    diags
      .map((d) => `${rel(d.file)}:${d.line}:${d.col} ${d.severity} ${d.code}\n  ${d.message.replaceAll(prefix, '')}`)
      .join('\n') + '\n'
  );
}

function run(dir: string): Diagnostic[] {
  const optsFile = path.join(dir, 'options.json');
  const opts: ValidateOptions = existsSync(optsFile) ? JSON.parse(readFileSync(optsFile, 'utf8')) : {};
  // git comparisons depend on the checkout, not on the case: tested on their own
  return validatePaths([dir], { git: false, ...opts }).diagnostics;
}

const cases = readdirSync(BAD, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe('golden: bad inputs', () => {
  it('has enough cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });
  for (const name of cases) {
    it(name, () => {
      const dir = path.join(BAD, name);
      const diags = run(dir);
      const actual = render(dir, diags);
      const file = path.join(dir, 'expected.txt');
      // a missing golden fails: UPDATE_GOLDEN=1 writes it, to be read and committed
      if (update) writeFileSync(file, actual);
      expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1, read it, commit it`).toBe(true);
      // every bad case must find something, and never crash on its way
      expect(diags.length).toBeGreaterThan(0);
      expect(actual).toBe(readFileSync(file, 'utf8'));
    });
  }
});

describe('golden: good inputs', () => {
  it('the good project has no diagnostics at all', () => {
    expect(render(GOOD, run(GOOD))).toBe('\n');
  });
});

// the shipped runbooks are tested as they are, not through copies that drift from them;
// test/golden/good/ is a small project of its own
describe('shipped runbooks', () => {
  const shipped = path.resolve(here, '../../runbooks');
  it('validate with no diagnostic at all (no error, no warning)', () => {
    const { diagnostics } = validatePaths([shipped], { git: false });
    expect(diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.severity} ${d.code} ${d.message}`)).toEqual([]);
  });
  it('test/golden/good/ holds small runbooks of its own, none named like a shipped one (no copy that drifts)', () => {
    const names = (dir: string) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => readFileSync(path.join(dir, f), 'utf8'))
        .filter((t) => /^kind: runbook$/m.test(t))
        .map((t) => /^name: (\S+)$/m.exec(t)?.[1]);
    const mine = names(shipped);
    expect(mine.length).toBeGreaterThan(5);
    expect(names(GOOD).filter((n) => mine.includes(n))).toEqual([]);
  });
});

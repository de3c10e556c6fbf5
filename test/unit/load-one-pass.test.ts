// Validation in one pass: independent mistakes are all reported at once. fast-check picks any
// subset of five mistakes (two the schema finds, three the semantic checks find), each in a step
// of its own; the file with the subset must report exactly the union of what each mistake
// reports alone — nothing hidden behind a schema error, nothing added by another mistake.
// (A mistake and its correct form take the same lines, so positions compare.)
import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validatePaths } from '../../src/load/validate.js';

const work = mkdtempSync(path.join(tmpdir(), 'lb-one-pass-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const MISTAKES = [
  {
    step: '  - id: a\n    on: db\n    run: "true"\n    colour: blue\n',
    ok: '  - id: a\n    on: db\n    run: "true"\n    title: A\n',
    code: 'unknown-field',
  },
  {
    step: '  - id: b\n    on: db\n    run: sleep 1\n    timeout: soon\n',
    ok: '  - id: b\n    on: db\n    run: sleep 1\n    timeout: 5s\n',
    code: 'bad-value',
  },
  {
    step: '  - id: c\n    on: db\n    run: echo {{ vars.nope }}\n',
    ok: '  - id: c\n    on: db\n    run: echo {{ vars.vip }}\n',
    code: 'undefined-var',
  },
  {
    step: '  - id: d\n    on: db\n    run: "true"\n    expect: { stdout: { match: "(open" } }\n',
    ok: '  - id: d\n    on: db\n    run: "true"\n    expect: { stdout: { match: "ok" } }\n',
    code: 'bad-regex',
  },
  {
    step: '  - id: e\n    on: nowhere\n    run: "true"\n',
    ok: '  - id: e\n    on: db\n    run: "true"\n',
    code: 'unknown-target',
  },
];

let n = 0;
function codes(mistakes: boolean[]): string[] {
  const dir = path.join(work, String(++n));
  mkdirSync(dir);
  writeFileSync(
    path.join(dir, 'inv.yaml'),
    'lifeboat: 1\nkind: inventory\nname: lab\nenvironment: rehearsal\nhosts:\n  db1: { address: 198.18.0.11 }\nvars:\n  vip: 198.18.0.100\n',
  );
  writeFileSync(
    path.join(dir, 'rb.yaml'),
    `lifeboat: 1\nkind: runbook\nname: demo\nversion: 1.0.0\ntitle: Demo\ntier: routine\nroles: { db: db1 }\nsteps:\n  - id: pre\n    phase: preflight\n    on: db\n    run: "true"\n${MISTAKES.map((m, i) => (mistakes[i] ? m.step : m.ok)).join('')}`,
  );
  return validatePaths([dir], { git: false })
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `${d.line}:${d.code}`)
    .sort();
}

describe('validation in one pass', () => {
  const alone = MISTAKES.map((_, i) => codes(MISTAKES.map((__, j) => i === j)));
  it('each mistake alone is found, as what it is', () => {
    expect(codes(MISTAKES.map(() => false))).toEqual([]);
    alone.forEach((c, i) =>
      expect(
        c.map((x) => x.split(':')[1]),
        MISTAKES[i].code,
      ).toContain(MISTAKES[i].code),
    );
  });
  it('any set of them is reported as the union of each alone', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: MISTAKES.length, maxLength: MISTAKES.length }), (pick) => {
        expect(codes(pick)).toEqual(
          alone
            .filter((_, i) => pick[i])
            .flat()
            .sort(),
        );
      }),
      { numRuns: 40 },
    );
  });
});

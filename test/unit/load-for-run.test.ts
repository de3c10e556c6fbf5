// loadForRun: a run reads its runbook, the runbooks it includes, the inventories and the site,
// and nothing else; when it cannot tell which file holds a runbook it says so (undefined) and
// the caller loads the whole project. What it reads must give the same plan and the same
// diagnostics for the run's files as a whole-project load.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadForRun, loadWithRoot, type Project } from '../../src/load/project.js';
import { checkSemantics } from '../../src/load/check-semantics.js';
import { lintProject } from '../../src/load/lint.js';
import { sortDiagnostics } from '../../src/model/diagnostic.js';
import { resolvePlan } from '../../src/plan/resolve.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const runbook = (name: string, extra = '') => `lifeboat: 1
kind: runbook
name: ${name}
version: 1.0.0
title: ${name}
tier: routine
objectives: { rto: 5m }
steps:
  - id: check
    phase: preflight
    on: local
    run: "true"
${extra}`;

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lb-for-run-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'site.yaml'), 'lifeboat: 1\nkind: site\norganisation: Test\nrecovery_order: [a]\n');
  writeFileSync(
    path.join(dir, 'inv.yaml'),
    'lifeboat: 1\nkind: inventory\nname: inv\nenvironment: rehearsal\nhosts: { box: { address: 198.18.0.1 } }\n',
  );
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

const read = (p: Project) => [...p.files.keys()].map((f) => path.basename(f)).sort();

/** diagnostics of the given files, as prepare() selects them */
function diagsOf(p: Project, files: Set<string>) {
  return sortDiagnostics([...p.diagnostics, ...checkSemantics(p), ...lintProject(p, { git: false })]).filter((d) =>
    files.has(path.resolve(d.file)),
  );
}

describe('loadForRun', () => {
  it('reads the runbook, its includes (transitively), inventories and site, and not the other runbooks', () => {
    const dir = project({
      'runbooks/a.yaml': runbook('a', '  - id: sub\n    include: b\n'),
      'runbooks/b.yaml': runbook('b', '  - id: sub\n    include: c\n'),
      'runbooks/c.yaml': runbook('c'),
      'runbooks/other.yaml': runbook('other'),
      'runbooks/broken.yaml': 'kind: runbook\nname: broken\nsteps: [\n',
    });
    const p = loadForRun(dir, { name: 'a' })!;
    expect(p).toBeDefined();
    expect(read(p)).toEqual(['a.yaml', 'b.yaml', 'c.yaml', 'inv.yaml', 'site.yaml']);
    expect(p.diagnostics).toEqual([]);
    // given as a file, the same
    expect(read(loadForRun(dir, { file: path.join(dir, 'runbooks/a.yaml') })!)).toEqual([
      'a.yaml',
      'b.yaml',
      'c.yaml',
      'inv.yaml',
      'site.yaml',
    ]);
  });

  it('leaves the choice to a whole-project load when a name is not found or found twice', () => {
    const dir = project({
      'runbooks/a.yaml': runbook('a'),
      'runbooks/a2.yaml': runbook('a'),
      'runbooks/b.yaml': runbook('b', '  - id: sub\n    include: nowhere\n'),
    });
    expect(loadForRun(dir, { name: 'a' })).toBeUndefined();
    expect(loadForRun(dir, { name: 'missing' })).toBeUndefined();
    expect(loadForRun(dir, { name: 'b' })).toBeUndefined();
    // a file given by path whose name another file uses too: the whole project says which one is the duplicate
    expect(loadForRun(dir, { file: path.join(dir, 'runbooks/a.yaml') })).toBeUndefined();
  });

  it('reads in full what its first lines do not make plain: flow style, several documents, quoted or odd names', () => {
    const dir = project({
      'runbooks/a.yaml': runbook('a'),
      'runbooks/flow.yaml': '{ lifeboat: 1, kind: runbook, name: flow }\n',
      'runbooks/docs.yaml': `${runbook('docs')}---\n${runbook('docs2')}`,
      'runbooks/odd.yaml': runbook('odd').replace('name: odd', 'name: "o\\x64d"'),
    });
    const p = loadForRun(dir, { name: 'a' })!;
    expect(read(p)).toEqual(['a.yaml', 'flow.yaml', 'inv.yaml', 'odd.yaml', 'site.yaml']);
    // the file of several documents was read too: it is refused, as in a whole-project load
    expect(p.diagnostics.map((d) => path.basename(d.file))).toContain('docs.yaml');
    // a runbook found only by reading it in full is found all the same
    expect(loadForRun(dir, { name: 'odd' })?.runbooks.has('odd')).toBe(true);
  });

  it('agrees with a whole-project load on every shipped runbook: same plan, same diagnostics for the run’s files', () => {
    const root = path.join(repo, 'runbooks');
    const whole = loadWithRoot([root]);
    for (const name of whole.runbooks.keys()) {
      const part = loadForRun(root, { name });
      expect(part, name).toBeDefined();
      for (const inv of whole.inventories.keys()) {
        const a = resolvePlan(whole, name, inv, { env: {}, sshConfigLookup: () => ({}) });
        const b = resolvePlan(part!, name, inv, { env: {}, sshConfigLookup: () => ({}) });
        expect(b, `${name} on ${inv}`).toEqual(a);
      }
      const used = new Set([...part!.inventories.values()].map((i) => path.resolve(i.file.file)));
      for (const rb of part!.runbooks.values()) used.add(path.resolve(rb.file.file));
      expect(diagsOf(part!, used), name).toEqual(diagsOf(whole, used));
    }
  });
});

// The go-bag's pure parts: the manifest and its diff (generated file sets and changes), the
// kit's freshness against the runbooks, EMERGENCY.txt from the plan's model, the RPO verdict,
// and kit lines in history.jsonl being neither rehearsals nor unreadable lines.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import path from 'node:path';
import { diffManifest, formatManifest, kitDigest, parseManifest, type FileHash } from '../../src/kit/manifest.js';
import { kitFreshness, siteFileDigests, describeFreshness } from '../../src/kit/freshness.js';
import { emergencyText } from '../../src/kit/emergency.js';
import { readinessRpo } from '../../src/readiness/check.js';
import { parseHistory } from '../../src/rehearsal/status.js';
import { loadProject } from '../../src/load/project.js';
import { planModel } from '../../src/render/plan-model.js';
import type { KitRecord } from '../../src/rehearsal/history.js';

const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
const name = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}(\/[a-z0-9][a-z0-9._-]{0,8}){0,2}$/);

describe('manifest', () => {
  it('reads back what it writes, and its diff names exactly the changed, missing and extra files', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ path: name, sha256: hex }), { selector: (f) => f.path, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.uniqueArray(name, { maxLength: 3 }),
        (files: FileHash[], changeAt, dropAt, extraNames) => {
          const text = formatManifest(files);
          const parsed = parseManifest(text);
          expect(parsed.bad).toEqual([]);
          expect([...parsed.entries]).toEqual(files.map((f) => [f.path, f.sha256]));
          expect(kitDigest(text)).toBe(kitDigest(Buffer.from(text)));
          // the files found: some changed, some gone, some added
          const changed = new Set(files.length ? changeAt.map((i) => files[i % files.length].path) : []);
          const dropped = new Set(
            files.length ? dropAt.map((i) => files[i % files.length].path).filter((p) => !changed.has(p)) : [],
          );
          const extras = extraNames.filter((n) => !parsed.entries.has(n));
          const found: FileHash[] = [
            ...files
              .filter((f) => !dropped.has(f.path))
              .map((f) => ({
                path: f.path,
                sha256: changed.has(f.path) ? (f.sha256[0] === '0' ? '1' : '0') + f.sha256.slice(1) : f.sha256,
              })),
            ...extras.map((p) => ({ path: p, sha256: '0'.repeat(64) })),
          ];
          const d = diffManifest(parsed.entries, found);
          expect(new Set(d.changed)).toEqual(changed);
          expect(new Set(d.missing)).toEqual(dropped);
          expect(new Set(d.extra)).toEqual(new Set(extras));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses names sha256sum would not read back, and flags lines that are not entries', () => {
    expect(() => formatManifest([{ path: 'a\nb', sha256: '0'.repeat(64) }])).toThrow(/cannot list/);
    expect(() => formatManifest([{ path: '../x', sha256: '0'.repeat(64) }])).toThrow(/cannot list/);
    expect(parseManifest(`${'0'.repeat(64)}  ok\nnonsense\n${'1'.repeat(64)}  /etc/passwd\n`).bad).toEqual([2, 3]);
  });
});

const ACME = path.resolve('test/fixtures/plan/acme');

describe('kit freshness', () => {
  const project = loadProject([ACME], { root: ACME });
  const kitOf = (files: Record<string, string>): KitRecord => ({
    kind: 'kit',
    kit_digest: 'a'.repeat(64),
    built_at: '2026-12-01T10:00:00.000Z',
    operator: 'o',
    lifeboat: '0',
    platforms: ['linux-x64'],
    inventories: ['lab'],
    plans: [],
    files,
  });

  it('no kit: nothing to say; a kit of the runbooks as they are: current', () => {
    expect(kitFreshness(project, [])).toEqual({ stale: false, changed: [] });
    const f = kitFreshness(project, [kitOf(Object.fromEntries(siteFileDigests(project)))]);
    expect(f.stale).toBe(false);
    expect(describeFreshness(f)).toMatch(/holds the runbooks as they are now/);
  });

  it('a changed, a new and a removed runbook make the newest kit stale, by name', () => {
    const files = Object.fromEntries(siteFileDigests(project));
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['db-failover.yaml', 'site.yaml']));
    files['db-failover.yaml'] = '0'.repeat(64);
    delete files['vip-move.yaml'];
    files['gone.yaml'] = '1'.repeat(64);
    const older = kitOf(Object.fromEntries(siteFileDigests(project)));
    const newest = { ...kitOf(files), built_at: '2026-12-02T10:00:00.000Z' };
    const f = kitFreshness(project, [older, newest]);
    expect(f.stale).toBe(true);
    expect(f.changed).toEqual(['db-failover.yaml', 'gone.yaml', 'vip-move.yaml']);
    expect(describeFreshness(f)).toMatch(
      /^the go-bag is stale: the newest kit \(aaaaaaaaaaaa, built 2026-12-02 10:00\) is older than the runbooks \(changed since: db-failover\.yaml, gone\.yaml, vip-move\.yaml\)/,
    );
  });
});

describe('EMERGENCY.txt', () => {
  it("lists every service in the plan's order with its commands, and where each secret comes from (never a value)", () => {
    const project = loadProject([ACME], { root: ACME });
    const model = planModel(project, project.site!, 'production', [], {
      now: new Date('2026-12-01T00:00:00Z'),
      version: '1.2.3',
    });
    const text = emergencyText({
      project,
      inventories: ['lab', 'production'],
      knownHosts: [],
      version: '1.2.3',
      plans: [{ inventory: 'production', digest: model.digest, model }],
      now: new Date('2026-12-01T00:00:00Z'),
    });
    const order = [...text.matchAll(/^ +(?:\d+\.|-) .*: runbook (\S+)$/gm)].map((m) => m[1]);
    expect(order).toEqual(model.phases.flatMap((p) => p.entries.flatMap((e) => e.choices.map((c) => c.runbook))));
    expect(order.length).toBeGreaterThan(0);
    for (const rb of order) expect(text).toContain(`../lifeboat run ${rb} -i production --dry-run\n`);
    expect(text).toContain('repl_password: environment variable ACME_PG_REPL_PASSWORD (db-failover)');
    expect(text).toContain('pdu_password: file ~/.config/acme/pdu-password');
    expect(text).toContain(model.digest);
    expect(text).not.toMatch(/holds no production inventory/);
    const labOnly = emergencyText({
      project,
      inventories: ['lab'],
      knownHosts: [],
      version: '1',
      plans: [],
      now: new Date(),
    });
    expect(labOnly).toMatch(/holds no production inventory/);
  });
});

describe('readiness: the data-loss window', () => {
  // the run's own verdict and words (src/engine/rpo.ts), never a second reading of the value
  it.each([
    ['0.4', 60_000, 'within', 'data-loss window ≈ 0.4 s (RPO 1m): within'],
    ['93', 60_000, 'past', 'data-loss window ≈ 1m33s (RPO 1m): PAST THE RPO — up to 1m33s of writes may be lost'],
    ['60', 60_000, 'within', undefined],
    ['2m', 60_000, 'past', undefined],
    ['12 seconds', 60_000, 'not-measured', undefined],
    ['5', undefined, 'no-objective', undefined],
  ] as const)('%s against %s ms: %s', (captured, rpo, verdict, words) => {
    const v = readinessRpo('lag', 'lag_s', captured, rpo)!;
    expect(v.verdict).toBe(verdict);
    if (words) expect(v.words).toBe(words);
  });
  it('nothing captured is no evidence', () => {
    expect(readinessRpo('lag', 'lag_s', undefined, 60_000)).toBeUndefined();
  });
});

describe('history.jsonl with kits', () => {
  it('kit lines are not rehearsals and not counted as unreadable', () => {
    const rehearsal = {
      runbook: 'a',
      version: '1',
      digest: 'd',
      inventory: 'lab',
      result: 'passed',
      finished_at: '2026-12-01T00:00:00Z',
      duration_ms: 1,
    };
    const r = parseHistory(
      [
        JSON.stringify(rehearsal),
        JSON.stringify({ kind: 'kit', kit_digest: 'x', built_at: '2026-12-01T00:00:00Z', files: {} }),
        'not json',
      ].join('\n'),
    );
    expect(r.entries).toHaveLength(1);
    expect(r.skipped).toBe(1);
  });
});

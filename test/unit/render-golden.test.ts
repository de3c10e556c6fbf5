// Golden Markdown plans: the whole printed content in a reviewable diff.
// UPDATE_GOLDEN=1 npx vitest run test/unit/render-golden.test.ts rewrites test/golden-plan/.
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadProject } from '../../src/load/project.js';
import { renderPlanDocument } from '../../src/render/plan-document.js';

const NOW = new Date('2026-11-20T10:00:00Z');
const GOLDEN = path.resolve('test/golden-plan');
// the change log from a fixed history, so the golden does not follow the repository's commits
const CHANGES = (file: string) => [
  { date: '2026-11-01', version: '9.9.9', note: `last change of ${path.basename(file)}` },
  { date: '2026-01-01', version: '1.0.0', note: 'first version' },
];

const cases: [site: string, inventory: string][] = [
  ['acme', 'production'],
  ['acme', 'lab'],
  ['hostile', 'prod'],
];

describe('golden Markdown plans', () => {
  for (const [name, inventory] of cases) {
    it(`${name} / ${inventory}`, async () => {
      const root = path.resolve('test/fixtures/plan', name);
      const project = loadProject([root], { root });
      const doc = await renderPlanDocument(project, project.site!, inventory, {
        format: 'md',
        now: NOW,
        version: '0.0.0-golden',
        changes: CHANGES,
      });
      const file = path.join(GOLDEN, `${name}-${inventory}.md`);
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, doc.output);
        // a missing golden file is written, but the run must not pass silently on it
        if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`wrote new golden file ${file}: review and commit it`);
        return;
      }
      expect(doc.output).toBe(readFileSync(file, 'utf8'));
    });
  }
});

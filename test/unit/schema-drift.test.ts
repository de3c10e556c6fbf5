// src/schema/*.generated.ts must be what scripts/gen-types.mjs makes of schemas/*.json today.
import { describe, it, expect } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
// @ts-expect-error: a plain .mjs script without type declarations
import { generate, KINDS } from '../../scripts/gen-types.mjs';

describe('generated types', () => {
  for (const [kind, typeName] of KINDS as [string, string][]) {
    it(`${kind}.generated.ts is up to date (else: npm run gen:types)`, async () => {
      const { out, ts } = (await generate(kind, typeName)) as { out: string; ts: string };
      const current = await readFile(out, 'utf8').catch(() => '');
      expect(current, `${path.basename(out)} is stale: run npm run gen:types`).toBe(ts);
    }, 30_000);
  }
});

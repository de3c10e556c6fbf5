#!/usr/bin/env node
// Generates src/schema/*.generated.ts from schemas/*.schema.json, the one source of the YAML's types.
// `--check` exits 1 when a committed file differs (the drift test calls the same function).
import { compile } from 'json-schema-to-typescript';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const KINDS = [
  ['runbook', 'Runbook'],
  ['inventory', 'Inventory'],
  ['site', 'Site'],
];

export async function generate(kind, typeName) {
  const file = path.join(root, 'schemas', `${kind}.schema.json`);
  const schema = JSON.parse(await readFile(file, 'utf8'));
  const common = JSON.parse(await readFile(path.join(root, 'schemas', 'common.schema.json'), 'utf8'));
  // Inline the shared definitions so the generator sees one self-contained schema.
  const bundled = JSON.parse(JSON.stringify(schema).replaceAll('"common.schema.json#/$defs/', '"#/$defs/'));
  bundled.$defs = { ...common.$defs, ...bundled.$defs };
  delete bundled.$id;
  const ts = await compile(bundled, typeName, {
    bannerComment: `/* GENERATED from schemas/${kind}.schema.json by scripts/gen-types.mjs: do not edit. */`,
    additionalProperties: false,
    unreachableDefinitions: false,
    style: { singleQuote: true },
  });
  return { out: path.join(root, 'src', 'schema', `${kind}.generated.ts`), ts };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [kind, name] of KINDS) {
    const { out, ts } = await generate(kind, name);
    if (check) {
      const cur = await readFile(out, 'utf8').catch(() => '');
      if (cur !== ts) {
        console.error(`${path.relative(root, out)} is stale: run npm run gen:types`);
        stale++;
      }
    } else {
      await writeFile(out, ts);
      console.log(`wrote ${path.relative(root, out)}`);
    }
  }
  process.exit(stale ? 1 : 0);
}

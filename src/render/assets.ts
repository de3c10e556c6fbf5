// Where the package's own files are: the folder holding lifeboat's package.json, found by
// walking up from this module, so it works from src/ (tests) and dist/src/ (installed) alike.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  for (let d = path.dirname(fileURLToPath(import.meta.url)); ; d = path.dirname(d)) {
    const pj = path.join(d, 'package.json');
    if (existsSync(pj) && existsSync(path.join(d, 'templates'))) return (root = d);
    if (path.dirname(d) === d) throw new Error('cannot find the lifeboat package folder (package.json beside templates/)');
  }
}

export const defaultTemplatesDir = () => path.join(packageRoot(), 'templates');

let version: string | undefined;
export function packageVersion(): string {
  return (version ??= (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version);
}

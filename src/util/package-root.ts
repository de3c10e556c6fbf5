// Where lifeboat's own files are: the folder with its package.json, templates/ and schemas/,
// found once by walking up from this module. It works from src/ (tests), dist/src/ (built),
// dist/ (the bundle) and a kit's folder alike. The one way to find them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  for (let d = path.dirname(fileURLToPath(import.meta.url)); ; d = path.dirname(d)) {
    if (
      existsSync(path.join(d, 'package.json')) &&
      existsSync(path.join(d, 'templates')) &&
      existsSync(path.join(d, 'schemas'))
    )
      return (root = d);
    if (path.dirname(d) === d)
      throw new Error(
        `cannot find lifeboat's own files (package.json with templates/ and schemas/) above ${fileURLToPath(import.meta.url)}`,
      );
  }
}

// The package's own templates and version, from its folder (src/util/package-root.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/package-root.js';

export { packageRoot };

export const defaultTemplatesDir = () => path.join(packageRoot(), 'templates');

let version: string | undefined;
export function packageVersion(): string {
  return (version ??= (
    JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
  ).version);
}

// MANIFEST.sha256 of a kit: one `sha256  path` line per file, in `sha256sum` format, so the
// kit can be checked without lifeboat (`sha256sum -c MANIFEST.sha256`). The kit's digest is
// the sha256 of the manifest's bytes: one value that names every byte of the kit.
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const MANIFEST = 'MANIFEST.sha256';
export const KIT_DIGEST = 'KIT-DIGEST';
/** files the manifest cannot list (it is one of them; the digest is made from it) */
export const UNLISTED = new Set([MANIFEST, KIT_DIGEST]);

export interface FileHash {
  path: string;
  sha256: string;
}

/**
 * Every file under `dir` (relative, `/`-separated, sorted by bytes), but the unlisted ones. Links and other non-files
 * are returned in `odd`.
 */
export function listFiles(dir: string): { files: string[]; odd: string[] } {
  const files: string[] = [];
  const odd: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) {
        if (!(rel === '' && UNLISTED.has(e.name))) files.push(r);
      } else odd.push(r);
    }
  };
  walk('');
  const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  return { files: files.sort(byBytes), odd: odd.sort(byBytes) };
}

export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

export async function hashTree(dir: string, files: string[]): Promise<FileHash[]> {
  const out: FileHash[] = [];
  for (const f of files) out.push({ path: f, sha256: await hashFile(path.join(dir, f)) });
  return out;
}

/** a path that `sha256sum -c` reads back as written: no newline or backslash, never absolute or `..` */
function checkPath(p: string): void {
  if (/[\n\r\\]/.test(p) || p.startsWith('/') || p.split('/').includes('..'))
    throw new Error(`a kit file name lifeboat cannot list in ${MANIFEST}: ${JSON.stringify(p)}`);
}

export function formatManifest(hashes: FileHash[]): string {
  return hashes
    .map((h) => {
      checkPath(h.path);
      return `${h.sha256}  ${h.path}\n`;
    })
    .join('');
}

export interface ParsedManifest {
  entries: Map<string, string>;
  bad: number[];
}

export function parseManifest(text: string): ParsedManifest {
  const entries = new Map<string, string>();
  const bad: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line) return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m || m[2].startsWith('/') || m[2].split('/').includes('..') || entries.has(m[2])) bad.push(i + 1);
    else entries.set(m[2], m[1]);
  });
  return { entries, bad };
}

export const kitDigest = (manifestText: string | Buffer) => createHash('sha256').update(manifestText).digest('hex');

export interface ManifestDiff {
  changed: string[];
  missing: string[];
  extra: string[];
}

/** What differs between a manifest and the files found: pure. */
export function diffManifest(expected: Map<string, string>, found: FileHash[]): ManifestDiff {
  const seen = new Set<string>();
  const changed: string[] = [];
  const extra: string[] = [];
  for (const f of found) {
    seen.add(f.path);
    const want = expected.get(f.path);
    if (want === undefined) extra.push(f.path);
    else if (want !== f.sha256) changed.push(f.path);
  }
  const missing = [...expected.keys()].filter((p) => !seen.has(p));
  return { changed, missing, extra };
}

export const isExecutable = (file: string) => (lstatSync(file).mode & 0o111) !== 0;

// dr-version-not-bumped: a runbook whose content changed since git HEAD but whose `version:`
// did not.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Runbook } from '../../model/types.js';
import type { Loaded } from '../project.js';
import { diagAt } from '../positions.js';

/**
 * Runbooks whose content changed since git HEAD but whose `version:` did not. One
 * `git cat-file --batch` call reads every file's HEAD version; outside git, or for
 * files not in HEAD, nothing is said.
 */
export function versionNotBumped(runbooks: Loaded<Runbook>[]): Diagnostic[] {
  if (!runbooks.length) return [];
  const cwd = path.dirname(path.resolve(runbooks[0].file.file));
  const specs = runbooks.map(
    (rb) => `HEAD:./${path.relative(cwd, path.resolve(rb.file.file)).split(path.sep).join('/')}`,
  );
  let raw: Buffer;
  try {
    raw = execFileSync('git', ['cat-file', '--batch'], {
      cwd,
      input: specs.join('\n') + '\n',
      stdio: ['pipe', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
      timeout: 10_000,
    });
  } catch {
    return [];
  }
  const out: Diagnostic[] = [];
  let pos = 0;
  for (const rb of runbooks) {
    const nl = raw.indexOf(0x0a, pos);
    if (nl < 0) break;
    const header = raw.subarray(pos, nl).toString('utf8');
    const m = /^[0-9a-f]+ blob (\d+)$/.exec(header);
    if (!m) {
      pos = nl + 1;
      continue;
    }
    const size = Number(m[1]);
    const old = raw.subarray(nl + 1, nl + 1 + size).toString('utf8');
    pos = nl + 1 + size + 1;
    if (old === rb.file.text) continue;
    let before: unknown;
    try {
      before = parseYaml(old);
    } catch {
      continue;
    }
    const b = before as { version?: unknown } | null;
    if (!b || typeof b !== 'object') continue;
    // comments and layout are not the procedure: only a change of the data needs a new version
    if (b.version === rb.data.version && JSON.stringify(b) !== JSON.stringify(rb.data)) {
      out.push(
        diagAt(
          rb.file,
          ['version'],
          false,
          'warning',
          'dr-version-not-bumped',
          `runbook '${rb.data.name}' changed since the last commit but its version is still ${rb.data.version}`,
          'bump `version:` (e.g. the patch number) so journals and plans tell the procedures apart',
        ),
      );
    }
  }
  return out;
}

// `lifeboat kit verify DIR`: is the go-bag still what was built? Every file against
// MANIFEST.sha256 (changed, missing, extra), the manifest against KIT-DIGEST (and an expected
// digest when given), and each printed plan's digest made again from the kit's own runbooks.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadWithRoot } from '../load/project.js';
import {
  diffManifest,
  hashTree,
  kitDigest,
  listFiles,
  parseManifest,
  KIT_DIGEST,
  MANIFEST,
  type ManifestDiff,
} from './manifest.js';
import { parsePlanDigests, planDigestsFile, renderKitPlan } from './plan.js';

export interface PlanCheck {
  inventory: string;
  recorded: string;
  actual?: string;
  error?: string;
}

export interface KitCheck {
  dir: string;
  ok: boolean;
  /** sha256 of MANIFEST.sha256 as found */
  digest?: string;
  problems: string[];
  diff: ManifestDiff;
  plans: PlanCheck[];
}

export async function verifyKit(dir: string, opts: { expectDigest?: string } = {}): Promise<KitCheck> {
  const problems: string[] = [];
  const diff: ManifestDiff = { changed: [], missing: [], extra: [] };
  const check: KitCheck = { dir, ok: false, problems, diff, plans: [] };
  const manifestFile = path.join(dir, MANIFEST);
  if (!existsSync(manifestFile)) {
    problems.push(`${MANIFEST} is missing: this is not a kit, or its manifest was removed`);
    return check;
  }
  const text = readFileSync(manifestFile);
  check.digest = kitDigest(text);
  const parsed = parseManifest(text.toString('utf8'));
  for (const n of parsed.bad) problems.push(`${MANIFEST}:${n}: not a "sha256  path" line`);
  const recorded = existsSync(path.join(dir, KIT_DIGEST))
    ? readFileSync(path.join(dir, KIT_DIGEST), 'utf8').trim()
    : undefined;
  if (recorded === undefined) problems.push(`${KIT_DIGEST} is missing`);
  else if (recorded !== check.digest)
    problems.push(`${KIT_DIGEST} says ${recorded}, but ${MANIFEST} has the digest ${check.digest}`);
  if (opts.expectDigest && opts.expectDigest !== check.digest)
    problems.push(`the kit's digest is ${check.digest}, not the expected ${opts.expectDigest}`);

  const { files, odd } = listFiles(dir);
  Object.assign(diff, diffManifest(parsed.entries, await hashTree(dir, files)));
  diff.extra.push(...odd.filter((o) => !parsed.entries.has(o)));
  diff.changed.push(...odd.filter((o) => parsed.entries.has(o)));
  for (const f of diff.changed) problems.push(`changed: ${f}`);
  for (const f of diff.missing) problems.push(`missing: ${f}`);
  for (const f of diff.extra) problems.push(`extra: ${f}`);

  // the plan's digest, made again from the runbooks as they are in the kit now
  const digestsFile = path.join(dir, planDigestsFile);
  const plans = existsSync(digestsFile) ? parsePlanDigests(readFileSync(digestsFile, 'utf8')) : [];
  if (!plans.length) problems.push(`${planDigestsFile} names no plan`);
  if (plans.length && existsSync(path.join(dir, 'project'))) {
    const project = loadWithRoot([path.join(dir, 'project')]);
    for (const p of plans) {
      const c: PlanCheck = { inventory: p.inventory, recorded: p.digest };
      try {
        c.actual = (await renderKitPlan(dir, project, p.inventory, 'html')).digest;
      } catch (e) {
        const why = (e as { problems?: unknown }).problems;
        c.error = [(e as Error).message, ...(Array.isArray(why) ? why.slice(0, 3).map(String) : [])].join('; ');
      }
      check.plans.push(c);
      if (c.error)
        problems.push(`the plan for ${p.inventory} cannot be made again from the kit's runbooks: ${c.error}`);
      else if (c.actual !== c.recorded)
        problems.push(
          `the plan for ${p.inventory} does not match the kit's runbooks: printed with digest ${c.recorded}, the files give ${c.actual}`,
        );
    }
  }
  check.ok = problems.length === 0;
  return check;
}

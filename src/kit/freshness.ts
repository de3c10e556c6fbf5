// Is the go-bag current? The newest kit recorded in the history holds the runbooks and the
// site as they were when it was built; a runbook changed, added or removed since then makes
// it stale (pure: the project as loaded and the history's kit records).
import path from 'node:path';
import type { Project } from '../load/project.js';
import type { KitRecord } from '../rehearsal/history.js';
import { sha256 } from '../plan/resolve.js';

export interface KitFreshness {
  /** the newest kit, when one was ever built */
  kit?: KitRecord;
  stale: boolean;
  /** site files (relative to the site folder) that differ from the kit's: changed, new or gone */
  changed: string[];
}

const rel = (project: Project, file: string) =>
  path.relative(project.root, path.resolve(file)).split(path.sep).join('/');

/** the site's files a kit must hold as they are now: every runbook and site.yaml */
export function siteFileDigests(project: Project): Map<string, string> {
  const out = new Map<string, string>();
  const files = [...project.runbooks.values()].map((l) => l.file);
  if (project.site) files.push(project.site.file);
  for (const f of files) out.set(rel(project, f.file), sha256(f.text));
  return out;
}

export function kitFreshness(project: Project, kits: KitRecord[]): KitFreshness {
  const kit = kits[kits.length - 1];
  if (!kit) return { stale: false, changed: [] };
  const now = siteFileDigests(project);
  const changed: string[] = [];
  for (const [f, h] of now) if (kit.files[f] !== h) changed.push(f);
  // a runbook the kit holds that the site no longer has
  for (const f of Object.keys(kit.files)) if (!now.has(f)) changed.push(f);
  changed.sort();
  return { kit, stale: changed.length > 0, changed };
}

export function describeFreshness(f: KitFreshness): string | undefined {
  if (!f.kit) return undefined;
  const when = f.kit.built_at.slice(0, 16).replace('T', ' ');
  if (!f.stale)
    return `the newest kit (${f.kit.kit_digest.slice(0, 12)}, built ${when}) holds the runbooks as they are now`;
  const list =
    f.changed.length > 4
      ? `${f.changed.slice(0, 4).join(', ')} and ${f.changed.length - 4} more`
      : f.changed.join(', ');
  return (
    `the go-bag is stale: the newest kit (${f.kit.kit_digest.slice(0, 12)}, built ${when}) is older than the runbooks ` +
    `(changed since: ${list}); rebuild it with: lifeboat kit -o DIR`
  );
}

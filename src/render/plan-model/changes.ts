// The change log: each runbook's history, as the caller finds it (git, or the file itself).
import path from 'node:path';
import type { Project } from '../../load/project.js';
import type { RunbookRef, RunbookRefs } from './resolved.js';
import type { RunbookView } from './runbook.js';

export interface ChangeEntry {
  date: string;
  version: string;
  note: string;
}
export interface ChangeView {
  runbook: RunbookRef;
  file: string;
  version: string;
  entries: ChangeEntry[];
}
/** a runbook file's history, newest first (from git, or from the file itself) */
export type ChangeSource = (file: string) => ChangeEntry[];

export function changeViews(
  project: Project,
  views: RunbookView[],
  refs: RunbookRefs,
  changes: ChangeSource | undefined,
): ChangeView[] {
  return views.map((v) => {
    const entries = changes?.(path.resolve(project.root, v.file)) ?? [];
    return {
      runbook: refs.ref(v.name),
      file: v.file,
      version: v.version,
      entries: entries.length
        ? entries
        : [{ date: '', version: v.version, note: 'present version (no history found)' }],
    };
  });
}

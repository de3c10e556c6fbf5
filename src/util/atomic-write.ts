// Write a whole file or nothing: into a temporary file beside it, then renamed over it, so a
// reader (or a printer) never sees half a plan or half a report.
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';

export function writeAtomic(dest: string, data: string | Buffer, mode = 0o600): void {
  const tmp = `${dest}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, dest);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not written */
    }
    throw e;
  }
}

// Worker for the loader fuzz test: validates each case it is sent and answers with the number
// of diagnostics, or with the stack of anything thrown or any oracle that did not hold. Runs in a
// worker so that the test can end a case that hangs. Plain JS: it loads the TypeScript sources
// through tsx.
//
// Oracles, besides "no throw":
// - every diagnostic is printable and its position lies inside the file it names (line 0 means
//   the whole file; otherwise the line exists and the column is at most one past its end);
// - a case the checks accept (no errors) resolves against every inventory of the project and its
//   dry run (the real engine against the recording transport) reaches its end.
import { parentPort, workerData } from 'node:worker_threads';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsImport } from 'tsx/esm/api';

const { validatePaths } = await tsImport('../../src/load/validate.ts', import.meta.url);
const { resolvePlan } = await tsImport('../../src/plan/resolve.ts', import.meta.url);
const { recordRun } = await tsImport('../../src/session/dry-run.ts', import.meta.url);
const dir = workerData.dir;
const file = path.join(dir, 'case.yaml');

/** the lines of a file as the loader, grep and sed count them: \n ends a line (a lone \r does not) */
const linesOf = (f) => readFileSync(f, 'latin1').split('\n');

function checkPosition(d, cache) {
  if (typeof d.message !== 'string' || !Number.isFinite(d.line) || !Number.isFinite(d.col))
    throw new Error(`malformed diagnostic ${JSON.stringify(d)}`);
  if (d.line === 0) return;
  const f = path.isAbsolute(d.file) ? d.file : path.join(dir, d.file);
  if (!existsSync(f)) throw new Error(`diagnostic names a file that does not exist: ${JSON.stringify(d)}`);
  let lines = cache.get(f);
  if (!lines) cache.set(f, (lines = linesOf(f)));
  // columns count characters; a Latin-1 read counts bytes, which is never fewer
  const inside = d.line >= 1 && d.line <= lines.length && d.col >= 1 && d.col <= lines[d.line - 1].length + 1;
  if (!inside) throw new Error(`position outside the file (${lines.length} lines): ${JSON.stringify(d)}`);
}

/** a runbook the checks accept resolves on every inventory, and its dry run ends */
async function dryRunEverywhere(project) {
  let dryRuns = 0;
  for (const [name, rb] of project.runbooks) {
    if (path.resolve(dir, rb.file.file) !== file) continue;
    for (const inventory of project.inventories.keys()) {
      const plan = resolvePlan(project, name, inventory);
      const { records } = await recordRun(plan, {}, 'run', {});
      if (!records.some((r) => r.type === 'run-finished'))
        throw new Error(`the dry run of ${name} on ${inventory} did not reach its end`);
      dryRuns++;
    }
  }
  return dryRuns;
}

parentPort.on('message', async (msg) => {
  try {
    writeFileSync(file, msg.bytes);
    const { project, diagnostics } = validatePaths([dir], { git: false });
    const cache = new Map();
    for (const d of diagnostics) checkPosition(d, cache);
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const dryRuns = errors ? 0 : await dryRunEverywhere(project);
    parentPort.postMessage({ id: msg.id, ok: true, diagnostics: diagnostics.length, dryRuns });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: e?.stack ?? String(e) });
  }
});
parentPort.postMessage({ ready: true });

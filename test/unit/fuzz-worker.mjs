// Worker for the loader fuzz test: validates each case it is sent and answers with the number
// of diagnostics, or with the stack of anything thrown. Runs in a worker so that the test can
// end a case that hangs. Plain JS: it loads the TypeScript sources through tsx.
import { parentPort, workerData } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsImport } from 'tsx/esm/api';

const { validatePaths } = await tsImport('../../src/load/validate.ts', import.meta.url);
const dir = workerData.dir;
const file = path.join(dir, 'case.yaml');

parentPort.on('message', (msg) => {
  try {
    writeFileSync(file, msg.bytes);
    const { diagnostics } = validatePaths([dir], { git: false });
    // a diagnostic must be printable: it names a file and a position
    for (const d of diagnostics)
      if (typeof d.message !== 'string' || !Number.isFinite(d.line) || !Number.isFinite(d.col))
        throw new Error(`malformed diagnostic ${JSON.stringify(d)}`);
    parentPort.postMessage({ id: msg.id, ok: true, diagnostics: diagnostics.length });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: e?.stack ?? String(e) });
  }
});
parentPort.postMessage({ ready: true });

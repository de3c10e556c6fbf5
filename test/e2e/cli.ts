// Runs the real CLI (dist/src/bin.cjs, built by `npm test`) against the lab inventory.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_DIR, LAB_PASSWORDS } from '../lab/index.js';
import { lifeboat as run, type CliResult } from '../helpers/cli.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/src/bin.cjs');
export const LAB_INVENTORY = path.join(ROOT, 'runbooks/inventories/lab.yaml');

export type { CliResult } from '../helpers/cli.js';

/**
 * A fresh state folder per test file, so journals and locks never land in the repo; removed after
 * the file's tests (call it where the tests are collected). LIFEBOAT_KEEP_TEST_STATE=1 keeps it.
 */
export function stateDir(prefix = 'lifeboat-e2e-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => {
    if (!process.env.LIFEBOAT_KEEP_TEST_STATE) rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** The shared runner (test/helpers/cli.ts) on dist/ as `npm test` built it, in the repo, with the lab's variables. */
export function lifeboat(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return run(args, {
    cli: CLI,
    cwd: ROOT,
    inheritEnv: true,
    env: { LIFEBOAT_LAB_DIR: LAB_DIR, PG_CHECK_PASSWORD: LAB_PASSWORDS.drill, ...env },
    timeoutMs: 280_000,
  });
}

/** `lifeboat run RUNBOOK -i lab.yaml --yes --plain` plus extra flags. */
export function runRunbook(
  runbook: string,
  state: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return lifeboat(['run', runbook, '-i', LAB_INVENTORY, '--yes', '--plain', '--state-dir', state, ...extra], env);
}

/** The summary table row of a step: its result column (ok, skipped, FAILED, pending …). */
export function stepResult(out: string, stepId: string): string | undefined {
  const re = new RegExp(
    `^${stepId.replace(/[-/]/g, '\\$&')}\\s+\\S+\\s+(ok|skipped|FAILED|pending|failed|aborted|rolled-back|\\S+)`,
    'm',
  );
  return re.exec(out)?.[1];
}

/** "SUCCEEDED: NAME@V in 7.2s against an RTO of 15m00s (1%)" → the run's own wall time line. */
export function summaryLine(out: string): string | undefined {
  return /^(SUCCEEDED|FAILED|ABORTED)[^\n]*$/m.exec(out)?.[0];
}

/** Print a measured fact for the report (vitest shows console output of passing tests). */
export function note(msg: string): void {
  console.log(`[e2e] ${msg}`);
}

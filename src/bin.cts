#!/usr/bin/env node
// The `lifeboat` command. `npm run build` also writes the whole CLI as one file
// (dist/lifeboat.cjs, scripts/bundle.mjs) and V8's code cache for it (dist/lifeboat.cjs.cache):
// started from those, a run neither resolves and reads ~180 module files nor parses and
// compiles them again, which was most of a run's fixed cost (docs/BENCHMARKS.md). Without a
// bundle (a build that skipped it) the module tree in dist/src runs, with the same behaviour.
// A cache that does not fit this Node (another V8 version or flags) is ignored by V8 and the
// bundle is compiled as usual; nothing is written at run time.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import Module from 'node:module';
import v8 from 'node:v8';

const dist = path.resolve(__dirname, '..');
const bundle = path.join(dist, 'lifeboat.cjs');

function readOrUndefined(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * V8's settings for a command that lives seconds, not hours (decision 0033): no optimising
 * compiler (TurboFan's work on its own threads never paid back within a run: a run, a plan and a
 * validate each used less CPU without it) and a young generation that stays at its first size
 * (peak memory of a 100-host fan-out 92 → 73 MiB). Set before the bundle is compiled: the code
 * cache records the flags it was made with, and the build's training runs come through here too.
 * LIFEBOAT_V8_FLAGS replaces them (empty: V8's own defaults; the code cache is then not used).
 */
const V8_FLAGS = '--no-opt --semi-space-growth-factor=1';

function main(): void {
  // `lifeboat --version` answers from package.json alone
  const argv = process.argv;
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    const pkg = readOrUndefined(path.join(dist, '..', 'package.json'));
    if (pkg) {
      process.stdout.write(`${(JSON.parse(pkg.toString('utf8')) as { version: string }).version}\n`);
      return;
    }
  }
  v8.setFlagsFromString(process.env.LIFEBOAT_V8_FLAGS ?? V8_FLAGS);
  const source = process.env.LIFEBOAT_NO_BUNDLE ? undefined : readOrUndefined(bundle);
  if (!source) {
    void import('./cli.js');
    return;
  }
  const cacheFile = `${bundle}.cache`;
  const cachedData = readOrUndefined(cacheFile);
  // the build makes the bundle ASCII only (scripts/bundle.mjs): Latin-1 decodes it exactly, as a one-byte string
  const script = new vm.Script(Module.wrap(source.toString('latin1')), { filename: bundle, cachedData });
  // the build's training runs (scripts/bundle.mjs) ask for the cache, with what they compiled
  const out = process.env.LIFEBOAT_CODE_CACHE_OUT;
  if (out) {
    process.once('exit', () => {
      writeFileSync(`${out}.tmp`, script.createCachedData(), { mode: 0o644 });
      renameSync(`${out}.tmp`, out);
    });
  }
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: unknown,
    filename: string,
    dirname: string,
  ) => void;
  const mod = { exports: {}, filename: bundle, id: bundle, loaded: false };
  wrapper.call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, dist);
}

main();

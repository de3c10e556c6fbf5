// The main script of the kit's single executable (a Node.js SEA, built by `lifeboat kit`,
// src/kit/build.ts). The executable carries the bundled CLI (dist/lifeboat.cjs) and its V8
// code cache as SEA assets and starts them the way dist/src/bin.cjs starts them from disk
// (decision 0014), so the kit starts as fast as the installed command.
//
// The bundle finds lifeboat's own files (package.json, templates/, schemas/) beside the
// executable: the kit folder is the package. It loads no module from disk: the kit carries no
// node_modules, and a folder on a USB stick must not be able to add code to it; Node's
// built-in modules and the few packages it carries (below) are all it may require.
import { existsSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import Module from 'node:module';
import { getAsset, getRawAsset } from 'node:sea';

const asBuffer = (key: string) => {
  const raw = getRawAsset(key);
  return typeof raw === 'string' ? Buffer.from(raw, 'latin1') : Buffer.from(raw);
};

// the few packages the CLI loads by name at run time (handlebars' parser, ajv): bundled at build
// time into dist/kit-modules.cjs (scripts/bundle.mjs), carried as an asset, evaluated on first use
let carried: Record<string, () => unknown> | undefined;
function carriedModule(id: string): (() => unknown) | undefined {
  if (!carried) {
    const filename = path.join(path.dirname(process.execPath), 'lib', 'kit-modules.cjs');
    const wrapper = new vm.Script(Module.wrap(asBuffer('modules.cjs').toString('utf8')), {
      filename,
    }).runInThisContext() as (
      exports: unknown,
      require: unknown,
      module: unknown,
      filename: string,
      dirname: string,
    ) => void;
    const mod = { exports: {} as Record<string, () => unknown> };
    wrapper.call(mod.exports, mod.exports, builtinOnly, mod, filename, path.dirname(filename));
    carried = mod.exports;
  }
  return Object.hasOwn(carried, id) ? carried[id] : undefined;
}

// modules that make their own require (`createRequire(import.meta.url)`) get this one too
const moduleShim = new Proxy(Module, {
  get: (target, key) => (key === 'createRequire' ? () => builtinOnly : Reflect.get(target, key)),
});

function builtinOnly(id: string): unknown {
  if (id === 'node:module' || id === 'module') return moduleShim;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SEA's own require: built-in modules only
  if (Module.isBuiltin(id)) return require(id);
  const load = carriedModule(id);
  if (load) return load();
  const why =
    id === 'playwright-core'
      ? 'the kit prints HTML only (a PDF needs lifeboat installed with Node.js and Chromium): ' +
        "write -o dr-plan.html and print it from a browser; the kit's plan/ folder holds the PDF made when it was built"
      : 'the kit carries no node_modules';
  throw Object.assign(new Error(`Cannot find module '${id}': ${why}`), { code: 'MODULE_NOT_FOUND' });
}

function main(): void {
  const argv = process.argv;
  // `lifeboat --version` answers from the executable alone
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    process.stdout.write(getAsset('version', 'utf8'));
    return;
  }
  const root = path.dirname(process.execPath);
  if (
    !existsSync(path.join(root, 'package.json')) ||
    !existsSync(path.join(root, 'templates')) ||
    !existsSync(path.join(root, 'schemas'))
  ) {
    process.stderr.write(
      `lifeboat: ${root} is not a lifeboat kit folder (package.json, templates/ and schemas/ beside the executable)\n` +
        '  hint: run the executable where the kit put it (a symbolic link to it works)\n',
    );
    process.exitCode = 2;
    return;
  }
  const filename = path.join(root, 'lib', 'lifeboat.cjs');
  // the bundle is ASCII only (scripts/bundle.mjs): Latin-1 decodes it exactly, as a one-byte string
  const source = asBuffer('lifeboat.cjs').toString('latin1');
  const script = new vm.Script(Module.wrap(source), { filename, cachedData: asBuffer('lifeboat.cjs.cache') });
  if (process.env.LIFEBOAT_KIT_CACHE_REPORT)
    process.stderr.write(`code cache ${script.cachedDataRejected ? 'rejected' : 'accepted'}\n`);
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: unknown,
    module: unknown,
    filename: string,
    dirname: string,
  ) => void;
  const mod = { exports: {}, filename, id: filename, loaded: false };
  wrapper.call(mod.exports, mod.exports, builtinOnly, mod, filename, path.dirname(filename));
}

main();

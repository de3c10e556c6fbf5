#!/usr/bin/env node
// Writes the CLI as one CommonJS file, dist/lifeboat.cjs, and V8's code cache for it,
// dist/lifeboat.cjs.cache, which dist/src/bin.cjs (the `lifeboat` command) loads. A run then
// reads two files instead of resolving, reading and compiling ~180 modules: that start-up work
// was most of a short run's fixed cost (docs/BENCHMARKS.md, docs/decisions/0014).
// Runs after tsc and gen-validators in `npm run build`; bundles the compiled JS in dist/src, so
// the bundle is the code the type checker saw.
//
// Left out of the bundle, loaded from node_modules as before: playwright-core (PDF only, large),
// listr2 and its inquirer adapter (the terminal view only, decision 0021) and the native add-ons ssh2 may use (its crypto binding, cpu-features), which are required
// from their packages at run time exactly as ssh2 itself would.
//
// The cache holds the bytecode of what a few training commands compiled (validate, a dry run,
// real runs of local steps with their journal, the plan, a run over SSH against a server in
// this process): functions V8 would otherwise compile lazily at every start. It is made here, on the machine that builds, because V8 accepts a
// cache only from the same V8 version and flags; anything else is ignored at run time.
import { build } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync, mkdtempSync, rmSync, writeFileSync, existsSync, statSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// `node scripts/bundle.mjs [DIST]`: the tests bundle their private builds the same way
const dist = path.resolve(process.argv[2] ?? path.join(root, 'dist'));
const out = path.join(dist, 'lifeboat.cjs');
const cache = `${out}.cache`;
const bin = path.join(dist, 'src', 'bin.cjs');
const started = Date.now();

// The precompiled schema validators go into the bundle too: a tiny first module hands them to
// check-schema.ts (through a global symbol) before the CLI's own modules run.
const virtual = {
  name: 'lifeboat-entry',
  setup(b) {
    b.onResolve({ filter: /^lifeboat:/ }, (a) => ({ path: a.path, namespace: 'lifeboat' }));
    // ssh2's optional native crypto: required from the ssh2 package (it stays optional: ssh2
    // catches a failed require and uses its JavaScript code)
    b.onResolve({ filter: /\.node$/ }, (a) => {
      // as a package path (ssh2/lib/…): found from the bundle through node_modules, wherever that is
      const full = path.resolve(a.resolveDir, a.path).split(path.sep).join('/');
      const at = full.lastIndexOf('/node_modules/');
      if (at < 0) throw new Error(`bundle: a native module outside node_modules: ${a.path}`);
      return { path: full.slice(at + '/node_modules/'.length), external: true };
    });
    b.onLoad({ filter: /.*/, namespace: 'lifeboat' }, (a) => ({
      resolveDir: dist,
      loader: 'js',
      contents:
        a.path === 'lifeboat:entry'
          ? `${hasValidators ? "import 'lifeboat:validators';\n" : ''}import './src/cli.js';\n`
          : "import * as v from './src/load/schema-validators.cjs';\nglobalThis[Symbol.for('lifeboat.schemaValidators')] = v.default ?? v;\n",
    }));
  },
};

// (a build without them, e.g. tsc alone, compiles the schemas at run time, as the module tree does)
const hasValidators = existsSync(path.join(dist, 'src', 'load', 'schema-validators.cjs'));
rmSync(cache, { force: true });
await build({
  entryPoints: ['lifeboat:entry'],
  plugins: [virtual],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: out,
  // listr2 (the terminal view) is required from node_modules when a view is drawn, and only then:
  // plain runs read none of its bytes (its own lazy imports of log-update and friends stay real imports)
  external: ['playwright-core', 'cpu-features', 'listr2', '@listr2/prompt-adapter-inquirer'],
  // lazy `import()`s become `require()`s: the bundle runs as a script, which has no module loader
  supported: { 'dynamic-import': false },
  // modules find the package's files (package.json, schemas/, templates/) from their own URL
  define: { 'import.meta.url': '__lifeboatBundleUrl' },
  banner: { js: '"use strict";\nconst __lifeboatBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: 'warning',
  legalComments: 'none',
  // no comments or indentation: a third of the bytes to read and hash at every start
  // (names are kept, so a stack trace still says which function)
  minifyWhitespace: true,
  minifySyntax: true,
});
// ASCII only (esbuild escapes strings; comments are gone; a regular expression with a literal
// non-ASCII character would remain): the launcher then decodes it as Latin-1, a one-byte
// string, ~4x faster than UTF-8 for 3 MB
{
  const bytes = readFileSync(out);
  const at = bytes.findIndex((b) => b > 0x7f);
  if (at >= 0) {
    const before = bytes.subarray(Math.max(0, at - 60), at).toString('latin1');
    throw new Error(
      `bundle: a non-ASCII byte in ${out} after "${before}": write that character as \\uXXXX in the source`,
    );
  }
}

// Modules the CLI loads through createRequire, which esbuild leaves out of the bundle: the
// kit's single executable (src/kit, `lifeboat kit`) has no node_modules to load them from, so
// it carries them in a second file, loaded only when one of them is asked for.
const KIT_MODULES = ['handlebars/dist/cjs/handlebars/compiler/base.js', 'ajv/dist/2020'];
await build({
  stdin: {
    contents: `module.exports = {${KIT_MODULES.map((m) => `${JSON.stringify(m)}: () => require(${JSON.stringify(m)})`).join(', ')}};\n`,
    resolveDir: root,
    loader: 'js',
  },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: path.join(dist, 'kit-modules.cjs'),
  logLevel: 'warning',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
});

// ---- training runs for the code cache ------------------------------------------------------

/**
 * An SSH server in this process for one training run (ssh2's own server, on 127.0.0.1, a
 * random port, keys made for it): the cache then also holds the code of the handshake, the
 * host key check, authentication and sessions. It runs nothing: every command "prints" ok.
 */
async function trainingServer(dir) {
  const { Server, utils } = createRequire(import.meta.url)('ssh2');
  const hostKey = utils.generateKeyPairSync('ed25519');
  const clientKey = utils.generateKeyPairSync('ed25519');
  const allowed = utils.parseKey(clientKey.public);
  writeFileSync(path.join(dir, 'id_ed25519'), clientKey.private, { mode: 0o600 });
  const server = new Server({ hostKeys: [hostKey.private] }, (conn) => {
    conn.on('error', () => undefined);
    conn.on('authentication', (ctx) => {
      const ok =
        ctx.method === 'publickey' &&
        ctx.key.algo === allowed.type &&
        ctx.key.data.equals(allowed.getPublicSSH()) &&
        (!ctx.signature || allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true);
      if (ok) ctx.accept();
      else ctx.reject(['publickey']);
    });
    conn.on('ready', () =>
      conn.on('session', (acceptSession) =>
        acceptSession().on('exec', (acceptExec) => {
          const ch = acceptExec();
          ch.on('data', () => undefined);
          // the script has arrived (EOF): answer as a bash login shell that leads its session would
          ch.on('end', () => {
            ch.stderr.write('\x1elifeboat-pgid:4242:direct\x1e\n');
            ch.write('ok\n');
            ch.exit(0);
            ch.end();
          });
        }),
      ),
    );
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  writeFileSync(
    path.join(dir, 'known_hosts'),
    `[127.0.0.1]:${port} ${hostKey.public.split(' ').slice(0, 2).join(' ')}\n`,
    { mode: 0o600 },
  );
  return { port, close: () => new Promise((resolve) => server.close(resolve)) };
}

const work = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bundle-'));
try {
  const books = path.join(work, 'runbooks');
  cpSync(path.join(root, 'runbooks'), books, { recursive: true, filter: (s) => !s.includes(`${path.sep}.lifeboat`) });
  // a real run needs a host: local steps (the operator's machine) exercise the runner, journal,
  // lock, history and reporter without a server
  mkdirSync(path.join(work, 'local', 'runbooks'), { recursive: true });
  writeFileSync(
    path.join(work, 'local', 'site.yaml'),
    'lifeboat: 1\nkind: site\norganisation: Training\nrecovery_order: [local]\n',
  );
  writeFileSync(
    path.join(work, 'local', 'inventory.yaml'),
    'lifeboat: 1\nkind: inventory\nname: here\nenvironment: rehearsal\nhosts: { box: { address: 198.18.0.1 } }\n',
  );
  writeFileSync(
    path.join(work, 'local', 'runbooks', 'local.yaml'),
    `lifeboat: 1
kind: runbook
name: local
version: 1.0.0
title: Local steps
tier: routine
objectives: { rto: 5m }
steps:
  - id: check
    phase: preflight
    on: local
    run: test -d .
  - id: one
    on: local
    run: echo one
    expect: { stdout: one }
  - id: value
    on: local
    run: echo 42
    capture: value
  - id: use
    on: local
    run: test {{ captured.value }} = 42
`,
  );
  const env = { ...process.env, CI: '1', NO_COLOR: '1', LIFEBOAT_CODE_CACHE_OUT: cache };
  delete env.LIFEBOAT_NO_BUNDLE;
  // the cache is made under the launcher's own V8 flags (src/bin.cts), which it records
  delete env.LIFEBOAT_V8_FLAGS;
  const train = (cwd, ...args) => {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8' });
    // validate may end with warnings' exit code; everything else must succeed
    if ((r.status !== 0 && !(args[0] === 'validate' && r.status === 1)) || !existsSync(cache)) {
      throw new Error(
        `bundle: training run \`lifeboat ${args.join(' ')}\` failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`,
      );
    }
  };
  train(books, 'validate', '--no-git', '.');
  train(books, 'run', 'postgres-promote-standby', '-i', 'lab', '--dry-run');
  train(path.join(work, 'local'), 'run', 'runbooks/local.yaml', '-i', 'inventory.yaml', '--yes', '--plain');
  train(path.join(work, 'local'), 'run', 'runbooks/local.yaml', '-i', 'inventory.yaml', '--yes', '--plain');
  train(books, 'plan', '-i', 'lab', '-o', path.join(work, 'plan.html'));

  // a run over SSH, against the server above (asynchronous: the server lives in this process)
  const sshDir = path.join(work, 'ssh');
  mkdirSync(path.join(sshDir, 'runbooks'), { recursive: true, mode: 0o700 });
  const server = await trainingServer(sshDir);
  try {
    writeFileSync(
      path.join(sshDir, 'site.yaml'),
      'lifeboat: 1\nkind: site\norganisation: Training\nrecovery_order: [remote]\n',
    );
    writeFileSync(
      path.join(sshDir, 'inventory.yaml'),
      `lifeboat: 1
kind: inventory
name: there
environment: rehearsal
defaults: { user: lifeboat, port: ${server.port}, identity_file: ${path.join(sshDir, 'id_ed25519')} }
known_hosts: ${path.join(sshDir, 'known_hosts')}
connect_timeout: 10s
hosts: { box: { address: 127.0.0.1 } }
`,
    );
    writeFileSync(
      path.join(sshDir, 'runbooks', 'remote.yaml'),
      `lifeboat: 1
kind: runbook
name: remote
version: 1.0.0
title: Remote steps
tier: routine
objectives: { rto: 5m }
roles: { target: box }
steps:
${['check', 'one', 'two', 'three'].map((id, i) => `  - id: ${id}\n${i ? '' : '    phase: preflight\n'}    on: target\n    run: echo ok\n    expect: { stdout: ok }\n`).join('')}`,
    );
    await new Promise((resolve, reject) => {
      const c = spawn(
        process.execPath,
        [bin, 'run', 'runbooks/remote.yaml', '-i', 'inventory.yaml', '--yes', '--plain'],
        { cwd: sshDir, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      c.stdout.on('data', (d) => {
        output += d;
      });
      c.stderr.on('data', (d) => {
        output += d;
      });
      c.on('close', (code) =>
        code === 0 && existsSync(cache)
          ? resolve()
          : reject(new Error(`bundle: the SSH training run failed (exit ${code}):\n${output.slice(-2000)}`)),
      );
    });
  } finally {
    await server.close();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const kib = (f) => `${Math.round(statSync(f).size / 1024)} KiB`;
console.log(
  `bundle: ${path.relative(process.cwd(), out) || out} (${kib(out)}) and its code cache (${kib(cache)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);

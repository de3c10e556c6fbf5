// What resolving hosts without an address costs a run: `lifeboat run --dry-run` of a one-step
// runbook on 1, 20 and 100 hosts, with inventory addresses (no ssh started), with no addresses
// resolved by `ssh -G` (one per host, in parallel), and by the built-in resolver. Interleaved
// rounds (bench/lib/interleaved.mjs); the dry run connects to nothing, so the difference is the
// resolution. Usage: npm run build && node bench/ssh-resolve.mjs [rounds]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { interleaved } from './lib/interleaved.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/src/bin.cjs');
const rounds = Number(process.argv[2] ?? 10);
const SIZES = [1, 20, 100];
const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

const dir = mkdtempSync(path.join(tmpdir(), 'lb-bench-resolve-'));
const w = (rel, text) => {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), text);
};
w(
  'runbooks/site.yaml',
  'lifeboat: 1\nkind: site\norganisation: Bench\nrecovery_order: [' + SIZES.map((n) => `fan${n}`).join(', ') + ']\n',
);
const inv = (name, withAddress) =>
  `lifeboat: 1\nkind: inventory\nname: ${name}\nenvironment: rehearsal\n${withAddress ? '' : 'ssh_config: ssh_config\n'}hosts:\n${range(
    100,
  )
    .map((i) => `  h${i}: { ${withAddress ? `address: 10.0.${i >> 8}.${i & 255}` : ''} }`)
    .join('\n')}\n`;
w('runbooks/inventories/addr.yaml', inv('addr', true));
w('runbooks/inventories/alias.yaml', inv('alias', false));
// an ssh_config like a real one: a block per host, a few patterns, a Host * at the end
w(
  'runbooks/inventories/ssh_config',
  range(100)
    .map((i) => `Host h${i}\n  HostName 10.0.${i >> 8}.${i & 255}\n  User ops\n`)
    .join('') +
    'Host h1?\n  IdentityFile ~/.ssh/id_teens\nHost *\n  ServerAliveInterval 15\n  IdentityFile ~/.ssh/id_ed25519\n',
);
for (const n of SIZES) {
  w(
    `runbooks/fan${n}.yaml`,
    `lifeboat: 1\nkind: runbook\nname: fan${n}\nversion: 1.0.0\ntitle: one step on ${n} hosts\ntier: routine\nsteps:\n  - id: s1\n    on: [${range(
      n,
    )
      .map((i) => `h${i}`)
      .join(', ')}]\n    run: "true"\n`,
  );
}

const node = process.execPath;
const commands = SIZES.flatMap((n) => [
  [`${n} addr`, `${node} ${CLI} run runbooks/fan${n}.yaml -i addr --dry-run`],
  [`${n} ssh -G`, `${node} ${CLI} run runbooks/fan${n}.yaml -i alias --dry-run`],
  [`${n} built-in`, `env LIFEBOAT_SSH_RESOLVER=builtin ${node} ${CLI} run runbooks/fan${n}.yaml -i alias --dry-run`],
]);
try {
  const r = interleaved(commands, { rounds, cwd: dir });
  const ms = (v) => `${v.toFixed(0)} ms`;
  const cpu = (k) => r[k].user + r[k].system;
  console.log(
    `| hosts | with addresses: wall (CPU) | ssh -G: wall (CPU), adds | built-in resolver: wall (CPU), adds |`,
  );
  console.log(`| --- | --- | --- | --- |`);
  for (const n of SIZES) {
    const [a, g, b] = [`${n} addr`, `${n} ssh -G`, `${n} built-in`];
    const cell = (k) =>
      `${ms(r[k].median)} (${ms(cpu(k))}), +${ms(r[k].median - r[a].median)} (+${ms(cpu(k) - cpu(a))} CPU)`;
    console.log(`| ${n} | ${ms(r[a].median)} (${ms(cpu(a))}) | ${cell(g)} | ${cell(b)} |`);
  }
  console.log(
    `\nmedians of ${rounds} interleaved rounds of \`run --dry-run\` (wall); CPU is user+system of the whole process tree, mean per run`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

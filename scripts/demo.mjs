#!/usr/bin/env node
// npm run demo: a real rehearsal on this machine. Starts the namespaced lab (a PostgreSQL
// primary and hot standby, each a separate "host" with its own sshd), cuts the primary off,
// rehearses the shipped promotion runbook against the lab, prints the DR plan, and tears the
// lab down again, whatever happened. Works on a copy of runbooks/, so the repo is untouched.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, cpSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/src/bin.cjs');
const lab = path.join(root, 'test/lab/lab.sh');
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s) => process.stdout.write(`\n${bold(`== ${s}`)}\n`);

function need() {
  const missing = [];
  const pkgs = new Set();
  if (process.getuid?.() !== 0) {
    console.error('lifeboat demo: the lab uses network namespaces, which need root: run `sudo npm run demo`');
    process.exit(1);
  }
  const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
  if (!existsSync('/usr/sbin/sshd')) {
    missing.push('OpenSSH server (/usr/sbin/sshd)');
    pkgs.add('openssh-server');
  }
  if (!has('ssh-keygen')) {
    missing.push('ssh-keygen');
    pkgs.add('openssh-client');
  }
  if (!existsSync('/usr/lib/postgresql/15/bin/pg_ctl')) {
    missing.push('PostgreSQL 15 (/usr/lib/postgresql/15/bin)');
    pkgs.add('postgresql');
  }
  if (!has('ip')) {
    missing.push('ip (iproute2)');
    pkgs.add('iproute2');
  }
  if (!has('arping')) {
    missing.push('arping');
    pkgs.add('iputils-arping');
  }
  if (!has('unshare') || !has('nsenter')) {
    missing.push('unshare/nsenter');
    pkgs.add('util-linux');
  }
  if (!missing.length) return;
  // Debian (or a derivative) and root: install what is missing, as .ci/run does, saying what
  const apt = existsSync('/etc/debian_version') && has('apt-get');
  if (!apt || process.env.LIFEBOAT_DEMO_NO_INSTALL) {
    console.error(
      `lifeboat demo: missing ${missing.join(', ')}.\nInstall with:\n  apt-get update && apt-get install -y ${[...pkgs].join(' ')}`,
    );
    process.exit(1);
  }
  console.log(`lifeboat demo: missing ${missing.join(', ')}.\ninstalling with apt-get: ${[...pkgs].join(' ')}`);
  // a package's postinst must not start services on this machine (the lab starts its own)
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const aptGet = (args) =>
      spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=900', ...args], { stdio: 'inherit', env }).status === 0;
    if (!aptGet(['update', '-qq']) || !aptGet(['install', '-y', '-qq', '--no-install-recommends', ...pkgs])) {
      console.error(`lifeboat demo: apt-get could not install ${[...pkgs].join(' ')} (see above)`);
      process.exit(1);
    }
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

need();
const work = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-demo-'));
const books = path.join(work, 'runbooks');
cpSync(path.join(root, 'runbooks'), books, { recursive: true, filter: (s) => !s.includes(`${path.sep}.lifeboat`) });
const env = {
  ...process.env,
  LIFEBOAT_LAB_DIR: process.env.LIFEBOAT_LAB_DIR ?? '/var/tmp/lifeboat-lab',
  NO_COLOR: process.env.NO_COLOR ?? '',
};
const lb = (args, extra = {}) => run(process.execPath, [cli, ...args], { cwd: books, env, ...extra });
let code = 1;
let started = false;
const down = () => {
  if (started) {
    say('Tearing the lab down');
    run(lab, ['down']);
    started = false;
  }
};
process.on('SIGINT', () => {
  down();
  process.exit(130);
});
try {
  say('1. Checking the shipped runbooks');
  if (lb(['validate', '.']) !== 0) throw new Error('the shipped runbooks do not validate');

  say('2. Starting the lab: db1 (PostgreSQL primary, VIP 198.18.0.100) and db2 (hot standby), each its own host');
  started = true;
  if (run(lab, ['up', '--roles', 'db'], { env }) !== 0) throw new Error('the lab did not start (see above)');

  // the lab's check user (a lab-only password the lab writes to its pgpass)
  const pgpass = readFileSync(path.join(env.LIFEBOAT_LAB_DIR, 'pgpass'), 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[3] === 'drill');
  env.PG_CHECK_PASSWORD = process.env.PG_CHECK_PASSWORD ?? pgpass?.[4] ?? '';

  say('3. The disaster: db1 drops off the network (its switch port goes down)');
  run(lab, ['link-down', 'db1'], { env });

  say('4. What the run will do (dry run: nothing is connected to)');
  lb(['run', 'postgres-promote-standby', '-i', 'lab', '--dry-run']);

  say('5. Rehearsing postgres-promote-standby against the lab');
  code = lb(['rehearse', 'postgres-promote-standby', '-i', 'lab', '--yes', '--yes-manual', '--plain']);

  say('6. Is every runbook rehearsed?');
  lb(['drills', '.']);

  say('7. The DR plan, printed from the same runbooks');
  const out = path.join(work, 'dr-plan');
  lb(['plan', '.', '-i', 'lab', '-o', `${out}.html`]);
  lb(['plan', '.', '-i', 'lab', '-o', `${out}.md`]);
  const md = readFileSync(`${out}.md`, 'utf8');
  const start = md.indexOf('\n## ');
  process.stdout.write(
    md.slice(0, md.indexOf('\n## ', start + 1) > 0 ? md.indexOf('\n## ', md.indexOf('\n## ', start + 1) + 1) : 4000) +
      '\n…\n',
  );
  process.stdout.write(`\nThe whole plan: ${out}.html (open it in a browser and print it) and ${out}.md\n`);
  process.stdout.write(`Journals and the rehearsal history: ${path.join(books, '.lifeboat')}\n`);
} catch (e) {
  console.error(`lifeboat demo: ${e.message}`);
  code = 1;
} finally {
  down();
  if (code !== 0) process.stdout.write(`\nThe demo's files are kept in ${work}\n`);
}
process.exit(code);

#!/usr/bin/env node
// For profiling and A/B tests between two builds: starts the bench's throwaway sshd (every
// 127.0.0.x) and writes its projects (bench/lib/project.mjs) and bare ssh2's configuration for
// the largest fan-out, prints where they are as JSON, and keeps the sshd until Ctrl-C.
// Usage: node bench/tools/keep.mjs [FOLDER] [HOSTS]
// (FOLDER: where the projects go, default the system's temp folder; use a folder on a disk,
// not a tmpfs, when the journal's fsyncs should cost what they cost; HOSTS: the largest fan-out,
// default 100).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBenchSshd } from '../lib/sshd.mjs';
import { writeProject, writeBareConfig } from '../lib/project.mjs';

const work = mkdtempSync(path.join(process.argv[2] ?? os.tmpdir(), 'lifeboat-keep-'));
const hosts = Number(process.argv[3] ?? 100);
const sshd = await startBenchSshd(hosts);
const proj = writeProject(
  work,
  sshd,
  hosts,
  [1, 20, 100, hosts].filter((h, i, a) => h <= hosts && a.indexOf(h) === i),
);
// bare ssh2's configuration for the same fan-out (node bench/lib/bare-ssh2.mjs FILE)
const bare = writeBareConfig(work, sshd, hosts, 5, 'echo x');
console.log(
  JSON.stringify(
    { work, ...proj, bare, port: sshd.port, user: sshd.user, key: sshd.clientKeyPath, knownHosts: sshd.knownHostsPath },
    null,
    2,
  ),
);
const stop = async () => {
  await sshd.stop();
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => {}, 1 << 30);

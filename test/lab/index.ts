// Typed wrapper over test/lab/lab.sh for the end-to-end tests.
import { execFile } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export type LabRole = 'db' | 'mdb' | 'fs' | 'vm' | 'proxy';
export type LabHost = 'db1' | 'db2' | 'mdb1' | 'mdb2' | 'fs1' | 'fs2' | 'backup' | 'spare' | 'proxy1' | 'proxy2';

export const LAB_SH = join(dirname(fileURLToPath(import.meta.url)), 'lab.sh');
export const LAB_DIR = process.env.LIFEBOAT_LAB_DIR ?? '/var/tmp/lifeboat-lab';
export const ALL_ROLES: readonly LabRole[] = ['db', 'mdb', 'fs', 'vm', 'proxy'];

export const LAB_ADDRESSES: Readonly<Record<LabHost, string>> = {
  db1: '198.18.0.11',
  db2: '198.18.0.12',
  mdb1: '198.18.0.13',
  mdb2: '198.18.0.14',
  fs1: '198.18.0.21',
  fs2: '198.18.0.22',
  backup: '198.18.0.31',
  spare: '198.18.0.32',
  proxy1: '198.18.0.41',
  proxy2: '198.18.0.42',
};

export const LAB_VIPS = { db: '198.18.0.100', fs: '198.18.0.101', proxy: '198.18.0.102', mdb: '198.18.0.103' } as const;

/** The guest the vm role backs up and the drill boots on spare (libvirt, qemu). */
export const LAB_GUEST = { name: 'web1', address: '198.18.0.33' } as const;

/** Lab-only credentials (the lab is a throwaway network on a private bridge). */
export const LAB_PASSWORDS = { replicator: 'lab-repl', drill: 'lab-drill' } as const;

export interface LabResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], input?: string, timeoutMs = 170_000): Promise<LabResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'bash',
      [LAB_SH, ...args],
      { env: { ...process.env, LIFEBOAT_LAB_DIR: LAB_DIR }, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs },
      (err, stdout, stderr) => {
        // a non-zero exit is data for the caller, not an exception
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

async function mustRun(args: string[], input?: string): Promise<LabResult> {
  const r = await run(args, input);
  if (r.code !== 0) {
    throw new Error(`lab.sh ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  }
  return r;
}

/** Start the hosts of the given roles (idempotent). Returns the wall time it took. */
export async function labUp(roles: readonly LabRole[] = ALL_ROLES): Promise<{ ms: number }> {
  const t0 = performance.now();
  await mustRun(['up', '--roles', roles.join(',')]);
  return { ms: Math.round(performance.now() - t0) };
}

/** Tear the whole lab down: processes, namespaces, veths, the lab directory. */
export async function labDown(): Promise<{ ms: number }> {
  const t0 = performance.now();
  await mustRun(['down']);
  return { ms: Math.round(performance.now() - t0) };
}

/** Run a shell command inside a host's namespaces (as root, through bash -c). */
export function labExec(host: LabHost, cmd: string, input?: string): Promise<LabResult> {
  return run(['exec', host, cmd], input);
}

/** Like labExec, but throws on a non-zero exit; returns trimmed stdout. */
export async function labExecOk(host: LabHost, cmd: string, input?: string): Promise<string> {
  const r = await run(['exec', host, cmd], input);
  if (r.code !== 0) throw new Error(`${host}: ${cmd} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

/** psql as postgres on a database host; -tA output, trimmed. */
export function labPsql(host: LabHost, sql: string, db = 'lab'): Promise<string> {
  return labExecOk(host, `cd / && runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -qtA -d ${db}`, sql);
}

/** The mariadb client as root (unix socket) on a MariaDB host; -NB output, trimmed. */
export function labMariadb(host: LabHost, sql: string, db = 'shop'): Promise<string> {
  return labExecOk(host, `mariadb -NB -D ${db}`, sql);
}

/** The host's switch port down: a partition (connection timed out), not a crash. */
export const linkDown = (host: LabHost) => mustRun(['link-down', host]).then(() => undefined);
export const linkUp = (host: LabHost) => mustRun(['link-up', host]).then(() => undefined);
/** SIGKILL the listening sshd: new connections are refused, open sessions survive. */
export const killSshd = (host: LabHost) => mustRun(['kill-sshd', host]).then(() => undefined);
export const startSshd = (host: LabHost) => mustRun(['start-sshd', host]).then(() => undefined);
/** A new host key + SIGHUP: host key verification fails against the lab's known_hosts. */
export const rekey = (host: LabHost) => mustRun(['rekey', host]).then(() => undefined);

export async function labStatus(): Promise<string> {
  return (await run(['status'])).stdout;
}

/** ssh argv for reaching a lab host the way a human would (real host-key checking). */
export function sshArgs(host: LabHost | typeof LAB_GUEST.name): string[] {
  return ['-F', join(LAB_DIR, 'ssh_config'), host];
}

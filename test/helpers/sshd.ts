// A throwaway OpenSSH server on loopback for integration tests.
// One sshd plays many hosts: it listens on 0.0.0.0:PORT bound to the `lo` device,
// so every 127.0.0.x answers (see field-notes.md), and known_hosts carries entries
// for 127.0.0.1 … 127.0.0.30.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
  rmSync,
  openSync,
  closeSync,
  existsSync,
  chmodSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

export interface SshdOptions {
  /** encrypt the generated client key with this passphrase */
  clientKeyPassphrase?: string;
  /** extra sshd_config lines, appended verbatim */
  extraConfig?: string[];
  /** environment for sessions (sshd SetEnv); SHLVL=1 is always added */
  setEnv?: Record<string, string>;
  /** how many loopback addresses get known_hosts entries (default 30): `loopbackAddress(1…N)` */
  knownHostsCount?: number;
  /**
   * Hosts per listening port (default: all on one). sshd listens with a backlog of 128: more
   * hosts than that dialling at once overflow its queue and some are reset, so the bench's
   * 500 hosts are spread over several ports, host i on `portOf(i)` (the first hostsPerPort on `port`).
   */
  hostsPerPort?: number;
}

export interface Sshd {
  port: number;
  address: '127.0.0.1';
  /** known_hosts with `[127.0.0.x]:PORT` entries for x = 1 … knownHostsCount (the key at start) */
  knownHostsPath: string;
  /** private key accepted for `user` */
  clientKeyPath: string;
  /** the port host i (from 1) is reached on: `port` unless `hostsPerPort` spread them */
  portOf(i: number): number;
  /** current host key fingerprint, `SHA256:…` as ssh-keygen prints it (updated by rekey) */
  hostKeyFingerprint: string;
  /** current host public key line (`ssh-ed25519 AAAA…`), updated by rekey */
  hostPublicKey: string;
  dir: string;
  user: string;
  /** sshd's stderr (-e) */
  logPath: string;
  /** pid of the listening sshd */
  pid: number;
  /** true when `rdomain lo` worked and every 127.0.0.x answers */
  allLoopback: boolean;
  /** pids of per-connection sshd processes (children of the listener) */
  sessionPids(): number[];
  /** `ssh` client arguments to reach this server (for tools that shell out to OpenSSH) */
  sshArgs(address?: string): string[];
  /** new host key + SIGHUP; resolves with the new fingerprint once the port answers again */
  rekey(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The i-th loopback address (i from 1): 127.0.0.1 … 127.0.0.254, then 127.0.1.1 and on, so
 * more than 254 hosts (the bench's 500) each have an address of their own.
 */
export function loopbackAddress(i: number): string {
  return `127.0.${Math.floor((i - 1) / 254)}.${((i - 1) % 254) + 1}`;
}

/**
 * `address` when the sshd answers on every 127.0.0.x; otherwise the test fails here, naming why,
 * rather than quietly using 127.0.0.1 for a second host (which would make it the first).
 */
export function loopbackOnly(s: Pick<Sshd, 'allLoopback'>, address: string): string {
  if (!s.allLoopback)
    throw new Error(`the test sshd answers on 127.0.0.1 only (\`rdomain lo\` failed): ${address} is needed`);
  return address;
}

const running = new Set<ChildProcess>();
// A crashed test run must not leave sshd processes behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function findSshd(): string {
  for (const p of ['/usr/sbin/sshd', '/usr/local/sbin/sshd', '/sbin/sshd']) if (existsSync(p)) return p;
  throw new Error('sshd not found: apt-get install openssh-server');
}

function keygen(path: string, passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'lifeboat-test', '-f', path], {
    stdio: 'ignore',
  });
}

function fingerprintOf(pubPath: string): string {
  // "256 SHA256:abc… comment (ED25519)"
  return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubPath], { encoding: 'utf8' }).split(' ')[1];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '0.0.0.0', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves true once `host:port` sends an SSH banner. */
function probeBanner(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('data', (d) => done(d.toString('latin1').startsWith('SSH-')));
    sock.once('error', () => done(false));
  });
}

async function waitReady(child: ChildProcess, port: number, logPath: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`sshd exited early (${child.exitCode ?? child.signalCode}):\n${readFileSync(logPath, 'utf8')}`);
    }
    if (await probeBanner('127.0.0.1', port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not answer on port ${port} within ${timeoutMs} ms:\n${readFileSync(logPath, 'utf8')}`);
}

function writeConfig(
  dir: string,
  ports: number[],
  listen: 'rdomain' | 'plain',
  extra: string[],
  env: Record<string, string>,
): string {
  const listenLine = (port: number) =>
    listen === 'rdomain' ? `ListenAddress 0.0.0.0:${port} rdomain lo` : `ListenAddress 127.0.0.1:${port}`;
  const lines = [
    `Port ${ports[0]}`,
    ...ports.map(listenLine),
    `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'MaxStartups 1000:100:2000',
    'MaxSessions 200',
    'MaxAuthTries 20',
    'LogLevel VERBOSE',
    // bash sources ~/.bashrc for commands run by sshd only while SHLVL < 2; root's
    // .bashrc here runs `pyenv init` (~100 ms per command).
    'SetEnv ' +
      Object.entries({ SHLVL: '1', ...env })
        .map(([k, v]) => `"${k}=${v}"`)
        .join(' '),
    'Subsystem sftp internal-sftp',
    ...extra,
  ];
  const path = join(dir, 'sshd_config');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const sshdBin = findSshd();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-sshd-'));
  chmodSync(dir, 0o700);
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKeyPath = join(dir, 'client_ed25519');
  keygen(hostKey);
  keygen(clientKeyPath, opts.clientKeyPassphrase ?? '');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(clientKeyPath + '.pub'));
  const logPath = join(dir, 'sshd.log');
  const user = userInfo().username;
  const count = opts.knownHostsCount ?? 30;
  const perPort = opts.hostsPerPort ?? Math.max(count, 1);
  const portCount = Math.ceil(count / perPort) || 1;

  const launch = async (listen: 'rdomain' | 'plain'): Promise<{ child: ChildProcess; ports: number[] }> => {
    let lastErr: unknown;
    // a free port can be taken between probing and binding: retry a few times
    for (let attempt = 0; attempt < 5; attempt++) {
      const ports: number[] = [];
      while (ports.length < portCount) {
        const p = await freePort();
        if (!ports.includes(p)) ports.push(p);
      }
      const config = writeConfig(dir, ports, listen, opts.extraConfig ?? [], opts.setEnv ?? {});
      const logFd = openSync(logPath, 'a');
      const child = spawn(sshdBin, ['-D', '-e', '-f', config], { stdio: ['ignore', logFd, logFd] });
      closeSync(logFd);
      running.add(child);
      child.once('exit', () => running.delete(child));
      try {
        for (const p of ports) await waitReady(child, p, logPath);
        return { child, ports };
      } catch (err) {
        lastErr = err;
        child.kill('SIGKILL');
      }
    }
    throw lastErr;
  };

  let launched: { child: ChildProcess; ports: number[] } | undefined;
  let allLoopback = true;
  try {
    launched = await launch('rdomain');
    // rdomain binding can "work" yet not answer on other loopback addresses: check one
    if (!(await probeBanner('127.0.0.2', launched.ports[0]))) throw new Error('127.0.0.2 does not answer');
  } catch {
    launched?.child.kill('SIGKILL');
    allLoopback = false;
    launched = await launch('plain');
  }
  const { child, ports } = launched;
  const port = ports[0];
  const portOf = (i: number) => ports[Math.min(Math.floor((i - 1) / perPort), ports.length - 1)];

  const knownHostsPath = join(dir, 'known_hosts');
  const pubLine = () =>
    readFileSync(hostKey + '.pub', 'utf8')
      .trim()
      .split(' ')
      .slice(0, 2)
      .join(' ');
  const hostPublicKey = pubLine();
  const entries: string[] = [];
  for (let i = 1; i <= (allLoopback ? count : 1); i++)
    entries.push(`[${loopbackAddress(i)}]:${portOf(i)} ${hostPublicKey}`);
  writeFileSync(knownHostsPath, entries.join('\n') + '\n', { mode: 0o600 });

  const sshd: Sshd = {
    port,
    portOf,
    address: '127.0.0.1',
    knownHostsPath,
    clientKeyPath,
    hostKeyFingerprint: fingerprintOf(hostKey + '.pub'),
    hostPublicKey,
    dir,
    user,
    logPath,
    pid: child.pid!,
    allLoopback,
    sessionPids() {
      try {
        return execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean)
          .map(Number);
      } catch {
        return []; // pgrep exits 1 when nothing matches
      }
    },
    sshArgs(address = '127.0.0.1') {
      return [
        '-p',
        String(port),
        '-i',
        clientKeyPath,
        '-o',
        `UserKnownHostsFile=${knownHostsPath}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        `${user}@${address}`,
      ];
    },
    async rekey() {
      rmSync(hostKey, { force: true });
      rmSync(hostKey + '.pub', { force: true });
      keygen(hostKey);
      sshd.hostKeyFingerprint = fingerprintOf(hostKey + '.pub');
      sshd.hostPublicKey = pubLine();
      // SIGHUP makes sshd re-exec itself (same pid) and re-read its keys
      child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 100));
      await waitReady(child, port, logPath);
      return sshd.hostKeyFingerprint;
    },
    async stop() {
      // open connections keep their per-session sshd alive after the listener goes
      const sessions = sshd.sessionPids();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      for (const pid of sessions) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return sshd;
}

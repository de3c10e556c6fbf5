// The throwaway loopback sshd of the integration tests (test/helpers/sshd.ts), loaded through
// tsx so the benchmark and the tests share one definition: `ListenAddress 0.0.0.0:PORT
// rdomain lo` (every 127.0.0.x answers), MaxStartups 1000:100:2000, MaxSessions 200, and
// `SetEnv SHLVL=1`, which keeps root's slow ~/.bashrc (pyenv init, ~100 ms) out of every
// tool's per-command cost. sshd listens with a backlog of 128: past 125 hosts, each further 125
// get a port of their own (`sshd.portOf(i)`), so 500 hosts dialling at once all wait in a queue
// instead of some being reset (hosts 1…125, the 20- and 100-host series, stay on `sshd.port`).
import { tsImport } from 'tsx/esm/api';

const helpers = await tsImport(new URL('../../test/helpers/sshd.ts', import.meta.url).href, import.meta.url);

/** @returns {Promise<import('../../test/helpers/sshd.ts').Sshd>} */
export async function startBenchSshd(hosts) {
  return helpers.startSshd({ knownHostsCount: hosts, hostsPerPort: 125 });
}

/** the address of host i (from 1), as the sshd's known_hosts has it: 127.0.0.1 … 127.0.0.254, 127.0.1.1 … */
export const hostAddr = helpers.loopbackAddress;

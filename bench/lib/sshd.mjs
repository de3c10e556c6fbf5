// The throwaway loopback sshd of the integration tests (test/helpers/sshd.ts), loaded through
// tsx so the benchmark and the tests share one definition: `ListenAddress 0.0.0.0:PORT
// rdomain lo` (every 127.0.0.x answers), MaxStartups 1000:100:2000, MaxSessions 200, and
// `SetEnv SHLVL=1`, which keeps root's slow ~/.bashrc (pyenv init, ~100 ms) out of every
// tool's per-command cost.
import { tsImport } from 'tsx/esm/api';

/** @returns {Promise<import('../../test/helpers/sshd.ts').Sshd>} */
export async function startBenchSshd(hosts) {
  const { startSshd } = await tsImport(new URL('../../test/helpers/sshd.ts', import.meta.url).href, import.meta.url);
  return startSshd({ knownHostsCount: hosts });
}

// The run lock on a host (a runbook's `lock: { on: HOST }`): taken over SSH before the first
// step, so two operators on two laptops cannot run the same recovery at once.
import { EXIT, ExitError } from '../cli/exit.js';
import type { Prepared } from './prepare.js';
import { transportFor, type Transports } from '../transport/registry.js';

export async function takeRemoteLock(
  plan: Prepared['plan'],
  runId: string,
  operator: string,
  transports: Transports,
  stateDir?: string,
): Promise<() => Promise<void>> {
  const { remoteLockCommands, parseRemoteOwner, REMOTE_LOCK_HELD } = await import('../journal/lock.js');
  const { finishedRunIds } = await import('../journal/runs.js');
  const host = plan.hosts[plan.lock!.host];
  const transport = transportFor(transports, host);
  // a lock left on the host by a run of ours that finished (crash before the release) is reclaimed
  const cmds = remoteLockCommands(
    plan.runbook.name,
    runId,
    operator,
    undefined,
    stateDir ? finishedRunIds(stateDir) : [],
  );
  let r;
  try {
    const conn = await transport.connect(host);
    r = await conn.exec({ command: cmds.acquire, timeoutMs: 30_000 });
  } catch (e) {
    throw new ExitError(
      EXIT.PROBLEMS,
      `cannot take the run lock on ${host.name} (lock: on ${plan.lock!.host}): ${(e as Error).message}`,
      'the lock host must be reachable before anything changes: check it, or run from where it can be reached',
    );
  }
  if (r.exitCode === REMOTE_LOCK_HELD) {
    const o = parseRemoteOwner(r.stdout);
    throw new ExitError(
      EXIT.PROBLEMS,
      `${plan.runbook.name} is locked on ${host.name} by run ${o?.runId ?? '?'} of ${o?.operator ?? '?'} since ${o?.since ?? '?'}`,
      'another operator is running this recovery: talk to them first',
    );
  }
  if (r.exitCode !== 0)
    throw new ExitError(
      EXIT.PROBLEMS,
      `could not take the lock on ${host.name}: exit ${r.exitCode} ${r.stderr.trim()}`,
    );
  return async () => {
    const c = await transport.connect(host);
    await c.exec({ command: cmds.release, timeoutMs: 30_000 });
  };
}

// lifeboat unlock RUNBOOK: remove a runbook's local run lock after showing who holds it.
import { EXIT, ExitError } from '../cli/exit.js';
import { isInteractive, type CliIO } from '../cli/io.js';
import { resolveStateDir } from '../journal/runs.js';
import {
  describeOwner,
  ownerAlive,
  readLocalLock,
  removeLocalLock,
  remoteUnlockCommand,
  remoteLockDir,
} from '../journal/lock.js';

export interface UnlockCmdOptions {
  stateDir?: string;
  yes?: boolean;
}

export async function unlockCommand(
  runbook: string,
  opts: UnlockCmdOptions,
  io: CliIO,
  ask?: (question: string) => Promise<boolean>,
): Promise<number> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(runbook)) throw new ExitError(EXIT.USAGE, `not a runbook name: ${runbook}`);
  const stateDir = resolveStateDir({ stateDir: opts.stateDir, cwd: io.cwd });
  const held = readLocalLock(stateDir, runbook);
  const remoteHint =
    'a lock on the target side (runbook `lock: { on: ROLE }`) is cleared on that host, as root:\n' +
    `  ${remoteUnlockCommand(runbook)}\n` +
    `(check first who holds it: cat ${remoteLockDir(runbook)}/owner)\n`;
  if (!held) {
    io.stdout.write(`no local lock for ${runbook} in ${stateDir}\n${remoteHint}`);
    return EXIT.OK;
  }
  let question = `Remove the lock of ${runbook}?`;
  if (held.owner) {
    const alive = ownerAlive(held.owner);
    io.stdout.write(`${held.path} is held by ${describeOwner(held.owner)}\n`);
    if (alive === true) {
      io.stdout.write(
        `WARNING: process ${held.owner.pid} is still running on this machine: removing the lock lets a second run start beside it.\n`,
      );
      question = `Process ${held.owner.pid} is still running. Remove its lock anyway?`;
    } else if (alive === false) io.stdout.write(`its process is gone: the lock is stale\n`);
    else io.stdout.write(`it was taken on ${held.owner.host}: make sure no run is going on there\n`);
  } else io.stdout.write(`${held.path} is unreadable (a crash while it was written?)\n`);

  if (!opts.yes) {
    if (!ask && !isInteractive(io))
      throw new ExitError(
        EXIT.USAGE,
        'not removing the lock without confirmation',
        'run it in a terminal, or add --yes',
      );
    const confirmed = ask
      ? await ask(question)
      : await (await import('@inquirer/prompts')).confirm({ message: question, default: false });
    if (!confirmed) {
      io.stdout.write('lock kept\n');
      return EXIT.PROBLEMS;
    }
  }
  removeLocalLock(stateDir, runbook);
  io.stdout.write(
    `lock of ${runbook} removed\n${held.owner ? `the interrupted run can be continued with: lifeboat resume ${held.owner.runId}\n` : ''}`,
  );
  return EXIT.OK;
}

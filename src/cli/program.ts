// The command tree. Each action is a thin wrapper that lazy-loads its command module.
import { Command, Option } from 'commander';
import { EXIT } from './exit.js';
import type { CliIO } from './io.js';
import { VERSION } from '../version.js';

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  problems found (validate) or the run failed or was aborted
  2  usage error (bad option or argument)
  3  internal error
`;

export function buildProgram(io: CliIO): Command {
  const program = new Command();
  const setExit = (code: number) => { (program as unknown as { exitCodeValue?: number }).exitCodeValue = code; };
  program
    .name('lifeboat')
    .description('Disaster-recovery runbooks: check them, run them over SSH with checkpoints, rehearse them, print the DR plan.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('validate')
    .description('check runbooks, inventories and site files; print every problem with file:line:col')
    .argument('[paths...]', 'files and folders (default: .)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--strict', 'treat DR-lint warnings as errors')
    .option('--no-git', 'do not compare runbook versions with git HEAD')
    .option('-q, --quiet', 'print nothing when all is well')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (paths: string[], opts) => {
      const { validateCommand } = await import('../commands/validate.js');
      setExit(await validateCommand(paths, opts, io));
    });

  program
    .command('schema')
    .description('print the JSON Schema of a file kind')
    .argument('[kind]', 'runbook, inventory, site or common', 'runbook')
    .action(async (kind: string) => {
      const { loadSchema } = await import('../load/check-schema.js');
      if (!['runbook', 'inventory', 'site', 'common'].includes(kind)) {
        io.stderr.write(`lifeboat: unknown schema '${kind}': use runbook, inventory, site or common\n`);
        setExit(EXIT.USAGE);
        return;
      }
      io.stdout.write(JSON.stringify(loadSchema(kind as 'runbook'), null, 2) + '\n');
    });

  program
    .command('runs')
    .description('list runs (newest first): runbook, inventory, operator, how each ended, time vs RTO')
    .option('--json', 'machine-readable output')
    .option('--limit <n>', 'show only the newest N runs')
    .option('--state-dir <dir>', 'state folder (default: .lifeboat beside site.yaml)')
    .action(async (opts) => {
      const { runsCommand } = await import('../commands/runs.js');
      setExit(await runsCommand(opts, io));
    });

  program
    .command('log')
    .description("a run's timeline in words and its result vs the RTO (default: the newest run)")
    .argument('[run-id]', 'run id, or a unique part of it')
    .option('--json', 'machine-readable output (summary, timeline and raw records)')
    .option('-v, --verbose', 'also show each command as it was sent')
    .option('--state-dir <dir>', 'state folder (default: .lifeboat beside site.yaml)')
    .action(async (id: string | undefined, opts) => {
      const { logCommand } = await import('../commands/log.js');
      setExit(await logCommand(id, opts, io));
    });

  program
    .command('unlock')
    .description("remove a runbook's local run lock after showing who holds it")
    .argument('<runbook>', 'runbook name')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--state-dir <dir>', 'state folder (default: .lifeboat beside site.yaml)')
    .action(async (runbook: string, opts) => {
      const { unlockCommand } = await import('../commands/unlock.js');
      setExit(await unlockCommand(runbook, opts, io));
    });

  for (const register of extraCommands) register(program, io, setExit);
  return program;
}

export type Register = (program: Command, io: CliIO, setExit: (code: number) => void) => void;
/** commands defined in their own modules add themselves here (see cli/commands.ts) */
export const extraCommands: Register[] = [];

// The command tree. Each action is a thin wrapper that lazy-loads its command module.
import { Argument, Command, Option } from 'commander';
import { EXIT } from './exit.js';
import type { CliIO } from './io.js';
import { FORMAT_NAMES } from '../render/formats.js';
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
  const setExit = (code: number) => {
    (program as unknown as { exitCodeValue?: number }).exitCodeValue = code;
  };
  program
    .name('lifeboat')
    .description(
      'Disaster-recovery runbooks: check them, run them over SSH with checkpoints, rehearse them, print the DR plan.',
    )
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run with --help for usage)');

  addFileCommands(program, io, setExit);
  addStateCommands(program, io, setExit);
  addPlanCommand(program, io, setExit);
  addRunCommands(program, io, setExit);
  addAfterRunCommands(program, io, setExit);
  addReadinessCommands(program, io, setExit);
  addCatalogCommands(program, io, setExit);
  for (const register of extraCommands) register(program, io, setExit);
  return program;
}

type SetExit = (code: number) => void;
export type Register = (program: Command, io: CliIO, setExit: SetExit) => void;
/** commands defined in their own modules add themselves here (see cli/commands.ts) */
export const extraCommands: Register[] = [];

/** files: check them (validate) and the schemas they follow */
function addFileCommands(program: Command, io: CliIO, setExit: SetExit): void {
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
}

/** the state folder: runs, a run's log, its lock, the drills */
function addStateCommands(program: Command, io: CliIO, setExit: SetExit): void {
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

  program
    .command('drills')
    .description('per runbook: the last rehearsal and whether it is current; exit 1 when a critical runbook is not')
    .argument('[dir]', 'the folder with site.yaml (default: .)')
    .option('--json', 'machine-readable output')
    .option('--state-dir <dir>', 'state folder holding history.jsonl (default: .lifeboat beside site.yaml)')
    .action(async (dir: string | undefined, opts) => {
      const { drillsCommand } = await import('../commands/drills.js');
      setExit(await drillsCommand(dir, opts, io));
    });
}

/** the printed DR plan */
function addPlanCommand(program: Command, io: CliIO, setExit: SetExit): void {
  program
    .command('plan')
    .description('print the DR plan from the runbooks: HTML, Markdown, PDF or JSON (format from -o, or --format)')
    .argument('[path]', 'the site folder or its site.yaml (default: .)')
    .option('-i, --inventory <name|file>', 'inventory name (under the site) or an inventory file')
    .option('-o, --output <file>', 'output file; - for stdout (html, md, json)', undefined)
    .addOption(new Option('--format <format>', 'output format (default: from the file name)').choices(FORMAT_NAMES))
    .addOption(new Option('--paper <size>', 'PDF paper size').choices(['a4', 'letter']).default('a4'))
    .option('--templates <dir>', "a folder of templates replacing lifeboat's by file name (branding)")
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (target: string | undefined, opts) => {
      const { planCommand } = await import('../commands/plan.js');
      setExit(await planCommand(target, opts, io));
    });
}

/** running a runbook: for real, as a rehearsal, or its preflight only */
function addRunCommands(program: Command, io: CliIO, setExit: SetExit): void {
  runOptions(
    program
      .command('run')
      .description('run a runbook against an inventory: checks, then step by step over SSH with a journal')
      .argument('<runbook>', 'runbook file or name')
      .option('--dry-run', 'connect to nothing, change nothing: print what would run, step by step')
      .addOption(new Option('--format <format>', 'dry-run output format').choices(['text', 'json']).default('text'))
      .option('--list-steps', 'list the steps, numbered, with their hosts; run nothing')
      .option('--from <step>', 'start a new run at this step (preflight steps still run)')
      .option('--to <step>', 'stop after this step: later steps are skipped (preflight steps still run)'),
  )
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (runbook: string, opts) => {
      const { runCommand } = await import('../commands/run.js');
      setExit(await runCommand(runbook, opts, io, 'run'));
    });

  runOptions(
    program
      .command('rehearse')
      .description('a real run against a rehearsal inventory (never production), recorded in .lifeboat/history.jsonl')
      .argument('<runbook>', 'runbook file or name')
      .option('--junit <file>', 'also write a JUnit XML report (for a nightly CI job)')
      .option('--list-steps', 'list the steps, numbered, with their hosts; run nothing')
      .option('--from <step>', 'start at this step (preflight steps still run)')
      .option('--to <step>', 'stop after this step: later steps are skipped'),
  )
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (runbook: string, opts) => {
      const { runCommand } = await import('../commands/run.js');
      setExit(await runCommand(runbook, opts, io, 'rehearsal'));
    });

  runOptions(
    program
      .command('preflight')
      .description('connect to every host the runbook touches and run only its read-only preflight steps'),
  )
    .argument('<runbook>', 'runbook file or name')
    .action(async (runbook: string, opts) => {
      const { runCommand } = await import('../commands/run.js');
      setExit(await runCommand(runbook, { ...opts, yes: false }, io, 'preflight'));
    });
}

/** after a run: its report, and resuming it */
function addAfterRunCommands(program: Command, io: CliIO, setExit: SetExit): void {
  program
    .command('report')
    .description("a run's journal as an incident timeline: steps, decisions, skips, rollbacks, total vs RTO")
    .argument('[run-id]', 'the run, or a unique part of its id (default: the newest)')
    .option('-o, --output <file>', 'report file (.html, .md, .pdf, .json; - for stdout)')
    .addOption(new Option('--format <format>', 'default: from the file name').choices(FORMAT_NAMES))
    .addOption(new Option('--paper <paper>', 'PDF paper size').choices(['a4', 'letter']).default('a4'))
    .option('--templates <dir>', "templates that replace lifeboat's by file name")
    .option('--state-dir <dir>', 'where journals live')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (runId: string | undefined, opts) => {
      const { reportCommand } = await import('../commands/report.js');
      setExit(await reportCommand(runId, opts, io));
    });

  program
    .command('resume')
    .description('continue a run that crashed, was interrupted, aborted or failed, where it stood')
    .argument('[run-id]', 'run to continue (default: the newest unfinished one)')
    .option('-y, --yes', 'answer yes to every confirmation gate')
    .option('--yes-manual', 'confirm manual steps as done without a person')
    .option(
      '--answer <step=value>',
      'the value a manual step records (repeatable)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--accept-changed', 'resume although the runbook or inventory changed since the start (recorded)')
    .addOption(
      new Option(
        '--in-doubt <choice>',
        'without a person: what to do with a non-idempotent step that was running',
      ).choices(['rerun', 'done', 'abort']),
    )
    .option('--force', 'resume although some journal lines are unreadable')
    .option('--plain', 'one plain line per event')
    .option('-v, --verbose', 'stream every line of output')
    .option('--state-dir <dir>', 'where journals and locks live')
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (runId: string | undefined, opts) => {
      const { resumeCommand } = await import('../commands/resume.js');
      setExit(await resumeCommand(runId, opts, io));
    });
}

/** readiness and the go-bag */
function addReadinessCommands(program: Command, io: CliIO, setExit: SetExit): void {
  program
    .command('readiness')
    .description(
      "would recovery work today? every runbook's read-only preflight against the inventory at once, " +
        'the data-loss window vs the RPO, the last drill; exit 1 when a critical service is not ready',
    )
    .argument('[dir]', 'the folder with site.yaml (default: .)')
    .requiredOption('-i, --inventory <inventory>', 'inventory name (under the site) or file')
    .option('--junit <file>', 'also write a JUnit XML report (one test case per service)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--state-dir <dir>', 'state folder holding history.jsonl (default: .lifeboat beside site.yaml)')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (dir: string | undefined, opts) => {
      const { readinessCommand } = await import('../commands/readiness.js');
      setExit(await readinessCommand(dir, opts, io));
    });

  const kit = program
    .command('kit')
    .description(
      'write the go-bag: a folder with a lifeboat that runs without Node.js, the project, the printed plan, EMERGENCY.txt and a manifest',
    )
    .argument('[dir]', 'the folder with site.yaml (default: .)')
    .option('-o, --output <dir>', 'the kit folder to write (new or empty; required)')
    .option('--tar <file>', 'also write the kit as a tarball (.tar, .tar.gz, .tgz)')
    .option(
      '-i, --inventory <name>',
      'also include this production inventory (repeatable; rehearsal inventories always are)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option(
      '--state-dir <dir>',
      'state folder whose history.jsonl records the kit (default: .lifeboat beside site.yaml)',
    )
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (dir: string | undefined, opts) => {
      const { kitCommand } = await import('../commands/kit.js');
      setExit(await kitCommand(dir, opts, io));
    });
  kit
    .command('verify')
    .description(
      "check a kit: every file against MANIFEST.sha256, and each plan's digest against the kit's runbooks; exit 1 naming what differs",
    )
    .argument('<dir>', 'the kit folder')
    .option('--digest <sha256>', 'the kit digest it must have (from history.jsonl or the build)')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, opts) => {
      const { kitVerifyCommand } = await import('../commands/kit.js');
      setExit(await kitVerifyCommand(dir, opts, io));
    });
}

/** the catalog of runbooks and shell completion */
function addCatalogCommands(program: Command, io: CliIO, setExit: SetExit): void {
  program
    .command('list')
    .description('the runbooks of the project: tier, service, version, RTO/RPO, last rehearsal')
    .option('--json', 'machine-readable output')
    .option('--state-dir <dir>', 'state folder holding history.jsonl (default: .lifeboat beside site.yaml)')
    .action(async (opts) => {
      const { listCommand } = await import('../commands/catalog.js');
      setExit(await listCommand(opts, io));
    });

  program
    .command('new')
    .description('write a new runbook (editor schema header, a preflight step, a confirm gate) that validates at once')
    .argument('<name>', 'the runbook name (lower-case letters, digits, dashes)')
    .option('--from <runbook>', 'start from a copy of this runbook (name or file)')
    .option('--force', 'overwrite NAME.yaml if it exists')
    .action(async (name: string, opts) => {
      const { newCommand } = await import('../commands/catalog.js');
      setExit(await newCommand(name, opts, io));
    });

  program
    .command('completion')
    .description('print the shell completion script (commands, options, runbook and inventory names)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { completionScript, completionSpec } = await import('../commands/catalog.js');
      io.stdout.write(completionScript(shell, completionSpec(program)));
    });

  program
    .command('__complete', { hidden: true })
    .argument('<what>', 'runbooks, inventories or runs')
    .action(async (what: string) => {
      const { completeWords } = await import('../commands/catalog.js');
      setExit(await completeWords(what, io));
    });
}

/** the options every run-like command (run, rehearse, preflight) takes */
function runOptions(c: Command): Command {
  return c
    .requiredOption('-i, --inventory <inventory>', 'inventory name (under inventories/) or file')
    .option('-y, --yes', 'answer yes to every confirmation gate (never to manual steps)')
    .option('--yes-manual', 'confirm manual steps as done without a person (scripted drills)')
    .option(
      '--answer <step=value>',
      'the value a manual step records (repeatable)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--plain', 'one plain line per event (default without a terminal)')
    .option('-v, --verbose', 'stream every line of output')
    .option('--state-dir <dir>', 'where journals and locks live (default: .lifeboat beside site.yaml)')
    .option(
      '--accept-new-host-keys',
      'trust unknown SSH host keys on first use and record them (changed keys are always refused)',
    )
    .option('--takeover', 'take over a stale lock whose owner is gone');
}

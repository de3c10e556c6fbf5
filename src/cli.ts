#!/usr/bin/env node
// argv → command. The only place that calls process.exit. Commands are imported lazily so
// `lifeboat --version` loads nothing but this file.
import { EXIT, ExitError } from './cli/exit.js';
import { processIO } from './cli/io.js';

import { VERSION } from './version.js';
export { VERSION };

async function main(argv: string[]): Promise<number> {
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.OK;
  }
  const { buildProgram } = await import('./cli/program.js');
  const program = buildProgram(processIO());
  try {
    await program.parseAsync(argv);
    return (program as unknown as { exitCodeValue?: number }).exitCodeValue ?? EXIT.OK;
  } catch (e) {
    return reportError(e);
  }
}

function reportError(e: unknown): number {
  const err = e as { code?: string | number; exitCode?: number; message?: string; hint?: string };
  if (e instanceof ExitError) {
    process.stderr.write(`lifeboat: ${e.message}\n${e.hint ? `  ${e.hint}\n` : ''}`);
    return e.code;
  }
  // an unsafe state folder (a link, writable by others) is the user's to fix, not a bug
  if (e instanceof Error && e.name === 'StateDirError') {
    process.stderr.write(`lifeboat: refused: ${e.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
    return EXIT.PROBLEMS;
  }
  // Ctrl-C at a question asked before a run started (a secret, the rehearsal check)
  if (e instanceof Error && e.name === 'ExitPromptError') {
    process.stderr.write('\nlifeboat: stopped at a question (Ctrl-C): nothing was run\n');
    return EXIT.PROBLEMS;
  }
  if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
      return EXIT.OK;
    return EXIT.USAGE;
  }
  process.stderr.write(
    `lifeboat: internal error: ${err.message ?? String(e)}\n` +
      "  this is a bug; the run's journal (if any) is intact. Re-run with LIFEBOAT_DEBUG=1 for a stack trace.\n",
  );
  if (process.env.LIFEBOAT_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
  return EXIT.INTERNAL;
}

// `lifeboat runs | head`: a closed pipe ends the output, not the program with a stack trace
for (const s of [process.stdout, process.stderr])
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = reportError(e);
  },
);

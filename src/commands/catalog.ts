// lifeboat list, lifeboat new NAME [--from RUNBOOK], lifeboat completion bash|zsh|fish: the
// commands people reach for first (kubectl get, ansible-galaxy init, git's completion).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { EXIT, ExitError } from '../cli/exit.js';
import { useColor, type CliIO } from '../cli/io.js';
import { findRoot, loadWithRoot, displayPath } from '../load/project.js';
import { validatePaths } from '../load/validate.js';
import { hasErrors, formatDiagnostic } from '../model/diagnostic.js';
import { SCHEMA_DIR } from '../load/check-schema.js';
import { readHistoryRecords } from '../rehearsal/history.js';
import { drillRows, ago } from '../rehearsal/drills.js';
import { paint, table } from '../util/text.js';
import { printable } from '../util/printable.js';
import { formatDuration, parseDuration } from '../util/duration.js';

const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** The project's folder (site.yaml here or above); outside a project, this folder only, and a note saying so. */
export function projectRoot(io: CliIO): { root: string; inProject: boolean } {
  const root = findRoot(io.cwd);
  return { root, inProject: existsSync(path.join(root, 'site.yaml')) };
}

export interface ListCmdOptions {
  json?: boolean;
  stateDir?: string;
  now?: Date;
}

export async function listCommand(opts: ListCmdOptions, io: CliIO): Promise<number> {
  const { root, inProject } = projectRoot(io);
  if (!inProject)
    io.stderr.write(`lifeboat: no site.yaml in ${io.cwd} or above: listing the runbooks of this folder only\n`);
  const project = loadWithRoot([root]);
  const { entries } = readHistoryRecords(project.root, opts.stateDir ? path.resolve(io.cwd, opts.stateDir) : undefined);
  // SOURCE_DATE_EPOCH: a fixed "now" for reproducible output, as `report` and `plan` take it
  const epoch = io.env.SOURCE_DATE_EPOCH;
  const now = opts.now ?? (epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date());
  const drills = new Map(drillRows(project, entries, now).map((r) => [r.runbook, r]));
  const rows = [...project.runbooks.values()].map((rb) => {
    const d = rb.data as {
      name?: unknown;
      tier?: unknown;
      service?: unknown;
      version?: unknown;
      title?: unknown;
      objectives?: { rto?: unknown; rpo?: unknown };
    };
    const dur = (v: unknown) => {
      try {
        return typeof v === 'string' ? formatDuration(parseDuration(v)) : undefined;
      } catch {
        return undefined;
      }
    };
    const drill = drills.get(String(d.name));
    return {
      runbook: String(d.name),
      file: displayPath(rb.file.file),
      valid: rb.valid,
      title: typeof d.title === 'string' ? d.title : undefined,
      tier: typeof d.tier === 'string' ? d.tier : undefined,
      service: typeof d.service === 'string' ? d.service : undefined,
      version: typeof d.version === 'string' ? d.version : undefined,
      rto: dur(d.objectives?.rto),
      rpo: dur(d.objectives?.rpo),
      lastRehearsal: drill?.last
        ? { at: drill.last.finished_at, result: drill.last.result, version: drill.last.version }
        : undefined,
      rehearsal: drill?.state,
    };
  });
  if (opts.json) {
    io.stdout.write(JSON.stringify({ root: project.root, runbooks: rows }, null, 2) + '\n');
    return EXIT.OK;
  }
  if (!rows.length) {
    io.stdout.write(`no runbooks in ${displayPath(project.root) || '.'}: \`lifeboat new NAME\` writes one\n`);
    return EXIT.OK;
  }
  const color = useColor(io);
  const t = [['RUNBOOK', 'TIER', 'SERVICE', 'VERSION', 'RTO', 'RPO', 'LAST REHEARSAL']];
  for (const r of rows) {
    const l = r.lastRehearsal;
    t.push([
      r.runbook + (r.valid ? '' : paint(color, '31', ' (invalid)')),
      r.tier ?? '',
      printable(r.service ?? ''),
      r.version ?? '',
      r.rto ?? '-',
      r.rpo ?? '-',
      l
        ? `${printable(String(l.at).slice(0, 10))} ` +
          `${paint(color, l.result === 'passed' ? '32' : '31', printable(String(l.result)))} (${ago(l.at, now)})` +
          `${r.rehearsal && r.rehearsal !== 'current' ? `, ${r.rehearsal}` : ''}`
        : 'never',
    ]);
  }
  io.stdout.write(table(t));
  return EXIT.OK;
}

export interface NewCmdOptions {
  from?: string;
  force?: boolean;
}

export function newRunbookText(name: string, opts: { schemaRef: string; host: string }): string {
  return `# yaml-language-server: $schema=${opts.schemaRef}
lifeboat: 1
kind: runbook
name: ${name}
version: 0.1.0
title: Recover ${name}
service: ${name}
tier: routine
objectives: { rto: 1h, rpo: 24h }
description: |
  **Use when** … (what failed, and what this brings back).
roles:
  target: { host: ${opts.host}, description: the machine this runbook works on }
steps:
  - id: target-answers
    title: The target answers
    phase: preflight
    on: target
    run: "true"

  - id: go-ahead
    title: Point of no return
    confirm: Recover ${name} on {{ roles.target }} now?

  - id: first-change
    title: The first change (replace with the real one)
    on: target
    run: echo "recovering ${name}"
`;
}

export async function newCommand(name: string, opts: NewCmdOptions, io: CliIO): Promise<number> {
  if (!NAME.test(name))
    throw new ExitError(
      EXIT.USAGE,
      `'${name}' is not a runbook name`,
      'use lower-case letters, digits and dashes, like postgres-failover',
    );
  const { root, inProject } = projectRoot(io);
  if (!inProject) io.stderr.write(`lifeboat: no site.yaml in ${io.cwd} or above: writing into this folder\n`);
  const project = loadWithRoot([root]);
  if (project.runbooks.has(name))
    throw new ExitError(
      EXIT.USAGE,
      `a runbook named ${name} already exists: ${displayPath(project.runbooks.get(name)!.file.file)}`,
    );
  const file = path.join(root, `${name}.yaml`);
  if (existsSync(file) && !opts.force)
    throw new ExitError(
      EXIT.USAGE,
      `${displayPath(file)} already exists`,
      'pick another name, or pass --force to overwrite it',
    );
  let text: string;
  const schemaRef = path.relative(root, path.join(SCHEMA_DIR, 'runbook.schema.json')).split(path.sep).join('/');
  if (opts.from) {
    const src =
      project.runbooks.get(opts.from) ??
      (existsSync(path.resolve(io.cwd, opts.from)) ? { file: { file: path.resolve(io.cwd, opts.from) } } : undefined);
    if (!src)
      throw new ExitError(
        EXIT.USAGE,
        `--from ${opts.from}: no such runbook`,
        `runbooks: ${[...project.runbooks.keys()].join(', ') || 'none'}`,
      );
    const source = readFileSync(src.file.file, 'utf8');
    // the copy is a new runbook: its own name, a first version; the rest as written, comments and all
    text = source
      .replace(/^name:[ \t]*.*$/m, `name: ${name}`)
      .replace(/^version:[ \t]*.*$/m, 'version: 0.1.0')
      .replace(/^# yaml-language-server: \$schema=.*$/m, `# yaml-language-server: $schema=${schemaRef}`);
    if (!/^name: /m.test(text))
      throw new ExitError(EXIT.USAGE, `--from ${opts.from}: no top-level name: line to change`);
  } else {
    const firstHost = [...project.inventories.values()]
      .map((i) => Object.keys((i.data as { hosts?: object }).hosts ?? {})[0])
      .find(Boolean);
    text = newRunbookText(name, { schemaRef, host: firstHost ?? 'server1' });
  }
  writeFileSync(file, text, { flag: opts.force ? 'w' : 'wx' });
  // it must validate at once: say so, or show why not
  const { diagnostics } = validatePaths([file], { git: false, withRoot: true });
  const mine = diagnostics.filter((d) => path.resolve(d.file) === path.resolve(file));
  io.stdout.write(`wrote ${displayPath(file)}${opts.from ? ` (from ${opts.from})` : ''}\n`);
  const sources = new Map([[displayPath(file), text]]);
  for (const d of mine) io.stdout.write(formatDiagnostic(d, { sources, color: useColor(io) }) + '\n\n');
  io.stdout.write(
    hasErrors(mine)
      ? 'it does not validate yet: fix the errors above\n'
      : `next: edit it, then \`lifeboat validate ${displayPath(file)}\` and \`lifeboat run ${name} -i INVENTORY --dry-run\`\n`,
  );
  return hasErrors(mine) ? EXIT.PROBLEMS : EXIT.OK;
}

// ---- completion ------------------------------------------------------------------------------

interface Spec {
  commands: { name: string; options: string[]; args: string[] }[];
  global: string[];
}

/** what the command line accepts, read from the command tree itself (one source) */
export function completionSpec(program: Command): Spec {
  const argKind = (n: string) =>
    /runbook/.test(n)
      ? 'runbook'
      : /run-id/.test(n)
        ? 'run'
        : /kind/.test(n)
          ? 'schema'
          : /shell/.test(n)
            ? 'shell'
            : 'file';
  return {
    global: program.options.map((o) => o.long!).filter(Boolean),
    commands: program.commands
      .filter((c) => !c.name().startsWith('__'))
      .map((c) => ({
        name: c.name(),
        options: [...c.options.flatMap((o) => [o.long, o.short]).filter((x): x is string => Boolean(x)), '--help'],
        args: c.registeredArguments.map((a) => argKind(a.name())),
      })),
  };
}

/**
 * The bash completion function: COMMAND_WORDS complete the command's name (commands and global options), CASES (one
 * `name) opts=…; words=… ;;` line a command) its options and arguments.
 */
const bashFunction = (commandWords: string, cases: string): string => `_lifeboat() {
  local cur prev cmd opts words files i
  COMPREPLY=()
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=( $(compgen -W "${commandWords}" -- "$cur") )
    return 0
  fi
  if [[ "$prev" == "-i" || "$prev" == "--inventory" ]]; then
    COMPREPLY=( $(compgen -W "$(lifeboat __complete inventories 2>/dev/null)" -- "$cur") $(compgen -f -- "$cur") )
    return 0
  fi
  opts=""; words=""; files=""
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
    [[ -n "$files" ]] && COMPREPLY+=( $(compgen -f -- "$cur") )
  fi
  return 0
}
`;

/** One command's line of the bash function's `case`: its options, the words of its argument, files or not. */
function bashCase(c: Spec['commands'][number]): string {
  const words =
    c.args[0] === 'runbook'
      ? '$(lifeboat __complete runbooks 2>/dev/null)'
      : c.args[0] === 'run'
        ? '$(lifeboat __complete runs 2>/dev/null)'
        : c.name === 'completion'
          ? 'bash zsh fish'
          : c.name === 'schema'
            ? 'runbook inventory site common'
            : '';
  return `    ${c.name}) opts="${c.options.join(' ')}"; words="${words}"${c.args[0] === 'file' ? '; files=1' : ''} ;;`;
}

function fishScript(spec: Spec, names: string): string {
  const lines = [
    '# lifeboat completion for fish: lifeboat completion fish > ~/.config/fish/completions/lifeboat.fish',
    'complete -c lifeboat -f',
    `complete -c lifeboat -n "not __fish_seen_subcommand_from ${names}" -a "${names}"`,
  ];
  for (const c of spec.commands) {
    for (const o of c.options.filter((x) => x.startsWith('--')))
      lines.push(`complete -c lifeboat -n "__fish_seen_subcommand_from ${c.name}" -l ${o.slice(2)}`);
    if (c.args[0] === 'runbook')
      lines.push(
        `complete -c lifeboat -n "__fish_seen_subcommand_from ${c.name}" -a "(lifeboat __complete runbooks 2>/dev/null)"`,
      );
    if (c.args[0] === 'run')
      lines.push(
        `complete -c lifeboat -n "__fish_seen_subcommand_from ${c.name}" -a "(lifeboat __complete runs 2>/dev/null)"`,
      );
    if (c.options.includes('--inventory'))
      lines.push(
        `complete -c lifeboat -n "__fish_seen_subcommand_from ${c.name}" -s i -l inventory -r -a "(lifeboat __complete inventories 2>/dev/null)"`,
      );
  }
  lines.push('complete -c lifeboat -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"');
  lines.push('complete -c lifeboat -n "__fish_seen_subcommand_from schema" -a "runbook inventory site common"');
  return lines.join('\n') + '\n';
}

export function completionScript(shell: 'bash' | 'zsh' | 'fish', spec: Spec): string {
  const names = spec.commands.map((c) => c.name).join(' ');
  if (shell === 'fish') return fishScript(spec, names);
  const bash = bashFunction(`${names} ${spec.global.join(' ')}`, spec.commands.map(bashCase).join('\n'));
  if (shell === 'bash')
    return (
      '# lifeboat completion for bash: source <(lifeboat completion bash), ' +
      'or save it in /etc/bash_completion.d/lifeboat\n' +
      `${bash}complete -F _lifeboat lifeboat\n`
    );
  // zsh runs the bash function through its bashcompinit layer: one script, the same answers
  return (
    '#compdef lifeboat\n' +
    `# lifeboat completion for zsh: lifeboat completion zsh > "\${fpath[1]}/_lifeboat" ` +
    '(or: source <(lifeboat completion zsh))\n' +
    'autoload -U +X bashcompinit && bashcompinit\n' +
    `${bash}complete -F _lifeboat lifeboat\n`
  );
}

/** `lifeboat __complete runbooks|inventories|runs`: names for the completion scripts, one a line */
export async function completeWords(what: string, io: CliIO): Promise<number> {
  const { root } = projectRoot(io);
  if (what === 'runs') {
    const { listRuns } = await import('../journal/runs.js');
    try {
      for (const r of listRuns(path.join(root, '.lifeboat'))) io.stdout.write(`${r.id}\n`);
    } catch {
      /* no runs */
    }
    return EXIT.OK;
  }
  const project = loadWithRoot([root]);
  const names =
    what === 'runbooks' ? project.runbooks.keys() : what === 'inventories' ? project.inventories.keys() : [];
  for (const n of names) io.stdout.write(`${n}\n`);
  return EXIT.OK;
}

// DR lint: warnings about procedures that are valid but dangerous (--strict makes them errors).
// Every code starts with `dr-`; docs/DIAGNOSTICS.md explains each and how to fix it.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Diagnostic } from '../model/diagnostic.js';
import type { Runbook, Step } from '../model/types.js';
import type { Project, Loaded } from './project.js';
import { parseTemplate } from '../plan/template.js';
import { diagAt, templatePosition } from './positions.js';
import { roleHost, stepName, targetsOf } from './rules/common.js';
import { templateFields } from './rules/template-fields.js';
import { lintEstimates } from './rules/estimates.js';

export interface LintOptions {
  git?: boolean;
}

/**
 * Commands that destroy data or state for good, or cannot be undone. `pg_ctl stop` is not
 * here: a stopped server starts again with its data intact, and fencing steps stop servers
 * routinely; `pg_ctl promote` forks the timeline and cannot be taken back.
 */
export const DESTRUCTIVE: { re: RegExp; what: string }[] = [
  {
    re: /\brm\s+(?:-[a-zA-Z]*[rR][a-zA-Z]*[fF]|-[a-zA-Z]*[fF][a-zA-Z]*[rR]|-[rR]\s+-[fF]|-[fF]\s+-[rR]|--recursive\s+--force|--force\s+--recursive)\b/,
    what: 'rm -rf',
  },
  { re: /\bpg_ctl\b[^\n;&|]*\bpromote\b|\bpg_promote\s*\(/, what: 'a PostgreSQL promotion' },
  { re: /\bmkfs(?:\.\w+)?\b/, what: 'mkfs' },
  { re: /\bdd\b[^\n;&|]*\bof=/, what: 'dd of=' },
  { re: /\brsync\b[^\n;&|]*--delete\b/, what: 'rsync --delete' },
  { re: /\bip\s+(?:-\S+\s+)*(?:addr|address|a)\s+(?:del|delete|flush)\b/, what: 'ip addr del' },
  { re: /\bvirsh\s+(?:\S+\s+)*?(?:undefine|destroy)\b/, what: 'virsh undefine/destroy' },
  { re: /\bDROP\s+(?:DATABASE|SCHEMA|TABLE)\b/i, what: 'DROP DATABASE' },
  { re: /\bRESET\s+(?:REPLICA|SLAVE|MASTER)\b/i, what: 'RESET REPLICA' },
  { re: /\bwipefs\b/, what: 'wipefs' },
  { re: /\blvremove\b/, what: 'lvremove' },
  { re: /\bzfs\s+destroy\b/, what: 'zfs destroy' },
  { re: />\s*\/dev\/(?:sd|nvme|vd|xvd|hd|mmcblk)\w*/, what: 'writing to a disk device' },
];

export function destructiveIn(command: string): string | undefined {
  return DESTRUCTIVE.find((d) => d.re.test(command))?.what;
}

/** the command without its quoted parts: a word in quotes is an argument, not a command run */
export function unquoted(command: string): string {
  return command.replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, "''");
}

export function lintProject(project: Project, opts: LintOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const valid = [...project.runbooks.values()].filter((rb) => rb.valid);
  for (const rb of valid) {
    lintRunbook(rb, out);
    lintEstimates(project, rb, out);
  }
  if (opts.git !== false) out.push(...versionNotBumped(valid));
  return out;
}

/** the hosts (role or host names, as written) a step's command touches: its `on` plus hosts it names */
function hostsNamed(s: Step): Set<string> {
  const out = new Set(targetsOf(s));
  if (typeof s.run === 'string') {
    for (const ref of parseTemplate(s.run).refs) {
      if ((ref.parts[0] === 'hosts' || ref.parts[0] === 'roles') && ref.parts[1]) out.add(ref.parts[1]);
    }
  }
  return out;
}

function lintRunbook(rb: Loaded<Runbook>, out: Diagnostic[]): void {
  const f = rb.file;
  const r = rb.data;
  const warn = (p: (string | number)[], key: boolean, code: string, message: string, hint: string) =>
    out.push(diagAt(f, p, key, 'warning', code, message, hint));

  if (!r.steps.some((s) => s.phase === 'preflight')) {
    warn(
      ['steps'],
      true,
      'dr-no-preflight',
      `runbook '${r.name}' has no preflight step`,
      'add a read-only `phase: preflight` check that proves the run can start',
    );
  }

  // a role may name the same host as another role: compare hosts, not names
  const hostOfName = (n: string) => roleHost(r.roles?.[n]) ?? n;
  const mayBeDown = new Set(
    Object.entries(r.roles ?? {})
      .filter(([, spec]) => typeof spec === 'object' && spec.may_be_down)
      .map(([n]) => n),
  );
  const preflightHosts = new Set<string>();
  for (const s of r.steps)
    if (s.phase === 'preflight') for (const h of hostsNamed(s)) preflightHosts.add(hostOfName(h));

  r.steps.forEach((s, i) => {
    const name = stepName(s, i);
    const prev = i > 0 ? r.steps[i - 1] : undefined;
    const sameHost = (a: Step, b: Step) =>
      targetsOf(a).some((t) => targetsOf(b).map(hostOfName).includes(hostOfName(t)));

    if (typeof s.run === 'string') {
      const what = destructiveIn(s.run);
      // a confirm gate just before counts: a pure confirm step, or a manual step with a confirm
      const gated =
        s.confirm !== undefined ||
        (prev !== undefined && prev.confirm !== undefined && prev.run === undefined && prev.include === undefined);
      if (what && !gated) {
        warn(
          ['steps', i, 'run'],
          false,
          'dr-unconfirmed-destructive',
          `${name} runs ${what} without asking first`,
          'add `confirm: <question>` to the step (or a confirm gate step just before it): the plan prints it as a point of no return',
        );
      }

      // rsync is guarded by a skip_if, by a preflight step on each host it touches, or by
      // the step just before it checking the same host with an expect
      if (/\brsync\b/.test(unquoted(s.run)) && s.phase !== 'preflight') {
        const touched = [...hostsNamed(s)].filter((h) => h !== 'local');
        // a host that may be down cannot be checked beforehand: only the others must be
        const mustCheck = touched.filter((h) => !mayBeDown.has(h)).map(hostOfName);
        const byPreflight = touched.length > 0 && mustCheck.every((h) => preflightHosts.has(h));
        const byPrev =
          prev !== undefined &&
          prev.run !== undefined &&
          (prev.expect !== undefined || prev.until !== undefined) &&
          sameHost(prev, s);
        if (s.skip_if === undefined && !byPreflight && !byPrev) {
          const missing = mustCheck.filter((h) => !preflightHosts.has(h));
          warn(
            ['steps', i, 'run'],
            false,
            'dr-unguarded-rsync',
            `${name} runs rsync with nothing checking source and target first${missing.length ? ` (no preflight step on ${missing.join(', ')})` : ''}`,
            'add a `phase: preflight` step on the source and target hosts (e.g. that the source folder is not empty), ' +
              'a `skip_if`, or a step just before it with an `expect`',
          );
        }
      }
    }

    // raw insertions bypass shell quoting
    for (const tf of templateFields(s, i)) {
      for (const ref of parseTemplate(tf.source).refs) {
        if (!ref.raw) continue;
        const pos = templatePosition(f, tf.path, tf.source, ref.line, ref.column);
        out.push({
          file: f.file,
          line: pos.line,
          col: pos.col,
          endLine: pos.endCol ? pos.line : undefined,
          endCol: pos.endCol,
          severity: 'warning',
          code: 'dr-raw-insert',
          message: `${name} ${tf.field}: {{{ ${ref.path} }}} inserts raw text${tf.shell ? ', unquoted, into a shell command' : ''}`,
          hint: 'use {{ … }} (two braces) so the value is quoted; keep {{{ … }}} only for trusted text that must stay unquoted',
        });
      }
    }

    // a value handed to a second shell (eval, sh -c, su -c, ssh HOST CMD) is parsed again: the quoting is undone once
    for (const tf of templateFields(s, i)) {
      if (!tf.shell) continue;
      const starts = [0];
      for (let k = 0; k < tf.source.length; k++) if (tf.source[k] === '\n') starts.push(k + 1);
      for (const ref of parseTemplate(tf.source).refs) {
        if (ref.raw || ref.inQuotes || ref.inHeredoc) continue;
        const who = reparsedBy(tf.source.slice(0, (starts[ref.line - 1] ?? 0) + ref.column));
        if (!who) continue;
        const pos = templatePosition(f, tf.path, tf.source, ref.line, ref.column);
        const v = ref.parts[ref.parts.length - 1].toUpperCase().replace(/[^A-Z0-9_]/g, '_');
        out.push({
          file: f.file,
          line: pos.line,
          col: pos.col,
          endLine: pos.endCol ? pos.line : undefined,
          endCol: pos.endCol,
          severity: 'warning',
          code: 'dr-reparsed',
          message:
            `${name} ${tf.field}: {{ ${ref.path} }} is handed to ${who}, ` +
            'which parses it as shell again: the quoting is undone and the value can run commands',
          hint:
            who === 'ssh'
              ? 'run the step on that host with `on:` instead of ssh from another one'
              : `pass it through env: (env: { ${v}: "{{ ${ref.path} }}" }) and write "$${v}" in the command instead`,
        });
      }
    }

    // characters a wiki or word processor puts where the shell wants ASCII
    for (const tf of templateFields(s, i)) {
      if (!tf.shell) continue;
      const found = lookalike(tf.source);
      if (!found) continue;
      const pos = charPosition(f, ['steps', i, tf.field], found.char);
      out.push({
        file: f.file,
        line: pos.line,
        col: pos.col,
        endLine: pos.line,
        endCol: pos.col + 1,
        severity: 'warning',
        code: 'dr-lookalike',
        message:
          `${name} ${tf.field}: ${found.what} where the shell expects ${found.ascii}` +
          `${found.more ? ` (and ${found.more} more such character${found.more === 1 ? '' : 's'})` : ''}` +
          ': copied from a wiki or a document?',
        hint:
          found.ascii === 'nothing'
            ? 'delete it: it is invisible, and the shell reads it as part of a word'
            : `type it again as ${found.ascii}: the shell does not read ${found.what.replace(/ \(U\+[0-9A-F]+\)$/, '')} as one`,
      });
    }

    // a step on a host that may be down stops the run unless told otherwise
    const down = targetsOf(s).filter((t) => mayBeDown.has(t));
    if (s.run !== undefined && down.length && s.on_failure !== 'continue' && s.when === undefined) {
      warn(
        ['steps', i, 'on'],
        false,
        'dr-may-be-down',
        `${name} runs on '${down[0]}', which may be down, and would stop the run when it is`,
        'add `on_failure: continue` (or a `when:` such as `{ reachable: ' + down[0] + ' }`)',
      );
    }
  });
}

/**
 * Whether the words just before an insertion hand it to a second shell: `eval`, `sh -c`
 * (bash, dash, zsh, ksh; also after sudo), `su … -c`, `runuser … -c`, or a remote command of
 * `ssh HOST`. Looks at the simple command the insertion is part of.
 */
function reparsedBy(before: string): string | undefined {
  // earlier insertions count as one word each
  // the line the insertion is on is enough (and keeps long commands linear)
  before = before.slice(Math.max(before.lastIndexOf('\n') + 1, before.length - 2000));
  const cmd =
    before
      .replace(/\{\{\{?[^}]*\}?\}\}/g, 'V')
      .split(/&&|\|\||[;|&\n(`{]|\$\(|\b(?:then|do|else)\b/)
      .pop() ?? '';
  const words = cmd.trim().split(/\s+/).filter(Boolean);
  const base = (x: string | undefined) => (x ?? '').replace(/^.*\//, '');
  // the command word: after `!`, sudo, exec, env, timeout and the like, their options and VAR=value
  let w = 0;
  while (
    w < words.length &&
    (/^(!|sudo|exec|command|builtin|time|nice|nohup|env|timeout|doas)$/.test(base(words[w])) ||
      words[w].startsWith('-') ||
      /^\w+=/.test(words[w]) ||
      /^\d+[smhd]?$/.test(words[w]))
  )
    w++;
  if (w >= words.length) return undefined;
  const word = base(words[w]);
  const last = words[words.length - 1];
  if (word === 'eval') return 'eval';
  // `trap ACTION SIGNAL…`: the action is run as shell when the signal comes
  if (word === 'trap' && w === words.length - 1) return 'trap';
  // `sh -c SCRIPT ARG…`: only SCRIPT is parsed again; ARGs become $1… (the safe way to pass values)
  if (/^(ba|da|z|k|)sh$/.test(word) && w < words.length - 1 && /^-[a-z]*c[a-z]*$/.test(last)) return `${word} -c`;
  if ((word === 'su' || word === 'runuser') && w < words.length - 1 && (last === '-c' || last === '--command'))
    return `${word} -c`;
  if (word === 'ssh') {
    // ssh [options] HOST COMMAND…: the words after HOST are joined and run by the remote shell
    let k = w + 1;
    while (k < words.length && words[k].startsWith('-')) k += /^-[bcDEeFIiJLlmOoPpQRSWw]$/.test(words[k]) ? 2 : 1;
    if (k < words.length - 1 || (k === words.length - 1 && /\s$/.test(before))) return 'ssh';
  }
  return undefined;
}

const LOOKALIKES: Record<string, [string, string]> = {
  '\u2018': ['a left single quotation mark ‘', "'"],
  '\u2019': ['a right single quotation mark ’', "'"],
  '\u201c': ['a left double quotation mark “', '"'],
  '\u201d': ['a right double quotation mark ”', '"'],
  '\u2013': ['an en dash –', '-'],
  '\u2014': ['an em dash —', '-'],
  '\u2212': ['a minus sign −', '-'],
  '\u00a0': ['a no-break space', 'a space'],
  '\u202f': ['a narrow no-break space', 'a space'],
  '\u200b': ['a zero-width space', 'nothing'],
  '\u200c': ['a zero-width non-joiner', 'nothing'],
  '\u200d': ['a zero-width joiner', 'nothing'],
  '\u2060': ['a word joiner', 'nothing'],
  '\ufeff': ['a byte-order mark', 'nothing'],
  '\u2028': ['a line separator', 'a newline'],
  '\u2029': ['a paragraph separator', 'a newline'],
};

/** The first look-alike character in a command, what it is, and how many more there are. */
function lookalike(text: string): { char: string; what: string; ascii: string; more: number } | undefined {
  let first: { char: string; what: string; ascii: string } | undefined;
  let count = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    let hit: [string, string] | undefined = LOOKALIKES[ch];
    // fullwidth forms (U+FF01–FF5E) of ASCII punctuation and letters: `；`, `｜`, `ｒｍ`
    if (!hit && code >= 0xff01 && code <= 0xff5e) hit = [`a fullwidth ${ch}`, String.fromCharCode(code - 0xfee0)];
    if (!hit) continue;
    count++;
    first ??= { char: ch, what: `${hit[0]} (U+${code.toString(16).toUpperCase().padStart(4, '0')})`, ascii: hit[1] };
  }
  return first && { ...first, more: count - 1 };
}

/**
 * Where a character of a field's value first appears in the file (the field's start when it is written as an escape).
 */
function charPosition(f: Loaded<Runbook>['file'], p: (string | number)[], ch: string): { line: number; col: number } {
  const span = f.spanOf(p);
  const lines = f.text.split('\n');
  let start = 0;
  for (let l = 0; l < span.line - 1; l++) start += lines[l].length + 1;
  start += span.col - 1;
  let end = 0;
  for (let l = 0; l < span.endLine - 1 && l < lines.length; l++) end += lines[l].length + 1;
  end += span.endCol - 1;
  const at = f.text.indexOf(ch, start);
  if (at < 0 || at >= Math.max(end, start + 1)) return { line: span.line, col: span.col };
  const before = f.text.slice(0, at);
  const line = before.split('\n').length;
  return { line, col: at - before.lastIndexOf('\n') };
}

/**
 * Runbooks whose content changed since git HEAD but whose `version:` did not. One
 * `git cat-file --batch` call reads every file's HEAD version; outside git, or for
 * files not in HEAD, nothing is said.
 */
function versionNotBumped(runbooks: Loaded<Runbook>[]): Diagnostic[] {
  if (!runbooks.length) return [];
  const cwd = path.dirname(path.resolve(runbooks[0].file.file));
  const specs = runbooks.map(
    (rb) => `HEAD:./${path.relative(cwd, path.resolve(rb.file.file)).split(path.sep).join('/')}`,
  );
  let raw: Buffer;
  try {
    raw = execFileSync('git', ['cat-file', '--batch'], {
      cwd,
      input: specs.join('\n') + '\n',
      stdio: ['pipe', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
      timeout: 10_000,
    });
  } catch {
    return [];
  }
  const out: Diagnostic[] = [];
  let pos = 0;
  for (const rb of runbooks) {
    const nl = raw.indexOf(0x0a, pos);
    if (nl < 0) break;
    const header = raw.subarray(pos, nl).toString('utf8');
    const m = /^[0-9a-f]+ blob (\d+)$/.exec(header);
    if (!m) {
      pos = nl + 1;
      continue;
    }
    const size = Number(m[1]);
    const old = raw.subarray(nl + 1, nl + 1 + size).toString('utf8');
    pos = nl + 1 + size + 1;
    if (old === rb.file.text) continue;
    let before: unknown;
    try {
      before = parseYaml(old);
    } catch {
      continue;
    }
    const b = before as { version?: unknown } | null;
    if (!b || typeof b !== 'object') continue;
    // comments and layout are not the procedure: only a change of the data needs a new version
    if (b.version === rb.data.version && JSON.stringify(b) !== JSON.stringify(rb.data)) {
      out.push(
        diagAt(
          rb.file,
          ['version'],
          false,
          'warning',
          'dr-version-not-bumped',
          `runbook '${rb.data.name}' changed since the last commit but its version is still ${rb.data.version}`,
          'bump `version:` (e.g. the patch number) so journals and plans tell the procedures apart',
        ),
      );
    }
  }
  return out;
}

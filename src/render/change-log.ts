// Each runbook's history for the plan's change log: from git when the folder is in a git
// work tree (one `git log` and one `git cat-file --batch` for every file), else from the
// files themselves. Read-only; any git failure falls back to the files.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ChangeEntry, ChangeSource } from './plan-model/changes.js';

const VERSION_RE = /^version:\s*["']?([0-9][^"'\s#]*)/m;
const MAX_ENTRIES = 12;
const git = (root: string, args: string[]) =>
  execFileSync('git', ['-C', root, ...args], {
    encoding: 'utf8',
    timeout: 10_000,
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'ignore'],
  });

function fromFile(file: string): ChangeEntry[] {
  try {
    const version = VERSION_RE.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
    return [
      { date: statSync(file).mtime.toISOString().slice(0, 10), version, note: 'the file as it is (no git history)' },
    ];
  } catch {
    return [];
  }
}

export function changeSource(root: string, files: string[]): ChangeSource {
  const byFile = new Map<string, ChangeEntry[]>();
  try {
    const rel = files.map((f) => path.relative(root, f).split(path.sep).join('/'));
    const log = git(root, [
      'log',
      '--date=short',
      '--format=%x1e%H%x09%ad%x09%s',
      '--name-only',
      '--relative',
      '--',
      ...rel,
    ]);
    const touched: { hash: string; date: string; subject: string; file: string }[] = [];
    for (const chunk of log.split('\x1e').slice(1)) {
      const [head, ...names] = chunk.split('\n');
      const [hash, date, ...subject] = head.split('\t');
      for (const n of names.filter(Boolean))
        if (rel.includes(n)) touched.push({ hash, date, subject: subject.join('\t'), file: n });
    }
    const keep = touched.filter((t, i) => touched.slice(0, i).filter((u) => u.file === t.file).length < MAX_ENTRIES);
    const versions: string[] = [];
    if (keep.length) {
      const out = execFileSync('git', ['-C', root, 'cat-file', '--batch'], {
        input: keep.map((t) => `${t.hash}:./${t.file}`).join('\n') + '\n',
        timeout: 10_000,
        maxBuffer: 256 * 1024 * 1024,
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      let at = 0;
      for (let i = 0; i < keep.length; i++) {
        const nl = out.indexOf(10, at);
        const header = out.subarray(at, nl).toString('latin1').split(' ');
        if (header[1] === 'missing' || header.length < 3) {
          versions.push('');
          at = nl + 1;
          continue;
        }
        const size = Number(header[2]);
        versions.push(VERSION_RE.exec(out.subarray(nl + 1, nl + 1 + size).toString('utf8'))?.[1] ?? '');
        at = nl + 1 + size + 1;
      }
    }
    const dirty = new Set(
      git(root, ['status', '--porcelain', '--relative', '--', ...rel])
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(3)),
    );
    for (const [i, t] of keep.entries()) {
      const f = path.resolve(root, t.file);
      byFile.set(f, [...(byFile.get(f) ?? []), { date: t.date, version: versions[i], note: t.subject }]);
    }
    for (const r of rel) {
      if (!dirty.has(r)) continue;
      const f = path.resolve(root, r);
      byFile.set(f, [
        { ...fromFile(f)[0], note: 'changed since the last commit (not committed)' },
        ...(byFile.get(f) ?? []),
      ]);
    }
  } catch {
    /* not a git work tree, or no git: the files speak for themselves */
  }
  return (file) => byFile.get(path.resolve(file)) ?? fromFile(file);
}

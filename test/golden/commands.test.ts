// Golden tests of the commands people reach for first, through the built CLI (dist/src/bin.cjs):
// `list`, `new` (the file it writes, which must validate), `completion bash|zsh|fish`, and
// `run --list-steps`. A missing golden fails; UPDATE_GOLDEN=1 writes it, to be read and committed.
import { describe, it, expect, afterAll, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'dist/src/bin.cjs');
const update = process.env.UPDATE_GOLDEN === '1';
const work = mkdtempSync(path.join(tmpdir(), 'lb-commands-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// each test starts the CLI a few times: seconds each on a busy machine
vi.setConfig({ testTimeout: 60_000 });

function lifeboat(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', SOURCE_DATE_EPOCH: '1796000000', CI: '1' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function golden(name: string, actual: string) {
  const file = path.join(root, 'test/golden/cli', name);
  if (update) writeFileSync(file, actual);
  expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1, read it, commit it`).toBe(true);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

/** a copy of the acme fixture (runbooks, inventories, site, a rehearsal history) to work in */
function acme(): string {
  const dir = mkdtempSync(path.join(work, 'acme-'));
  cpSync(path.join(root, 'test/fixtures/plan/acme'), dir, { recursive: true });
  return dir;
}

describe('lifeboat list', () => {
  it('shows every runbook with tier, service, version, RTO/RPO and its last rehearsal', () => {
    const r = lifeboat(acme(), 'list');
    expect(r.code, r.stderr).toBe(0);
    golden('list.txt', r.stdout);
  });

  it('finds the project from a folder below site.yaml', () => {
    const dir = acme();
    const r = lifeboat(path.join(dir, 'inventories'), 'list');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(path.join(root, 'test/golden/cli/list.txt'), 'utf8'));
    expect(r.stderr).toBe('');
  });

  it('outside a project, looks at this folder only and says so', () => {
    const dir = mkdtempSync(path.join(work, 'loose-'));
    const r = lifeboat(dir, 'list');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no site\.yaml in .* or above: listing the runbooks of this folder only/);
  });
});

describe('lifeboat new', () => {
  it('writes a runbook with a schema header, a preflight step and a gate, which validates at once', () => {
    const dir = acme();
    const r = lifeboat(dir, 'new', 'mail-restore');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const text = readFileSync(path.join(dir, 'mail-restore.yaml'), 'utf8');
    golden('new-runbook.yaml', text.replace(/^(# yaml-language-server: \$schema=).*$/m, '$1SCHEMA'));
    expect(text).toMatch(/^# yaml-language-server: \$schema=.*runbook\.schema\.json$/m);
    expect(existsSync(path.resolve(dir, /\$schema=(\S+)/.exec(text)![1]))).toBe(true);
    const v = lifeboat(dir, 'validate', '--no-git', '--strict', 'mail-restore.yaml');
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toBe('1 file checked: 0 errors, 0 warnings\n');
    // and it is a runbook of the project now
    expect(lifeboat(dir, 'list').stdout).toMatch(
      /^mail-restore +routine +mail-restore +0\.1\.0 +1h00m +24h00m +never$/m,
    );
  });

  it('--from copies a runbook under the new name, at version 0.1.0, and it validates', () => {
    const dir = acme();
    const r = lifeboat(dir, 'new', 'db-failover-2', '--from', 'db-failover');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const text = readFileSync(path.join(dir, 'db-failover-2.yaml'), 'utf8');
    expect(text).toMatch(/^name: db-failover-2$/m);
    expect(text).toMatch(/^version: 0\.1\.0$/m);
    expect(lifeboat(dir, 'validate', '--no-git', 'db-failover-2.yaml').code).toBe(0);
  });

  it('refuses a name in use, and a name that is not one', () => {
    const dir = acme();
    expect(lifeboat(dir, 'new', 'db-failover').code).toBe(2);
    expect(lifeboat(dir, 'new', 'Bad Name').code).toBe(2);
  });
});

describe('lifeboat completion', () => {
  for (const shell of ['bash', 'zsh', 'fish']) {
    it(shell, () => {
      const r = lifeboat(root, 'completion', shell);
      expect(r.code).toBe(0);
      golden(`completion.${shell}`, r.stdout);
    });
  }

  it('bash: the script completes commands, and runbook and inventory names from the project', () => {
    const dir = acme();
    const script = lifeboat(root, 'completion', 'bash').stdout;
    const bin = path.join(work, 'bin');
    if (!existsSync(bin)) {
      mkdirSync(bin);
      writeFileSync(path.join(bin, 'lifeboat'), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`, {
        mode: 0o755,
      });
    }
    const complete = (line: string) => {
      const words = line.split(' ');
      const sh = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _lifeboat; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = spawnSync('bash', ['-c', sh], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      });
      return r.stdout.trim().split('\n').filter(Boolean).sort();
    };
    expect(complete('lifeboat reh')).toEqual(['rehearse']);
    expect(complete('lifeboat run db-')).toEqual(['db-failover']);
    expect(complete('lifeboat run db-failover -i pro')).toEqual(['production']);
    expect(complete('lifeboat run db-failover --list')).toEqual(['--list-steps']);
  }, 60_000);
});

describe('lifeboat run --list-steps', () => {
  it('lists the steps numbered as the dry run numbers them, and runs nothing', () => {
    const dir = acme();
    const r = lifeboat(dir, 'run', 'db-failover', '-i', 'lab', '--list-steps');
    expect(r.code, r.stderr).toBe(0);
    golden('list-steps.txt', r.stdout);
    const dry = lifeboat(dir, 'run', 'db-failover', '-i', 'lab', '--dry-run').stdout;
    // the same number for the same step in both
    for (const m of r.stdout.matchAll(/^ *(\d+)\. (\S+)/gm))
      expect(dry).toMatch(new RegExp(`^ *${m[1]}\\. .*\\(${m[2]}\\)|^ *${m[1]}\\. ${m[2]}\\b`, 'm'));
    expect(existsSync(path.join(dir, '.lifeboat', 'runs'))).toBe(false);
  });
});

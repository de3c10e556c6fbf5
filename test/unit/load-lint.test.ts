// DR lint pieces that golden files cannot show: the destructive-command patterns, and the
// version check against git HEAD (in a throwaway repository).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { destructiveIn } from '../../src/load/rules/destructive.js';
import { validatePaths } from '../../src/load/validate.js';

describe('destructive commands', () => {
  it.each([
    'rm -rf /srv/data',
    'rm -fr x',
    'rm -r -f x',
    'sudo rm --recursive --force /x',
    'pg_ctl promote -D /d -w',
    'pg_ctl -D /d promote',
    "psql -c 'select pg_promote()'",
    'mkfs.ext4 /dev/vdb1',
    'mkfs -t xfs /dev/sdb',
    'dd if=x.img of=/dev/vdb bs=4M',
    'rsync -a --delete a/ b/',
    'ip addr del 198.18.0.100/24 dev eth0',
    'ip -4 address delete 1.2.3.4/32 dev lo',
    'virsh destroy web1',
    'virsh undefine --nvram web1',
    'psql -c "drop database app"',
    "mysql -e 'RESET REPLICA ALL'",
    'wipefs -a /dev/vdb',
    'lvremove -y vg/lv',
    'zfs destroy -r tank/x',
    'cat img > /dev/sdb',
  ])('flags %s', (cmd) => {
    expect(destructiveIn(cmd)).toBeDefined();
  });
  it.each([
    'rm -f /tmp/lock',
    'rm /tmp/x',
    'pg_ctl stop -D /d -m fast',
    'pg_ctl status',
    'rsync -a a/ b/',
    'ip addr add 1.2.3.4/24 dev eth0',
    'ip addr show',
    'virsh list',
    'psql -c "select 1"',
    'echo hi > /dev/null',
    'dd if=/dev/vdb bs=1M count=1 status=none | sha256sum',
    'zfs list',
  ])('leaves %s alone', (cmd) => {
    expect(destructiveIn(cmd)).toBeUndefined();
  });
});

describe('dr-version-not-bumped', () => {
  let dir: string;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
  const rb = (version: string, cmd: string) =>
    `lifeboat: 1\nkind: runbook\nname: demo\nversion: ${version}\ntitle: Demo\ntier: routine\nsteps:\n  - id: pre\n    phase: preflight\n    on: local\n    run: ${cmd}\n`;
  const codes = (opts: { git?: boolean } = {}) =>
    validatePaths([dir], opts).diagnostics.map((d) => `${path.basename(d.file)}:${d.line} ${d.code}`);

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-git-'));
    git('init', '-q');
    git('config', 'user.email', 't@example.invalid');
    git('config', 'user.name', 'T');
    writeFileSync(path.join(dir, 'a.yaml'), rb('1.0.0', 'hostname'));
    writeFileSync(path.join(dir, 'b.yaml'), rb('1.0.0', 'uptime').replace('name: demo', 'name: other'));
    git('add', '.');
    git('commit', '-qm', 'init');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('says nothing about unchanged files', () => {
    expect(codes()).toEqual([]);
  });
  it('says nothing when only comments or layout changed', () => {
    writeFileSync(
      path.join(dir, 'a.yaml'),
      '# a comment\n' + rb('1.0.0', 'hostname').replace('tier: routine', 'tier:   routine'),
    );
    expect(codes()).toEqual([]);
  });
  it('warns at version: when the procedure changed but the version did not', () => {
    writeFileSync(path.join(dir, 'a.yaml'), rb('1.0.0', 'hostname -f'));
    expect(codes()).toEqual(['a.yaml:4 dr-version-not-bumped']);
  });
  it('is content when the version moved', () => {
    writeFileSync(path.join(dir, 'a.yaml'), rb('1.0.1', 'hostname -f'));
    expect(codes()).toEqual([]);
  });
  it('is off with git: false (--no-git)', () => {
    writeFileSync(path.join(dir, 'a.yaml'), rb('1.0.0', 'hostname -s'));
    expect(codes({ git: false })).toEqual([]);
  });
  it('skips untracked files', () => {
    writeFileSync(path.join(dir, 'c.yaml'), rb('1.0.0', 'id').replace('name: demo', 'name: third'));
    expect(codes().filter((c) => c.startsWith('c.yaml'))).toEqual([]);
  });
  it('skips silently outside git', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'lifeboat-nogit-'));
    writeFileSync(path.join(out, 'a.yaml'), readFileSync(path.join(dir, 'a.yaml')));
    expect(validatePaths([out]).diagnostics).toEqual([]);
    rmSync(out, { recursive: true, force: true });
  });
});

// The state folder after real runs over SSH: private modes whatever the umask, and journals
// that could have been edited by someone else (writable by others, a symlink, a linked state
// folder) are refused before anything runs: a resumed run executes what its journal says.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lifeboat } from '../helpers/cli.js';
import {
  useHostileProjects,
  runbookYaml,
  filesUnder,
  dirsUnder,
  modeOf,
  type Project,
} from '../helpers/hostile-project.js';

const lab = useHostileProjects();
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'lb-state-'));
});
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
});

let n = 0;
/** first step leaves `marker-1`; a manual step stops a run without a person (aborted, resumable); then `marker-2`. */
function resumable(): { p: Project; m1: string; m2: string } {
  const p = lab.project();
  const base = path.join(scratch, `m${++n}`);
  p.write(
    'rb.yaml',
    runbookYaml(
      'rb',
      [
        '  - id: one',
        '    on: t',
        `    run: touch ${base}-1`,
        '  - id: hands',
        '    manual: Check the rack by hand.',
        '  - id: two',
        '    on: t',
        `    run: touch ${base}-2`,
      ].join('\n'),
    ),
  );
  return { p, m1: `${base}-1`, m2: `${base}-2` };
}

async function abortedRun(): Promise<{ p: Project; m1: string; m2: string; runId: string; journal: string }> {
  const r = resumable();
  const res = await r.p.run('rb');
  expect(res.code, res.stdout + res.stderr).toBe(1);
  expect(existsSync(r.m1)).toBe(true);
  expect(existsSync(r.m2)).toBe(false);
  const runId = readdirSync(path.join(r.p.stateDir, 'runs'))[0];
  expect(res.stdout).toContain(`lifeboat resume ${runId}`);
  return { ...r, runId, journal: path.join(r.p.stateDir, 'runs', runId, 'journal.jsonl') };
}

const resume = (p: Project, runId: string, extra: string[] = []) =>
  lifeboat(['resume', runId, '--yes', '--yes-manual', '--plain', '--state-dir', p.stateDir, ...extra], { cwd: p.dir });

describe('modes after a real run', () => {
  it('under umask 000: folders 0700, journals and locks 0600, nothing writable by others', async () => {
    const p = lab.project();
    const lockSeen: number[] = [];
    p.write('rb.yaml', runbookYaml('rb', ['  - id: wait', '    on: t', '    run: sleep 1.5'].join('\n')));
    const run = p.run('rb', [], { umask: '000' });
    // the lock exists only while the run does: look at it then
    const locks = path.join(p.stateDir, 'locks');
    for (let i = 0; i < 100 && lockSeen.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 30));
      if (existsSync(locks)) for (const f of readdirSync(locks)) lockSeen.push(modeOf(path.join(locks, f)));
    }
    const r = await run;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(lockSeen.length, 'a lock file was seen during the run').toBeGreaterThan(0);
    for (const m of lockSeen) expect(m.toString(8)).toBe('600');
    for (const d of dirsUnder(p.stateDir)) expect(`${d} ${modeOf(d).toString(8)}`).toBe(`${d} 700`);
    const files = filesUnder(p.stateDir);
    expect(files.some((f) => f.endsWith('journal.jsonl'))).toBe(true);
    for (const f of files) {
      const m = modeOf(f);
      expect(m & 0o022, `${f} is writable by group or others (${m.toString(8)})`).toBe(0);
      // journals hold command output: private. history.jsonl and the git files are meant to be committed (and sit in a 0700 folder)
      if (!/(history\.jsonl|\.gitignore|\.gitattributes)$/.test(f)) expect(`${f} ${m.toString(8)}`).toBe(`${f} 600`);
    }
  });

  it('known_hosts written by --accept-new-host-keys under umask 000 is 0600', async () => {
    const kh = path.join(scratch, 'new-dir', 'known_hosts');
    const p = lab.project({ knownHosts: kh });
    p.write('rb.yaml', runbookYaml('rb', ''));
    const r = await p.run('rb', ['--accept-new-host-keys'], { umask: '000' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(modeOf(kh).toString(8)).toBe('600');
    expect(modeOf(path.dirname(kh)).toString(8)).toBe('700');
  });
});

describe('journals someone else could have written', () => {
  it('a journal writable by others (chmod 666) is refused on resume with the fix; after chmod 600 the run resumes', async () => {
    const { p, m2, runId, journal } = await abortedRun();
    chmodSync(journal, 0o666);
    const r = await resume(p, runId);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${journal} is writable by group and others (mode 666)`);
    expect(r.stderr).toContain(`chmod 600 ${journal}`);
    expect(existsSync(m2)).toBe(false);
    chmodSync(journal, 0o620);
    const g = await resume(p, runId);
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(/writable by group/);
    expect(existsSync(m2)).toBe(false);
    chmodSync(journal, 0o600);
    const ok = await resume(p, runId);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(existsSync(m2)).toBe(true);
  });

  it('a run folder writable by others is refused on resume', async () => {
    const { p, m2, runId } = await abortedRun();
    const dir = path.join(p.stateDir, 'runs', runId);
    chmodSync(dir, 0o777);
    const r = await resume(p, runId);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`chmod 700 ${dir}`);
    expect(existsSync(m2)).toBe(false);
  });

  it('a journal that is a symlink is not followed: refused, and the file it points to is not written', async () => {
    const { p, m2, runId, journal } = await abortedRun();
    const elsewhere = path.join(scratch, `elsewhere-${runId}.jsonl`);
    copyFileSync(journal, elsewhere);
    const before = readFileSync(elsewhere, 'utf8');
    rmSync(journal);
    symlinkSync(elsewhere, journal);
    const r = await resume(p, runId);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${journal} is a symbolic link`);
    expect(existsSync(m2)).toBe(false);
    expect(readFileSync(elsewhere, 'utf8')).toBe(before);
  });

  it('a state folder (.lifeboat) that is a symlink is refused before anything runs, and nothing is written through it', async () => {
    const { p, m1, m2 } = resumable();
    const real = path.join(scratch, `real-state-${n}`);
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, p.stateDir);
    const r = await p.run('rb');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${p.stateDir} is a symbolic link; lifeboat does not follow links in its state folder`);
    expect(existsSync(m1)).toBe(false);
    expect(existsSync(m2)).toBe(false);
    expect(readdirSync(real)).toEqual([]);
    // the default place (.lifeboat beside site.yaml, no --state-dir) is refused the same way
    const d = await lifeboat(['run', 'rb', '-i', 't', '--yes', '--plain'], { cwd: p.dir });
    expect(d.code).toBe(1);
    expect(d.stderr).toContain('is a symbolic link');
    expect(existsSync(m1)).toBe(false);
  });

  it('a state folder writable by others is refused before anything runs', async () => {
    const { p, m1 } = resumable();
    mkdirSync(p.stateDir);
    chmodSync(p.stateDir, 0o777);
    const r = await p.run('rb');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`chmod 700 ${p.stateDir}`);
    expect(existsSync(m1)).toBe(false);
  });

  it('resume takes a run of this state folder, never a path to a journal elsewhere', async () => {
    const { p, m2, runId } = await abortedRun();
    const other = lab.project();
    const rel = path.relative(path.join(other.stateDir, 'runs'), path.join(p.stateDir, 'runs', runId));
    const r = await lifeboat(['resume', rel, '--yes', '--yes-manual', '--plain', '--state-dir', other.stateDir], {
      cwd: other.dir,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no runs? .*in /);
    const etc = await lifeboat(['resume', '../../../../../etc/passwd', '--state-dir', other.stateDir], {
      cwd: other.dir,
    });
    expect(etc.code).toBe(2);
    expect(etc.stderr).not.toMatch(/internal error|root:/);
    expect(existsSync(m2)).toBe(false);
    // a unique part of the id is enough
    const ok = await resume(p, runId.slice(-4));
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(existsSync(m2)).toBe(true);
  });

  it('a journal replaced by a forged one with a changed command is not run blindly: resume checks the files it names', async () => {
    const { p, m2, runId, journal } = await abortedRun();
    // someone with write access swaps the runbook path recorded in the start record
    const evil = path.join(scratch, `evil-${runId}`);
    mkdirSync(evil);
    writeFileSync(path.join(evil, 'site.yaml'), 'lifeboat: 1\nkind: site\norganisation: Evil\nrecovery_order: [rb]\n');
    writeFileSync(path.join(evil, 'rb.yaml'), runbookYaml('rb', `  - id: one\n    on: t\n    run: touch ${m2}-evil`));
    const lines = readFileSync(journal, 'utf8').split('\n');
    lines[0] = lines[0].replace(/"path":"rb\.yaml"/, `"path":${JSON.stringify(path.join(evil, 'rb.yaml'))}`);
    renameSync(journal, journal + '.bak');
    writeFileSync(journal, lines.join('\n'), { mode: 0o600 });
    const r = await resume(p, runId);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/changed since run|no longer used|is new/);
    expect(existsSync(`${m2}-evil`)).toBe(false);
    expect(existsSync(m2)).toBe(false);
  });
});

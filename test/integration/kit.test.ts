// The go-bag: `lifeboat kit` builds a folder whose executable runs where neither node nor
// node_modules exist. The executable is tried in a mount namespace in which both are hidden
// (bind mounts over them): --version, validate, a dry run and a real run against the loopback
// sshd. `kit verify` passes on the kit as built and fails, naming the file and the plan, after
// one byte of a runbook changes; `drills` and `plan` then say the go-bag is stale.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { cliPath, runProcess, ROOT, type CliResult } from '../helpers/cli.js';
import { makeProject, runbookYaml, type Project } from '../helpers/project.js';

let sshd: Sshd;
let p: Project;
let kit: string;
let built: CliResult;
const scratch = mkdtempSync(path.join(tmpdir(), 'lb-kit-'));

const steps = `
  - id: reachable
    phase: preflight
    on: t
    run: test -d {{ vars.dir }}
  - id: promote
    on: t
    confirm: Promote {{ roles.t }}?
    run: echo promoted by the kit >> {{ vars.dir }}/{{ host.name }}-log
  - id: check
    on: t
    run: cat {{ vars.dir }}/{{ host.name }}-log
    expect: { stdout: promoted by the kit }
`;

/**
 * Run the kit's executable in a new mount namespace where node (the binary that runs these
 * tests, wherever it is) and every node_modules folder lifeboat could reach are hidden.
 */
function inBareNamespace(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  const empty = path.join(scratch, 'empty');
  mkdirSync(empty, { recursive: true });
  const emptyFile = path.join(scratch, 'empty-file');
  writeFileSync(emptyFile, '');
  const hide = [
    `mount --bind ${emptyFile} ${realpathSync(process.execPath)}`,
    `mount --bind ${empty} ${realpathSync(path.join(ROOT, 'node_modules'))}`,
    ...['/usr/lib/node_modules', '/usr/local/lib/node_modules']
      .filter(existsSync)
      .map((d) => `mount --bind ${empty} ${d}`),
  ].join(' && ');
  // the namespace must really lack node: the script refuses to go on (exit 97) when node still runs
  const script = `${hide} && if node -e 0 2>/dev/null; then exit 97; fi && test ! -e ${ROOT}/node_modules/ssh2 || exit 98; cd "$1" && shift && exec "$@"`;
  return runProcess(
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', cwd, path.join(kit, 'lifeboat'), ...args],
    {
      cwd: scratch,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: scratch,
        CI: 'true',
        NO_COLOR: '1',
        LANG: 'C.UTF-8',
        ...env,
      },
      timeoutMs: 60_000,
    },
  );
}

beforeAll(async () => {
  cliPath();
  sshd = await startSshd();
  p = makeProject(sshd);
  p.write('drill.yaml', runbookYaml({ name: 'drill', tier: 'critical', steps }));
  kit = path.join(scratch, 'kit');
  built = await p.cli(['kit', '-o', kit, '--tar', path.join(scratch, 'kit.tar.gz')], { timeoutMs: 300_000 });
}, 420_000);

afterAll(async () => {
  await sshd?.stop();
  p?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

describe('lifeboat kit', () => {
  it('writes the executable, the project, the plan with its digest, EMERGENCY.txt, the manifest and the digest; records the kit', () => {
    expect(built.code, built.out).toBe(0);
    const digest = readFileSync(path.join(kit, 'KIT-DIGEST'), 'utf8').trim();
    expect(built.stdout).toContain(`kit digest   ${digest}`);
    for (const f of [
      'lifeboat',
      'EMERGENCY.txt',
      'MANIFEST.sha256',
      'project/site.yaml',
      'project/drill.yaml',
      'project/inventories/lab.yaml',
      'schemas/runbook.schema.json',
      'plan/dr-plan-lab.html',
      'plan/dr-plan-lab.pdf',
      'plan/DIGESTS',
      'known_hosts/lab/known_hosts',
    ]) {
      expect(existsSync(path.join(kit, f)), f).toBe(true);
    }
    expect(statSync(path.join(kit, 'lifeboat')).mode & 0o111).not.toBe(0);
    expect(readFileSync(path.join(kit, 'plan/dr-plan-lab.pdf')).subarray(0, 5).toString()).toBe('%PDF-');
    // the printed plan carries the digest the kit recorded for it
    const [planDigest] = readFileSync(path.join(kit, 'plan/DIGESTS'), 'utf8').split(' ');
    expect(readFileSync(path.join(kit, 'plan/dr-plan-lab.html'), 'utf8')).toContain(planDigest);
    // EMERGENCY.txt: the commands in order, the plan's digest, never a secret
    const emergency = readFileSync(path.join(kit, 'EMERGENCY.txt'), 'utf8');
    expect(emergency).toMatch(
      /kit verify \.[\s\S]*preflight drill -i lab[\s\S]*run drill -i lab --dry-run[\s\S]*run drill -i lab\n/,
    );
    expect(emergency).toContain(planDigest);
    // the manifest is sha256sum's format: checked without lifeboat
    expect(execFileSync('sha256sum', ['-c', '--quiet', 'MANIFEST.sha256'], { cwd: kit, encoding: 'utf8' })).toBe('');
    // recorded in the history as a kit
    const kits = readFileSync(path.join(p.stateDir, 'history.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { kind?: string; kit_digest?: string });
    expect(kits.filter((k) => k.kind === 'kit').map((k) => k.kit_digest)).toEqual([digest]);
    // and the tarball holds the same folder
    const listed = execFileSync('tar', ['-tzf', path.join(scratch, 'kit.tar.gz')], { encoding: 'utf8' });
    expect(listed).toMatch(/^kit\/lifeboat$/m);
    expect(listed).toMatch(/^kit\/MANIFEST\.sha256$/m);
  });

  it('runs without node and node_modules: --version, validate, a dry run and a real run against the sshd', async () => {
    expect(built.code, built.out).toBe(0);
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const v = await inBareNamespace(['--version'], kit);
    expect(v.code, v.out).toBe(0);
    expect(v.stdout).toBe(`${version}\n`);

    const project = path.join(kit, 'project');
    const val = await inBareNamespace(['validate', '--no-git', '.'], project);
    expect(val.code, val.out).toBe(0);

    const state = mkdtempSync(path.join(scratch, 'state-'));
    const dry = await inBareNamespace(['run', 'drill', '-i', 'lab', '--dry-run'], project);
    expect(dry.code, dry.out).toBe(0);
    expect(dry.stdout).toMatch(/^DRY RUN/m);
    expect(p.has('h1-log')).toBe(false);

    const real = await inBareNamespace(
      ['run', 'drill', '-i', 'lab', '--yes', '--plain', '--state-dir', state],
      project,
    );
    expect(real.code, real.out).toBe(0);
    expect(p.read('h1-log')).toBe('promoted by the kit\n');
  });

  it('kit verify passes as built, then names a changed runbook and the plan it no longer matches', async () => {
    expect(built.code, built.out).toBe(0);
    const ok = await inBareNamespace(['kit', 'verify', '.'], kit);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.stdout).toContain(readFileSync(path.join(kit, 'KIT-DIGEST'), 'utf8').trim());

    // a copy, so the other tests keep the kit as built
    const copy = path.join(scratch, 'kit-changed');
    execFileSync('cp', ['-a', kit, copy]);
    const rb = path.join(copy, 'project/drill.yaml');
    const text = readFileSync(rb);
    const at = text.indexOf('promoted by the kit');
    text[at] = 'P'.charCodeAt(0);
    writeFileSync(rb, text);
    const bad = await p.cli(['kit', 'verify', copy]);
    expect(bad.code, bad.out).toBe(1);
    expect(bad.stdout).toMatch(/^ {2}changed: project\/drill\.yaml$/m);
    expect(bad.stdout).toMatch(/the plan for lab does not match the kit's runbooks/);
    expect(bad.stdout).not.toMatch(/missing:|extra:/);

    // a missing and an extra file are named too
    rmSync(path.join(copy, 'EMERGENCY.txt'));
    writeFileSync(path.join(copy, 'notes.txt'), 'x');
    const worse = await p.cli(['kit', 'verify', copy]);
    expect(worse.code).toBe(1);
    expect(worse.stdout).toMatch(/^ {2}missing: EMERGENCY\.txt$/m);
    expect(worse.stdout).toMatch(/^ {2}extra: notes\.txt$/m);
  });

  it('drills and plan say the go-bag is stale once a runbook changes after the kit', async () => {
    expect(built.code, built.out).toBe(0);
    const before = await p.cli(['drills', '--json']);
    expect((JSON.parse(before.stdout) as { kit?: { stale: boolean } }).kit?.stale).toBe(false);
    p.write(
      'drill.yaml',
      runbookYaml({
        name: 'drill',
        tier: 'critical',
        version: '1.0.1',
        steps: steps.replace('promoted by the kit', 'promoted again'),
      }),
    );
    const after = await p.cli(['drills']);
    expect(after.stdout).toMatch(
      /the go-bag is stale: the newest kit \([0-9a-f]{12}, built [^)]*\) is older than the runbooks \(changed since: drill\.yaml\)/,
    );
    const plan = await p.cli(['plan', '-i', 'lab', '-o', path.join(scratch, 'plan.html')]);
    expect(plan.code, plan.out).toBe(0);
    expect(plan.stderr).toMatch(/the go-bag is stale/);
  });
});

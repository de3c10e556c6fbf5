// The pipeline files in examples/ci run as written: every `script:` line of the GitLab CI file
// and every `run:` step of the GitHub Actions workflow is run by bash here, in order, with the
// files' own variables, against a project on the loopback sshd (lifeboat on PATH as the built
// CLI, as `npm ci` puts it there). The jobs must pass and leave their artefacts: JUnit from the
// rehearsal and readiness, the plan, the kit's tarball.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { cliPath, ROOT } from '../helpers/cli.js';
import { useSshdProjects, runbookYaml, type Project } from '../helpers/project.js';

const lab = useSshdProjects();
const scratch = mkdtempSync(path.join(tmpdir(), 'lb-pipelines-'));
let bin: string;

beforeAll(async () => {
  const cli = cliPath();
  // `lifeboat` and `npx lifeboat` as a CI job has them after `npm ci`
  bin = path.join(scratch, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'lifeboat'), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`);
  writeFileSync(
    path.join(bin, 'npx'),
    `#!/bin/sh\n[ "$1" = lifeboat ] || { echo "npx: only lifeboat here" >&2; exit 99; }\nshift\nexec "${process.execPath}" "${cli}" "$@"\n`,
  );
  chmodSync(path.join(bin, 'lifeboat'), 0o755);
  chmodSync(path.join(bin, 'npx'), 0o755);
}, 180_000);
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
});

/** a site with a lab and a production inventory (different addresses: the rehearsal interlock holds) and one critical runbook */
function site(): Project {
  const p = lab.project({
    inventories: [{ name: 'production', environment: 'production', hosts: { h1: { address: '127.0.0.2' } } }],
  });
  p.write(
    'drill.yaml',
    runbookYaml({
      name: 'drill',
      tier: 'critical',
      steps: `
  - id: reachable
    phase: preflight
    on: t
    run: test -d {{ vars.dir }}
  - id: work
    on: t
    run: echo drilled >> {{ vars.dir }}/{{ host.name }}-log
`,
    }),
  );
  return p;
}

interface Step {
  name: string;
  script: string;
  env: Record<string, string>;
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-e', '-o', 'pipefail', '-c', script],
      {
        cwd,
        env: {
          PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
          HOME: cwd,
          CI: 'true',
          NO_COLOR: '1',
          LANG: 'C.UTF-8',
          ...env,
        },
        timeout: 400_000,
        maxBuffer: 32 * 1024 * 1024,
      },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0,
          out: stdout + stderr,
        }),
    );
  });
}

async function runSteps(steps: Step[], cwd: string): Promise<void> {
  for (const s of steps) {
    const r = await bash(s.script, cwd, s.env);
    expect(r.code, `${s.name}:\n${s.script}\n${r.out}`).toBe(0);
  }
}

const str = (o: Record<string, unknown> | undefined) =>
  Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, String(v)]));

describe('examples/ci pipelines', () => {
  it('GitLab CI: every job of a scheduled pipeline passes and leaves its artefacts', async () => {
    const file = parse(readFileSync(path.join(ROOT, 'examples/ci/gitlab-ci.yml'), 'utf8')) as Record<
      string,
      { stage?: string; script?: string[] } & Record<string, unknown>
    >;
    const p = site();
    const vars = {
      ...str(file.variables as Record<string, unknown>),
      LIFEBOAT_SITE: '.',
      LIFEBOAT_REHEARSE: 'drill',
      CI_PROJECT_DIR: p.dir,
      CI_PIPELINE_SOURCE: 'schedule',
    };
    const stages = file.stages as unknown as string[];
    const jobs = Object.entries(file).filter(
      ([k, v]) => !['variables', 'stages', 'default', 'image'].includes(k) && v && Array.isArray(v.script),
    );
    expect(jobs.map(([k]) => k)).toEqual(['validate', 'rehearse', 'drills', 'readiness', 'plan', 'kit']);
    // jobs run stage by stage, as GitLab runs them
    const ordered = stages.flatMap((st) => jobs.filter(([, j]) => j.stage === st));
    await runSteps(
      ordered.map(([name, j]) => ({ name, script: j.script!.join('\n'), env: vars })),
      p.dir,
    );
    for (const f of [
      'reports/rehearsal-drill.xml',
      'reports/readiness.xml',
      'dr-plan.pdf',
      'dr-plan.html',
      'lifeboat-kit.tar.gz',
      '.lifeboat/history.jsonl',
    ]) {
      expect(existsSync(path.join(p.dir, f)), f).toBe(true);
    }
    expect(readFileSync(path.join(p.dir, 'reports/readiness.xml'), 'utf8')).toMatch(/tests="1" failures="0"/);
    expect(p.read('h1-log')).toBe('drilled\n');
  }, 600_000);

  it("GitHub Actions: the nightly job's run steps pass; its kit step is the GitLab job's", async () => {
    const wf = parse(readFileSync(path.join(ROOT, 'examples/ci/github-actions.yml'), 'utf8')) as {
      env: Record<string, unknown>;
      jobs: Record<
        string,
        { env?: Record<string, unknown>; steps: { name?: string; run?: string; env?: Record<string, unknown> }[] }
      >;
    };
    const gitlab = parse(readFileSync(path.join(ROOT, 'examples/ci/gitlab-ci.yml'), 'utf8')) as {
      kit: { script: string[] };
    };
    const p = site();
    const runnerTemp = mkdtempSync(path.join(scratch, 'runner-'));
    const githubEnv = path.join(runnerTemp, 'github-env');
    writeFileSync(githubEnv, '');
    const secrets: Record<string, string> = {
      LIFEBOAT_SSH_KEY: readFileSync(lab.sshd.clientKeyPath, 'utf8'),
      PG_CHECK_PASSWORD: 'not-used',
    };
    const expr = (v: string) => v.replace(/\$\{\{\s*secrets\.([A-Z_]+)\s*\}\}/g, (_, n: string) => secrets[n] ?? '');
    const base = {
      ...str(wf.env),
      LIFEBOAT_SITE: '.',
      LIFEBOAT_REHEARSE: 'drill',
      GITHUB_WORKSPACE: p.dir,
      RUNNER_TEMP: runnerTemp,
      GITHUB_ENV: githubEnv,
    };
    const steps: Step[] = [];
    for (const [job, j] of Object.entries(wf.jobs)) {
      for (const s of j.steps) {
        // actions (checkout, setup-node, upload) and `npm ci` are the runner's setup, not lifeboat's steps
        if (!s.run || /^npm ci\b/.test(s.run)) continue;
        if (s.name === 'kit') {
          // built once in the suite (the GitLab job above runs the same commands)
          expect(
            s.run
              .trim()
              .split('\n')
              .map((l) => l.trim().replace(/^npx /, '')),
          ).toEqual(gitlab.kit.script);
          continue;
        }
        steps.push({
          name: `${job}/${s.name ?? s.run}`,
          script: s.run,
          env: {
            ...base,
            ...Object.fromEntries(Object.entries({ ...j.env, ...s.env }).map(([k, v]) => [k, expr(String(v))])),
          },
        });
      }
    }
    expect(steps.map((s) => s.name)).toEqual([
      'validate/validate',
      'nightly/SSH key',
      'nightly/rehearse',
      'nightly/drills',
      'nightly/readiness',
      'nightly/plan',
    ]);
    await runSteps(steps, p.dir);
    expect(readFileSync(githubEnv, 'utf8')).toMatch(/^LIFEBOAT_SSH_KEY_FILE=.*id_lifeboat$/m);
    for (const f of ['reports/rehearsal-drill.xml', 'reports/readiness.xml', 'dr-plan.pdf', 'dr-plan.html'])
      expect(existsSync(path.join(p.dir, f)), f).toBe(true);
  }, 600_000);
});

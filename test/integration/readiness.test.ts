// lifeboat readiness against the loopback sshd: every runbook's preflight at once, read-only,
// one page per service with the reasons, the last drill's age; exit 1 only for a critical
// service; JSON and JUnit for machines.
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { useSshdProjects, runbookYaml } from '../helpers/project.js';

const lab = useSshdProjects();
const project = lab.project;

/** a runbook whose preflight records when it ran (start and end, ms) and checks a file; its main step would write one */
const book = (name: string, tier: 'critical' | 'important', needs: string) =>
  runbookYaml({
    name,
    tier,
    steps: `
  - id: window
    phase: preflight
    on: t
    run: date +%s%3N >> {{ vars.dir }}/${name}-start && sleep 2 && date +%s%3N >> {{ vars.dir }}/${name}-end
  - id: has-${needs}
    phase: preflight
    on: t
    run: test -f {{ vars.dir }}/${needs}
  - id: change
    on: t
    run: echo changed >> {{ vars.dir }}/${name}-changed
`,
  });

type Json = {
  inventory: string;
  criticalNotReady: string[];
  services: {
    runbook: string;
    ready: boolean;
    reasons: string[];
    checks: { step: string; result: string }[];
    drill: { state: string; ago?: string };
  }[];
};

describe('lifeboat readiness', () => {
  it('runs every preflight at once and nothing else; a failing important service is reported but exits 0', async () => {
    const p = project();
    p.write('db.yaml', book('db', 'critical', 'db-ok'));
    p.write('files.yaml', book('files', 'important', 'files-ok'));
    p.write('work/db-ok', '');
    const r = await p.cli(['readiness', '-i', 'lab']);
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toMatch(/^Readiness of Run Test Ltd against inventory lab/m);
    expect(r.stdout).toMatch(/^Test service\s+db\s+critical\s+ready\s+not measured \(RPO 5m\)\s+never$/m);
    expect(r.stdout).toMatch(/^Test service\s+files\s+important\s+NOT READY/m);
    expect(r.stdout).toMatch(/^NOT READY: files \(important\)\n {2}- has-files-ok on h1: /m);
    expect(r.stdout).toMatch(/every critical service is ready \(some others are not\)/);
    // read-only: no main step ran, no journal, no history
    expect(p.has('db-changed') || p.has('files-changed')).toBe(false);
    expect(existsSync(path.join(p.stateDir, 'runs'))).toBe(false);
    expect(existsSync(path.join(p.stateDir, 'history.jsonl'))).toBe(false);
    // at once: each runbook's preflight started before the other's ended
    const times = (f: string) => Number(p.read(f)!.trim());
    expect(times('db-start')).toBeLessThan(times('files-end'));
    expect(times('files-start')).toBeLessThan(times('db-end'));
  });

  it('exits 1 when a critical service is not ready: a failed check or a host that cannot be reached, in text, JSON and JUnit', async () => {
    const p = project({ inventories: [{ name: 'broken', hosts: { h1: { address: '127.0.0.1', port: 1 } } }] });
    p.write('db.yaml', book('db', 'critical', 'db-ok'));
    const r = await p.cli(['readiness', '-i', 'lab', '--format', 'json', '--junit', 'reports/readiness.xml']);
    expect(r.code, r.out).toBe(1);
    const doc = JSON.parse(r.stdout) as Json;
    expect(doc.criticalNotReady).toEqual(['db']);
    expect(doc.services[0].reasons).toEqual([expect.stringMatching(/^has-db-ok on h1: /)]);
    expect(doc.services[0].checks.map((c) => `${c.step}:${c.result}`)).toEqual(
      expect.arrayContaining(['window:ok', 'has-db-ok:failed']),
    );
    const junit = readFileSync(path.join(p.dir, 'reports/readiness.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites name="lifeboat readiness" tests="1" failures="1"/);
    expect(junit).toMatch(
      /<testcase classname="readiness.lab" name="db \(critical\)"[^>]*><failure message="has-db-ok on h1: /,
    );

    const down = await p.cli(['readiness', '-i', 'broken']);
    expect(down.code, down.out).toBe(1);
    expect(down.stdout).toMatch(/^NOT READY: db \(critical\)\n {2}- h1 cannot be reached: /m);
    expect(down.stdout).toMatch(/1 critical service\(s\) NOT READY: db/);
  });

  it('shows the age and state of the last drill', async () => {
    const p = project();
    p.write('db.yaml', book('db', 'critical', 'db-ok'));
    p.write('work/db-ok', '');
    const drill = await p.cli(['rehearse', 'db', '-i', 'lab', '--yes', '--plain']);
    expect(drill.code, drill.out).toBe(0);
    const r = await p.cli(['readiness', '-i', 'lab', '--format', 'json']);
    expect(r.code, r.out).toBe(0);
    const doc = JSON.parse(r.stdout) as Json;
    expect(doc.services[0].drill).toMatchObject({ state: 'current', ago: '1 min ago' });
  });
});

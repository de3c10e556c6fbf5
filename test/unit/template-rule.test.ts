// Templates are one rule: the fields of templateFields take them, in the run, the dry run, the
// plan and the report alike; every other step string with a {{ is refused at file:line:col.
import { describe, it, expect } from 'vitest';
import { project, runIt, RB, planOf } from '../helpers/engine-harness.js';
import { checkSemantics } from '../../src/load/check-semantics.js';

const diags = (rb: string) => checkSemantics(project(rb)).filter((d) => d.severity === 'error');

describe('the template rule', () => {
  it('regression: a {{ }} in a field that does not take templates is an error at its line and column, not silent literal text', () => {
    const d = diags(
      RB(
        `
  - id: cap
    on: standby
    run: sha256sum /srv/file
    capture: sum
  - id: cmp
    on: standby
    run: sha256sum /srv/copy
    expect: { stdout: { match: "{{ captured.sum }}" } }
    when: { value: "{{ vars.mode }}", equals: "{{ vars.other }}" }
`,
        'vars: { mode: a, other: b }',
      ),
    );
    const bad = d.filter((x) => x.code === 'template-not-allowed');
    expect(bad.map((x) => x.message)).toEqual([
      "step 'cmp' expect.stdout.match: this field does not take templates; the {{ … }} would stay literal text",
      "step 'cmp' when.equals: this field does not take templates; the {{ … }} would stay literal text",
    ]);
    expect(bad.map((x) => `${x.file}:${x.line}:${x.col}`)).toEqual(['rb.yaml:19:32', 'rb.yaml:20:47']);
  });

  it('a title takes vars, roles and hosts, rendered once for every view; captured values are refused there', () => {
    const rb = RB(
      `
  - id: promote
    title: Promote {{ roles.standby }} ({{ hosts.standby.address }}) for {{ vars.site }}
    on: standby
    run: promote
    capture: x
  - id: later
    title: Use {{ captured.x }}
    on: standby
    run: "true"
`,
      'vars: { site: HQ }',
    );
    expect(planOf(rb).steps[0].title).toBe('Promote db2 (198.18.0.12) for HQ');
    expect(diags(rb).map((x) => `${x.code} ${x.line}:${x.col} ${x.message}`)).toEqual([
      "template-not-allowed 18:16 step 'later' title: {{ captured.x }} is not known when the plan is printed",
    ]);
  });

  it('regression: expect.stdout compares the output with a value captured earlier (a checksum taken on the source)', async () => {
    const rb = RB(`
  - id: source-sum
    on: primary
    run: sha256sum /srv/file
    capture: sum
  - id: replica-sum
    on: standby
    run: sha256sum /srv/copy
    expect: { stdout: "{{ captured.sum }}" }
`);
    const same = await runIt(rb, () => ({ stdout: 'abc123\n' }));
    expect(same.state.status).toBe('succeeded');
    expect(same.state.units['replica-sum@db2'].status).toBe('ok');
    const differs = await runIt(rb, (h) => ({ stdout: h === 'db1' ? 'abc123\n' : 'fff000\n' }));
    expect(differs.state.status).toBe('failed');
    expect(differs.state.units['replica-sum@db2'].reason).toBe("stdout was 'fff000', expected 'abc123'");
    expect(checkSemantics(project(rb)).filter((x) => x.severity === 'error')).toEqual([]);
  });

  it('until.stdout.contains takes a template too', async () => {
    const rb = RB(
      `
  - id: wait
    on: standby
    run: cat /srv/status
    until: { stdout: { contains: "{{ vars.want }}" } }
    interval: 1s
    timeout: 10s
`,
      'vars: { want: ready }',
    );
    const r = await runIt(rb, (_h, _c, n) => ({ stdout: n < 3 ? 'starting' : 'all ready now' }));
    expect(r.state.status).toBe('succeeded');
    expect(r.transport.calls).toHaveLength(3);
  });
});

describe('the template rule outside steps', () => {
  it('regression: a {{ }} in a runbook var, an inventory field or a site field is template-not-allowed at its line and column', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadProject } = await import('../../src/load/project.js');
    const dir = mkdtempSync(join(tmpdir(), 'lb-tpl-'));
    writeFileSync(
      join(dir, 'rb.yaml'),
      RB(
        `
  - id: one
    on: standby
    run: echo {{ vars.dir }}
`,
        `vars: { base: /srv, dir: "{{ vars.base }}/data" }
description: uses {{ roles.standby }}; runs \`{{ vars.dir }}/bin\` as written`,
      ),
    );
    writeFileSync(
      join(dir, 'inv.yaml'),
      `lifeboat: 1
kind: inventory
name: lab
environment: rehearsal
hosts:
  db1: { address: 198.18.0.11 }
  db2: { address: 198.18.0.12 }
vars:
  standby_ip: 198.18.0.12
  data_dir: "{{ vars.base }}/data"
`,
    );
    writeFileSync(
      join(dir, 'site.yaml'),
      `lifeboat: 1
kind: site
organisation: "{{ vars.org }}"
recovery_order: [t]
network:
  - { name: db VIP, kind: vip, address: "{{ vars.standby_ip }}", normally: db1 }
  - { name: files VIP, kind: vip, address: "10.0.0.{{ vars.n }}", normally: db1 }
`,
    );
    const p = loadProject([dir], { root: dir });
    expect(p.diagnostics).toEqual([]);
    const bad = checkSemantics(p)
      .filter((d) => d.code === 'template-not-allowed')
      .map((d) => `${d.file.replace(/.*\//, '')}:${d.line}:${d.col} ${d.message}`)
      .sort();
    expect(bad).toEqual([
      "inv.yaml:10:13 inventory 'lab' vars.data_dir: this field does not take templates; the {{ … }} would stay literal text",
      "rb.yaml:10:14 runbook 't' description: this field does not take templates; the {{ … }} would stay literal text",
      "rb.yaml:9:26 runbook 't' vars.dir: this field does not take templates; the {{ … }} would stay literal text",
      'site.yaml:3:15 site organisation: this field does not take templates; the {{ … }} would stay literal text',
      "site.yaml:7:44 site network.1.address: only a whole value `{{ vars.NAME }}` is read here (the inventory's var); other {{ … }} would stay literal text",
    ]);
  });

  it('the shipped project has no {{ outside the fields that take templates', async () => {
    const { loadProject } = await import('../../src/load/project.js');
    const { fileURLToPath } = await import('node:url');
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const p = loadProject([root + 'runbooks'], { root });
    expect(checkSemantics(p).filter((d) => d.code === 'template-not-allowed')).toEqual([]);
  });
});

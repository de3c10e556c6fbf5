// Ansible inventories read as lifeboat inventories (decision 0027): both forms, groups and
// children, the order vars win in, host ranges, and every refusal with its file:line:col.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sniffAnsible } from '../../src/load/ansible/load.js';
import { expandHostPattern } from '../../src/load/ansible/patterns.js';
import { lifeboatName } from '../../src/load/ansible/mapping.js';
import { parseAnsibleIni } from '../../src/load/ansible/ini.js';
import { effectiveVars, hostGroups } from '../../src/load/ansible/precedence.js';
import { addInventoryFile, loadForRun, loadProject, type Project } from '../../src/load/project.js';
import { resolvePlan } from '../../src/plan/resolve.js';
import type { Inventory } from '../../src/model/types.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** a folder with these files; returns the path of the first */
function files(map: Record<string, string>): string {
  const d = mkdtempSync(path.join(tmpdir(), 'lb-ansible-'));
  dirs.push(d);
  for (const [rel, text] of Object.entries(map)) {
    mkdirSync(path.dirname(path.join(d, rel)), { recursive: true });
    writeFileSync(path.join(d, rel), text);
  }
  return path.join(d, Object.keys(map)[0]);
}

function load(map: Record<string, string>): { project: Project; inv?: Inventory; file: string } {
  const file = files(map);
  const project: Project = {
    root: path.dirname(file),
    runbooks: new Map(),
    inventories: new Map(),
    files: new Map(),
    diagnostics: [],
  };
  const loaded = addInventoryFile(project, file);
  return { project, inv: loaded?.data as Inventory | undefined, file };
}

const errors = (p: Project) => p.diagnostics.filter((d) => d.severity === 'error');
const at = (p: Project, code?: string) =>
  [...p.diagnostics]
    .sort((a, b) => a.line - b.line || a.col - b.col)
    .filter((d) => !code || d.code === code)
    .map((d) => `${path.basename(d.file)}:${d.line}:${d.col} ${d.severity}`);

describe('host ranges', () => {
  it('numeric with leading zeros keeps the width; without, it does not; a step skips', () => {
    expect(expandHostPattern('web[01:03].example.com')).toEqual([
      'web01.example.com',
      'web02.example.com',
      'web03.example.com',
    ]);
    expect(expandHostPattern('db[8:10]')).toEqual(['db8', 'db9', 'db10']);
    expect(expandHostPattern('n[0:6:3]')).toEqual(['n0', 'n3', 'n6']);
  });
  it('alphabetic, and two ranges multiply', () => {
    expect(expandHostPattern('db-[a:c]')).toEqual(['db-a', 'db-b', 'db-c']);
    expect(expandHostPattern('r[1:2]-[a:b]')).toEqual(['r1-a', 'r1-b', 'r2-a', 'r2-b']);
  });
  it('refuses a backwards range, unequal widths and a mix of letters and digits', () => {
    expect(() => expandHostPattern('h[3:1]')).toThrow(/starts after it ends/);
    expect(() => expandHostPattern('h[01:100]')).toThrow(/same width/);
    expect(() => expandHostPattern('h[a:3]')).toThrow(/neither numeric/);
    expect(() => expandHostPattern('h[1-3]')).toThrow(/bracket/);
  });
  it('a bad range in a file is an error at the host, with what to write', () => {
    const { project, inv } = load({ 'hosts.ini': '[web]\nok1\n  web[9:1] ansible_user=root\n' });
    expect(inv).toBeUndefined();
    expect(at(project, 'ansible-host-range')).toEqual(['hosts.ini:3:3 error']);
    expect(errors(project)[0].message).toMatch(/starts after it ends/);
  });
});

describe('which format', () => {
  it('INI by extension or by content; YAML by its groups; a lifeboat file is neither', () => {
    expect(sniffAnsible('x.ini', '')).toBe('ini');
    expect(sniffAnsible('hosts', 'db1 ansible_host=10.0.0.1\n')).toBe('ini');
    expect(sniffAnsible('hosts', '[db]\ndb1\n')).toBe('ini');
    expect(sniffAnsible('hosts.yml', 'all:\n  hosts:\n    db1:\n')).toBe('yaml');
    expect(sniffAnsible('inv.yaml', 'lifeboat: 1\nkind: inventory\nname: x\nhosts: {}\n')).toBeUndefined();
    // a lifeboat YAML file with a mistake keeps its YAML diagnostics: never read as INI
    expect(sniffAnsible('lab.yaml', 'lifeboat: 1\n\tkind: inventory\n')).toBeUndefined();
  });
});

const INI = `
[all:vars]
ansible_user=allu
ansible_port=2200

[parent:children]
child

[parent:vars]
ansible_user=parentu
ansible_port=2201

[child]
h1 ansible_user=hostu
h2

[child:vars]
ansible_user=childu

[other]
h2
h3:2222
`;

describe('groups and the order vars win in', () => {
  it('host var > child group > parent group > all; host:port sets the port', () => {
    const { project, inv } = load({ 'hosts.ini': INI });
    expect(errors(project)).toEqual([]);
    expect(inv!.hosts.h1).toMatchObject({ user: 'hostu', port: 2201 });
    expect(inv!.hosts.h2).toMatchObject({ user: 'childu', port: 2201 });
    expect(inv!.hosts.h3).toMatchObject({ user: 'allu', port: 2222 });
  });

  it('groups are ordered by depth, then name; children of children count', () => {
    const p = parseAnsibleIni('hosts.ini', INI + '[top:children]\nparent\n');
    expect(hostGroups(p, 'h2')).toEqual(['other', 'top', 'parent', 'child']);
    expect(effectiveVars(p, 'h2').get('ansible_user')).toMatchObject({ value: 'childu', scope: 'group child' });
  });

  it("group_vars/ beat the inventory's group vars (even group_vars/all beats [child:vars], as in Ansible); host_vars/ beat the host line", () => {
    const { project, inv } = load({
      'hosts.ini': INI,
      'group_vars/parent.yaml': 'ansible_port: 2301\n',
      'group_vars/all.yml': 'ansible_user: allfile\nansible_port: 2300\n',
      'host_vars/h1.yaml': 'ansible_user: h1file\n',
    });
    expect(errors(project)).toEqual([]);
    expect(inv!.hosts.h1).toMatchObject({ user: 'h1file', port: 2301 });
    expect(inv!.hosts.h2).toMatchObject({ user: 'allfile', port: 2301 });
    expect(inv!.hosts.h3).toMatchObject({ user: 'allfile', port: 2222 });
  });

  it('the YAML form says the same as the INI form', () => {
    const { project, inv } = load({
      'hosts.yaml':
        [
          'all:',
          '  vars: { ansible_user: allu, ansible_port: 2200 }',
          '  children:',
          '    parent:',
          '      vars: { ansible_user: parentu, ansible_port: 2201 }',
          '      children:',
          '        child:',
          '          hosts:',
          '            h1: { ansible_user: hostu }',
          '            h2:',
          '          vars: { ansible_user: childu }',
          '    other:',
          '      hosts:',
          '        h2:',
          '        h3:2222:',
        ].join('\n') + '\n',
    });
    expect(errors(project)).toEqual([]);
    const ini = load({ 'hosts.ini': INI }).inv!;
    for (const h of ['h1', 'h2', 'h3']) expect({ ...inv!.hosts[h] }).toEqual({ ...ini.hosts[h] });
  });

  it('where each value came from, by file:line:col and var', () => {
    const file = files({
      'site.yaml': 'lifeboat: 1\nkind: site\norganisation: T\n',
      'rb.yaml':
        'lifeboat: 1\nkind: runbook\nname: rb\nversion: 1.0.0\ntitle: t\nservice: s\ntier: routine\nowner: o@example.com\nroles: { a: h1, b: h3 }\nsteps:\n  - id: x\n    on: [a, b]\n    run: "true"\n',
      'hosts.ini': INI,
      'host_vars/h1.yaml': 'ansible_host: 10.0.0.1\n',
    });
    const dir = path.dirname(file);
    const project = loadForRun(dir, { name: 'rb' })!;
    addInventoryFile(project, path.join(dir, 'hosts.ini'));
    const plan = resolvePlan(project, 'rb', 'hosts', { env: {} });
    const rel = (s: string) => s.replace(`${dir}/`, '');
    const o = Object.fromEntries(Object.entries(plan.hosts.h1.origins!).map(([k, v]) => [k, rel(v)]));
    expect(o).toMatchObject({
      address: expect.stringMatching(/host_vars\/h1\.yaml:1:1 \(ansible_host, host_vars of h1\)$/),
      user: expect.stringMatching(/hosts\.ini:14:4 \(ansible_user, host h1\)$/),
      port: expect.stringMatching(/hosts\.ini:11:1 \(ansible_port, group parent\)$/),
    });
    expect(rel(plan.hosts.h3.origins!.port)).toMatch(/hosts\.ini:22:1 \(host:port, host h3\)$/);
  });
});

describe('names', () => {
  it('a DNS name becomes its first label, and is dialled as written', () => {
    expect(lifeboatName('db1.example.com')).toBe('db1');
    expect(lifeboatName('10.0.0.5')).toBe('10-0-0-5');
    expect(lifeboatName('Web_1')).toBe('web-1');
    const { inv } = load({ 'hosts.ini': '[db]\ndb1.example.com\n' });
    expect(inv!.hosts.db1).toMatchObject({ address: 'db1.example.com' });
  });
  it('two Ansible names that would be one lifeboat name are refused', () => {
    const { project } = load({ 'hosts.ini': '[a]\ndb1.one.example\ndb1.two.example\n' });
    expect(at(project, 'ansible-host-name')).toEqual(['hosts.ini:3:1 error']);
  });
  it('the inventory is named after the file, or by lifeboat_name', () => {
    expect(load({ 'Prod Hosts.ini': 'h1\n' }).inv!.name).toBe('prod-hosts');
    expect(
      load({ 'hosts.ini': '[all:vars]\nlifeboat_name=dc2\nlifeboat_environment=production\n[g]\nh1\n' }).inv,
    ).toMatchObject({ name: 'dc2', environment: 'production' });
  });
});

describe('what lifeboat refuses or does not use', () => {
  it("another connection plugin is an error where it is set; local is the operator's machine", () => {
    const { project } = load({ 'hosts.ini': '[win]\nw1\n[win:vars]\nansible_connection=winrm\n' });
    expect(at(project, 'ansible-connection')).toEqual(['hosts.ini:4:1 error']);
    const ok = load({ 'hosts.ini': '[c]\nlocalhost ansible_connection=local\n' });
    expect(errors(ok.project)).toEqual([]);
    expect(ok.project.inventories.get('hosts')!.ansible!.local.has('localhost')).toBe(true);
  });
  it('ssh args that change the route or the user are errors; other ssh args, become methods and passwords are warnings', () => {
    const { project } = load({
      'hosts.yml':
        'all:\n  hosts:\n    h1:\n      ansible_ssh_common_args: "-o ProxyJump=bastion"\n    h2:\n      ansible_ssh_extra_args: "-o ServerAliveInterval=5"\n      ansible_become_method: su\n      ansible_password: hunter2\n',
    });
    expect(at(project, 'ansible-ssh-args')).toEqual(['hosts.yml:4:7 error', 'hosts.yml:6:7 warning']);
    expect(at(project, 'ansible-become')).toEqual(['hosts.yml:7:7 warning']);
    expect(at(project, 'ansible-password')).toEqual(['hosts.yml:8:7 warning']);
  });
  it('a template, a bad port or a bad address is an error at its var', () => {
    const { project } = load({
      'hosts.ini': '[g]\nh1 ansible_host="{{ ip }}"\nh2 ansible_port=99999\nh3 ansible_host=no_such!\n',
    });
    expect(at(project, 'ansible-var')).toEqual(['hosts.ini:2:4 error', 'hosts.ini:3:4 error', 'hosts.ini:4:4 error']);
  });
  it('vars of groups and hosts other than connection vars are not used, and say so once per group', () => {
    const { project, inv } = load({
      'hosts.ini': '[all:vars]\ndb_vip=10.0.0.9\n[g]\nh1 role=primary\n[g:vars]\na=1\nb=2\n',
    });
    expect(inv!.vars).toEqual({ db_vip: '10.0.0.9' });
    expect(at(project, 'ansible-unused-vars')).toEqual(['hosts.ini:4:4 warning', 'hosts.ini:6:1 warning']);
  });
});

describe('bad input', () => {
  it('each INI mistake at its line and column, with what to do', () => {
    const { project, inv } = load({
      'hosts.ini': '[g\nh1\n[g:vars]\nnot a pair\n[g:nonsense]\n[x:vars]\ny=1\n[h]\nh2 "unclosed\nh3 novalue\nh4\n',
    });
    expect(inv).toBeUndefined();
    // [g is broken, so [g:vars] and [x:vars] are for groups never declared
    expect(at(project)).toEqual([
      'hosts.ini:1:1 error',
      'hosts.ini:3:2 error',
      'hosts.ini:4:1 error',
      'hosts.ini:5:4 error',
      'hosts.ini:6:2 error',
      'hosts.ini:7:1 warning',
      'hosts.ini:9:1 error',
      'hosts.ini:10:4 error',
    ]);
    expect(project.diagnostics.every((d) => d.hint)).toBe(true);
  });
  it('a YAML group whose hosts are a list is an error at the list', () => {
    const { project } = load({
      'hosts.yaml': 'all:\n  children:\n    web:\n      hosts:\n        - h1\n    db:\n      hosts: { d1: }\n',
    });
    expect(at(project, 'ansible-inventory')).toEqual(['hosts.yaml:5:9 error']);
  });
  it('a vars file that is not a mapping, and a loop of children', () => {
    expect(at(load({ 'hosts.ini': '[g]\nh1\n', 'group_vars/g.yaml': '- a\n- b\n' }).project)).toEqual([
      'g.yaml:1:1 error',
    ]);
    expect(at(load({ 'hosts.ini': '[a:children]\nb\n[b:children]\na\n[a]\nh\n' }).project)).toEqual([
      'hosts.ini:4:1 error',
    ]);
  });
  it('an Ansible YAML inventory found in a folder walk is skipped with a note, not read as a broken lifeboat file', () => {
    const file = files({ 'hosts.yaml': 'all:\n  hosts:\n    h1:\n' });
    const project = loadProject([path.dirname(file)]);
    expect(project.diagnostics.map((d) => d.code)).toEqual(['ansible-inventory-skipped']);
    expect(project.inventories.size).toBe(0);
  });
});

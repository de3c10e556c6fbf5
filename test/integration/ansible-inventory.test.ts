// `-i` with an Ansible inventory (decision 0027): the shipped runbooks dry-run against the lab
// written as an Ansible inventory, INI and YAML (test/fixtures/ansible), resolve to the same
// hosts as against the lab's own inventory, and the dry run says where each value came from.
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { lifeboat, ROOT } from '../helpers/cli.js';
import { loadForRun, addInventoryFile } from '../../src/load/project.js';
import { resolvePlan } from '../../src/plan/resolve.js';

const LAB = 'runbooks/inventories/lab.yaml';
const INI = 'test/fixtures/ansible/hosts.ini';
const YAML = 'test/fixtures/ansible/hosts.yaml';
const RUNBOOKS = ['postgres-promote-standby', 'fileserver-failover', 'proxy-failover', 'mariadb-promote-replica'];

async function dryHosts(runbook: string, inventory: string) {
  const r = await lifeboat(['run', `runbooks/${runbook}.yaml`, '-i', inventory, '--dry-run', '--format', 'json'], {
    cwd: ROOT,
  });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as {
    hosts: Array<{
      name: string;
      address: string;
      port: number;
      user: string;
      jump?: string;
      origins: Record<string, string>;
    }>;
    steps: unknown[];
  };
  return {
    hosts: out.hosts.map(({ origins: _o, ...h }) => h).sort((a, b) => a.name.localeCompare(b.name)),
    origins: Object.fromEntries(out.hosts.map((h) => [h.name, h.origins])),
    steps: out.steps,
  };
}

describe('shipped runbooks against the lab as an Ansible inventory', () => {
  for (const rb of RUNBOOKS) {
    it(`${rb}: the same hosts and steps from lab.yaml, hosts.ini and hosts.yaml`, async () => {
      const [lab, ini, yaml] = await Promise.all([dryHosts(rb, LAB), dryHosts(rb, INI), dryHosts(rb, YAML)]);
      expect(lab.hosts.length).toBeGreaterThan(0);
      expect(ini.hosts).toEqual(lab.hosts);
      expect(yaml.hosts).toEqual(lab.hosts);
      expect(ini.steps).toEqual(lab.steps);
      expect(yaml.steps).toEqual(lab.steps);
    });
  }

  it('the text dry run names the file, line and var each value came from', async () => {
    const r = await lifeboat(['run', 'runbooks/proxy-failover.yaml', '-i', INI, '--dry-run'], { cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('proxy1 → root@198.18.0.41');
    expect(r.stdout).toContain(
      'address: test/fixtures/ansible/host_vars/proxy1.yaml:2:1 (ansible_host, host_vars of proxy1)',
    );
    // the group says 2222; host_vars/ say 22 and win
    expect(r.stdout).toContain(
      'port: test/fixtures/ansible/host_vars/proxy1.yaml:3:1 (ansible_port, host_vars of proxy1)',
    );
    expect(r.stdout).toContain('user: test/fixtures/ansible/hosts.ini:51:1 (ansible_user, group proxies)');
    expect(r.stdout).toContain(
      'identity files: test/fixtures/ansible/hosts.ini:11:1 (ansible_ssh_private_key_file, group all)',
    );
  });

  it('identity files, known_hosts and connect timeout resolve alike too', () => {
    const env = { HOME: '/home/op' };
    const plans = [LAB, INI, YAML].map((inv) => {
      const project = loadForRun(path.join(ROOT, 'runbooks'), { name: 'postgres-promote-standby' })!;
      const loaded = addInventoryFile(project, path.join(ROOT, inv))!;
      return resolvePlan(project, 'postgres-promote-standby', (loaded.data as { name: string }).name, { env });
    });
    const facts = (p: (typeof plans)[number]) =>
      Object.values(p.hosts).map((h) =>
        h.transport === 'ssh'
          ? {
              name: h.name,
              address: h.address,
              port: h.port,
              user: h.user,
              identityFiles: h.identityFiles,
              knownHosts: h.knownHosts,
              connectTimeoutMs: h.connectTimeoutMs,
            }
          : { name: h.name, transport: h.transport },
      );
    expect(facts(plans[1])).toEqual(facts(plans[0]));
    expect(facts(plans[2])).toEqual(facts(plans[0]));
    expect(plans[1].inventory.environment).toBe('rehearsal');
  });

  it('validate checks an Ansible inventory on its own, and a broken one names file:line:col', async () => {
    const ok = await lifeboat(['validate', INI, YAML], { cwd: ROOT });
    expect(ok.stdout + ok.stderr).toContain('0 errors');
    expect(ok.code).toBe(0);
    const bad = await lifeboat(
      ['run', 'runbooks/proxy-failover.yaml', '-i', 'test/fixtures/ansible/broken.ini', '--dry-run'],
      { cwd: ROOT },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      "test/fixtures/ansible/broken.ini:3:33: error: host 'proxy1': ansible_connection=winrm (host proxy1); lifeboat connects only over SSH or runs locally",
    );
    expect(bad.stderr).toContain(
      "test/fixtures/ansible/broken.ini:4:8: error: host 'proxy2': ansible_ssh_common_args (host proxy2) changes where or as whom ssh connects",
    );
    expect(bad.stderr).toMatch(/broken\.ini is not a valid inventory: nothing was run/);
  });
});

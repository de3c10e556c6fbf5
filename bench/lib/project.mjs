// Generates the benchmark's files: a lifeboat project (site, inventory of N hosts at
// 127.0.0.1…N, past 254 in 127.0.1.x and on; runbooks), 200 extra runbooks for the cold-start checks, an Ansible
// inventory and playbooks, and the OpenSSH scripts. Every tool does identical work.
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';

export const hostName = (i) => `h${i}`;
import { hostAddr } from './sshd.mjs';

export { hostAddr };
const range = (n) => Array.from({ length: n }, (_, i) => i + 1);
const KS = [1, 20, 40];

function inventory(sshd, hosts) {
  return `lifeboat: 1
kind: inventory
name: bench
environment: rehearsal
defaults: { user: ${sshd.user}, port: ${sshd.port}, identity_file: ${sshd.clientKeyPath} }
known_hosts: ${sshd.knownHostsPath}
connect_timeout: 300s
hosts:
${range(hosts)
  .map(
    (i) =>
      `  ${hostName(i)}: { address: ${hostAddr(i)}${sshd.portOf(i) === sshd.port ? '' : `, port: ${sshd.portOf(i)}`} }`,
  )
  .join('\n')}
`;
}

const header = (name, title) => `lifeboat: 1
kind: runbook
name: ${name}
version: 1.0.0
title: ${title}
tier: routine
objectives: { rto: 30m }
`;

/** bare ssh2's configuration (bench/lib/bare-ssh2.mjs): `steps` runs of `cmd` on hosts 1…`hosts` */
export function writeBareConfig(dir, sshd, hosts, steps, cmd, wrap = false) {
  const f = path.join(dir, `bare-${hosts}-${steps}${wrap ? '-wrap' : ''}.json`);
  const ids = range(hosts);
  const cfg = { hosts: ids.map(hostAddr), port: sshd.port, ports: ids.map((i) => sshd.portOf(i)), user: sshd.user };
  writeFileSync(f, JSON.stringify({ ...cfg, key: sshd.clientKeyPath, steps, cmd, wrap }));
  return f;
}

/** K steps of `cmd` on one host */
export function seqRunbook(name, k, cmd) {
  const steps = range(k)
    .map((i) => `  - id: s${i}\n    on: target\n    run: ${JSON.stringify(cmd)}\n`)
    .join('');
  return `${header(name, `${k} steps on one host`)}roles:\n  target: h1\nsteps:\n${steps}`;
}

/** `steps` steps, each on all `hosts` hosts at once (one host: no strategy, which lint refuses there) */
export function fanRunbook(name, hosts, steps, cmd) {
  const on = `[${range(hosts).map(hostName).join(', ')}]`;
  const parallel = hosts > 1 ? `    strategy: parallel\n    max_parallel: ${hosts}\n` : '';
  const body = range(steps)
    .map((i) => `  - id: s${i}\n    on: ${on}\n${parallel}    run: ${JSON.stringify(cmd)}\n`)
    .join('');
  return `${header(name, `${steps} steps on ${hosts} hosts`)}steps:\n${body}`;
}

/** a realistic runbook for validate/plan: roles, vars, templates, preflight, gate, expect, rollback */
function richRunbook(n) {
  const name = `svc-${String(n).padStart(3, '0')}`;
  return `${header(name, `Fail over service ${n}`)}service: Service ${n}
owner: ops@example.com
description: |
  Move service ${n} from its primary to its standby.
roles:
  primary: { host: h${1 + (n % 50)}, may_be_down: true }
  standby: h${51 + (n % 50)}
vars:
  data_dir: /srv/svc-${n}
  port: ${8000 + n}
steps:
  - id: standby-ready
    phase: preflight
    on: standby
    run: test -d {{ vars.data_dir }} || true
  - id: stop-primary
    on: primary
    run: echo stop {{ vars.port }}
    on_failure: continue
    timeout: 30s
  - id: promote
    on: standby
    confirm: Promote {{ roles.standby }}?
    run: echo promote {{ vars.data_dir }}
    rollback: echo demote {{ vars.data_dir }}
  - id: check
    on: standby
    run: echo ok
    expect: { stdout: ok }
    retries: 2
    retry_delay: 1s
  - id: tell
    manual: |
      Tell the users that service ${n} runs on {{ roles.standby }}.
`;
}

export function writeProject(dir, sshd, maxHosts, fan) {
  // a site with the one-host runbooks and a one-host inventory: a run reads its whole project,
  // so the fan-out files stay out of it (their cost shows in validate/plan of 200 runbooks)
  const site = (root, names, hosts) => {
    mkdirSync(path.join(root, 'runbooks'), { recursive: true });
    mkdirSync(path.join(root, 'inventories'), { recursive: true });
    writeFileSync(
      path.join(root, 'site.yaml'),
      `lifeboat: 1\nkind: site\norganisation: Bench\nrecovery_order: [${names.join(', ')}]\n`,
    );
    writeFileSync(path.join(root, 'inventories/bench.yaml'), inventory(sshd, hosts));
  };
  const root = path.join(dir, 'project');
  site(
    root,
    KS.map((k) => `k${k}`),
    1,
  );
  for (const k of KS) writeFileSync(path.join(root, `runbooks/k${k}.yaml`), seqRunbook(`k${k}`, k, 'true'));
  const fanRoot = path.join(dir, 'fanout');
  site(
    fanRoot,
    fan.map((h) => `fan${h}`),
    maxHosts,
  );
  for (const h of fan)
    writeFileSync(path.join(fanRoot, `runbooks/fan${h}.yaml`), fanRunbook(`fan${h}`, h, 5, 'echo x'));

  // 200 runbooks in a site of their own, for validate and plan
  const many = path.join(dir, 'many');
  mkdirSync(path.join(many, 'runbooks'), { recursive: true });
  mkdirSync(path.join(many, 'inventories'), { recursive: true });
  const svc = range(200).map((n) => `svc-${String(n).padStart(3, '0')}`);
  for (const [i, n] of svc.entries()) writeFileSync(path.join(many, `runbooks/${n}.yaml`), richRunbook(i + 1));
  writeFileSync(
    path.join(many, 'site.yaml'),
    `lifeboat: 1\nkind: site\norganisation: Bench\ncontacts:\n  - { name: Jo Smith, role: Incident lead, phone: "+44 20 7946 0000" }\nrecovery_order: [${svc.join(', ')}]\n`,
  );
  writeFileSync(path.join(many, 'inventories/bench.yaml'), inventory(sshd, 100));
  return { root, fanRoot, many };
}

export function writeAnsible(dir, sshd, maxHosts, fan) {
  const a = path.join(dir, 'ansible');
  mkdirSync(path.join(a, 'tmp'), { recursive: true });
  mkdirSync(path.join(a, 'cp'), { recursive: true });
  const hosts = range(maxHosts)
    .map((i) => `${hostName(i)} ansible_host=${hostAddr(i)}`)
    .join('\n');
  const groups = fan.map((h) => `[fan${h}]\n${range(h).map(hostName).join('\n')}`).join('\n\n');
  writeFileSync(
    path.join(a, 'hosts.ini'),
    `[bench]\n${hosts}\n\n${groups}\n\n[all:vars]
ansible_port=${sshd.port}
ansible_user=${sshd.user}
ansible_ssh_private_key_file=${sshd.clientKeyPath}
ansible_ssh_common_args='-o UserKnownHostsFile=${sshd.knownHostsPath} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'
ansible_python_interpreter=/usr/bin/python3
`,
  );
  // Ansible's own defaults otherwise (ssh with ControlPersist=60s, linear strategy)
  writeFileSync(
    path.join(a, 'ansible.cfg'),
    `[defaults]\nretry_files_enabled = False\nlocal_tmp = ${path.join(a, 'tmp')}\nnocolor = True\n\n[ssh_connection]\ncontrol_path_dir = ${path.join(a, 'cp')}\n`,
  );
  const play = (hostsPat, k, cmd) =>
    `- hosts: ${hostsPat}\n  gather_facts: false\n  tasks:\n${range(k)
      .map((i) => `    - name: s${i}\n      ansible.builtin.command: ${JSON.stringify(cmd)}\n`)
      .join('')}`;
  for (const k of [1, 20, 40]) writeFileSync(path.join(a, `k${k}.yml`), play('h1', k, 'true'));
  for (const h of fan) writeFileSync(path.join(a, `fan${h}.yml`), play(`fan${h}`, 5, 'echo x'));
  // between runs: close the ControlPersist masters of the previous run, so every run starts cold
  const cleanup = path.join(a, 'cleanup.sh');
  writeFileSync(
    cleanup,
    `#!/bin/sh\nfor s in ${path.join(a, 'cp')}/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit x 2>/dev/null; done; exit 0\n`,
  );
  chmodSync(cleanup, 0o755);
  return { dir: a, cfg: path.join(a, 'ansible.cfg'), inventory: path.join(a, 'hosts.ini'), cleanup };
}

/**
 * OpenSSH with a ControlMaster: per host a master in the background (`-M -N`, waited for so
 * its CPU counts), the commands one after another through it, then `-O exit`.
 */
export function writeOpenSsh(dir, sshd) {
  const o = path.join(dir, 'openssh');
  mkdirSync(o, { recursive: true });
  const args = [
    '-p',
    String(sshd.port),
    '-i',
    sshd.clientKeyPath,
    '-o',
    `UserKnownHostsFile=${sshd.knownHostsPath}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-l',
    sshd.user,
  ].join(' ');
  const host = path.join(o, 'host.sh');
  writeFileSync(
    host,
    `#!/bin/sh
# usage: host.sh ADDRESS N CMD — N times CMD on ADDRESS through one ControlMaster
a=$1; n=$2; c=$3; s=${o}/cm-$a-$$
ssh ${args} -o ControlMaster=yes -o ControlPath=$s -o ControlPersist=no -N $a & m=$!
t=0; while [ ! -S $s ]; do sleep 0.005; t=$((t+1)); [ $t -gt 2000 ] && { kill $m; exit 1; }; done
i=0; while [ $i -lt $n ]; do ssh ${args} -o ControlPath=$s $a "$c" >/dev/null || exit 1; i=$((i+1)); done
ssh -o ControlPath=$s -O exit $a 2>/dev/null; wait $m; exit 0
`,
  );
  chmodSync(host, 0o755);
  const fanout = path.join(o, 'fanout.sh');
  writeFileSync(
    fanout,
    `#!/bin/sh
# usage: fanout.sh HOSTS N CMD — all hosts at once (xargs -P HOSTS), N commands each
seq 1 $1 | sed 's/^/127.0.0./' | xargs -P $1 -I{} ${host} {} $2 "$3"
`,
  );
  chmodSync(fanout, 0o755);
  return { host, fanout };
}

// More of `lifeboat run` through the real CLI on a loopback sshd: sudo, env, local steps,
// reachability conditions, a host that accepts TCP but never speaks SSH, failures among
// parallel hosts, locks between two runs, and the run log afterwards.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { waitFor } from '../helpers/wait.js';
import { useSshdProjects, runbookYaml, resultOf } from '../helpers/project.js';

const lab = useSshdProjects();
let silent: net.Server;
let silentPort: number;
const sockets = new Set<net.Socket>();
const project = lab.project;

beforeAll(async () => {
  // accepts connections and never sends an SSH banner: a host that hangs
  silent = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as net.AddressInfo).port;
}, 180_000);
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent?.close(r));
});

describe('how commands run', () => {
  it('sudo: true runs as root through sudo -n; sudo: USER as that user; env reaches the command; on: local runs here', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'how',
        extra: 'vars:\n  greeting: hello there',
        steps: `
  - id: as-root
    on: t
    sudo: true
    run: id -u > {{ vars.dir }}/uid-root
  - id: as-nobody
    on: t
    sudo: nobody
    run: id -un
    capture: who
  - id: write-who
    on: t
    run: echo {{ captured.who }} > {{ vars.dir }}/who
  - id: with-env
    on: t
    env: { GREETING: "{{ vars.greeting }}", HOST_NAME: "{{ host.name }}" }
    run: echo "$GREETING from $HOST_NAME" > {{ vars.dir }}/env
  - id: here
    on: local
    run: echo "$$" > {{ vars.dir }}/local-pid; test -n "$BASH_VERSION"
`,
      }),
    );
    const r = await p.run('how');
    expect(r.code, r.out).toBe(0);
    expect(p.read('uid-root')).toBe('0\n');
    expect(p.read('who')).toBe('nobody\n');
    expect(p.read('env')).toBe('hello there from h1\n');
    expect(p.has('local-pid')).toBe(true);
    expect(resultOf(r.stdout, 'here', 'local')).toBe('ok');
  });

  it('a step on several hosts in parallel: one host failing fails the step; the others still report', async () => {
    const p = project({ hosts: 3 });
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'fan-fail',
        steps: `
  - id: each
    on: [h1, h2, h3]
    run: touch {{ vars.dir }}/{{ host.name }}; test {{ host.name }} != h2
  - id: after
    on: t
    run: touch {{ vars.dir }}/after
`,
      }),
    );
    const r = await p.run('fan-fail');
    expect(r.code, r.out).toBe(1);
    expect(resultOf(r.stdout, 'each', 'h1')).toBe('ok');
    expect(resultOf(r.stdout, 'each', 'h2')).toBe('FAILED');
    expect(resultOf(r.stdout, 'each', 'h3')).toBe('ok');
    expect(p.has('after')).toBe(false);
  });
});

describe('reachability', () => {
  it('`when: { unreachable: R }` runs the fencing step only when the primary is down', async () => {
    const steps = `
  - id: fence-by-pdu
    on: local
    when: { unreachable: primary }
    run: touch {{ vars.dir }}/pdu-fenced
  - id: fence-by-ssh
    on: primary
    when: { reachable: primary }
    run: touch {{ vars.dir }}/ssh-fenced
  - id: promote
    on: t
    run: touch {{ vars.dir }}/promoted
`;
    const roles = '  primary: { host: old, may_be_down: true }\n  t: h1';
    const down = project({
      inventory: {
        hosts: { h1: { address: '127.0.0.1' }, old: { address: '127.0.0.1', port: silentPort } },
        connectTimeout: '2s',
      },
    });
    down.write('rb.yaml', runbookYaml({ name: 'fence', roles, steps }));
    const r1 = await down.run('fence');
    expect(r1.code, r1.out).toBe(0);
    expect(['pdu-fenced', 'ssh-fenced', 'promoted'].filter((f) => down.has(f))).toEqual(['pdu-fenced', 'promoted']);
    // the silent host was given up after the inventory's connect_timeout
    expect(r1.stdout).toMatch(/\[old\] unreachable: .*timed out after 2s/);

    const up = project({ inventory: { hosts: { h1: { address: '127.0.0.1' }, old: { address: '127.0.0.2' } } } });
    up.write('rb.yaml', runbookYaml({ name: 'fence', roles, steps }));
    const r2 = await up.run('fence');
    expect(r2.code, r2.out).toBe(0);
    expect(['pdu-fenced', 'ssh-fenced', 'promoted'].filter((f) => up.has(f))).toEqual(['ssh-fenced', 'promoted']);
    expect(r2.stdout).toMatch(/\[fence-by-pdu\] skipped: primary \(old\) is reachable/);
  });

  it('a host that accepts TCP but never speaks SSH is unreachable after connect_timeout, not a hang', async () => {
    const p = project({
      inventory: { hosts: { h1: { address: '127.0.0.1', port: silentPort } }, connectTimeout: '2s' },
    });
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'hang',
        steps: `
  - id: touch
    on: t
    run: touch {{ vars.dir }}/ran
`,
      }),
    );
    const r = await p.run('hang');
    expect(r.code, r.out).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `\\[h1\\] unreachable: host h1 \\(127\\.0\\.0\\.1:${silentPort}\\) unreachable: connection timed out after 2s`,
      ),
    );
    expect(p.has('ran')).toBe(false);
  });
});

describe('two runs of one runbook', () => {
  it('a second run while the first holds the lock is refused and names the owner; afterwards it may run', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'exclusive',
        extra: 'lock: { on: t }',
        steps: `
  - id: hold
    on: t
    run: touch {{ vars.dir }}/holding; while test ! -f {{ vars.dir }}/release; do sleep 0.1; done
    timeout: 40s
`,
      }),
    );
    const first = p.run('exclusive');
    await waitFor(() => p.has('holding'), 'the first run to hold', 30_000);
    const second = await p.run('exclusive');
    expect(second.code, second.out).toBe(1);
    expect(second.stderr).toMatch(/runbook exclusive is locked: .*run \S+-exclusive-/);
    expect(second.stderr).toMatch(/talk to the owner/);
    writeFileSync(`${p.work}/release`, '');
    const r1 = await first;
    expect(r1.code, r1.out).toBe(0);
    const third = await p.run('exclusive');
    expect(third.code, third.out).toBe(0);
  });
});

describe('after a run', () => {
  it('`lifeboat runs` lists it and `lifeboat log` tells its timeline', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'logged',
        steps: `
  - id: one
    on: t
    run: echo one
  - id: two
    on: t
    run: exit 4
`,
      }),
    );
    const r = await p.run('logged');
    expect(r.code).toBe(1);
    const id = /run id (\S+):/.exec(r.stdout)?.[1];
    expect(id, r.out).toBeDefined();
    const runs = await p.cli(['runs']);
    expect(runs.code, runs.out).toBe(0);
    expect(runs.stdout).toContain(id!);
    expect(runs.stdout).toMatch(/failed/);
    const log = await p.cli(['log', id!]);
    expect(log.code, log.out).toBe(0);
    expect(log.stdout).toMatch(/h1\s+P?\d+\.\s+two\s+FAILED: exit code 4 \(exit 4, \S+\)/);
    expect(log.stdout).toMatch(/run failed in \S+: step 'two' failed/);
  });
});

// `lifeboat run` / `preflight` over several hosts of a real loopback sshd: parallel and serial
// fan-out, hosts that do not answer, host keys that are not known.
import { describe, it, expect, beforeAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { useSshdProjects, inventoryYaml, runbookYaml, resultOf } from '../helpers/project.js';

const lab = useSshdProjects();
let closedPort: number;
const project = lab.project;

/** a port nothing listens on: bound, then closed */
function deadPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  closedPort = await deadPort();
}, 180_000);

const five = { hosts: 5 };
const hostList = '[h1, h2, h3, h4, h5]';

describe('several hosts', () => {
  it('strategy parallel with max_parallel 2: never more than two hosts at once, and two do run together', async () => {
    if (!lab.sshd.allLoopback) return expect.fail('the sshd helper could not serve 127.0.0.2-5 (rdomain lo)');
    const p = project(five);
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'fan-out',
        roles: '  t: h1',
        steps: `
  - id: work
    on: ${hostList}
    strategy: parallel
    max_parallel: 2
    run: date +%s%N > {{ vars.dir }}/{{ host.name }}.start; sleep 1; date +%s%N > {{ vars.dir }}/{{ host.name }}.end
`,
      }),
    );
    const r = await p.run('fan-out');
    expect(r.code, r.out).toBe(0);
    const spans = ['h1', 'h2', 'h3', 'h4', 'h5'].map((h) => ({
      h,
      start: Number(p.read(`${h}.start`)),
      end: Number(p.read(`${h}.end`)),
    }));
    for (const s of spans) expect(s.end, s.h).toBeGreaterThan(s.start);
    // how many were running at each moment a host started
    const concurrency = spans.map((s) => spans.filter((o) => o.start <= s.start && s.start < o.end).length);
    expect(Math.max(...concurrency), JSON.stringify(spans)).toBe(2);
    for (const h of ['h1', 'h2', 'h3', 'h4', 'h5']) expect(resultOf(r.stdout, 'work', h)).toBe('ok');
  });

  it('strategy serial: one host after the other, in the listed order', async () => {
    if (!lab.sshd.allLoopback) return expect.fail('the sshd helper could not serve 127.0.0.2-5 (rdomain lo)');
    const p = project(five);
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'one-by-one',
        roles: '  t: h1',
        steps: `
  - id: work
    on: [h3, h1, h5, h2, h4]
    strategy: serial
    run: echo {{ host.name }} start >> {{ vars.dir }}/order; sleep 0.3; echo {{ host.name }} end >> {{ vars.dir }}/order
`,
      }),
    );
    const r = await p.run('one-by-one');
    expect(r.code, r.out).toBe(0);
    expect(p.read('order')?.trim().split('\n')).toEqual(
      ['h3', 'h1', 'h5', 'h2', 'h4'].flatMap((h) => [`${h} start`, `${h} end`]),
    );
  });

  it('serial stops at the first failing host', async () => {
    const p = project(five);
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'serial-stop',
        roles: '  t: h1',
        steps: `
  - id: work
    on: ${hostList}
    strategy: serial
    run: echo {{ host.name }} >> {{ vars.dir }}/order; test {{ host.name }} != h2
`,
      }),
    );
    const r = await p.run('serial-stop');
    expect(r.code, r.out).toBe(1);
    expect(p.read('order')).toBe('h1\nh2\n');
    expect(resultOf(r.stdout, 'work', 'h2')).toBe('FAILED');
    expect(resultOf(r.stdout, 'work', 'h3')).not.toBe('ok');
  });
});

describe('hosts that do not answer', () => {
  it('an unreachable host fails the run with a message naming host and address, worded unlike a failed command', async () => {
    const p = project({
      inventory: { hosts: { h1: { address: '127.0.0.1' }, gone: { address: '127.0.0.1', port: closedPort } } },
    });
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'dead',
        roles: '  t: gone',
        steps: `
  - id: touch
    on: t
    run: touch {{ vars.dir }}/ran
`,
      }),
    );
    const r = await p.run('dead');
    expect(r.code, r.out).toBe(1);
    expect(p.has('ran')).toBe(false);
    const lines = r.stdout.split('\n');
    const hostLine = lines.find((l) => /\[gone\] unreachable/.test(l));
    expect(hostLine, r.out).toBeDefined();
    expect(hostLine).toContain(`127.0.0.1:${closedPort}`);
    expect(hostLine).toMatch(/refused/i);
    // the summary says why, and it is not an exit code
    const row = lines.find((l) => l.startsWith('touch '));
    expect(row).toMatch(/unreachable/i);
    expect(row).not.toMatch(/exit code/);
    expect(r.stdout).not.toMatch(/FAILED: exit code/);
  });

  it('a may_be_down role whose host is unreachable is skipped "as expected" and the run succeeds', async () => {
    const p = project({
      inventory: { hosts: { h1: { address: '127.0.0.1' }, old: { address: '127.0.0.1', port: closedPort } } },
    });
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'failover',
        roles: '  primary: { host: old, may_be_down: true }\n  t: h1',
        steps: `
  - id: fence-old
    on: primary
    on_failure: continue
    run: touch {{ vars.dir }}/fenced
  - id: promote
    on: t
    run: touch {{ vars.dir }}/promoted
`,
      }),
    );
    const r = await p.run('failover');
    expect(r.code, r.out).toBe(0);
    expect(p.has('promoted')).toBe(true);
    expect(p.has('fenced')).toBe(false);
    expect(r.stdout).toMatch(/\[fence-old @ old\] skipped: old unreachable, as expected \(may be down\)/);
    expect(resultOf(r.stdout, 'fence-old', 'old')).toBe('skipped');
  });

  it("a dead host delays only what needs it: a live host's five preflight steps finish before the dead host's connect_timeout ends", async () => {
    // a host that takes the TCP connection and never says a word: only connect_timeout ends the wait
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      const p = project({
        inventory: {
          connectTimeout: '20s',
          hosts: { h1: { address: '127.0.0.1' }, dead: { address: '127.0.0.1', port: silentPort } },
        },
      });
      p.write(
        'rb.yaml',
        runbookYaml({
          name: 'dead-host',
          roles: '  old: { host: dead, may_be_down: true }\n  t: h1',
          steps: `
${[1, 2, 3, 4, 5].map((i) => `  - id: pre${i}\n    phase: preflight\n    on: t\n    run: echo pre${i} >> {{ vars.dir }}/order\n`).join('')}
  - id: fence-old
    on: old
    run: touch {{ vars.dir }}/fenced
  - id: promote
    on: t
    run: echo promote >> {{ vars.dir }}/order
`,
        }),
      );
      const r = await p.run('dead-host');
      expect(r.code, r.out).toBe(0);
      expect(p.read('order')?.trim().split('\n')).toEqual(['pre1', 'pre2', 'pre3', 'pre4', 'pre5', 'promote']);
      const j = p.journals()[0];
      const at = (pred: (l: (typeof j)[number]) => boolean) => j.findIndex(pred);
      const deadKnown = at((l) => l.type === 'host-state' && l.host === 'dead');
      const fifthDone = at((l) => l.type === 'step-finished' && l.step === 'pre5');
      expect(deadKnown, JSON.stringify(j.map((l) => [l.type, l.step ?? l.host]))).toBeGreaterThan(0);
      expect(j[deadKnown]).toMatchObject({ reachable: false, kind: 'unreachable' });
      // the order of events, not a speed: all five finished while the dead host was still being tried
      expect(fifthDone).toBeGreaterThan(0);
      expect(fifthDone).toBeLessThan(deadKnown);
      expect(j.find((l) => l.type === 'step-skipped' && l.step === 'fence-old')).toBeTruthy();
      expect(p.has('fenced')).toBe(false);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  }, 90_000);

  it('an unknown host key (empty known_hosts) is refused with its fingerprint; nothing runs', async () => {
    const p = project();
    const empty = path.join(p.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    p.write('inventories/lab.yaml', inventoryYaml(lab.sshd, { knownHosts: empty, vars: { dir: p.work } }));
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'trust',
        steps: `
  - id: touch
    on: t
    run: touch {{ vars.dir }}/ran
`,
      }),
    );
    const r = await p.run('trust');
    expect(r.code, r.out).toBe(1);
    expect(p.has('ran')).toBe(false);
    expect(r.stdout + r.stderr).toContain(lab.sshd.hostKeyFingerprint);
    expect(r.stdout).toMatch(/\[h1\] unreachable: .*(unknown|not known)/i);
    expect(r.stdout).not.toMatch(/exit code/);
  });
});

describe('lifeboat preflight', () => {
  it('runs only the preflight steps and reports an unreachable may_be_down host as expected (exit 0)', async () => {
    const p = project({
      inventory: { hosts: { h1: { address: '127.0.0.1' }, old: { address: '127.0.0.1', port: closedPort } } },
    });
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'checks',
        roles: '  primary: { host: old, may_be_down: true }\n  t: h1',
        steps: `
  - id: standby-ok
    phase: preflight
    on: t
    run: touch {{ vars.dir }}/checked
  - id: primary-state
    phase: preflight
    on: primary
    on_failure: continue
    run: touch {{ vars.dir }}/primary-checked
  - id: change
    on: t
    run: touch {{ vars.dir }}/changed
`,
      }),
    );
    const r = await p.cli(['preflight', 'checks', '-i', 'lab', '--plain']);
    expect(r.code, r.out).toBe(0);
    expect(p.has('checked')).toBe(true);
    expect(p.has('changed')).toBe(false);
    expect(p.has('primary-checked')).toBe(false);
    expect(r.stdout).toMatch(/unreachable, as expected/);
    expect(r.stdout).not.toMatch(/^change\s/m);
  });

  it('fails (exit 1) when a preflight check fails, and still changes nothing', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'checks-fail',
        steps: `
  - id: must-hold
    phase: preflight
    on: t
    run: test -f {{ vars.dir }}/nope
  - id: change
    on: t
    run: touch {{ vars.dir }}/changed
`,
      }),
    );
    const r = await p.cli(['preflight', 'checks-fail', '-i', 'lab', '--plain']);
    expect(r.code, r.out).toBe(1);
    expect(resultOf(r.stdout, 'must-hold', 'h1')).toBe('FAILED');
    expect(p.has('changed')).toBe(false);
  });
});

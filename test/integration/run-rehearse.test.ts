// Dry runs, rehearsals and the production-side checks, through the real CLI on a loopback sshd:
// --dry-run opens no connection (the sshd's own log says so), rehearse refuses production and
// anything sharing its addresses, records history and JUnit, drills tells current from stale.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { waitFor } from '../helpers/wait.js';
import { useSshdProjects, runbookYaml } from '../helpers/project.js';

const lab = useSshdProjects();
const project = lab.project;

/** connections the sshd logged so far ("Connection from … port …", LogLevel VERBOSE) */
const connections = () =>
  readFileSync(lab.sshd.logPath, 'utf8')
    .split('\n')
    .filter((l) => /^Connection from /.test(l)).length;
let markers = 0;
/**
 * Connections made by anything but this function, once the log has caught up: a marker
 * connection of its own is made and waited for in the sshd's log (an event, not a sleep), so a
 * connection made before it, by a process that has exited, has had its turn to be logged.
 */
async function settledConnections(): Promise<number> {
  const port = await new Promise<number>((resolve, reject) => {
    const s = net.connect(lab.sshd.port, '127.0.0.1', () => {
      const lp = s.localPort!;
      s.destroy();
      resolve(lp);
    });
    s.on('error', reject);
  });
  markers++;
  await waitFor(
    () =>
      new RegExp(`^Connection from 127\\.0\\.0\\.1 port ${port} `, 'm').test(readFileSync(lab.sshd.logPath, 'utf8')),
    `the marker connection from port ${port} in the sshd log`,
  );
  return connections() - markers;
}

const drillSteps = `
  - id: pre
    phase: preflight
    on: t
    run: test -d {{ vars.dir }}
  - id: stop-app
    on: t
    run: echo stopped >> {{ vars.dir }}/{{ host.name }}-log
    rollback: echo restarted >> {{ vars.dir }}/{{ host.name }}-log
  - id: promote
    on: t
    confirm: Promote {{ roles.t }}?
    run: echo promoted >> {{ vars.dir }}/{{ host.name }}-log
  - id: record
    manual: Write the ticket number down.
    record: ticket
  - id: done
    on: t
    run: echo ticket {{ captured.ticket }} >> {{ vars.dir }}/{{ host.name }}-log
`;

describe('run --dry-run', () => {
  it('opens no connection (the sshd logs none) and changes nothing; a real run does connect', async () => {
    const p = project();
    p.write('rb.yaml', runbookYaml({ name: 'drill', steps: drillSteps }));
    const before = await settledConnections();
    const r = await p.run('drill', ['--dry-run']);
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toMatch(/^DRY RUN — nothing is connected to, nothing changes\./m);
    expect(r.stdout).toMatch(/no connection was opened/);
    expect(r.stdout).toMatch(/▲ POINT OF NO RETURN — asks: Promote h1\?/);
    expect(r.stdout).toMatch(/rollback: echo restarted >> \S+\/h1-log/);
    expect(await settledConnections()).toBe(before);
    expect(p.has('h1-log')).toBe(false);
    expect(existsSync(path.join(p.stateDir, 'runs'))).toBe(false);

    // the measure works: a real run is seen by the sshd
    const real = await p.run('drill', ['--yes', '--yes-manual', '--answer', 'record=T-1']);
    expect(real.code, real.out).toBe(0);
    expect(await settledConnections()).toBeGreaterThan(before);
    expect(p.read('h1-log')).toBe('stopped\npromoted\nticket T-1\n');
  });

  it('--format json is valid JSON with every step in order, and still no connection', async () => {
    const p = project();
    p.write('rb.yaml', runbookYaml({ name: 'drill', steps: drillSteps }));
    const before = await settledConnections();
    const r = await p.run('drill', ['--dry-run', '--format', 'json']);
    expect(r.code, r.out).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      connections: number;
      result: string;
      steps: {
        id: string;
        commands: { host: string; command: string }[];
        confirm?: string;
        rollback?: string;
        hosts: { name: string; address: string; port: number }[];
      }[];
    };
    expect(doc.steps.map((s) => s.id)).toEqual(['pre', 'stop-app', 'promote', 'record', 'done']);
    expect(doc.result).toBe('succeeded');
    const promote = doc.steps.find((s) => s.id === 'promote')!;
    expect(promote.confirm).toBe('Promote h1?');
    expect(promote.hosts).toEqual([{ name: 'h1', address: '127.0.0.1', user: lab.sshd.user, port: lab.sshd.port }]);
    expect(promote.commands[0].command).toMatch(/^echo promoted >> /);
    expect(doc.steps.find((s) => s.id === 'done')!.commands[0].command).toContain('<typed ticket>');
    expect(await settledConnections()).toBe(before);
  });
});

describe('run --dry-run of conditional steps', () => {
  it('prints a step the dry run would skip with its command rendered (no raw template)', async () => {
    const p = project({ inventory: { hosts: { h1: { address: '127.0.0.1' }, old: { address: '127.0.0.3' } } } });
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'fence',
        roles: '  primary: { host: old, may_be_down: true }\n  t: h1',
        steps: `
  - id: fence-by-pdu
    on: local
    when: { unreachable: primary }
    run: touch {{ vars.dir }}/pdu-fenced-{{ roles.primary }}
  - id: promote
    on: t
    run: touch {{ vars.dir }}/promoted
`,
      }),
    );
    const r = await p.run('fence', ['--dry-run']);
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toMatch(/runs only when primary \(old\) is unreachable/);
    expect(r.stdout).toContain(`$ touch ${p.work}/pdu-fenced-old`);
    expect(r.stdout).not.toContain('{{');
    expect(p.has('pdu-fenced-old')).toBe(false);
  });
});

/** A project whose lab (127.0.0.2) and production (127.0.0.1) inventories do not overlap. */
function twoEnvProject(tier: 'critical' | 'routine' = 'critical') {
  const p = project({
    inventory: { hosts: { h1: { address: '127.0.0.2' } } },
    inventories: [{ name: 'production', environment: 'production', hosts: { h1: { address: '127.0.0.1' } } }],
  });
  p.write('rb.yaml', runbookYaml({ name: 'drill', tier, steps: drillSteps }));
  return p;
}

const answers = ['--yes', '--yes-manual', '--answer', 'record=T-9'];

describe('lifeboat rehearse', () => {
  it('refuses an inventory marked production; nothing runs', async () => {
    const p = twoEnvProject();
    const r = await p.cli(['rehearse', 'drill', '-i', 'production', '--plain', ...answers]);
    expect(r.code, r.out).toBe(1);
    expect(r.stderr).toMatch(
      /inventory production is marked environment: production: a rehearsal never runs against it/,
    );
    expect(p.has('h1-log')).toBe(false);
    expect(existsSync(path.join(p.stateDir, 'history.jsonl'))).toBe(false);
  });

  it('refuses a rehearsal inventory sharing an address with a production inventory (interlock)', async () => {
    const p = project({
      inventories: [{ name: 'production', environment: 'production', hosts: { h1: { address: '127.0.0.1' } } }],
    });
    p.write('rb.yaml', runbookYaml({ name: 'drill', steps: drillSteps }));
    const r = await p.cli(['rehearse', 'drill', '-i', 'lab', '--plain', ...answers]);
    expect(r.code, r.out).toBe(1);
    expect(r.stderr).toMatch(/the rehearsal inventory lab shares addresses with production — refusing to rehearse/);
    expect(r.stderr).toMatch(/127\.0\.0\.1: host h1 address is also production host h1 address/);
    expect(p.has('h1-log')).toBe(false);
  });

  it('records history and a JUnit report; drills shows it current, then stale when the runbook changes', async () => {
    const p = twoEnvProject();
    const never = await p.cli(['drills']);
    expect(never.code, never.out).toBe(1);
    expect(never.stdout).toMatch(/^drill\s+critical\s+never\b.*never rehearsed/m);

    const junit = path.join(p.dir, 'junit.xml');
    const r = await p.cli(['rehearse', 'drill', '-i', 'lab', '--plain', '--junit', junit, ...answers]);
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toMatch(/rehearsal recorded in \.lifeboat\/history\.jsonl/);
    expect(p.read('h1-log')).toBe('stopped\npromoted\nticket T-9\n');
    const history = readFileSync(path.join(p.stateDir, 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ runbook: 'drill', inventory: 'lab', result: 'passed', version: '1.0.0' });

    const xml = readFileSync(junit, 'utf8');
    const doc = parseXml(xml);
    const suites = doc.children.filter((c) => c.name === 'testsuite');
    expect(doc.name).toBe('testsuites');
    expect(suites).toHaveLength(1);
    const cases = suites[0].children.filter((c) => c.name === 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual([
      'pre @ h1',
      'stop-app @ h1',
      'promote @ h1',
      'record',
      'done @ h1',
    ]);
    expect(suites[0].attrs).toMatchObject({ tests: '5', failures: '0' });
    expect(cases.flatMap((c) => c.children).filter((c) => c.name === 'failure')).toHaveLength(0);

    // the run report, in each format of the one registry; JSON is its model, with the same result
    const json = await p.cli(['report', '-o', '-', '--format', 'json']);
    expect(json.code, json.out).toBe(0);
    const model = JSON.parse(json.stdout) as { result: string; runbook: string; generated?: string };
    expect(model).toMatchObject({ runbook: 'drill', result: 'succeeded' });
    for (const f of ['r.json', 'r.md', 'r.html']) expect((await p.cli(['report', '-o', f])).code).toBe(0);
    // the same model, but for when it was made: two report commands may fall either side of a minute
    const withoutTime = ({ generated, ...rest }: { generated?: string }) => {
      expect(generated).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
      return rest;
    };
    expect(withoutTime(JSON.parse(readFileSync(path.join(p.dir, 'r.json'), 'utf8')))).toEqual(withoutTime(model));
    expect(readFileSync(path.join(p.dir, 'r.md'), 'utf8')).toMatch(/^# .*drill/m);
    const pdfOut = await p.cli(['report', '-o', '-', '--format', 'pdf']);
    expect(pdfOut.code).toBe(2);
    expect(pdfOut.stderr).toMatch(/a PDF is written to a file/);

    const current = await p.cli(['drills']);
    expect(current.code, current.out).toBe(0);
    expect(current.stdout).toMatch(/^drill\s+critical\s+\d{4}-\d\d-\d\d .*passed.*\bcurrent\b/m);

    // a production run of the rehearsed runbook needs no extra confirmation
    const prod = await p.cli(['run', 'drill', '-i', 'production', '--plain', ...answers]);
    expect(prod.code, prod.out).toBe(0);

    // change the runbook's content: the rehearsal no longer counts
    p.write(
      'rb.yaml',
      runbookYaml({ name: 'drill', tier: 'critical', steps: drillSteps.replace('echo promoted', 'echo promoted-now') }),
    );
    const stale = await p.cli(['drills']);
    expect(stale.code, stale.out).toBe(1);
    expect(stale.stdout).toMatch(
      /^drill\s+critical\s.*\bstale: runbook changed since the rehearsal .* \(same version number: bump it\)/m,
    );
  });

  it('JUnit: an allowed failure (on_failure: continue) is reported by name with its output, not as a failure of the drill; a skipped step is <skipped>', async () => {
    const p = project();
    p.write(
      'rb.yaml',
      runbookYaml({
        name: 'half',
        steps: `
  - id: pre
    phase: preflight
    on: t
    run: "true"
  - id: breaks
    on: t
    on_failure: continue
    run: echo 'the <disk> & "pool" broke' >&2; exit 5
  - id: not-now
    on: t
    when: { value: "{{ vars.dir }}", equals: elsewhere }
    run: "true"
  - id: fine
    on: t
    run: "true"
`,
      }),
    );
    const junit = path.join(p.dir, 'out', 'junit.xml');
    const r = await p.cli(['rehearse', 'half', '-i', 'lab', '--plain', '--junit', junit]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(existsSync(junit), r.out).toBe(true);
    const doc = parseXml(readFileSync(junit, 'utf8'));
    const suite = doc.children.find((c) => c.name === 'testsuite')!;
    const cases = suite.children.filter((c) => c.name === 'testcase');
    expect(cases).toHaveLength(4);
    expect(r.code, r.out).toBe(0);
    expect(suite.attrs).toMatchObject({ tests: '4', failures: '0', skipped: '2' });
    const breaks = cases.find((c) => c.attrs.name === 'breaks @ h1')!.children;
    expect(breaks.find((c) => c.name === 'skipped')?.attrs.message).toBe(
      'allowed failure (on_failure: continue): exit code 5: the <disk> & "pool" broke',
    );
    expect(breaks.find((c) => c.name === 'system-out')?.text).toContain('the <disk> & "pool" broke');
    const props = suite.children.find((c) => c.name === 'properties')!.children;
    expect(props.find((c) => c.attrs.name === 'allowed_failures')?.attrs.value).toBe('breaks on h1');
    expect(r.stdout).toMatch(/allowed failures \(on_failure: continue\): breaks on h1/);
    expect(cases.find((c) => c.attrs.name === 'not-now @ h1')!.children.map((c) => c.name)).toEqual(['skipped']);
  });
});

describe('drills', () => {
  it('a site.yaml without recovery_order does not crash drills', async () => {
    const p = project();
    p.write('rb.yaml', runbookYaml({ name: 'drill', steps: drillSteps }));
    p.write('site.yaml', 'lifeboat: 1\nkind: site\norganisation: Run Test Ltd\n');
    const r = await p.cli(['drills']);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toMatch(/^drill\s+routine\s+never\b/m);
  });
});

describe('a production run of a runbook never rehearsed', () => {
  it('without a terminal and without --yes is refused with a clear message; nothing runs', async () => {
    const p = twoEnvProject();
    const r = await p.cli(['run', 'drill', '-i', 'production', '--plain', '--yes-manual', '--answer', 'record=T-2']);
    expect(r.code, r.out).toBe(1);
    expect(r.stderr).toMatch(
      /the rehearsal of drill@1\.0\.0 is not current: .*nobody is there to confirm running it on production/,
    );
    expect(r.stderr).toMatch(/lifeboat rehearse/);
    expect(p.has('h1-log')).toBe(false);
    expect(existsSync(path.join(p.stateDir, 'runs'))).toBe(false);

    // --yes runs it anyway, and the decision is in the journal
    const y = await p.cli(['run', 'drill', '-i', 'production', '--plain', ...answers]);
    expect(y.code, y.out).toBe(0);
    const runs = path.join(p.stateDir, 'runs');
    const journal = readFileSync(path.join(runs, readdirSync(runs)[0], 'journal.jsonl'), 'utf8');
    expect(JSON.parse(journal.split('\n')[0]).notes.join('\n')).toMatch(/not current.*run anyway by/);
  });
});

// ---- a tiny XML reader: enough to check the JUnit structure (elements, attributes, text) ----

interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const unescape = (s: string) =>
  s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!);

/** Parses well-formed XML (no DTD, no CDATA); throws on anything unbalanced. */
function parseXml(xml: string): XmlNode {
  const src = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const root: XmlNode = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(src))) {
    pos = re.lastIndex;
    const top = stack[stack.length - 1];
    if (m[5] !== undefined) {
      top.text += unescape(m[5]);
      continue;
    }
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:.-]+)="([^"]*)"/g)) attrs[a[1]] = unescape(a[2]);
    const node: XmlNode = { name, attrs, children: [], text: '' };
    top.children.push(node);
    if (!selfClose) stack.push(node);
  }
  if (pos !== src.length) throw new Error(`XML does not parse at offset ${pos}: ${src.slice(pos, pos + 40)}`);
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  const elements = root.children;
  if (elements.length !== 1) throw new Error('XML needs exactly one root element');
  return elements[0];
}

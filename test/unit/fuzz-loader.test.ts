// Fuzzing the loader: a corpus made by mutating the shipped runbooks (and the golden good
// project) plus fast-check generated inputs. Every input must end in diagnostics or success,
// never a throw. Each case runs in a worker: a case that burns 10 s of CPU without answering is a
// hang (CPU time, not wall time, so a busy machine does not turn a slow case into a "hang"), and
// a case that takes 120 s of wall time without answering is stuck (a hang that does not spin).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HANG_CPU_MS = 10_000;
const STUCK_MS = 120_000;
/** CPU time of this process (the fuzz worker is its only busy thread while a case runs), in ms */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

const corpus: Buffer[] = [
  ...yamlFiles(path.join(root, 'runbooks')),
  ...yamlFiles(path.join(root, 'test/golden/good')),
].map((f) => readFileSync(f));

let worker: Worker;
let dir: string;
let nextId = 0;
let workerError: Error | undefined;
const stats = { cases: 0, withDiagnostics: 0, dryRuns: 0, crashes: [] as string[] };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-fuzz-'));
  // the inventories and site of the good project, so mutated runbooks meet real references
  for (const f of ['lab.yaml', 'production.yaml', 'vip-move.yaml'])
    writeFileSync(path.join(dir, f), readFileSync(path.join(root, 'test/golden/good', f)));
  worker = new Worker(new URL('./fuzz-worker.mjs', import.meta.url), { workerData: { dir } });
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => resolve());
  });
  worker.on('error', (e) => {
    workerError = e;
  });
});
afterAll(async () => {
  await worker?.terminate();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `fuzz: ${stats.cases} cases, ${stats.withDiagnostics} with diagnostics, ${stats.dryRuns} dry runs of accepted cases, ${stats.crashes.length} crashes`,
  );
});

/** validate one input in the worker; a throw is recorded, a hang fails the test */
function check(bytes: Uint8Array, label: string): Promise<void> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    if (workerError) {
      reject(workerError);
      return;
    }
    const cpu0 = cpuMs();
    const wall0 = Date.now();
    const timer = setInterval(() => {
      const cpu = cpuMs() - cpu0;
      const wall = Date.now() - wall0;
      if (cpu < HANG_CPU_MS && wall < STUCK_MS) return;
      clearInterval(timer);
      worker.off('message', onMsg);
      reject(new Error(`hang: ${label} did not finish (${Math.round(cpu)} ms of CPU, ${wall} ms of wall time)`));
    }, 250);
    const onMsg = (m: { id: number; ok: boolean; diagnostics?: number; dryRuns?: number; error?: string }) => {
      if (m.id !== id) return;
      clearInterval(timer);
      worker.off('message', onMsg);
      stats.cases++;
      if (m.ok) {
        if (m.diagnostics) stats.withDiagnostics++;
        stats.dryRuns += m.dryRuns ?? 0;
        resolve();
      } else {
        stats.crashes.push(`${label}: ${m.error}`);
        resolve();
      }
    };
    worker.on('message', onMsg);
    worker.postMessage({ id, bytes });
  });
}

const noCrashes = () => expect(stats.crashes.slice(0, 3)).toEqual([]);

describe('loader fuzzing', () => {
  it('has a corpus', () => {
    expect(corpus.length).toBeGreaterThan(3);
  });

  it('truncation at every Nth byte', async () => {
    // N grows with the corpus so the test stays around a second or two
    const total = corpus.reduce((n, b) => n + b.length, 0);
    const step = Math.max(7, Math.ceil(total / 700));
    for (const [i, src] of corpus.entries())
      for (let n = 0; n < src.length; n += step) await check(src.subarray(0, n), `file ${i} cut at ${n}`);
    noCrashes();
  }, 300_000);

  it('random byte flips, insertions and deletions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: corpus.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'insert', 'delete')), {
          minLength: 1,
          maxLength: 8,
        }),
        async (which, edits) => {
          let b = Buffer.from(corpus[which]);
          for (const [at, byte, op] of edits) {
            const i = at % Math.max(1, b.length);
            if (op === 'flip') b[i] = byte;
            else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
            else b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
          }
          await check(b, `edits ${JSON.stringify(edits)} of file ${which}`);
        },
      ),
      { numRuns: 400 },
    );
    noCrashes();
  }, 300_000);

  it('structured inputs: YAML punctuation soup and shaped runbooks', async () => {
    const soup = fc
      .array(
        fc.constantFrom(
          'a',
          ':',
          ' ',
          '\n',
          '  ',
          '- ',
          '{',
          '}',
          '[',
          ']',
          ',',
          '"',
          "'",
          '&a',
          '*a',
          '!!str',
          '|',
          '>',
          '#',
          '---',
          '{{',
          '}}',
          'kind: runbook\n',
          'lifeboat: 1\n',
          '\t',
          '\\',
          '%YAML 1.2\n',
          '? ',
        ),
        { maxLength: 80 },
      )
      .map((xs) => xs.join(''));
    await fc.assert(
      fc.asyncProperty(soup, async (s) => check(Buffer.from(s), `soup ${JSON.stringify(s)}`)),
      { numRuns: 200 },
    );
    // schema-valid-ish runbooks with random references, so the semantic checks and lint run
    const word = fc.constantFrom(
      'standby',
      'primary',
      'local',
      'db1',
      'db9',
      'x',
      'vip',
      'pgdata',
      '',
      'constructor',
      '__proto__',
      'toString',
    );
    const tpl = fc
      .array(
        fc.oneof(
          fc.constantFrom('echo ', "'", '"', '$(', ')', '`', ' ', 'rm -rf /x ', 'rsync -a ', '{{{ vars.vip }}}'),
          word.map((w) => `{{ ${['vars', 'roles', 'hosts', 'host', 'captured', 'secrets', 'x'][w.length % 7]}.${w} }}`),
        ),
        { minLength: 1, maxLength: 10 },
      )
      .map((xs) => xs.join(''));
    const step = fc.record(
      {
        id: fc.constantFrom('a', 'b', 'c', 'a'),
        on: fc.option(fc.oneof(word, fc.array(word, { maxLength: 3 })), { nil: undefined }),
        run: fc.option(tpl, { nil: undefined }),
        manual: fc.option(tpl, { nil: undefined }),
        include: fc.option(fc.constantFrom('vip-move', 'fuzz', 'nope'), { nil: undefined }),
        capture: fc.option(word, { nil: undefined }),
        confirm: fc.option(tpl, { nil: undefined }),
        when: fc.option(
          fc.record({
            unreachable: fc.option(word, { nil: undefined }),
            value: fc.option(tpl, { nil: undefined }),
            matches: fc.option(fc.constantFrom('(', '^a$', '[', '*'), { nil: undefined }),
          }),
          { nil: undefined },
        ),
        phase: fc.option(fc.constantFrom('preflight', 'main'), { nil: undefined }),
      },
      { requiredKeys: ['id'] },
    );
    const runbook = fc.array(step, { minLength: 1, maxLength: 6 }).map((steps) =>
      JSON.stringify({
        lifeboat: 1,
        kind: 'runbook',
        name: 'fuzz',
        version: '1.0.0',
        title: 'Fuzz',
        tier: 'routine',
        roles: { primary: { host: 'db1', may_be_down: true }, standby: 'db2' },
        vars: { vip: '198.18.0.100/24' },
        steps: steps.map((s) => JSON.parse(JSON.stringify(s))),
      }),
    );
    await fc.assert(
      fc.asyncProperty(runbook, async (s) => check(Buffer.from(s), `runbook ${s.slice(0, 200)}`)),
      { numRuns: 200 },
    );
    noCrashes();
  }, 300_000);

  it('hostile shapes: deep nesting, huge strings, alias bombs, duplicate keys, non-UTF-8', async () => {
    const base = corpus[0].toString('utf8');
    const cases: [string, Buffer][] = [
      [
        'flow nesting 10k',
        Buffer.from('lifeboat: 1\nkind: runbook\nvars: ' + '['.repeat(10_000) + ']'.repeat(10_000) + '\n'),
      ],
      [
        'flow mapping nesting 10k',
        Buffer.from('lifeboat: 1\nkind: runbook\nvars: ' + '{a: '.repeat(10_000) + '1' + '}'.repeat(10_000) + '\n'),
      ],
      [
        'block nesting 1k',
        Buffer.from(
          'lifeboat: 1\nkind: runbook\nvars:\n' +
            Array.from({ length: 1000 }, (_, i) => ' '.repeat(i + 1) + 'k:').join('\n') +
            ' 1\n',
        ),
      ],
      ['sequence nesting 10k', Buffer.from('a:\n' + '- '.repeat(10_000) + 'x\n')],
      ['huge string 1.5 MB', Buffer.from(base.replace(/run: .*/, `run: echo ${'x'.repeat(1_500_000)}`))],
      ['huge template count', Buffer.from(base.replace(/run: .*/, `run: echo ${'{{ vars.x }} '.repeat(20_000)}`))],
      [
        'many steps',
        Buffer.from(
          base +
            Array.from({ length: 5000 }, (_, i) => `  - { id: s${i}, on: standby, run: echo ${i} }`).join('\n') +
            '\n',
        ),
      ],
      [
        'alias bomb',
        Buffer.from(
          'a: &a [x,x,x,x,x,x,x,x,x,x]\n' +
            Array.from(
              { length: 9 },
              (_, i) =>
                `${'bcdefghij'[i]}: &${'bcdefghij'[i]} [${Array(10)
                  .fill('*' + 'abcdefghij'[i])
                  .join(',')}]`,
            ).join('\n') +
            '\n',
        ),
      ],
      ['alias in keys', Buffer.from('? &k [a, b]\n: 1\n*k : 2\n')],
      ['self-referencing anchor', Buffer.from('a: &a\n  b: *a\n')],
      ['duplicate keys', Buffer.from(base.replace(/^kind: .*$/m, (m) => `${m}\n${m}\nname: x\nname: y`))],
      [
        'non-UTF-8',
        Buffer.concat([Buffer.from(base.slice(0, 40)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(base.slice(40))]),
      ],
      ['UTF-16', Buffer.from('\ufeff' + base, 'utf16le')],
      ['NUL bytes', Buffer.from(base.replace(/\n/g, '\n\0'))],
      ['CRLF', Buffer.from(base.replace(/\n/g, '\r\n'))],
      ['only a BOM', Buffer.from('\ufeff')],
      ['tags', Buffer.from('lifeboat: !!binary aGVsbG8=\nkind: !custom runbook\nx: !!set {a, b}\n')],
      [
        'prototype keys',
        Buffer.from(
          'lifeboat: 1\nkind: runbook\n__proto__: { polluted: 1 }\nconstructor: 1\nsteps: [{ id: a, __proto__: x }]\n',
        ),
      ],
      ['long line of colons', Buffer.from(':'.repeat(200_000))],
      ['many documents', Buffer.from('a: 1\n---\n'.repeat(10_000))],
    ];
    for (const [label, bytes] of cases) await check(bytes, label);
    noCrashes();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 300_000);

  // the oracle "an accepted case resolves and dry-runs" must have met accepted cases (runs last)
  it('some cases were accepted, resolved on every inventory and dry-run to their end', () => {
    expect(stats.dryRuns).toBeGreaterThan(10);
  });
});

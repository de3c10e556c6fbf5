#!/usr/bin/env node
// The printed plan of 200 runbooks (the bench's "many" site, with services, phases with
// alternatives, situations and a network table added): wall time of `lifeboat plan` to HTML
// and to PDF (system Chromium), each run ROUNDS times, interleaved. Targets: HTML < 2 s, PDF < 10 s.
// Needs `npm run build`. Prints one JSON object.
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeProject } from './lib/project.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(root, 'dist/lifeboat.cjs');
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const loadBefore = loadavg().map((l) => l.toFixed(2));
const work = mkdtempSync(path.join(tmpdir(), 'lb-bench-plan-'));
try {
  // the inventory names a key and known_hosts; nothing connects
  const { many } = writeProject(
    work,
    { user: 'ops', port: 22, clientKeyPath: '~/.ssh/id_bench', knownHostsPath: '~/.ssh/known_hosts_bench' },
    100,
    [],
  );
  const svc = Array.from({ length: 200 }, (_, i) => `svc-${String(i + 1).padStart(3, '0')}`);
  const site = path.join(many, 'site.yaml');
  const phases = [];
  for (let i = 0; i < 200; i += 10) {
    const group = svc.slice(i, i + 10);
    phases.push(
      `  - phase: Group ${i / 10 + 1}\n    runbooks:\n      - one_of:\n          - { runbook: ${group[0]}, when: the primary is lost }\n          - { runbook: ${group[1]}, when: the move is planned }\n${group
        .slice(2)
        .map((n) => `      - ${n}`)
        .join('\n')}`,
    );
  }
  writeFileSync(
    site,
    `lifeboat: 1\nkind: site\norganisation: Bench\ncontacts:\n  - { name: Jo Smith, role: Incident lead, phone: "+44 20 7946 0000" }\n`,
  );
  appendFileSync(
    site,
    `services:\n${Array.from({ length: 20 }, (_, g) => `  s${g + 1}:\n    name: Service ${g + 1}\n    tier: ${['critical', 'important', 'routine'][g % 3]}\n    rto: 1h\n    rpo: 5m\n    runbooks: [${svc.slice(g * 10, g * 10 + 10).join(', ')}]\n${g ? `    depends_on: [s${g}]\n` : ''}    verify: [The service answers]\n`).join('')}`,
  );
  appendFileSync(site, `recovery_order:\n${phases.join('\n')}\n`);
  appendFileSync(
    site,
    `situations:\n${svc.map((n) => `  - { symptom: "${n} does not answer", runbook: ${n} }`).join('\n')}\n`,
  );
  appendFileSync(
    site,
    `network:\n${Array.from({ length: 20 }, (_, g) => `  - { name: vip-${g + 1}, kind: vip, normally: h${g + 1}, after: { ${svc[g * 10]}: h${g + 2} } }`).join('\n')}\n`,
  );
  const check = spawnSync(process.execPath, [CLI, 'validate', '-q', many], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`the bench site does not validate:\n${check.stdout}${check.stderr}`);
  const time = (out) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [CLI, 'plan', many, '-i', 'bench', '-o', path.join(work, out)], {
      encoding: 'utf8',
      env: { ...process.env, SOURCE_DATE_EPOCH: '1764000000' },
    });
    if (r.status !== 0) throw new Error(`lifeboat plan -o ${out} failed:\n${r.stdout}${r.stderr}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const html = [];
  const pdf = [];
  for (let i = 0; i < ROUNDS; i++) {
    html.push(time('plan.html'));
    pdf.push(time('plan.pdf'));
  }
  const pages = Number(
    /Pages:\s+(\d+)/.exec(spawnSync('pdfinfo', [path.join(work, 'plan.pdf')], { encoding: 'utf8' }).stdout)?.[1] ?? NaN,
  );
  const stat = (a) => {
    const s = [...a].sort((x, y) => x - y);
    return { minMs: Math.round(s[0]), medianMs: Math.round(s[Math.floor(s.length / 2)]), runs: s.map(Math.round) };
  };
  console.log(
    JSON.stringify(
      {
        runbooks: 200,
        rounds: ROUNDS,
        load: { before: loadBefore, after: loadavg().map((l) => l.toFixed(2)) },
        html: stat(html),
        pdf: { ...stat(pdf), pages },
        targets: { htmlUnder2s: Math.min(...html) < 2000, pdfUnder10s: Math.min(...pdf) < 10000 },
      },
      null,
      2,
    ),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

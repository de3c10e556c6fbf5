// `lifeboat plan` end to end, in-process with a captured terminal: files written, errors said.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, cpSync, readFileSync, writeFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { planCommand, formatFor, type PlanCmdOptions } from '../../src/commands/plan.js';
import { EXIT } from '../../src/cli/exit.js';
import type { CliIO } from '../../src/cli/io.js';

let tmp: string;
let site: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lb-plan-cli-'));
  site = path.join(tmp, 'site');
  cpSync(path.resolve('test/fixtures/plan/acme'), site, { recursive: true });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function io(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  const cli: CliIO = {
    stdout,
    stderr,
    stdin: new PassThrough(),
    env: { HOME: tmp, SOURCE_DATE_EPOCH: '1795000000', ...env },
    cwd: tmp,
  };
  return { cli, out: () => out, err: () => err };
}

async function plan(target: string | undefined, opts: PlanCmdOptions, env?: NodeJS.ProcessEnv) {
  const t = io(env);
  const code = await planCommand(target, opts, t.cli);
  return { code, out: t.out(), err: t.err() };
}

describe('lifeboat plan', () => {
  it('writes HTML and Markdown, named by the extension, reproducibly with SOURCE_DATE_EPOCH', async () => {
    const r = await plan('site', { inventory: 'production', output: 'plan.html' });
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toMatch(/^wrote plan\.html: 4 runbook\(s\), inventory production, digest [0-9a-f]{12}/);
    const html = readFileSync(path.join(tmp, 'plan.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('2026-11-18 ');
    expect((await plan('site', { inventory: 'production', output: 'plan2.html' })).code).toBe(EXIT.OK);
    expect(readFileSync(path.join(tmp, 'plan2.html'), 'utf8')).toBe(html);
    expect((await plan('site/site.yaml', { inventory: 'production', output: 'plan.md' })).code).toBe(EXIT.OK);
    expect(readFileSync(path.join(tmp, 'plan.md'), 'utf8')).toMatch(/^# Disaster Recovery Plan: Acme Call Centre Ltd/);
  });

  it('writes to stdout with -o -, and takes an inventory file path', async () => {
    const r = await plan('site', { inventory: 'site/inventories/lab.yaml', output: '-', format: 'md' });
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('Inventory **lab** (rehearsal environment)');
    const h = await plan('site', { inventory: 'lab', output: '-' });
    expect(h.out).toMatch(/^<!doctype html>/);
  });

  it('writes a PDF', async () => {
    const r = await plan('site', { inventory: 'production', output: 'plan.pdf', paper: 'letter' });
    expect(r.code).toBe(EXIT.OK);
    expect(readFileSync(path.join(tmp, 'plan.pdf')).subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('says how to get Chromium when it is missing, and that the HTML prints the same', async () => {
    const r = await plan(
      'site',
      { inventory: 'production', output: 'nochrome.pdf' },
      { LIFEBOAT_CHROMIUM: path.join(tmp, 'no-such-chromium') },
    );
    expect(r.code).toBe(EXIT.PROBLEMS);
    expect(r.err).toContain('apt-get install chromium');
    expect(r.err).toContain('print that from any browser');
    expect(existsSync(path.join(tmp, 'nochrome.pdf'))).toBe(false);
  });

  it('writes the plan model as JSON (by the extension or --format json, to a file or stdout), the same facts the printed plan shows', async () => {
    const r = await plan('site', { inventory: 'production', output: 'plan.json' });
    expect(r.code, r.err).toBe(EXIT.OK);
    const model = JSON.parse(readFileSync(path.join(tmp, 'plan.json'), 'utf8')) as {
      organisation: string;
      runbooks: { name: string }[];
      digestShort: string;
      contents: unknown[];
    };
    expect((await plan('site', { inventory: 'production', output: 'plan-for-json.html' })).code).toBe(EXIT.OK);
    const html = readFileSync(path.join(tmp, 'plan-for-json.html'), 'utf8');
    expect(model.runbooks.length).toBeGreaterThan(0);
    for (const rb of model.runbooks) expect(html).toContain(rb.name);
    expect(html).toContain(model.organisation);
    const out = await plan('site', { inventory: 'production', output: '-', format: 'json' });
    expect(out.code).toBe(EXIT.OK);
    expect(JSON.parse(out.out)).toEqual(model);
    expect(formatFor('x.JSON', undefined)).toBe('json');
  });

  it('refuses bad usage with a clear message', async () => {
    expect(formatFor('x.txt', undefined)).toEqual({ error: expect.stringContaining('cannot tell the format') });
    const cases: [PlanCmdOptions, RegExp][] = [
      [{ inventory: 'production', output: '-', format: 'pdf' }, /a PDF is written to a file/],
      [{ inventory: 'production', output: 'a.md', format: 'html' }, /does not match/],
      [{ inventory: 'nope', output: 'x.html' }, /no inventory named 'nope' \(found: lab, production\)/],
      [{ output: 'x.html' }, /which inventory\? give -i NAME \(one of: lab, production\)/],
    ];
    for (const [opts, msg] of cases) {
      const r = await plan('site', opts);
      expect(r.code, JSON.stringify(opts)).toBe(EXIT.USAGE);
      expect(r.err).toMatch(msg);
    }
    expect((await plan('missing-dir', { inventory: 'lab' })).code).toBe(EXIT.USAGE);
  });

  it('refuses to print a plan from runbooks with errors, and shows them', async () => {
    const broken = path.join(tmp, 'broken');
    cpSync(site, broken, { recursive: true });
    writeFileSync(
      path.join(broken, 'vip-move.yaml'),
      readFileSync(path.join(broken, 'vip-move.yaml'), 'utf8').replace('tier: important', 'tier: urgent'),
    );
    const r = await plan('broken', { inventory: 'production', output: 'broken.html' });
    expect(r.code).toBe(EXIT.PROBLEMS);
    expect(r.err).toMatch(/vip-move\.yaml:\d+:\d+: error/);
    expect(r.err).toContain('not printing a plan from runbooks with errors');
    expect(existsSync(path.join(tmp, 'broken.html'))).toBe(false);
  });

  it('needs a site', async () => {
    const lone = path.join(tmp, 'lone');
    mkdirSync(lone);
    cpSync(path.join(site, 'wiki-restore.yaml'), path.join(lone, 'wiki-restore.yaml'));
    const r = await plan('lone', { inventory: 'x', output: 'x.html' });
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.err).toMatch(/no site\.yaml found/);
  });

  it('uses --templates and refuses one that reads outside its folder', async () => {
    const brand = path.join(tmp, 'brand');
    mkdirSync(path.join(brand, 'partials'), { recursive: true });
    writeFileSync(path.join(brand, 'partials', 'cover.md.hbs'), '# {{md organisation}}: our own cover\n');
    const ok = await plan('site', { inventory: 'production', output: '-', format: 'md', templates: 'brand' });
    expect(ok.code).toBe(EXIT.OK);
    expect(ok.out).toMatch(/^# Acme Call Centre Ltd: our own cover/);
    const evil = path.join(tmp, 'evil');
    mkdirSync(path.join(evil, 'partials'), { recursive: true });
    symlinkSync('/etc/passwd', path.join(evil, 'partials', 'cover.md.hbs'));
    const bad = await plan('site', { inventory: 'production', output: '-', format: 'md', templates: 'evil' });
    expect(bad.code).toBe(EXIT.PROBLEMS);
    expect(bad.err).toMatch(/leads outside that folder/);
    expect(bad.out).not.toContain('root:');
  });

  it('warns about history lines it cannot read', async () => {
    const h = path.join(tmp, 'hist');
    cpSync(site, h, { recursive: true });
    writeFileSync(
      path.join(h, '.lifeboat', 'history.jsonl'),
      readFileSync(path.join(site, '.lifeboat', 'history.jsonl'), 'utf8') + 'garbage\n',
    );
    const r = await plan('hist', { inventory: 'production', output: 'hist.md' });
    expect(r.code).toBe(EXIT.OK);
    expect(r.err).toMatch(/1 line\(s\) of \.lifeboat\/history\.jsonl are not rehearsal records/);
  });
});

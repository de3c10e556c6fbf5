import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/load/project.js';
import { createEngine, loadTemplateSet, TemplateSetError } from '../../src/render/engine.js';
import { renderPlanDocument } from '../../src/render/plan-document.js';
import { Marked } from 'marked';

const NOW = new Date('2026-11-20T10:00:00Z');
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lb-tpl-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const site = (name: string) => {
  const root = path.resolve('test/fixtures/plan', name);
  const p = loadProject([root], { root });
  return p;
};

describe('template set and overrides', () => {
  it("has lifeboat's templates for HTML and Markdown", () => {
    const names = [...loadTemplateSet().keys()];
    for (const n of ['plan.html.hbs', 'plan.md.hbs', 'style.css']) expect(names).toContain(n);
    for (const p of ['cover', 'contacts', 'tiers', 'runbook', 'step', 'appendix']) {
      expect(names).toContain(`partials/${p}.html.hbs`);
      expect(names).toContain(`partials/${p}.md.hbs`);
    }
  });

  it('replaces templates by file name from the override folder (a company brands its plan)', async () => {
    const dir = path.join(tmp, 'brand');
    mkdirSync(path.join(dir, 'partials'), { recursive: true });
    writeFileSync(path.join(dir, 'style.css'), 'body { font-family: "Brand Sans"; } </style><script>x</script>');
    writeFileSync(
      path.join(dir, 'partials', 'cover.html.hbs'),
      '<section class="cover"><h1>BRANDED {{organisation}}</h1><p>{{digest}}</p></section>',
    );
    const p = site('acme');
    const doc = await renderPlanDocument(p, p.site!, 'production', { format: 'html', templatesDir: dir, now: NOW });
    const html = String(doc.output);
    expect(html).toContain('<h1>BRANDED Acme Call Centre Ltd</h1>');
    expect(html).toContain('font-family: "Brand Sans"');
    // CSS cannot close its <style> element
    expect(html).not.toContain('</style><script>');
    // the override files are inputs of the digest
    expect(doc.model.inputs.map((f) => f.path)).toContain('templates (override)/partials/cover.html.hbs');
    const plain = await renderPlanDocument(p, p.site!, 'production', { format: 'html', now: NOW });
    expect(plain.model.digest).not.toBe(doc.model.digest);
  }, 30_000);

  it('refuses a template that is a symlink out of the override folder', () => {
    const dir = path.join(tmp, 'evil');
    mkdirSync(path.join(dir, 'partials'), { recursive: true });
    writeFileSync(path.join(tmp, 'outside.txt'), 'secret outside');
    symlinkSync(path.join(tmp, 'outside.txt'), path.join(dir, 'partials', 'cover.html.hbs'));
    expect(() => loadTemplateSet({ overrideDir: dir })).toThrow(/leads outside that folder/);
  });

  it('refuses a partials folder that is a symlink', () => {
    const dir = path.join(tmp, 'evil2');
    mkdirSync(dir);
    mkdirSync(path.join(tmp, 'elsewhere'));
    writeFileSync(path.join(tmp, 'elsewhere', 'cover.html.hbs'), 'x');
    symlinkSync(path.join(tmp, 'elsewhere'), path.join(dir, 'partials'));
    expect(() => loadTemplateSet({ overrideDir: dir })).toThrow(TemplateSetError);
  });

  it('allows a symlink that stays inside the override folder', () => {
    const dir = path.join(tmp, 'inside');
    mkdirSync(path.join(dir, 'partials'), { recursive: true });
    writeFileSync(path.join(dir, 'mycover.html'), '<p>mine</p>');
    symlinkSync(path.join(dir, 'mycover.html'), path.join(dir, 'partials', 'cover.html.hbs'));
    expect(loadTemplateSet({ overrideDir: dir }).get('partials/cover.html.hbs')?.text).toBe('<p>mine</p>');
  });

  it('cannot reach a partial by a ../ name: only files of the set are partials', async () => {
    const dir = path.join(tmp, 'dotdot');
    mkdirSync(path.join(dir, 'partials'), { recursive: true });
    writeFileSync(path.join(tmp, 'leak.html.hbs'), 'LEAKED');
    writeFileSync(path.join(dir, 'partials', 'cover.html.hbs'), '{{> ../leak}}{{> ../../leak}}');
    const p = site('acme');
    await expect(
      renderPlanDocument(p, p.site!, 'production', { format: 'html', templatesDir: dir, now: NOW }),
    ).rejects.toThrow(/could not be found/);
  });

  it('refuses a missing override folder, and reports a template that does not compile', async () => {
    expect(() => loadTemplateSet({ overrideDir: path.join(tmp, 'nope') })).toThrow(/does not exist/);
    const dir = path.join(tmp, 'broken');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'plan.md.hbs'), '{{#each x}}unclosed');
    await expect(createEngine(loadTemplateSet({ overrideDir: dir }), 'md')).rejects.toThrow(/plan\.md\.hbs/);
  });

  it('caches compiled templates by content and gives the same output from the cache', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const p = site('acme');
    const a = await renderPlanDocument(p, p.site!, 'production', { format: 'md', now: NOW, cacheDir });
    const files = readdirSync(cacheDir);
    expect(files.length).toBeGreaterThan(5);
    const b = await renderPlanDocument(p, p.site!, 'production', { format: 'md', now: NOW, cacheDir });
    expect(readdirSync(cacheDir)).toEqual(files);
    expect(b.output).toBe(a.output);
  });
});

describe('escaping (string level; the browser test checks the DOM)', () => {
  it('prints every hostile value as text in HTML', async () => {
    const p = site('hostile');
    const html = String((await renderPlanDocument(p, p.site!, 'prod', { format: 'html', now: NOW })).output);
    expect(html.match(/<script/gi)).toBeNull();
    expect(html).not.toMatch(/<img|<iframe|<i>|<u>|<b>|javascript:/i);
    expect(html).toContain('echo &#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27;');
  });

  it('prints every hostile value as text in Markdown', async () => {
    const p = site('hostile');
    const md = String((await renderPlanDocument(p, p.site!, 'prod', { format: 'md', now: NOW })).output);
    // the only tag in the page is lifeboat's own anchor
    expect(
      md
        .replace(/<a id="[a-z0-9-]+"><\/a>/g, '')
        .replace(/```[\s\S]*?```/g, '')
        .replace(/`[^`\n]*`/g, ''),
    ).not.toMatch(/<[a-z/!]/i);
    expect(md).not.toMatch(/\]\(javascript:/i);
    expect(md).toContain("echo '<script>alert(1)</script>'");
    // rendered the way a wiki does (raw HTML allowed): still no active element
    const wiki = new Marked({ gfm: true }).parse(md, { async: false }) as string;
    expect(wiki).not.toMatch(/<(script|img|iframe|object|embed)\b|<[a-z][^>]*\son\w+=|href="javascript:/i);
    expect(wiki).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

// The printed plan in a real browser: the system's Chromium (playwright-core) reads the HTML,
// prints the PDF; poppler (pdftotext, pdftoppm) reads the PDF back.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { loadProject } from '../../src/load/project.js';
import { renderPlanDocument, type PlanDoc } from '../../src/render/plan-document.js';
import { launchChromium, printPdf } from '../../src/render/pdf.js';
import { foldCommand, PRINT_FOLD_WIDTH } from '../../src/render/markup.js';

const NOW = new Date('2026-11-20T10:00:00Z');
const SECRETS = {
  ACME_PG_REPL_PASSWORD: 'S3cret-Repl-Value-7781',
  LIFEBOAT_PLAN_TEST_SECRET: 'S3cret-Token-Value-9924',
};
const env = { ...process.env, ...SECRETS };
const A4_TEXT_WIDTH_PX = Math.floor(((210 - 28) / 25.4) * 96); // A4 minus the CSS page margins

let tmp: string;
let browser: Browser;
const docs: Record<string, { html: PlanDoc; md: PlanDoc }> = {};

async function render(dir: string, inventory: string) {
  const root = path.resolve(dir);
  const project = loadProject([root], { root });
  const html = await renderPlanDocument(project, project.site!, inventory, { format: 'html', now: NOW, env });
  const md = await renderPlanDocument(project, project.site!, inventory, { format: 'md', now: NOW, env });
  return { html, md };
}

async function open(html: string, width: number, media: 'screen' | 'print'): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 1100 } });
  const requests: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('data:') && r.url() !== 'about:blank') requests.push(r.url());
  });
  await page.emulateMedia({ media });
  await page.setContent(html, { waitUntil: 'load' });
  // a self-contained page asks the network for nothing
  expect(requests).toEqual([]);
  return page;
}

const pdfText = (file: string, first?: number) =>
  execFileSync('pdftotext', [...(first ? ['-f', String(first), '-l', String(first)] : []), '-layout', file, '-'], {
    encoding: 'utf8',
  });
const pdfPages = (file: string) =>
  Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))![1]);
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lb-plan-browser-'));
  browser = await launchChromium();
  docs.acme = await render('test/fixtures/plan/acme', 'production');
  docs.hostile = await render('test/fixtures/plan/hostile', 'prod');
  // the runbooks lifeboat ships, against their example production inventory
  docs.shipped = await render('runbooks', 'production');
});
afterAll(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the plan in Chromium', () => {
  it.each(['acme', 'shipped'])('shows every runbook, every step and every command, from the DOM (%s)', async (name) => {
    const { model, output } = docs[name].html;
    const page = await open(String(output), 900, 'screen');
    const seen = await page.evaluate(() => ({
      runbooks: [...document.querySelectorAll('section.runbook')].map((s) => ({
        name: s.getAttribute('data-runbook'),
        title: s.querySelector('h2')?.textContent?.replace(/\s+/g, ' ').trim(),
        steps: [...s.querySelectorAll('.step')].map((st) => st.getAttribute('data-step')),
        commands: [...s.querySelectorAll('pre.cmd code')].map((c) => c.textContent),
      })),
      pnr: [...document.querySelectorAll('.pnr')].map((p) => p.closest('.step')?.getAttribute('data-step')),
      ask: [...document.querySelectorAll('.ask')].map((p) => p.closest('.step')?.getAttribute('data-step')),
      serviceRunbooks: [...document.querySelectorAll('table.services tbody tr:not(.tier-row) a')].map((a) =>
        a.getAttribute('href'),
      ),
      orderRunbooks: [...document.querySelectorAll('.phase a')].map((a) => a.getAttribute('href')),
      breakglass: [...document.querySelectorAll('section.breakglass pre code')].map((c) => c.textContent),
    }));
    expect(seen.runbooks.map((r) => r.name)).toEqual(model.runbooks.map((r) => r.name));
    // the recovery order prints every runbook of the site in the site's order; the services table names each
    expect(seen.orderRunbooks).toEqual(
      model.phases.flatMap((p) => p.entries.flatMap((e) => e.choices.map((c) => `#${c.anchor}`))),
    );
    expect(new Set(seen.serviceRunbooks)).toEqual(
      new Set(model.services.flatMap((v) => v.runbooks.map((r) => `#${r.anchor}`))),
    );
    for (const rb of model.runbooks) {
      const dom = seen.runbooks.find((r) => r.name === rb.name)!;
      expect(dom.title).toBe(`${rb.section} ${rb.title}`);
      expect(dom.steps).toEqual([...rb.preconditions, ...rb.steps].map((s) => s.id));
      for (const s of [...rb.preconditions, ...rb.steps]) {
        // long one-line commands print folded with ` \` continuations (foldCommand's own tests check it)
        for (const c of [...s.commands, ...(s.rollback ?? []), ...(s.skipIf ?? [])])
          expect(dom.commands).toContain(foldCommand(c.command, PRINT_FOLD_WIDTH));
      }
    }
    // every question prints once: a point of no return where nothing undoes the step, else "ask first"
    const steps = model.runbooks.flatMap((r) => [...r.preconditions, ...r.steps]);
    expect(seen.pnr).toEqual(steps.filter((st) => st.confirm && st.pointOfNoReturn).map((st) => st.id));
    expect(seen.ask).toEqual(steps.filter((st) => st.confirm && !st.pointOfNoReturn).map((st) => st.id));
    expect(seen.pnr.length).toBeGreaterThan(0);
    expect(seen.breakglass).toEqual(model.hosts.map((h) => foldCommand(h.ssh, PRINT_FOLD_WIDTH)));
    await page.close();
  });

  it('overflows nothing at A4 width: long commands and digests wrap', async () => {
    for (const doc of [docs.acme.html, docs.hostile.html, docs.shipped.html]) {
      for (const [width, media] of [
        [A4_TEXT_WIDTH_PX, 'print'],
        [794, 'screen'],
      ] as const) {
        const page = await open(String(doc.output), width, media);
        const over = await page.evaluate(() => {
          const out: string[] = [];
          const body = document.body;
          if (body.scrollWidth > body.clientWidth) out.push(`body ${body.scrollWidth} > ${body.clientWidth}`);
          if (document.documentElement.scrollWidth > document.documentElement.clientWidth) out.push('html');
          const right = body.getBoundingClientRect().right + 0.5;
          for (const el of document.querySelectorAll('pre, table, .step, .pnr, .markdown')) {
            if (el.scrollWidth > el.clientWidth + 1)
              out.push(
                `${el.tagName}.${el.className} ${el.scrollWidth} > ${el.clientWidth}: ${el.textContent?.slice(0, 60)}`,
              );
          }
          for (const el of document.querySelectorAll('code, td, th')) {
            if (el.getBoundingClientRect().right > right)
              out.push(`${el.tagName} sticks out: ${el.textContent?.slice(0, 60)}`);
          }
          return out;
        });
        expect(over, `${media} at ${width}px (${doc.model.organisation})`).toEqual([]);
        await page.close();
      }
    }
  });

  it('has room in every command box for a folded line (PRINT_FOLD_WIDTH characters at body size): folding with \\ keeps lines whole on paper', async () => {
    for (const doc of [docs.acme.html, docs.shipped.html]) {
      const page = await open(String(doc.output), A4_TEXT_WIDTH_PX, 'print');
      const tooNarrow = await page.evaluate(
        (width: number) =>
          [...document.querySelectorAll<HTMLElement>('pre.cmd')]
            .filter((el) => {
              const probe = el.cloneNode(false) as HTMLElement;
              probe.style.whiteSpace = 'pre';
              probe.innerHTML = `<code>${'x'.repeat(width)}</code>`;
              el.after(probe);
              const over = probe.scrollWidth > probe.clientWidth + 1;
              probe.remove();
              return over;
            })
            .map((el) => el.textContent?.slice(0, 60)),
        PRINT_FOLD_WIDTH,
      );
      expect(tooNarrow, doc.model.organisation).toEqual([]);
      // and a command is at least body size
      const sizes = await page.evaluate(() => [
        getComputedStyle(document.body).fontSize,
        getComputedStyle(document.querySelector('pre.cmd code')!).fontSize,
      ]);
      expect(parseFloat(sizes[1])).toBeGreaterThanOrEqual(parseFloat(sizes[0]));
      await page.close();
    }
  });

  it('prints hostile values as text: no script, image or frame element, the text intact', async () => {
    const page = await open(String(docs.hostile.html.output), 900, 'screen');
    const dom = await page.evaluate(() => ({
      scripts: document.querySelectorAll('script').length,
      imgs: document.querySelectorAll('img').length,
      frames: document.querySelectorAll('iframe, object, embed').length,
      handlers: [...document.querySelectorAll('*')].filter((e) =>
        [...e.attributes].some((a) => a.name.startsWith('on')),
      ).length,
      jsLinks: [...document.querySelectorAll('a')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? ''))
        .length,
      italics: document.querySelectorAll('section.runbook h2 i').length,
      commands: [...document.querySelectorAll('pre.cmd code')].map((c) => c.textContent),
      title: document.querySelector('section.runbook h2')?.textContent,
      purpose: document.querySelector('section.runbook .markdown')?.textContent,
      org: document.querySelector('.cover h1')?.textContent,
    }));
    expect(dom).toMatchObject({ scripts: 0, imgs: 0, frames: 0, handlers: 0, jsLinks: 0, italics: 0 });
    expect(dom.commands).toContain("echo '<script>alert(1)</script>'");
    expect(dom.title).toBe('5.1 Restore <i>everything</i> & more');
    expect(dom.purpose).toContain("<img src=x onerror=alert('description')>");
    expect(dom.org).toBe('Evil "Corp" <b>&amp;</b> Sons');
    await page.close();
  });

  it('prints no secret value in HTML, PDF or Markdown, only where it comes from', async () => {
    const pdfFile = path.join(tmp, 'secrets.pdf');
    for (const site of ['acme', 'hostile']) {
      const root = path.resolve('test/fixtures/plan', site);
      const project = loadProject([root], { root });
      const pdf = await renderPlanDocument(project, project.site!, site === 'acme' ? 'production' : 'prod', {
        format: 'pdf',
        now: NOW,
        env,
      });
      writeFileSync(pdfFile, pdf.output);
      const texts = [String(docs[site].html.output), String(docs[site].md.output), pdfText(pdfFile)];
      for (const t of texts) for (const v of Object.values(SECRETS)) expect(t).not.toContain(v);
      const label = site === 'acme' ? '<from ACME_PG_REPL_PASSWORD>' : '<from LIFEBOAT_PLAN_TEST_SECRET>';
      expect(texts[1]).toContain(label);
      expect(squash(texts[2])).toContain(label);
    }
  });
});

describe('the PDF', () => {
  it("starts each runbook on its own page, in the site's order, at the page its contents line says; footer has page numbers and the digest", async () => {
    const root = path.resolve('test/fixtures/plan/acme');
    const project = loadProject([root], { root });
    const doc = await renderPlanDocument(project, project.site!, 'production', { format: 'pdf', now: NOW, env });
    const file = path.join(tmp, 'plan-a4.pdf');
    writeFileSync(file, doc.output);
    const pages = pdfPages(file);
    expect(execFileSync('pdfinfo', [file], { encoding: 'utf8' })).toMatch(
      /Page size:\s+595\.\d+ x 841\.\d+|Page size:\s+595\.\d+ x 842\.\d+/,
    );
    // one PNG per page
    execFileSync('pdftoppm', ['-r', '30', '-png', file, path.join(tmp, 'page')]);
    expect(readdirSync(tmp).filter((f) => /^page-\d+\.png$/.test(f))).toHaveLength(pages);
    const perPage = Array.from({ length: pages }, (_, i) => pdfText(file, i + 1));
    const top = (t: string) =>
      squash(
        t
          .split('\n')
          .filter((l) => l.trim())
          .slice(0, 3)
          .join(' '),
      );
    // a runbook's page begins with its kicker line (service · tier · runbook name) and its numbered title
    const starts = doc.model.runbooks.map(
      (rb) =>
        perPage.findIndex(
          (t) => top(t).includes(`RUNBOOK ${rb.name.toUpperCase()}`) && top(t).includes(`${rb.section} ${rb.title}`),
        ) + 1,
    );
    expect(starts.every((p) => p > 0)).toBe(true);
    expect(new Set(starts).size).toBe(starts.length);
    // the site's order, not the tiers' (vip-move is "important", db-failover "critical")
    expect(doc.model.runbooks.map((r) => r.name)).toEqual(['vip-move', 'db-failover', 'files-resync', 'wiki-restore']);
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    // the contents page, read back from the paper: each runbook's line ends with the page it starts on
    const contentsPage = perPage.findIndex((t) => /^\s*Contents\s*$/m.test(t));
    expect(contentsPage).toBeGreaterThanOrEqual(0);
    const lines = perPage[contentsPage].split('\n').map((l) => squash(l));
    doc.model.runbooks.forEach((rb, i) => {
      const line = lines.find((l) => l.startsWith(`${rb.section} ${rb.title}`));
      expect(line, `contents line of ${rb.section}`).toBeDefined();
      expect(Number(/ (\d+)$/.exec(line!)?.[1]), `page of ${rb.section} ${rb.title}`).toBe(starts[i]);
    });
    // every other numbered part too: its heading is on the page the contents give
    for (const c of doc.model.contents.filter((e) => e.level === 1 && e.section !== '5')) {
      const line = lines.find((l) => l.startsWith(`${c.section} ${c.title.split(':')[0]}`));
      const page = Number(/ (\d+)$/.exec(line ?? '')?.[1]);
      expect(squash(perPage[page - 1] ?? ''), `${c.section} ${c.title} on page ${page}`).toContain(
        `${c.section} ${c.title.split(/[:?]/)[0]}`,
      );
    }
    // break glass: every host's command, with the place its key is kept
    const bg = squash(perPage.join(' ')).replace(/\\ /g, '');
    for (const h of doc.model.hosts) expect(bg.replace(/\s/g, '')).toContain(h.ssh.replace(/\s/g, ''));
    expect(bg).toContain('kept in: Vault entry fs2');
    perPage.forEach((t, i) => {
      expect(squash(t)).toContain(`Page ${i + 1} of ${pages}`);
      expect(t).toContain(doc.model.digestShort);
    });
    // the running header: every page of a runbook, its first and the ones after, names the
    // section, the service and the runbook at its top; pages outside the runbooks do not
    const header = (t: string) => squash(t.split('\n').find((l) => l.trim()) ?? '');
    doc.model.runbooks.forEach((rb, i) => {
      const end = (starts[i + 1] ?? pages + 1) - 1;
      const last = i + 1 < starts.length ? end : starts[i];
      for (let p = starts[i]; p <= last; p++)
        expect(header(perPage[p - 1]), `header of page ${p}`).toBe(`${rb.section} · ${rb.service} — ${rb.name}`);
    });
    const long = doc.model.runbooks.findIndex((_, i) => i + 1 < starts.length && starts[i + 1] - starts[i] >= 3);
    expect(long, 'a runbook of three pages or more, to see a page in its middle').toBeGreaterThanOrEqual(0);
    expect(header(perPage[starts[long]])).toContain(doc.model.runbooks[long].name);
    expect(perPage.slice(0, starts[0] - 1).some((t) => / · .* — /.test(header(t)))).toBe(false);
    // POINT OF NO RETURN only on the step nothing undoes (promote); the other gates ask first
    const all = perPage.join('\n');
    expect(all.match(/POINT OF NO RETURN: this cannot be undone/g)).toHaveLength(1);
    const pnrPage = perPage.find((t) => t.includes('POINT OF NO RETURN: this cannot be undone'))!;
    expect(squash(pnrPage)).toMatch(/Promote db2 to primary\? This cannot be undone\./);
    expect(all.match(/Ask first:/g)!.length).toBeGreaterThanOrEqual(2);
  });

  it("prints the whole plan once and only its front pages again for the contents' numbers", async () => {
    const html = String(docs.acme.html.output);
    const printed = await printPdf(html, { footer: 'acme', pageNumbers: true, env });
    expect(printed).toMatchObject({ prints: 2, joined: true });
    const file = path.join(tmp, 'joined.pdf');
    writeFileSync(file, printed.pdf);
    const pages = pdfPages(file);
    // the joined file reads whole: every page has its text and its number of the total
    for (let p = 1; p <= pages; p++) expect(squash(pdfText(file, p))).toContain(`Page ${p} of ${pages}`);
    const contents = pdfText(file, printed.pages.get('contents'));
    for (const rb of docs.acme.html.model.runbooks) {
      const line = contents
        .split('\n')
        .map(squash)
        .find((l) => l.startsWith(`${rb.section} ${rb.title}`));
      expect(Number(/ (\d+)$/.exec(line ?? '')?.[1])).toBe(printed.pages.get(rb.anchor));
      expect(squash(pdfText(file, printed.pages.get(rb.anchor)))).toContain(`${rb.section} ${rb.title}`);
    }
  });

  it('prints the whole document again when no part after the contents starts a page', async () => {
    const filler = Array.from({ length: 120 }, (_, i) => `<p>line ${i + 1}</p>`).join('');
    const html = `<!doctype html><html><head><meta charset="utf-8"></head><body>
      <section id="contents"><table><tr><td>One</td><td data-anchor="one"></td></tr><tr><td>Two</td><td data-anchor="two" style="width: 10mm"></td></tr></table></section>
      <section id="one"><h2><a href="#one">One</a></h2>${filler}</section><section id="two"><h2><a href="#two">Two</a></h2>${filler}</section>
      <p><a href="#one">one</a> <a href="#two">two</a></p></body></html>`;
    const printed = await printPdf(html, { footer: 'x', pageNumbers: true, env });
    expect(printed.joined).toBe(false);
    expect(printed.prints).toBeGreaterThanOrEqual(2);
    const file = path.join(tmp, 'reprinted.pdf');
    writeFileSync(file, printed.pdf);
    const two = printed.pages.get('two')!;
    expect(two).toBeGreaterThan(1);
    expect(pdfText(file, two)).toContain('Two');
    expect(squash(pdfText(file, 1))).toMatch(new RegExp(`One ${printed.pages.get('one')} Two ${two}`));
  });

  it('prints on Letter paper too', async () => {
    const root = path.resolve('test/fixtures/plan/acme');
    const project = loadProject([root], { root });
    const doc = await renderPlanDocument(project, project.site!, 'production', {
      format: 'pdf',
      paper: 'letter',
      now: NOW,
      env,
    });
    const file = path.join(tmp, 'plan-letter.pdf');
    writeFileSync(file, doc.output);
    expect(execFileSync('pdfinfo', [file], { encoding: 'utf8' })).toMatch(/Page size:\s+612 x 792/);
  });
});

// HTML → PDF in the system's Chromium through playwright-core (loaded only when a PDF is
// asked for). Any browser prints the same HTML; this is the unattended way.
import { existsSync } from 'node:fs';
import { escapeHtml } from './markup.js';
import { destinationPages } from './pdf-pages.js';

export type Paper = 'a4' | 'letter';

export class ChromiumMissingError extends Error {
  constructor(tried: string[]) {
    super(`Chromium was not found (looked for ${tried.join(', ')}). Install it with \`apt-get install chromium\`, `
      + 'set LIFEBOAT_CHROMIUM to its path, or write HTML (-o plan.html) and print that from any browser: it prints the same.');
    this.name = 'ChromiumMissingError';
  }
}

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const tried = env.LIFEBOAT_CHROMIUM ? [env.LIFEBOAT_CHROMIUM] : CANDIDATES;
  const hit = tried.find((p) => existsSync(p));
  if (!hit) throw new ChromiumMissingError(tried);
  return hit;
}

// headless, no sandbox (root in containers), and nothing that phones home
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface PdfOptions {
  paper?: Paper;
  /** left part of every page's footer (page numbers go right) */
  footer: string;
  executablePath?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Fill the contents page: every element with `data-anchor` gets the page number where the
   * element with that id starts. Printed once to learn the pages, then again with them.
   */
  pageNumbers?: boolean;
}

export async function launchChromium(executablePath?: string, env: NodeJS.ProcessEnv = process.env) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: executablePath ?? findChromium(env), args: CHROMIUM_ARGS });
}

/** The page footer: Chromium fills the pageNumber / totalPages spans. */
export function footerTemplate(left: string): string {
  return `<div style="font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 7pt; color: #444; width: 100%; margin: 0 14mm; display: flex; justify-content: space-between;">`
    + `<span>${escapeHtml(left)}</span><span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>`;
}

export async function htmlToPdf(html: string, opts: PdfOptions): Promise<Buffer> {
  return (await printPdf(html, opts)).pdf;
}

/** the PDF and, with `pageNumbers`, where each anchor of the contents starts */
export async function printPdf(html: string, opts: PdfOptions): Promise<{ pdf: Buffer; pages: Map<string, number> }> {
  const browser = await launchChromium(opts.executablePath, opts.env);
  try {
    const page = await browser.newPage();
    // the plan is self-contained: refuse any request it might still make
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load' });
    // print margins come from the CSS @page rule; the footer replaces its margin boxes
    await page.addStyleTag({ content: '@page { @bottom-left { content: none } @bottom-right { content: none } }' }).catch(() => undefined);
    const print = () => page.pdf({
      format: opts.paper === 'letter' ? 'Letter' : 'A4',
      printBackground: true,
      displayHeaderFooter: true,
      headerTemplate: '<span></span>',
      footerTemplate: footerTemplate(opts.footer),
      margin: { top: '16mm', bottom: '18mm', left: '14mm', right: '14mm' },
      preferCSSPageSize: false,
    });
    let pdf = await print();
    if (!opts.pageNumbers) return { pdf, pages: new Map() };
    // the numbers sit in fixed-width cells, so writing them cannot move any page break; print
    // until the pages read back are the pages written (once more, at most twice)
    let pages = destinationPages(pdf);
    for (let round = 0; round < 3; round++) {
      const written = Object.fromEntries(pages);
      await page.evaluate((nums: Record<string, number>) => {
        for (const el of document.querySelectorAll<HTMLElement>('[data-anchor]')) el.textContent = String(nums[el.dataset.anchor ?? ''] ?? '');
      }, written);
      pdf = await print();
      const again = destinationPages(pdf);
      const same = again.size === pages.size && [...again].every(([k, v]) => pages.get(k) === v);
      pages = again;
      if (same) break;
    }
    return { pdf, pages };
  } finally {
    await browser.close();
  }
}

// HTML → PDF in the system's Chromium through playwright-core (loaded only when a PDF is
// asked for). Any browser prints the same HTML; this is the unattended way.
import { existsSync } from 'node:fs';
import { destinationPages } from './pdf-pages.js';
import { SpliceError, pageCount, replaceFirstPages } from './pdf-splice.js';

export type Paper = 'a4' | 'letter';

export class ChromiumMissingError extends Error {
  constructor(tried: string[]) {
    super(
      `Chromium was not found (looked for ${tried.join(', ')}). Install it with \`apt-get install chromium\`, ` +
        'set LIFEBOAT_CHROMIUM to its path, or write HTML (-o plan.html) and print that from any browser: it prints the same.',
    );
    this.name = 'ChromiumMissingError';
  }
}

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const tried = env.LIFEBOAT_CHROMIUM ? [env.LIFEBOAT_CHROMIUM] : CANDIDATES;
  const hit = tried.find((p) => existsSync(p));
  if (!hit) throw new ChromiumMissingError(tried);
  return hit;
}

// headless, no sandbox (root in containers), and nothing that phones home
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface PdfOptions {
  paper?: Paper;
  /** left part of every page's footer (page numbers go right) */
  footer: string;
  executablePath?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Fill the contents page: every element with `data-anchor` gets the page number where the
   * element with that id starts (see printPdf).
   */
  pageNumbers?: boolean;
  /** a Chromium already starting (startPrinter), used and closed here */
  printer?: Promise<Printer>;
}

type Browser = Awaited<ReturnType<typeof launchChromium>>;
type PdfPage = Awaited<ReturnType<Browser['newPage']>>;
export interface Printer {
  browser: Browser;
  page: PdfPage;
}

export async function launchChromium(executablePath?: string, env: NodeJS.ProcessEnv = process.env) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: executablePath ?? findChromium(env), args: CHROMIUM_ARGS });
}

/**
 * Chromium and a page that refuses every request, ready to print: started while the project
 * is still being read, it costs no time of its own (the caller closes it, or printPdf does).
 */
export async function startPrinter(executablePath?: string, env: NodeJS.ProcessEnv = process.env): Promise<Printer> {
  const browser = await launchChromium(executablePath, env);
  try {
    const page = await browser.newPage();
    // the plan is self-contained: refuse any request it might still make
    await page.route('**/*', (route) => route.abort());
    return { browser, page };
  } catch (e) {
    await browser.close();
    throw e;
  }
}

/** a value as a CSS string: every character but letters, digits and spaces escaped */
export function cssString(text: string): string {
  return '"' + text.replace(/[^A-Za-z0-9 ]/g, (c) => `\\${c.codePointAt(0)!.toString(16)} `) + '"';
}

const MARGIN_TEXT = "font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 7pt; color: #444;";

/**
 * The page footer, in the page's own margin boxes (CSS paged media): the document's running
 * headers live there too (named pages), which Chromium's footerTemplate cannot do. `total`
 * replaces counter(pages) when only the first pages of a longer print are printed.
 */
export function footerCss(left: string, total?: number): string {
  return (
    `@page { @bottom-left { content: ${cssString(left)}; ${MARGIN_TEXT} }` +
    ` @bottom-right { content: "Page " counter(page) " of " ${total === undefined ? 'counter(pages)' : `"${total}"`}; ${MARGIN_TEXT} } }`
  );
}

// Laying a long document out for the screen is work the print does again: off-screen parts
// are skipped on screen (content-visibility), and printing lays out everything anyway.
const SKIP_SCREEN_LAYOUT =
  '<style>@media screen { body > * { content-visibility: auto; contain-intrinsic-size: auto 1000px; } }</style>';
export const forPrint = (html: string) =>
  /<head[^>]*>/i.test(html) ? html.replace(/<head[^>]*>/i, (m) => m + SKIP_SCREEN_LAYOUT) : SKIP_SCREEN_LAYOUT + html;

export async function htmlToPdf(html: string, opts: PdfOptions): Promise<Buffer> {
  return (await printPdf(html, opts)).pdf;
}

const samePages = (a: Map<string, number>, b: Map<string, number>) =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

/**
 * The PDF and, with `pageNumbers`, where each anchor of the contents starts.
 *
 * The document is printed once whole; its named destinations give each anchor's page. The
 * numbers go into the `data-anchor` cells (fixed width: they cannot move a break), and only
 * the front of the document is printed again: the body's children up to the first one after
 * the numbers that starts a page, the rest hidden. Those pages replace the first pages of
 * the whole print (pdf-splice.ts), and the result is read back: every anchor must be on the
 * page its number says. When anything does not hold, the whole document is printed again
 * with the numbers until the pages read back are the pages written.
 */
export interface Printed {
  pdf: Buffer;
  pages: Map<string, number>;
  /** how many times Chromium printed */
  prints: number;
  /** the front pages came from a second print of the front alone, joined to the whole print */
  joined: boolean;
}

export async function printPdf(html: string, opts: PdfOptions): Promise<Printed> {
  const { browser, page } = await (opts.printer ?? startPrinter(opts.executablePath, opts.env));
  try {
    await page.setContent(forPrint(html), { waitUntil: 'load' });
    // print margins come from the CSS @page rule, the footer from its margin boxes
    await page.addStyleTag({ content: footerCss(opts.footer) });
    const print = () =>
      page.pdf({
        format: opts.paper === 'letter' ? 'Letter' : 'A4',
        printBackground: true,
        margin: { top: '16mm', bottom: '18mm', left: '14mm', right: '14mm' },
        preferCSSPageSize: false,
      });
    let pdf = await print();
    let prints = 1;
    if (!opts.pageNumbers) return { pdf, pages: new Map(), prints, joined: false };
    let pages = destinationPages(pdf);
    const fill = (nums: Map<string, number>) =>
      page.evaluate((written: Record<string, number>) => {
        for (const el of document.querySelectorAll<HTMLElement>('[data-anchor]'))
          el.textContent = String(written[el.dataset.anchor ?? ''] ?? '');
      }, Object.fromEntries(nums));
    await fill(pages);

    const counted = () => {
      prints++;
      return print();
    };
    const spliced = await printFront(page, pdf, pages, opts.footer, counted).catch((e: unknown) => {
      if (e instanceof SpliceError) return undefined;
      throw e;
    });
    if (spliced) return { pdf: spliced, pages, prints, joined: true };

    // the whole document again, until what is read back is what was written (twice at most)
    for (let round = 0; round < 3; round++) {
      await fill(pages);
      pdf = await counted();
      const again = destinationPages(pdf);
      const same = samePages(again, pages);
      pages = again;
      if (same) break;
    }
    return { pdf, pages, prints, joined: false };
  } finally {
    await browser.close();
  }
}

/** the front pages printed again with the numbers, spliced in; SpliceError when it does not hold */
async function printFront(
  page: PdfPage,
  whole: Buffer,
  pages: Map<string, number>,
  footer: string,
  print: () => Promise<Buffer>,
): Promise<Buffer> {
  // the first child of <body> after the numbers that starts a page: hidden from it on
  const cut = await page.evaluate(() => {
    const cells = document.querySelectorAll('[data-anchor]');
    let holder: Element | null = cells[cells.length - 1] ?? null;
    while (holder && holder.parentElement !== document.body) holder = holder.parentElement;
    let el = holder?.nextElementSibling ?? null;
    while (el && !['page', 'always', 'left', 'right', 'recto', 'verso'].includes(getComputedStyle(el).breakBefore))
      el = el.nextElementSibling;
    if (!el?.id) return null;
    for (let e: Element | null = el; e; e = e.nextElementSibling) e.setAttribute('data-lifeboat-later', '');
    return el.id;
  });
  const count = cut === null ? undefined : (pages.get(cut) ?? 0) - 1;
  if (count === undefined || count < 1) throw new SpliceError('no page-starting part after the contents');
  const total = pageCount(whole);
  const style = await page.addStyleTag({
    content: `[data-lifeboat-later] { display: none !important; }\n${footerCss(footer, total)}`,
  });
  let front: Buffer;
  try {
    front = await print();
  } finally {
    // as it was, for a whole print after all
    await style.evaluate((el) => (el as Element).remove());
    await page.evaluate(() => {
      for (const el of document.querySelectorAll('[data-lifeboat-later]')) el.removeAttribute('data-lifeboat-later');
    });
  }
  if (pageCount(front) !== count) throw new SpliceError('the front printed alone does not fill the same pages');
  const pdf = replaceFirstPages(whole, front, count);
  if (pageCount(pdf) !== total || !samePages(destinationPages(pdf), pages))
    throw new SpliceError('the joined PDF does not have the pages of the whole print');
  return pdf;
}

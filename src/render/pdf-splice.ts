// Replace the first pages of a PDF with the pages of another print of the same document:
// the plan is printed once whole, then only its front part again with the contents' page
// numbers filled in, and the two are joined here. Written for the PDFs Chromium (Skia) makes:
// one classic xref table, no object streams, named destinations in the catalog's /Dests.
// Anything else is refused with SpliceError (the caller prints the whole document again).

export class SpliceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpliceError';
  }
}

interface PdfObject {
  dict: string;
  stream?: string;
}

interface ParsedPdf {
  text: string;
  offsets: Map<number, number>;
  cache: Map<number, PdfObject>;
  trailer: string;
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;

/** the end of the literal or hex string that starts at `at` (an index just past it) */
function skipString(s: string, at: number): number {
  if (s[at] === '(') {
    let depth = 0;
    for (let i = at; i < s.length; i++) {
      const c = s[i];
      if (c === '\\') {
        i++;
        continue;
      }
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return i + 1;
    }
    throw new SpliceError('unterminated string');
  }
  const end = s.indexOf('>', at);
  if (end < 0) throw new SpliceError('unterminated hex string');
  return end + 1;
}

/** `fn` applied to the parts of `s` outside strings and comments (where references can be) */
export function mapOutsideStrings(s: string, fn: (code: string) => string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '<' && s[i + 1] === '<') {
      i++;
      continue;
    }
    if (c === '(' || c === '<') {
      const end = skipString(s, i);
      out += fn(s.slice(from, i)) + s.slice(i, end);
      from = end;
      i = end - 1;
    }
  }
  return out + fn(s.slice(from));
}

const REF = /(\d+)\s+(\d+)\s+R\b/g;

function refsOf(dict: string): number[] {
  const out: number[] = [];
  mapOutsideStrings(dict, (code) => {
    for (const m of code.matchAll(REF)) out.push(Number(m[1]));
    return code;
  });
  return out;
}

function parse(buf: Buffer): ParsedPdf {
  const text = buf.toString('latin1');
  const sx = text.lastIndexOf('startxref');
  if (sx < 0) throw new SpliceError('no startxref');
  const at = Number(/startxref\s+(\d+)/.exec(text.slice(sx))?.[1]);
  if (!text.startsWith('xref', at)) throw new SpliceError('not a classic xref table');
  const offsets = new Map<number, number>();
  const lines = /^xref\s+([\s\S]*?)trailer/.exec(text.slice(at));
  if (!lines) throw new SpliceError('no trailer');
  const rows = lines[1]
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  for (let i = 0; i < rows.length;) {
    const [first, count] = rows[i++].split(/\s+/).map(Number);
    for (let n = 0; n < count; n++, i++) {
      const m = /^(\d{10}) (\d{5}) ([nf])$/.exec(rows[i] ?? '');
      if (!m) throw new SpliceError('bad xref row');
      if (m[3] === 'n') offsets.set(first + n, Number(m[1]));
    }
  }
  const trailer = /trailer\s*(<<[\s\S]*?>>)\s*startxref/.exec(text.slice(at))?.[1] ?? '';
  if (/\/Prev\b/.test(trailer)) throw new SpliceError('incremental updates are not handled');
  return { text, offsets, cache: new Map(), trailer };
}

function object(pdf: ParsedPdf, num: number): PdfObject {
  const hit = pdf.cache.get(num);
  if (hit) return hit;
  const at = pdf.offsets.get(num);
  if (at === undefined) throw new SpliceError(`object ${num} is not in the xref table`);
  const s = pdf.text;
  const head = /^(\d+)\s+(\d+)\s+obj\b/.exec(s.slice(at, at + 40));
  if (!head || Number(head[1]) !== num) throw new SpliceError(`object ${num} is not where the xref table says`);
  const start = at + head[0].length;
  // find the keyword that ends the object's dictionary, skipping strings and comments
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (c === '%') {
      const nl = s.slice(i).search(/[\r\n]/);
      i = nl < 0 ? s.length : i + nl;
      continue;
    }
    if (c === '<' && s[i + 1] === '<') {
      i++;
      continue;
    }
    if (c === '(' || c === '<') {
      i = skipString(s, i) - 1;
      continue;
    }
    if (s.startsWith('endobj', i)) {
      const o = { dict: s.slice(start, i).trim() };
      pdf.cache.set(num, o);
      return o;
    }
    if (s.startsWith('stream', i) && (i === 0 || isSpace(s.charCodeAt(i - 1)) || s[i - 1] === '>')) {
      const dict = s.slice(start, i).trim();
      let data = i + 'stream'.length;
      if (s[data] === '\r') data++;
      if (s[data] === '\n') data++;
      const len = /\/Length\s+(\d+)(\s+\d+\s+R)?/.exec(dict);
      if (!len) throw new SpliceError(`stream ${num} has no /Length`);
      const length = len[2] ? Number(object(pdf, Number(len[1])).dict) : Number(len[1]);
      if (!Number.isFinite(length)) throw new SpliceError(`stream ${num} has no usable /Length`);
      const o = { dict, stream: s.slice(data, data + length) };
      pdf.cache.set(num, o);
      return o;
    }
  }
  throw new SpliceError(`object ${num} does not end`);
}

const refIn = (dict: string, key: string): number | undefined => {
  const m = new RegExp(`/${key}\\s+(\\d+)\\s+\\d+\\s+R`).exec(dict);
  return m ? Number(m[1]) : undefined;
};

/** the page objects in order, refusing page-tree nodes that pass attributes down to pages */
function pageList(pdf: ParsedPdf, catalog: PdfObject): number[] {
  const out: number[] = [];
  const walk = (n: number, depth: number) => {
    if (depth > 64) throw new SpliceError('page tree too deep');
    const o = object(pdf, n);
    if (/\/Type\s*\/Pages\b/.test(o.dict)) {
      if (/\/(Resources|MediaBox|CropBox|Rotate)\b/.test(o.dict))
        throw new SpliceError('page tree nodes pass attributes down');
      const kids = /\/Kids\s*\[([^\]]*)\]/.exec(o.dict)?.[1] ?? '';
      for (const k of kids.matchAll(REF)) walk(Number(k[1]), depth + 1);
    } else if (/\/Type\s*\/Page\b/.test(o.dict)) out.push(n);
  };
  const root = refIn(catalog.dict, 'Pages');
  if (root === undefined) throw new SpliceError('no page tree');
  walk(root, 0);
  return out;
}

function catalogOf(pdf: ParsedPdf): PdfObject {
  const n = refIn(pdf.trailer, 'Root');
  if (n === undefined) throw new SpliceError('no /Root');
  const c = object(pdf, n);
  // these point at pages or at the structure of the whole print: not rebuilt here
  if (/\/(StructTreeRoot|Outlines|Names|AcroForm|OpenAction|PageLabels)\b/.test(c.dict))
    throw new SpliceError('the catalog holds more than pages and named destinations');
  if (/\/Dests\s*<</.test(c.dict)) throw new SpliceError('inline /Dests');
  return c;
}

/** name → [page object, the rest of the destination array] */
function destsOf(pdf: ParsedPdf, catalog: PdfObject): Map<string, { page: number; rest: string }> {
  const out = new Map<string, { page: number; rest: string }>();
  const n = refIn(catalog.dict, 'Dests');
  if (n === undefined) return out;
  for (const m of object(pdf, n).dict.matchAll(
    /\/((?:[^\s/[\]<>()#%{}]|#[0-9A-Fa-f]{2})+)\s*\[\s*(\d+)\s+\d+\s+R([^\]]*)\]/g,
  ))
    out.set(m[1], { page: Number(m[2]), rest: m[3] });
  return out;
}

/** an object of one of the two prints */
interface ObjectRef {
  src: ParsedPdf;
  num: number;
}

// the result's own objects: the page tree root, the destinations, the catalog; the objects kept follow them
const PAGES = 1;
const DESTS = 2;
const CATALOG = 3;

/**
 * The result's object numbers: every object kept gets the next number when it is first met. A page of either
 * print stands for the page at the same place in the result, so a reference to it goes to the page kept.
 */
class Renumbering {
  /** the result's pages: `front`'s first `count`, then `whole`'s after them */
  readonly pages: ObjectRef[];
  /** the objects kept, in the order they were numbered */
  readonly order: ObjectRef[] = [];
  next = CATALOG + 1;
  private readonly numbers = new Map<string, number>();
  /** each page of either print → its place in the result */
  private readonly keptPage = new Map<string, number>();

  constructor(
    private readonly whole: ParsedPdf,
    pagesA: number[],
    front: ParsedPdf,
    pagesB: number[],
    count: number,
  ) {
    this.pages = [
      ...pagesB.slice(0, count).map((num) => ({ src: front, num })),
      ...pagesA.slice(count).map((num) => ({ src: whole, num })),
    ];
    pagesA.forEach((n, i) => this.keptPage.set(this.key(whole, n), i));
    pagesB.forEach((n, i) => {
      if (i < pagesA.length) this.keptPage.set(this.key(front, n), i);
    });
  }

  private key(src: ParsedPdf, n: number): string {
    return `${src === this.whole ? 'A' : 'B'}${n}`;
  }

  /** the number given to an object kept (one of `order`) */
  numbered(ref: ObjectRef): number {
    return this.numbers.get(this.key(ref.src, ref.num))!;
  }

  /** the new number of object N of SRC (numbered now if it was not yet) */
  numberOf(src: ParsedPdf, n: number): number {
    const page = this.keptPage.get(this.key(src, n));
    if (page !== undefined) {
      const p = this.pages[page];
      src = p.src;
      n = p.num;
    }
    const k = this.key(src, n);
    let nn = this.numbers.get(k);
    if (nn === undefined) {
      nn = this.next++;
      this.numbers.set(k, nn);
      this.order.push({ src, num: n });
    }
    return nn;
  }
}

/**
 * Every object kept, renumbered, by its new number: a page's parent is the new page tree; every other reference
 * is renumbered, and the objects it reaches are queued as they are met.
 */
function copyObjects(ids: Renumbering): Map<number, string> {
  const written = new Map<number, string>();
  for (let i = 0; i < ids.order.length; i++) {
    const ref = ids.order[i];
    const { src, num } = ref;
    const o = object(src, num);
    const isPage = /\/Type\s*\/Page\b/.test(o.dict);
    let dict = isPage ? o.dict.replace(/\/Parent\s+\d+\s+\d+\s+R/, '') : o.dict;
    dict = mapOutsideStrings(dict, (code) =>
      code.replace(REF, (_, n: string) => `${ids.numberOf(src, Number(n))} 0 R`),
    );
    if (isPage) dict = dict.replace(/>>\s*$/, `\n/Parent ${PAGES} 0 R>>`);
    written.set(ids.numbered(ref), o.stream === undefined ? dict : `${dict}\nstream\n${o.stream}\nendstream`);
  }
  return written;
}

/** The PDF file: objects 1 to NEXT-1 from WRITTEN, the xref table and the trailer. */
function serialize(written: Map<number, string>, next: number, infoNum: number | undefined): Buffer {
  let out = '%PDF-1.4\n%\xd3\xeb\xe9\xe1\n';
  const at: number[] = [];
  for (let n = 1; n < next; n++) {
    at[n] = out.length;
    out += `${n} 0 obj\n${written.get(n)}\nendobj\n`;
  }
  const xref = out.length;
  out += `xref\n0 ${next}\n0000000000 65535 f \n`;
  for (let n = 1; n < next; n++) out += `${String(at[n]).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<</Size ${next}\n/Root ${CATALOG} 0 R${infoNum === undefined ? '' : `\n/Info ${infoNum} 0 R`}>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/**
 * `front`'s first `count` pages, then `whole`'s pages after them: one PDF. Named
 * destinations on the replaced pages come from `front`, the others from `whole`; a reference
 * to a page of one print that has a counterpart in the other goes to the page kept.
 */
export function replaceFirstPages(whole: Buffer, front: Buffer, count: number): Buffer {
  const A = parse(whole);
  const B = parse(front);
  const catA = catalogOf(A);
  const catB = catalogOf(B);
  const pagesA = pageList(A, catA);
  const pagesB = pageList(B, catB);
  if (count < 1 || count > pagesB.length || count > pagesA.length)
    throw new SpliceError(`cannot take ${count} page(s) from a print of ${pagesB.length} into one of ${pagesA.length}`);
  const ids = new Renumbering(A, pagesA, B, pagesB, count);
  for (const p of ids.pages) ids.numberOf(p.src, p.num);
  const info = refIn(A.trailer, 'Info');
  const infoNum = info === undefined ? undefined : ids.numberOf(A, info);
  const written = copyObjects(ids);

  const dests = new Map<string, string>();
  const addDests = (src: ParsedPdf, cat: PdfObject, keep: (pageIndex: number) => boolean) => {
    const pages = src === A ? pagesA : pagesB;
    for (const [name, d] of destsOf(src, cat)) {
      const idx = pages.indexOf(d.page);
      if (idx < 0 || !keep(idx)) continue;
      dests.set(name, `[${ids.numberOf(src, d.page)} 0 R${d.rest}]`);
    }
  };
  addDests(B, catB, (i) => i < count);
  addDests(A, catA, (i) => i >= count);
  const catalogRest = catA.dict.replace(/^<<|>>$/g, '').replace(/\/(Pages|Dests)\s+\d+\s+\d+\s+R/g, '');
  if (refsOf(catalogRest).length) throw new SpliceError('the catalog refers to other objects');
  written.set(
    PAGES,
    `<</Type /Pages\n/Count ${ids.pages.length}\n/Kids [${ids.pages.map((p) => `${ids.numberOf(p.src, p.num)} 0 R`).join(' ')}]>>`,
  );
  written.set(DESTS, `<<${[...dests].map(([n, d]) => `/${n} ${d}`).join('\n')}>>`);
  written.set(CATALOG, `<<${catalogRest.trim()}\n/Pages ${PAGES} 0 R\n/Dests ${DESTS} 0 R>>`.replace(/^<<\s*/, '<<'));
  return serialize(written, ids.next, infoNum);
}

/** the number of pages of a PDF this module can read */
export function pageCount(pdf: Buffer): number {
  const p = parse(pdf);
  return pageList(p, catalogOf(p)).length;
}

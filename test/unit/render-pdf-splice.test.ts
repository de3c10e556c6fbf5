// Joining two prints of a document: the first pages of one, the rest of the other. The PDFs
// here are written by hand in the shape Chromium's (Skia's) have: classic xref, a page tree
// of several levels, named destinations in the catalog, link annotations by name.
import { describe, it, expect } from 'vitest';
import { replaceFirstPages, pageCount, mapOutsideStrings, SpliceError } from '../../src/render/pdf-splice.js';
import { destinationPages } from '../../src/render/pdf-pages.js';

/** a PDF whose page i shows `${label} i`; dests name each page p1, p2 …; `extra` goes into the catalog */
function makePdf(label: string, pages: number, opts: { extra?: string; tree?: number } = {}): Buffer {
  const objs: string[] = [];
  const add = (body: string) => {
    objs.push(body);
    return objs.length;
  };
  const info = add('<</Title (A title with 5 0 R and \\) inside)>>');
  const font = add('<</Type /Font\n/Subtype /Type1\n/BaseFont /Helvetica>>');
  const pageNums: number[] = [];
  const parents: number[] = [];
  // a page tree of nodes holding `tree` pages each, under one root
  const per = opts.tree ?? 2;
  const root = add('ROOT');
  for (let i = 0; i < pages; i++) {
    if (i % per === 0) parents.push(add('NODE'));
    const text = `BT /F1 12 Tf 72 720 Td (${label} ${i + 1}) Tj ET\n% endobj inside a stream\n`;
    const content = add(`<</Length ${text.length}>>\nstream\n${text}\nendstream`);
    const link = add(`<</Type /Annot\n/Subtype /Link\n/Rect [0 0 10 10]\n/Dest /p${((i + 1) % pages) + 1}>>`);
    pageNums.push(
      add(
        `<</Type /Page\n/Resources <</Font <</F1 ${font} 0 R>>>>\n/MediaBox [0 0 612 792]\n/Annots [${link} 0 R]\n/Contents ${content} 0 R\n/Parent ${parents[parents.length - 1]} 0 R>>`,
      ),
    );
  }
  parents.forEach((p, j) => {
    const kids = pageNums.slice(j * per, j * per + per);
    objs[p - 1] =
      `<</Type /Pages\n/Count ${kids.length}\n/Kids [${kids.map((k) => `${k} 0 R`).join(' ')}]\n/Parent ${root} 0 R>>`;
  });
  objs[root - 1] = `<</Type /Pages\n/Count ${pages}\n/Kids [${parents.map((p) => `${p} 0 R`).join(' ')}]>>`;
  const dests = add(`<<${pageNums.map((p, i) => `/p${i + 1} [${p} 0 R /XYZ 0 792 0]`).join('\n')}>>`);
  const catalog = add(`<</Type /Catalog\n/Pages ${root} 0 R\n/Dests ${dests} 0 R${opts.extra ?? ''}>>`);
  let out = '%PDF-1.4\n%\xd3\xeb\xe9\xe1\n';
  const at: number[] = [];
  objs.forEach((body, i) => {
    at.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${at.map((a) => `${String(a).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<</Size ${objs.length + 1}\n/Root ${catalog} 0 R\n/Info ${info} 0 R>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** each page's text, in page-tree order, read straight from the file */
function pageTexts(pdf: Buffer): string[] {
  const s = pdf.toString('latin1');
  const obj = (n: number) => {
    const m = new RegExp(`(?:^|\\n)${n} 0 obj\\n`).exec(s);
    if (!m) throw new Error(`no object ${n}`);
    return s.slice(m.index + m[0].length, s.indexOf('\nendobj', m.index + m[0].length));
  };
  const root = Number(/\/Root (\d+) 0 R/.exec(s.slice(s.lastIndexOf('trailer')))![1]);
  const out: string[] = [];
  const walk = (n: number) => {
    const o = obj(n);
    if (/\/Type \/Pages\b/.test(o))
      for (const k of /\/Kids \[([^\]]*)\]/.exec(o)![1].matchAll(/(\d+) 0 R/g)) walk(Number(k[1]));
    else {
      expect(/\/Parent (\d+) 0 R/.exec(o)?.[1]).toBeDefined();
      const content = obj(Number(/\/Contents (\d+) 0 R/.exec(o)![1]));
      out.push(/\((.*?)\) Tj/.exec(content)![1]);
    }
  };
  walk(Number(/\/Pages (\d+) 0 R/.exec(obj(root))![1]));
  return out;
}

/** every offset of the xref table points at its object */
function xrefHolds(pdf: Buffer): boolean {
  const s = pdf.toString('latin1');
  const at = Number(/startxref\s+(\d+)/.exec(s.slice(s.lastIndexOf('startxref')))![1]);
  const rows = s
    .slice(at)
    .split('\n')
    .slice(2)
    .filter((l) => / n $/.test(l));
  return rows.every((r, i) => s.startsWith(`${i + 1} 0 obj`, Number(r.slice(0, 10))));
}

describe('replaceFirstPages', () => {
  it('takes the first pages from the front print and the rest from the whole one', () => {
    const whole = makePdf('whole', 7, { tree: 3 });
    const front = makePdf('front', 4, { tree: 2 });
    const out = replaceFirstPages(whole, front, 3);
    expect(pageTexts(out)).toEqual(['front 1', 'front 2', 'front 3', 'whole 4', 'whole 5', 'whole 6', 'whole 7']);
    expect(pageCount(out)).toBe(7);
    expect(xrefHolds(out)).toBe(true);
    // every name still leads to its page: p1…p3 on the front's pages, the others on the whole's
    expect([...destinationPages(out)].sort()).toEqual(Array.from({ length: 7 }, (_, i) => [`p${i + 1}`, i + 1]).sort());
    // strings are copied as they are (a reference-like text inside one is not renumbered), the catalog keeps its other keys
    expect(out.toString('latin1')).toContain('(A title with 5 0 R and \\) inside)');
    expect(out.toString('latin1')).toContain('% endobj inside a stream');
  });

  it('keeps no object of the pages it replaced', () => {
    const whole = makePdf('whole', 4);
    const out = replaceFirstPages(whole, makePdf('front', 2), 2);
    expect(out.toString('latin1')).not.toContain('(whole 1)');
    expect(out.toString('latin1')).not.toContain('(whole 2)');
    expect(pageTexts(out)).toEqual(['front 1', 'front 2', 'whole 3', 'whole 4']);
  });

  it('refuses what it was not written for', () => {
    const whole = makePdf('whole', 4);
    expect(() => replaceFirstPages(whole, makePdf('front', 2), 3)).toThrow(SpliceError);
    expect(() => replaceFirstPages(whole, makePdf('front', 2), 0)).toThrow(SpliceError);
    expect(() =>
      replaceFirstPages(makePdf('whole', 4, { extra: '\n/Outlines 1 0 R' }), makePdf('front', 2), 1),
    ).toThrow(/catalog/);
    // an xref stream (PDF 1.5) instead of a table
    const xrefStream = Buffer.from(whole.toString('latin1').replace(/startxref\s+\d+/, 'startxref\n15'), 'latin1');
    expect(() => replaceFirstPages(xrefStream, makePdf('front', 2), 1)).toThrow(SpliceError);
  });
});

describe('mapOutsideStrings', () => {
  it('leaves literal and hex strings alone, nested parentheses and escapes included', () => {
    const seen: string[] = [];
    mapOutsideStrings('<</A 1 0 R /T (x (y) \\( 2 0 R) /H <3020> /B 3 0 R>>', (c) => {
      seen.push(c);
      return c;
    });
    expect(seen.join('|')).toBe('<</A 1 0 R /T | /H | /B 3 0 R>>');
  });
});

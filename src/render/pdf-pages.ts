// Where each named destination (an HTML id that a link points at) lands in a PDF Chromium
// printed: the page number of every runbook for the contents page. Reads the catalog's
// /Dests and the page tree; Chromium (Skia) writes both as plain, uncompressed objects.

function objects(text: string): Map<number, string> {
  const out = new Map<number, string>();
  const re = /(?:^|[\r\n])(\d+) 0 obj\b/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index + m[0].length;
    const end = text.indexOf('endobj', start);
    const stream = text.indexOf('stream', start);
    const body = text.slice(start, stream >= 0 && stream < end ? stream : end);
    out.set(Number(m[1]), body);
    // a stream's bytes may hold anything: go on after its end
    re.lastIndex = end < 0 ? text.length : end;
  }
  return out;
}

const ref = (dict: string, key: string): number | undefined => {
  const m = new RegExp(`/${key}\\s+(\\d+) 0 R`).exec(dict);
  return m ? Number(m[1]) : undefined;
};

/** named destination → page number (1-based); empty when the PDF has none */
export function destinationPages(pdf: Buffer): Map<string, number> {
  const objs = objects(pdf.toString('latin1'));
  const catalog = [...objs.values()].find((o) => /\/Type\s*\/Catalog\b/.test(o));
  const out = new Map<string, number>();
  if (!catalog) return out;
  const pageIndex = new Map<number, number>();
  const walk = (n: number | undefined, depth = 0) => {
    const o = n === undefined ? undefined : objs.get(n);
    if (!o || depth > 32) return;
    if (/\/Type\s*\/Pages\b/.test(o)) {
      const kids = /\/Kids\s*\[([^\]]*)\]/.exec(o)?.[1] ?? '';
      for (const k of kids.matchAll(/(\d+) 0 R/g)) walk(Number(k[1]), depth + 1);
    } else if (/\/Type\s*\/Page\b/.test(o)) pageIndex.set(n!, pageIndex.size + 1);
  };
  walk(ref(catalog, 'Pages'));
  const destsNo = ref(catalog, 'Dests');
  const dests = destsNo === undefined ? /\/Dests\s*(<<[\s\S]*?>>)/.exec(catalog)?.[1] : objs.get(destsNo);
  if (!dests) return out;
  for (const m of dests.matchAll(/\/((?:[^\s/[\]<>()#]|#[0-9A-Fa-f]{2})+)\s*\[\s*(\d+) 0 R/g)) {
    const name = m[1].replace(/#([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    const page = pageIndex.get(Number(m[2]));
    if (page !== undefined) out.set(name, page);
  }
  return out;
}

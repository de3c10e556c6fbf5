// Replaces every secret value, and the forms it commonly leaks in (base64, URL-encoded,
// each line of a multi-line secret), with *** in any text bound for a screen, log or file.
export class Redactor {
  private readonly needles: string[];

  constructor(secrets: Iterable<string>) {
    const set = new Set<string>();
    for (const v of secrets) {
      if (!v) continue;
      const forms = [
        v,
        Buffer.from(v).toString('base64'),
        Buffer.from(v).toString('base64').replace(/=+$/, ''),
        encodeURIComponent(v),
        JSON.stringify(v).slice(1, -1),
      ];
      forms.push(...base64Inner(v));
      // JSON as Python and many tools write it: non-ASCII as \uXXXX
      forms.push(
        JSON.stringify(v)
          .slice(1, -1)
          .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
      );
      // the other usual URL encoding: form style (space as +) and every reserved character escaped
      forms.push(
        encodeURIComponent(v).replace(/%20/g, '+'),
        encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
      );
      for (const line of v.split(/\r?\n/)) if (line.trim().length >= 4) forms.push(line.trim());
      for (const f of forms) if (f.length >= 3) set.add(f);
    }
    // longest first, so a secret containing another is replaced whole
    this.needles = [...set].sort((a, b) => b.length - a.length);
  }

  get empty(): boolean {
    return this.needles.length === 0;
  }

  get longest(): number {
    return this.needles[0]?.length ?? 0;
  }

  redact(text: string): string {
    if (!text || this.needles.length === 0) return text;
    let out = text;
    for (const n of this.needles) if (out.includes(n)) out = out.split(n).join('***');
    return out;
  }

  /** deep copy of a JSON-like value with every string redacted */
  redactDeep<T>(value: T): T {
    if (this.needles.length === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.redact(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(value) as T;
  }
}

/**
 * The part of the base64 text that depends on the secret alone, at each of the three byte
 * alignments: catches the secret base64-encoded inside something longer (`user:secret` in
 * an HTTP Basic header, `echo $PW | base64` with its newline). Only for secrets long enough
 * that the inner part cannot match by chance.
 */
function base64Inner(v: string): string[] {
  const bytes = Buffer.from(v);
  if (bytes.length < 6) return [];
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const b64 = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    const start = [0, 2, 3][k];
    const end = Math.floor(((k + bytes.length) * 8) / 6);
    out.push(b64.slice(start, end));
  }
  return out;
}

/**
 * Live output in whole lines: a chunk's unfinished last line is held until its newline (or
 * the end), so a secret split across chunks is still caught and the screen shows whole lines.
 * A line longer than `max` is let through in pieces, keeping back enough to catch a secret.
 */
export class StreamRedactor {
  private pending = '';
  constructor(
    private readonly r: Redactor,
    private readonly max = 65_536,
  ) {}
  push(chunk: string): string {
    const text = this.pending + chunk;
    let cut = text.lastIndexOf('\n') + 1;
    if (cut === 0 && text.length > this.max) cut = text.length - Math.max(0, this.r.longest - 1);
    this.pending = text.slice(cut);
    return this.r.redact(text.slice(0, cut));
  }
  flush(): string {
    const out = this.r.redact(this.pending);
    this.pending = '';
    return out;
  }
}

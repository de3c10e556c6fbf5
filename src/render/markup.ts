// Text into HTML and Markdown safely. Descriptions are Markdown written by runbook authors;
// any raw HTML in them prints as text, images print as their text and address (a printed
// plan never fetches anything), and only ordinary link schemes stay links.
import { Marked, type Tokens, type RendererObject } from 'marked';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);

const SAFE_HREF = /^(?:https?:|mailto:|tel:|#|\/(?!\/)|\.{0,2}\/|[A-Za-z0-9_-]+(?:[/.#?]|$))/i;

const renderer: RendererObject = {
  html(token: Tokens.HTML | Tokens.Tag) {
    return escapeHtml(token.text);
  },
  image(token: Tokens.Image) {
    return `<span class="md-image">[image: ${escapeHtml(token.text || 'untitled')} — ${escapeHtml(token.href)}]</span>`;
  },
  link(token: Tokens.Link) {
    if (SAFE_HREF.test(token.href.trim())) return false;
    // an unsafe scheme (javascript:, data:, …): keep the words, drop the link
    return escapeHtml(token.text);
  },
};

const marked = new Marked({ gfm: true, breaks: false, async: false, renderer });

/** Markdown → HTML with no way for the source to add tags of its own. */
export function markdownToSafeHtml(src: string): string {
  return marked.parse(src, { async: false }) as string;
}

// ---- Markdown output (wiki pages) ----

/** Inline text in Markdown: no HTML, no accidental emphasis, links or headings. */
export function mdInline(s: string): string {
  return s
    .replace(/\r?\n/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/[\\`*_[\]{}<>#|!~]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`));
}

/** A table cell: inline text, pipes escaped, one line. */
export const mdCell = (s: string) => mdInline(s);

/** `code` with a fence longer than any backtick run inside. */
export function mdInlineCode(s: string): string {
  const one = s.replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...[...one.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = one.startsWith('`') || one.endsWith('`') || one.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${one}${pad}${fence}`;
}

/** A fenced code block whose fence no line of the content can close. */
export function mdCodeBlock(s: string, lang = ''): string {
  const longest = Math.max(2, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${s.replace(/\n+$/, '')}\n${fence}`;
}

/**
 * An author's Markdown passed through to a Markdown page: raw HTML is neutralised
 * (`<` outside code becomes `&lt;`), so a wiki shows it as text; images become links.
 */
export function mdBlock(src: string): string {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of src.replace(/\s+$/, '').split(/\r?\n/)) {
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      out.push(line);
      if (f && f[1][0] === fence[0] && f[1].length >= fence.length) fence = undefined;
      continue;
    }
    if (f) {
      fence = f[1];
      out.push(line);
      continue;
    }
    // code spans keep their text; everything else loses its tags and script links
    out.push(
      line
        .split(/(`+[^`]*`+)/)
        .map((part, i) =>
          i % 2
            ? part
            : part
                .replace(/&(?![a-zA-Z]+;|#\d+;)/g, '&amp;')
                .replace(/</g, '&lt;')
                .replace(/\]\(\s*(?:javascript|vbscript|data):/gi, '](#unsafe-link:')
                // an image becomes a link to it, as in the HTML plan: a plan never loads anything
                .replace(/!\[([^\]]*)\]\(/g, '[image: $1]('),
        )
        .join(''),
    );
  }
  return out.join('\n');
}

/**
 * Fold a long one-line shell command for paper: break only at spaces outside single quotes
 * and before any comment, ending each line with ` \` (a shell line continuation), so the
 * printed lines can be typed exactly as shown. Anything else is left to the page to wrap.
 */
/** characters of a command line in the printed plan: body-size monospace in a step's box on A4 or Letter */
export const PRINT_FOLD_WIDTH = 76;

export function foldCommand(cmd: string, width = 88): string {
  if (cmd.length <= width || cmd.includes('\n')) return cmd;
  // offsets of spaces where a continuation is safe
  const breaks: number[] = [];
  let q: '' | "'" | '"' = '';
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (q === "'") {
      if (c === "'") q = '';
      continue;
    }
    if (c === '\\') {
      i++;
      continue;
    }
    if (q === '"') {
      if (c === '"') q = '';
      continue;
    }
    if (c === "'" || c === '"') {
      q = c;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(cmd[i - 1]))) break;
    if (c === ' ' && cmd[i + 1] !== ' ' && i > 0 && cmd[i - 1] !== ' ') breaks.push(i);
  }
  const lines: string[] = [];
  let start = 0;
  const indent = '    ';
  while (cmd.length - start + (lines.length ? indent.length : 0) > width) {
    const room = width - 2 - (lines.length ? indent.length : 0);
    // the last safe space that keeps the line within the width, else the first one after
    const fit = breaks.filter((b) => b > start && b - start <= room);
    const at = fit.length ? fit[fit.length - 1] : breaks.find((b) => b > start);
    if (at === undefined) break;
    lines.push((lines.length ? indent : '') + cmd.slice(start, at) + ' \\');
    start = at + 1;
  }
  lines.push((lines.length ? indent : '') + cmd.slice(start));
  return lines.join('\n');
}

import { describe, it, expect } from 'vitest';
import { durationWords, durationShort, expectationWords, untilWords, plainWords } from '../../src/render/words.js';
import {
  escapeHtml,
  foldCommand,
  markdownToSafeHtml,
  mdBlock,
  mdCodeBlock,
  mdInline,
  mdInlineCode,
} from '../../src/render/markup.js';

describe('words', () => {
  it('says durations in words and in the runbook notation', () => {
    expect(durationWords(120_000)).toBe('2 minutes');
    expect(durationWords(5_400_000)).toBe('1 hour 30 minutes');
    expect(durationWords(1000)).toBe('1 second');
    expect(durationWords(1500)).toBe('1 second 500 milliseconds');
    expect(durationShort(5_400_000)).toBe('1h30m');
    expect(durationShort(undefined)).toBe('');
  });

  it('says what success looks like', () => {
    expect(plainWords(expectationWords({ exit: [0] }))).toBe('exit code 0');
    expect(plainWords(expectationWords({ exit: [0, 24] }))).toBe('exit code 0 or 24');
    expect(plainWords(expectationWords({ exit: [0], stdout: { kind: 'equals', value: 't' } }))).toBe('prints `t`');
    expect(plainWords(expectationWords({ exit: [0], stdout: { kind: 'match', regex: '^ok$' } }))).toBe(
      'output matches `/^ok$/`',
    );
    expect(plainWords(expectationWords({ exit: [1], stderr: { kind: 'contains', value: 'denied' } }))).toBe(
      'exit code 1 and error output contains `denied`',
    );
  });

  it('says how a poll repeats', () => {
    expect(plainWords(untilWords({ exit: [0], stdout: { kind: 'equals', value: 'f' } }, 2000, 120_000))).toBe(
      'repeats every 2s until it prints `f`, for at most 2 minutes',
    );
    expect(plainWords(untilWords({ exit: [0] }, 500, undefined))).toBe(
      'repeats every 500 milliseconds until it gives exit code 0',
    );
    expect(plainWords(untilWords({ exit: [0], stdout: { kind: 'match', regex: 'up' } }, 5000, 60_000))).toBe(
      'repeats every 5s until its output matches `/up/`, for at most 1 minute',
    );
  });
});

describe('markup', () => {
  it('renders Markdown but prints its raw HTML as text', () => {
    const html = markdownToSafeHtml(
      '**bold** <img src=x onerror=alert(1)>\n\n<script>alert(2)</script>\n\n<div onclick="x()">d</div>',
    );
    expect(html).toContain('<strong>bold</strong>');
    expect(html).not.toMatch(/<img|<script|<div/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('keeps ordinary links, drops script links and never loads images', () => {
    const html = markdownToSafeHtml(
      '[a](https://example.com) [b](javascript:alert(1)) [c](JavaScript:x) ![pic](http://198.18.0.9/p.png)',
    );
    expect(html).toContain('<a href="https://example.com">a</a>');
    expect(html).not.toMatch(/javascript:/i);
    expect(html).not.toContain('<img');
    expect(html).toContain('[image: pic — http://198.18.0.9/p.png]');
  });

  it('escapes HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('escapes Markdown inline text', () => {
    expect(mdInline('a *b* _c_ <i> | [x](y) `z`\nnext & more')).toBe(
      'a \\*b\\* \\_c\\_ &lt;i&gt; \\| \\[x\\](y) \\`z\\` next &amp; more',
    );
  });

  it('fences code so that its content cannot close the fence', () => {
    expect(mdInlineCode('a`b')).toBe('``a`b``');
    expect(mdInlineCode('`x')).toBe('`` `x ``');
    expect(mdCodeBlock('echo ```', 'sh')).toBe('````sh\necho ```\n````');
    expect(mdCodeBlock('ls')).toBe('```\nls\n```');
  });

  it('passes author Markdown through with tags and script links neutralised, code untouched', () => {
    const out = mdBlock(
      'x <img src=x> `a<b>` [l](javascript:alert(1)) ![pic](http://h/p.png)\n```\n<keep>\n```\n<script>',
    );
    expect(out).toBe(
      'x &lt;img src=x> `a<b>` [l](#unsafe-link:alert(1)) [image: pic](http://h/p.png)\n```\n<keep>\n```\n&lt;script>',
    );
  });
});

describe('foldCommand', () => {
  const unfold = (s: string) => s.replace(/ \\\n {4}/g, ' ');
  it('leaves short and multi-line commands alone', () => {
    expect(foldCommand('ls -l')).toBe('ls -l');
    const multi = `${'x '.repeat(60)}\necho`;
    expect(foldCommand(multi)).toBe(multi);
  });

  it('folds at spaces with shell continuations, each line within the width', () => {
    const cmd =
      'rsync -aHAX --numeric-ids --delete -e ssh /srv/shares/ 198.18.0.21:/srv/shares/ --exclude=/tmp --exclude=/cache --progress --verbose';
    const folded = foldCommand(cmd, 40);
    expect(unfold(folded)).toBe(cmd);
    for (const line of folded.split('\n')) expect(line.length).toBeLessThanOrEqual(40);
    expect(
      folded
        .split('\n')
        .slice(0, -1)
        .every((l) => l.endsWith(' \\')),
    ).toBe(true);
  });

  it('never breaks inside single quotes or a comment', () => {
    const cmd = `psql -c 'select a, b, c, d, e, f, g, h from some_table where x = 1' -h db2 # a trailing comment with words`;
    const folded = foldCommand(cmd, 30);
    expect(unfold(folded)).toBe(cmd);
    expect(folded).toContain(`'select a, b, c, d, e, f, g, h from some_table where x = 1'`);
    expect(folded).toContain('# a trailing comment with words');
  });

  it('gives back a token longer than the width whole', () => {
    const long = 'a'.repeat(120);
    expect(foldCommand(`echo ${long} done`, 50)).toBe(`echo \\\n    ${long} \\\n    done`);
  });
});

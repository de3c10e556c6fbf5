// Terminal text: ANSI colour (SGR codes) when the output is a colour terminal, and plain tables
// whose columns line up whatever colour codes their cells hold. The one home of both.

/**
 * `code` as SGR parameters: '31' red, '32' green, '33' yellow, '35' magenta, '36' cyan, '1' bold, '2' dim; '31;1'
 * combines
 */
export function paint(on: boolean, code: string | undefined, text: string): string {
  return on && code ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** the width a terminal shows: colour codes take none */
export const visibleWidth = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;

/** rows as columns separated by `gap`; the last column is not padded */
export function table(rows: string[][], gap = '  '): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => visibleWidth(r[i] ?? ''))));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - visibleWidth(c))))
          .join(gap)
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

// The document formats lifeboat writes (the plan and the run report): one entry each. A new
// format is an entry here plus what `render` does with it in plan-document.ts / report.ts.
import path from 'node:path';

export type DocFormat = 'html' | 'md' | 'pdf' | 'json';

export interface FormatEntry {
  name: DocFormat;
  /** file name endings that choose it (lower case, with the dot) */
  exts: readonly string[];
  /** may go to stdout (`-o -`); a PDF may not */
  stdout: boolean;
  /** the template set that makes it; none: the document's model itself (JSON) */
  templates?: 'html' | 'md';
}

export const FORMATS: readonly FormatEntry[] = [
  { name: 'html', exts: ['.html', '.htm'], stdout: true, templates: 'html' },
  { name: 'md', exts: ['.md', '.markdown'], stdout: true, templates: 'md' },
  { name: 'pdf', exts: ['.pdf'], stdout: false, templates: 'html' },
  { name: 'json', exts: ['.json'], stdout: true },
];

export const FORMAT_NAMES = FORMATS.map((f) => f.name);
export const formatEntry = (name: DocFormat): FormatEntry => FORMATS.find((f) => f.name === name)!;

/**
 * The format of an output: `--format`, else the file name's ending, else HTML for stdout or no
 * file named. A --format that contradicts the file name, an unknown ending and a PDF to stdout
 * are errors in words.
 */
export function formatFor(output: string | undefined, format: DocFormat | undefined): DocFormat | { error: string } {
  const ext = output && output !== '-' ? path.extname(output).toLowerCase() : undefined;
  const fromExt = ext ? FORMATS.find((f) => f.exts.includes(ext))?.name : undefined;
  if (format && fromExt && format !== fromExt)
    return { error: `--format ${format} does not match the file name ${output}` };
  const f = format ?? fromExt ?? (output === undefined || output === '-' ? 'html' : undefined);
  if (!f)
    return {
      error: `cannot tell the format from ${output}: name it ${FORMATS.map((x) => x.exts[0]).join(', ')}, or give --format`,
    };
  if (!formatEntry(f).stdout && output === '-')
    return {
      error: `a ${f.toUpperCase()} is written to a file: give -o FILE${formatEntry(f).exts[0]} (${FORMATS.filter(
        (x) => x.stdout,
      )
        .map((x) => x.name)
        .join(', ')} can go to stdout)`,
    };
  return f;
}

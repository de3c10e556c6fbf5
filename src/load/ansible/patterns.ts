// Host patterns of an Ansible inventory: ranges (`web[01:03]`, `db-[a:c]`) and a port written
// after the name (`host:port`, `[v6]:port`).

const RANGE = /\[([^\]:]*):([^\]:]*)(?::([^\]]*))?\]/;

/** `web[01:03]`, `db-[a:c]`, with an optional step; several ranges multiply. Throws the problem in words. */
export function expandHostPattern(pattern: string): string[] {
  const m = RANGE.exec(pattern);
  if (!m) {
    if (/[[\]]/.test(pattern)) throw new Error(`'${pattern}' has a bracket that is not a range like [01:10] or [a:f]`);
    return [pattern];
  }
  const head = pattern.slice(0, m.index);
  const tail = pattern.slice(m.index + m[0].length);
  const end = m[2];
  let beg = m[1];
  const step = m[3] === undefined || m[3] === '' ? 1 : Number(m[3]);
  if (!Number.isInteger(step) || step < 1)
    throw new Error(`the step of range [${m[1]}:${m[2]}:${m[3]}] is not a whole number above 0`);
  if (!end) throw new Error(`range [${m[1]}:${m[2]}] has no end`);
  const items: string[] = [];
  if (/^\d*$/.test(beg) && /^\d+$/.test(end)) {
    if (!beg) beg = '0';
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (width && beg.length !== end.length)
      throw new Error(
        `range [${m[1]}:${m[2]}]: a start with leading zeros needs an end of the same width (e.g. [01:10])`,
      );
    const a = Number(beg);
    const b = Number(end);
    if (a > b) throw new Error(`range [${m[1]}:${m[2]}] starts after it ends`);
    if ((b - a) / step > 10_000) throw new Error(`range [${m[1]}:${m[2]}] names more than 10000 hosts`);
    for (let i = a; i <= b; i += step) items.push(width ? String(i).padStart(width, '0') : String(i));
  } else if (/^[A-Za-z]$/.test(beg) && /^[A-Za-z]$/.test(end)) {
    const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const a = letters.indexOf(beg);
    const b = letters.indexOf(end);
    if (a > b) throw new Error(`range [${m[1]}:${m[2]}] starts after it ends`);
    for (let i = a; i <= b; i += step) items.push(letters[i]);
  } else {
    throw new Error(`range [${m[1]}:${m[2]}] is neither numeric ([01:10]) nor alphabetic ([a:f])`);
  }
  const rest = expandHostPattern(tail);
  return items.flatMap((i) => rest.map((r) => `${head}${i}${r}`));
}

/** `host:port` (not IPv6), `[v6]:port`: the name and the port written in the pattern */
export function splitPort(pattern: string): { name: string; port?: string } {
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(pattern);
  if (v6 && v6[1].includes(':')) return { name: v6[1], port: v6[2] };
  if ((pattern.match(/:/g) ?? []).length === 1 && !pattern.includes('[')) {
    const [name, port] = pattern.split(':');
    return { name, port };
  }
  // a range's colons are inside brackets: a port follows the last bracket
  const after = /^(.*\])(?::(\d+))$/.exec(pattern);
  if (after) return { name: after[1], port: after[2] };
  return { name: pattern };
}

// Quoting for values inserted into shell commands: safe characters print as they are (so
// printed plans stay readable), anything else is single-quoted, so a value can never inject.
const SAFE = /^[A-Za-z0-9_./:@%+=,-]+$/;

export function shellQuote(value: string): string {
  if (value === '') return "''";
  if (SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

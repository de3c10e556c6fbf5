// Sorting text by code point. `localeCompare` would load ICU's collation data on its first call
// (~10 ms of every start), and its order changes with the locale; file names, ids and paths
// sort the same everywhere this way.
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

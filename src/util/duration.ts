// Durations as the runbooks write them: 30s, 2m, 1h30m, 90d, 500ms.
const UNIT: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

export function parseDuration(text: string): number {
  const re = /(\d+)(ms|d|h|m|s)/g;
  let total = 0;
  let seen = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT[m[2]];
    seen += m[0].length;
  }
  if (seen !== text.length || !text) throw new Error(`not a duration: ${text}`);
  return total;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(r).padStart(2, '0')}s`;
}

/** 1800000 → "30m", 5400000 → "1h30m", 259200000 → "3d": the runbook's own notation */
export function durationShort(ms: number | undefined): string {
  if (ms === undefined) return '';
  const parts: string[] = [];
  let rest = ms;
  for (const [size, unit] of [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
    [1, 'ms'],
  ] as [number, string][]) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(`${n}${unit}`);
      rest -= n * size;
    }
  }
  return parts.join('') || '0s';
}

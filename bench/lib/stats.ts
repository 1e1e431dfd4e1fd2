// Summaries of measured samples, as every benchmark reports them.

/**
 * The nearest-rank percentile (`p` from 0 to 1) of `values`, in any order; NaN when there are none.
 * p99 of 30 samples is the largest, of 100 the 2nd largest.
 */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

/** p50, p99 and the largest of `values` (nearest rank). */
export function spread(values: readonly number[]): { p50: number; p99: number; max: number } {
  return { p50: percentile(values, 0.5), p99: percentile(values, 0.99), max: percentile(values, 1) };
}

/** The middle value, or the mean of the two middle ones; 0 when there are none. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** `n` rounded to `digits` decimals for the JSON summary (NaN and Infinity stay, and print as null). */
export function round(n: number, digits: number): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

/** The value that occurs most often (the first of equals); '' when there are none. */
export function mostCommon(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
}

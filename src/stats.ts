// Sample statistics shared by the reaper's latency histogram and the benchmarks.

/** Exact quantile of a sorted sample (nearest rank). */
export function quantileOf(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

// Latency counts for the plan gates: one count per bucket, the same bounds as
// the exported histogram, and the p99 of a window of counts.

export const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
]

export function recordLatency(counts: Float64Array, seconds: number): void {
  let i = 0
  while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++
  counts[i]++
}

/** The upper bound of the bucket holding quantile `q` of `counts` (Infinity past the last). */
export function quantile(counts: ArrayLike<number>, q: number): number {
  let total = 0
  for (let i = 0; i < counts.length; i++) total += counts[i]
  if (total === 0) return Number.NaN
  const rank = Math.ceil(total * q)
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]
    if (seen >= rank)
      return i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i] : Number.POSITIVE_INFINITY
  }
  return Number.POSITIVE_INFINITY
}

// Where rate limit buckets live. The module asks a store for one token; the
// in-process store here keeps them in one process, and the store a proxy's
// workers share (proxy/process/shared-ratelimit.ts) asks their supervisor, which keeps
// them in this one.

/** One rule's limits, as the store needs them. */
export interface BucketLimits {
  /** Tokens added per `perMs`. */
  rate: number
  perMs: number
  /** Tokens a full bucket holds: requests allowed at once after a quiet spell. */
  burst: number
  /** Buckets kept at most; the least recently used is dropped first. */
  maxBuckets: number
}

export interface BucketStore {
  /**
   * Takes one token from `key`'s bucket at time `now` (ms). Returns 0 when it was
   * taken, else the seconds until one will be there (nothing is taken then). A
   * store in another process answers later.
   */
  take(key: string, now: number): number | Promise<number>
}

/**
 * Makes the store for one rule. `id` names the rule (`http.sites[0].rules[1]`)
 * so that a shared store gives every worker the same buckets for it.
 */
export type BucketStoreFactory = (id: string, limits: BucketLimits) => BucketStore

/**
 * Buckets in this process. Each bucket is one number, GCRA's theoretical arrival
 * time: when the bucket will be full again, plus one token interval for every
 * token in use. It is the token bucket without a second field to keep in step,
 * and a shape that fits a shared Float64Array later. A Map's insertion order is
 * the LRU list: a used bucket is deleted and set again to move it to the end.
 */
export function memoryBucketStore(
  _id: string,
  limits: BucketLimits,
): { take(key: string, now: number): number } {
  const { rate, perMs } = limits
  // Time runs in units of 1/rate ms from the first request, so one token is
  // exactly `perMs` units: whole-ms clocks give exact sums, and a request right
  // on a refill boundary is not refused for a rounding error (1000/3 ms).
  const capacity = perMs * limits.burst
  const arrivals = new Map<string, number>()
  let epoch: number | undefined
  return {
    take(key, now) {
      epoch ??= now
      const t = (now - epoch) * rate
      const tat = arrivals.get(key)
      const next = (tat === undefined || tat < t ? t : tat) + perMs
      const wait = next - capacity - t
      if (tat !== undefined) arrivals.delete(key)
      else if (arrivals.size >= limits.maxBuckets) arrivals.delete(arrivals.keys().next().value!)
      // A limited key is touched too, so a busy abuser is the last to be forgotten.
      // (A new key is never limited: its wait is perMs * (1 - burst) <= 0.)
      arrivals.set(key, wait > 0 ? tat! : next)
      return wait > 0 ? wait / rate / 1000 : 0
    },
  }
}

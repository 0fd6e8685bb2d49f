// Sticky bucketing: a scope's salt and a request's stickiness key hash to one of
// 10,000 buckets; the request takes the new path when its bucket is below the
// scope's percentage in hundredths (basis points). The hash is fixed (no
// per-process seed), so every worker and instance decides alike, and a client's
// bucket never changes: raising the percentage only moves clients to new.

export const BUCKETS = 10_000

/** FNV-1a offset basis mixed with the salt: the seed a scope hashes its keys from. */
export function saltSeed(salt: string): number {
  return hashString(0x811c9dc5, salt)
}

export function hashString(seed: number, s: string): number {
  let h = seed
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h
}

export function hashBytes(seed: number, b: Uint8Array, from: number, to: number): number {
  let h = seed
  for (let i = from; i < to; i++) h = Math.imul(h ^ b[i], 0x01000193)
  return h
}

/** The bucket of a key hash: a final avalanche (murmur3's fmix32) so near keys spread. */
export function bucketOf(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return (h >>> 0) % BUCKETS
}

/** Percent (two decimals) to basis points; rejects what is not a percentage in 0.01 steps. */
export function toBasisPoints(percent: number): number | undefined {
  const bp = Math.round(percent * 100)
  return Number.isFinite(percent) &&
    percent >= 0 &&
    percent <= 100 &&
    Math.abs(bp - percent * 100) < 1e-6
    ? bp
    : undefined
}

// Whether a stored response may be served now without asking the origin
// (RFC 9111 4.2, 5.2.1): its age against its lifetime and the request's limits.

import type { CacheControl } from './cache-control.ts'
import type { Entry } from './entry.ts'

/** The entry's current age in ms (RFC 9111 4.2.3). */
export function currentAge(entry: Entry, now: number): number {
  return entry.initialAge + Math.max(0, now - entry.responseTime)
}

/**
 * Fresh enough for this request: no no-cache on either side, within the
 * request's max-age and min-fresh, and fresh, or stale by no more than the
 * request's max-stale when the response allows serving it stale.
 */
export function usable(entry: Entry, request: CacheControl, now: number): boolean {
  if (request.noCache || entry.noCache) return false
  const age = currentAge(entry, now)
  if (request.maxAge !== undefined && age > request.maxAge * 1000) return false
  const left = entry.lifetime - age
  if (request.minFresh !== undefined && left < request.minFresh * 1000) return false
  if (left > 0) return true
  return request.maxStale !== undefined && !entry.noStale && -left <= request.maxStale * 1000
}

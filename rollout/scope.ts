// A scope is what a percentage applies to: a protocol plus a zone or site, maybe
// narrowed to one DNS query type or one HTTP path prefix. It carries the live
// percentage (from the rollout state), how requests stick to a path, and the
// counters the plan gates read.

import { BUCKETS, bucketOf } from './bucket.ts'
import { LATENCY_BUCKETS } from './latency.ts'

export type Path = 'new' | 'legacy'
export type Protocol = 'dns' | 'http'

/** What a request is hashed by, so the same client (or name, or user) stays on one path. */
export type Stickiness =
  | { kind: 'client-ip' }
  | { kind: 'client-subnet'; v4: number; v6: number }
  | { kind: 'ecs'; v4: number; v6: number }
  | { kind: 'qname' }
  | { kind: 'host' }
  | { kind: 'header'; name: string }

/** Counters since the scope was built; gates read differences over a window. */
export interface ScopeStats {
  newRequests: number
  /** New-path responses that were errors (SERVFAIL, 5xx) or modules that threw. */
  newErrors: number
  fallbacks: number
  legacyRequests: number
  /** Legacy-path responses that were errors (SERVFAIL, 5xx): the other side of newErrors, for comparing. */
  legacyErrors: number
  newLatency: Float64Array
  legacyLatency: Float64Array
  shadowed: number
  mismatches: number
}

export interface Scope {
  /** `dns:example.com`, `dns:example.com/AAAA`, `http:shop.example.com`, `http:shop.example.com/api/`, `dns:*`. */
  readonly id: string
  readonly protocol: Protocol
  /** Hash seed from the scope's salt. */
  readonly seed: number
  readonly stickiness: Stickiness
  /** False when the new path cannot serve the scope at all: it always goes to the legacy. */
  servable: boolean
  /** The percentage at start, used when the rollout state has none yet. */
  readonly initialBasisPoints: number
  /** Share of the scope's requests also sent to the other path and compared, in basis points. */
  readonly shadowBasisPoints: number

  /** Share on the new path in hundredths of a percent, live from the rollout state. */
  basisPoints: number
  /** The scope a reload puts in its place takes this object over, so its counters carry on. */
  stats: ScopeStats
}

export function newStats(): ScopeStats {
  return {
    newRequests: 0,
    newErrors: 0,
    fallbacks: 0,
    legacyRequests: 0,
    legacyErrors: 0,
    newLatency: new Float64Array(LATENCY_BUCKETS.length + 1),
    legacyLatency: new Float64Array(LATENCY_BUCKETS.length + 1),
    shadowed: 0,
    mismatches: 0,
  }
}

/** A snapshot of `s` that later counting leaves as it is. */
export function copyStats(s: ScopeStats): ScopeStats {
  return {
    ...s,
    newLatency: Float64Array.from(s.newLatency),
    legacyLatency: Float64Array.from(s.legacyLatency),
  }
}

/** Counters that may come as plain arrays (from another process) added into `into`. */
export type StatsLike = Omit<ScopeStats, 'newLatency' | 'legacyLatency'> & {
  newLatency: ArrayLike<number>
  legacyLatency: ArrayLike<number>
}

export function addStats(into: ScopeStats, from: StatsLike): void {
  into.newRequests += from.newRequests
  into.newErrors += from.newErrors
  into.fallbacks += from.fallbacks
  into.legacyRequests += from.legacyRequests
  // An older process's counters may not have it.
  into.legacyErrors += from.legacyErrors ?? 0
  into.shadowed += from.shadowed
  into.mismatches += from.mismatches
  for (let i = 0; i < into.newLatency.length; i++) {
    into.newLatency[i] += from.newLatency[i] ?? 0
    into.legacyLatency[i] += from.legacyLatency[i] ?? 0
  }
}

/**
 * The path for a request of `scope` whose stickiness key hashes to `keyHash()`.
 * The key is only hashed when the percentage is strictly between 0 and 100.
 */
export function choosePath<A, B, C>(
  scope: Scope,
  keyHash: (scope: Scope, a: A, b: B, c: C) => number,
  a: A,
  b: B,
  c: C,
): Path {
  const bp = scope.basisPoints
  if (!scope.servable || bp <= 0) return 'legacy'
  if (bp >= BUCKETS) return 'new'
  return bucketOf(keyHash(scope, a, b, c)) < bp ? 'new' : 'legacy'
}

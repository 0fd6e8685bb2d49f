// The last hour of each scope, for the console's charts: every few seconds the
// scope's counters (summed over the workers, in a supervisor) are read, and
// what changed since the last reading becomes one point: requests per second on
// each path, error rates and p99 on both paths side by side, fallbacks and
// shadow mismatches. A rate with nothing under it is null ("no data"), never 0.

import { windowOf } from '../../../rollout/gates.ts'
import { quantile } from '../../../rollout/latency.ts'
import { copyStats, type ScopeStats } from '../../../rollout/scope.ts'
import type { ScopeSet } from '../../../rollout/scopes.ts'

export const SAMPLE_MS = 5000
const POINTS = 720

export interface ScopePoint {
  /** Unix milliseconds. */
  t: number
  newRps: number
  legacyRps: number
  fallbackRps: number
  newErrorRate: number | null
  legacyErrorRate: number | null
  newP99Ms: number | null
  legacyP99Ms: number | null
  /** Fallbacks per new-path attempt. */
  fallbackRate: number | null
  mismatchRate: number | null
}

export interface ScopeSeries {
  /** The points of `scope`, oldest first (empty for one not seen yet). */
  of(scope: string): readonly ScopePoint[]
  /** The newest point of every scope. */
  latest(): Record<string, ScopePoint>
  stop(): void
}

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null)
const p99Ms = (counts: Float64Array) => {
  const q = quantile(counts, 0.99)
  return Number.isFinite(q) ? q * 1000 : null
}

export function pointOf(w: ScopeStats, seconds: number, t: number): ScopePoint {
  return {
    t,
    newRps: w.newRequests / seconds,
    legacyRps: w.legacyRequests / seconds,
    fallbackRps: w.fallbacks / seconds,
    newErrorRate: ratio(w.newErrors, w.newRequests),
    legacyErrorRate: ratio(w.legacyErrors, w.legacyRequests),
    newP99Ms: p99Ms(w.newLatency),
    legacyP99Ms: p99Ms(w.legacyLatency),
    fallbackRate: ratio(w.fallbacks, w.newRequests + w.fallbacks),
    mismatchRate: ratio(w.mismatches, w.shadowed),
  }
}

/** Samples `scopes()` every `everyMs` (before each reading, `refresh` brings the sums up to date). */
export function startScopeSeries(
  scopes: () => ScopeSet,
  refresh: () => void = () => {},
  everyMs = SAMPLE_MS,
): ScopeSeries {
  const series = new Map<string, { last: ScopeStats; at: number; points: ScopePoint[] }>()
  const sample = () => {
    refresh()
    const now = Date.now()
    const seen = new Set<string>()
    for (const [id, scope] of scopes()) {
      seen.add(id)
      const s = series.get(id)
      if (!s) {
        series.set(id, { last: copyStats(scope.stats), at: now, points: [] })
        continue
      }
      s.points.push(pointOf(windowOf(scope.stats, s.last), (now - s.at) / 1000, now))
      if (s.points.length > POINTS) s.points.shift()
      s.last = copyStats(scope.stats)
      s.at = now
    }
    // A scope a reload removed is forgotten.
    for (const id of series.keys()) if (!seen.has(id)) series.delete(id)
  }
  sample()
  const timer = setInterval(sample, everyMs)
  timer.unref()
  return {
    of: (scope) => series.get(scope)?.points ?? [],
    latest() {
      const out: Record<string, ScopePoint> = {}
      for (const [id, s] of series) {
        const p = s.points.at(-1)
        if (p) out[id] = p
      }
      return out
    },
    stop: () => clearInterval(timer),
  }
}

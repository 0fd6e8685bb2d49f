// What every finished request or query counts, in one place for both engines:
// the instance-wide series by path; the same by scope (zone or site) and path,
// for alerts and dashboards that watch one migration; and the scope's own
// counters, which the plan gates read. Children are bound once (a scope's on
// its first request), so counting is a lookup and a few additions; a scope a
// reload rebuilt gets the same children back (hot-metrics.ts) and counts on.

import { recordLatency } from '../../rollout/latency.ts'
import type { Scope } from '../../rollout/scope.ts'
import type { HotCount, HotObserver } from './hot-metrics.ts'
import type { Metrics, PathLabel, Protocol } from './metrics.ts'

interface Counted {
  requests: HotCount
  errors: HotCount
  duration: HotObserver
}

const PATHS: readonly PathLabel[] = ['new', 'legacy', 'fallback']

export interface RequestObserver {
  /** Counts one request of `scope` answered on `path`, started at `start` (performance.now()); `error`: SERVFAIL or 5xx. */
  done(path: PathLabel, scope: Scope, start: number, error: boolean): void
  /** Counts one of `scope`'s requests the new path handed to the legacy, and why (reasons are a small fixed set). */
  fellBack(scope: Scope, reason: string): void
}

export function requestObserver(metrics: Metrics, protocol: Protocol): RequestObserver {
  const byPath = Object.fromEntries(
    PATHS.map((path) => [
      path,
      {
        requests: metrics.requests.child({ protocol, path }),
        duration: metrics.duration.child({ protocol, path }),
      },
    ]),
  ) as Record<PathLabel, Omit<Counted, 'errors'>>
  const byScope = new WeakMap<Scope, Record<PathLabel, Counted>>()
  const bind = (scope: Scope) => {
    const bound = Object.fromEntries(
      PATHS.map((path) => {
        const labels = { protocol, scope: scope.id, path }
        return [
          path,
          {
            requests: metrics.scopeRequests.child(labels),
            errors: metrics.scopeErrors.child(labels),
            duration: metrics.scopeDuration.child(labels),
          },
        ]
      }),
    ) as Record<PathLabel, Counted>
    byScope.set(scope, bound)
    return bound
  }
  const fallbacks = new Map<string, HotCount>()
  const scopeFallbacks = new WeakMap<Scope, Map<string, HotCount>>()
  const done: RequestObserver['done'] = (path, scope, start, error) => {
    const seconds = (performance.now() - start) / 1000
    const all = byPath[path]
    all.requests.n++
    all.duration.observe(seconds)
    const one = (byScope.get(scope) ?? bind(scope))[path]
    one.requests.n++
    one.duration.observe(seconds)
    if (error) one.errors.n++
    const stats = scope.stats
    if (path === 'new') {
      stats.newRequests++
      if (error) stats.newErrors++
      recordLatency(stats.newLatency, seconds)
    } else if (path === 'legacy') {
      stats.legacyRequests++
      if (error) stats.legacyErrors++
      recordLatency(stats.legacyLatency, seconds)
    }
  }
  const fellBack: RequestObserver['fellBack'] = (scope, reason) => {
    let all = fallbacks.get(reason)
    if (all === undefined) {
      all = metrics.fallbacks.child({ protocol, reason })
      fallbacks.set(reason, all)
    }
    all.n++
    let byReason = scopeFallbacks.get(scope)
    if (byReason === undefined) {
      byReason = new Map()
      scopeFallbacks.set(scope, byReason)
    }
    let one = byReason.get(reason)
    if (one === undefined) {
      one = metrics.scopeFallbacks.child({ protocol, scope: scope.id, reason })
      byReason.set(reason, one)
    }
    one.n++
    scope.stats.fallbacks++
  }
  return { done, fellBack }
}

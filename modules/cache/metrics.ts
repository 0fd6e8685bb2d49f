// The cache's metrics, one set per registry: every site's cache counts into the
// same lookups counter and adds its bytes to the same gauge.

import { Counter, type Registry } from 'prom-client'
import { registered, summedGauge } from '../shared/registered-metrics.ts'

export interface CacheMetrics {
  hit: Counter.Internal
  miss: Counter.Internal
  revalidated: Counter.Internal
  bypass: Counter.Internal
  /** Add a reader of a store's size while the store serves; delete it after. */
  bytes: Set<() => number>
}

export function cacheMetrics(registry: Registry): CacheMetrics {
  const lookups = registered(
    registry,
    'cutover_cache_lookups_total',
    () =>
      new Counter({
        name: 'cutover_cache_lookups_total',
        help: 'HTTP cache lookups, by result',
        labelNames: ['result'],
        registers: [registry],
      }),
  )
  const bytes = summedGauge(registry, 'cutover_cache_bytes', 'Bytes held by the HTTP caches')

  const result = (label: string): Counter.Internal => {
    const child = lookups.labels(label)
    // Every series exists from the start, so rate() sees the first increment.
    child.inc(0)
    return child
  }
  return {
    hit: result('hit'),
    miss: result('miss'),
    revalidated: result('revalidated'),
    bypass: result('bypass'),
    bytes,
  }
}

// The cache's metrics, one set per registry: every site's cache counts into the
// same lookups counter and adds its bytes to the same gauge.

import type { Registry } from 'prom-client'
import { counterSeries, type SeriesCount, summedGauge } from '../shared/registered-metrics.ts'

export interface CacheMetrics {
  hit: SeriesCount
  miss: SeriesCount
  revalidated: SeriesCount
  bypass: SeriesCount
  /** Add a reader of a store's size while the store serves; delete it after. */
  bytes: Set<() => number>
}

export function cacheMetrics(registry: Registry): CacheMetrics {
  const results = counterSeries(
    registry,
    'cutover_cache_lookups_total',
    'HTTP cache lookups, by result',
    'result',
    ['hit', 'miss', 'revalidated', 'bypass'],
  )
  return {
    ...results,
    bytes: summedGauge(registry, 'cutover_cache_bytes', 'Bytes held by the HTTP caches'),
  }
}

// The cache's metrics, one set per registry: every site's cache counts into the
// same lookups counter and adds its bytes to the same gauge.

import { Counter, Gauge, type Registry } from 'prom-client'

export interface CacheMetrics {
  hit: Counter.Internal
  miss: Counter.Internal
  revalidated: Counter.Internal
  bypass: Counter.Internal
  bytes: Gauge<string>
}

export function cacheMetrics(registry: Registry): CacheMetrics {
  const lookups =
    (registry.getSingleMetric('cutover_cache_lookups_total') as Counter<'result'> | undefined) ??
    new Counter({
      name: 'cutover_cache_lookups_total',
      help: 'HTTP cache lookups, by result',
      labelNames: ['result'],
      registers: [registry],
    })
  const bytes =
    (registry.getSingleMetric('cutover_cache_bytes') as Gauge<string> | undefined) ??
    new Gauge({
      name: 'cutover_cache_bytes',
      help: 'Bytes held by the HTTP caches',
      registers: [registry],
    })
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

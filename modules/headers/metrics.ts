// The headers module's metric, one counter per registry: every site's rules
// count into it, and a reload counts on where the last set-up left off.

import type { Registry } from 'prom-client'
import { counterSeries, type SeriesCount } from '../shared/registered-metrics.ts'

export interface HeadersMetrics {
  /** A request whose headers a rule changed, counted once however many rules did. */
  request: SeriesCount
  /** A response whose headers a rule changed, counted once however many rules did. */
  response: SeriesCount
}

export function headersMetrics(registry: Registry): HeadersMetrics {
  return counterSeries(
    registry,
    'cutover_headers_rewrites_total',
    'Requests and responses whose headers a headers rule changed, by phase',
    'phase',
    ['request', 'response'],
  )
}

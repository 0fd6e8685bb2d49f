// The redirect module's metric, one counter per registry: every site's rules
// count into it, and a reload counts on where the last set-up left off.

import type { Registry } from 'prom-client'
import { counterSeries, type SeriesCount } from '../shared/registered-metrics.ts'

/**
 * The counter of redirects sent with `status`, its series made now. Only the
 * statuses rules are configured with get a series, and the schema allows four.
 */
export function redirectCounter(registry: Registry, status: number): SeriesCount {
  const s = String(status)
  return counterSeries(registry, 'cutover_redirect_total', 'Redirects sent, by status', 'status', [
    s,
  ])[s]
}

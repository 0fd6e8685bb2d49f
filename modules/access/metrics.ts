// The access module's metric, one counter per registry: every site's rules
// count their decisions into it, and a reload counts on where the last set-up left off.

import type { Registry } from 'prom-client'
import { counterSeries, type SeriesCount } from '../shared/registered-metrics.ts'

export interface AccessMetrics {
  /** A request an allow rule matched first. */
  allow: SeriesCount
  /** A request a deny rule matched first (refused). */
  deny: SeriesCount
}

export function accessMetrics(registry: Registry): AccessMetrics {
  return counterSeries(
    registry,
    'cutover_access_decisions_total',
    'Requests an access rule decided, by result (requests no rule matched are not counted)',
    'result',
    ['allow', 'deny'],
  )
}

// The static module's metric, one counter per registry: every site's rules
// count into it, and a reload counts on where the last set-up left off.

import { Counter, type Registry } from 'prom-client'
import { registered } from '../shared/registered-metrics.ts'

/** The counter of local answers served. Having no labels, its one series starts at 0. */
export function staticCounter(registry: Registry): Counter {
  return registered(
    registry,
    'cutover_static_total',
    () =>
      new Counter({
        name: 'cutover_static_total',
        help: 'Requests answered by a static rule',
        registers: [registry],
      }),
  )
}

// How busy this process is: the event loop's utilisation over the last 100 ms.
// Shadow traffic is shed while it is high, so comparisons never take time
// the real requests need.

import { performance } from 'node:perf_hooks'

export interface LoadGauge {
  /** True while the event loop was busy more than the threshold share of the last interval. */
  busy(): boolean
  stop(): void
}

export function startLoadGauge(threshold = 0.7, intervalMs = 100): LoadGauge {
  let last = performance.eventLoopUtilization()
  let busy = false
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization()
    busy = performance.eventLoopUtilization(now, last).utilization > threshold
    last = now
  }, intervalMs)
  timer.unref()
  return { busy: () => busy, stop: () => clearInterval(timer) }
}

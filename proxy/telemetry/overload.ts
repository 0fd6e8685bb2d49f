// Load shedding, per process. When the event loop falls behind (its median
// lateness over the last 50 ms above `overload.maxDelay`), everything it reads
// has waited that long already, and waits longer as more comes. So a share of
// new requests and queries is turned away at once with the cheapest answer
// there is (503 with Retry-After, SERVFAIL, or a dropped datagram), before any
// routing, upstream call or module runs. The share grows by a step for each
// interval the delay stays over the bound (from the second in a row: a burst
// of new connections is not an overload) and falls by a smaller one for each
// interval under it: it settles where what is served keeps the loop in time,
// and goes back to none by itself once the load falls. The median, not a high
// percentile: one garbage collection pause is not an overload either.
//
// Over UDP the queue is the socket's receive buffer, not the event loop: the
// kernel drops what does not fit (dns.udp.receiveBuffer bounds it, and
// cutover_dns_udp_receive_drops_total counts it).

import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { OverloadSettings } from '../config/config.ts'

const INTERVAL_MS = 50
/** The delay histogram's timer: each sample is this plus how late it fired. */
const RESOLUTION_MS = 5
/** Added to the shed share for each interval over the bound, and taken off for each under it. */
const RAISE = 0.15
const LOWER = 0.025
/** Something always gets through: the delay is measured on work served, to know when to stop. */
export const MAX_SHARE = 0.95

/**
 * The share to shed next, from the current one and how late (ms, the median)
 * the loop ran in the interval just ended and in the one before.
 */
export function nextShare(
  share: number,
  lateMs: number,
  lateBeforeMs: number,
  maxDelayMs: number,
): number {
  if (maxDelayMs > 0 && lateMs > maxDelayMs) {
    return lateBeforeMs > maxDelayMs ? Math.min(MAX_SHARE, share + RAISE) : share
  }
  return Math.max(0, share - LOWER)
}

export interface Overload {
  /** True for a request or query to turn away now (drawn at the current share). */
  shed(): boolean
  /** The share of new work being turned away, from 0 to MAX_SHARE. */
  readonly share: number
  readonly settings: OverloadSettings
  /** New settings (a reload). */
  configure(settings: OverloadSettings): void
  stop(): void
}

export function startOverloadGuard(first: OverloadSettings): Overload {
  let settings = first
  let share = 0
  /** Stops the watch on the loop; set only while shedding is on (maxDelay > 0). */
  let unwatch: (() => void) | undefined
  const watch = () => {
    const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
    delay.enable()
    let lateBefore = 0
    let lastTick = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      // The histogram keeps no sample across a reset: with every turn of the loop longer than
      // the interval it has none, and this timer's own lateness is the measure.
      const late =
        delay.count > 0 ? delay.percentile(50) / 1e6 - RESOLUTION_MS : now - lastTick - INTERVAL_MS
      lastTick = now
      delay.reset()
      share = nextShare(share, late, lateBefore, settings.maxDelay)
      lateBefore = late
    }, INTERVAL_MS)
    timer.unref()
    return () => {
      clearInterval(timer)
      delay.disable()
    }
  }
  const stop = () => {
    unwatch?.()
    unwatch = undefined
  }
  const configure = (next: OverloadSettings) => {
    settings = next
    if (next.maxDelay > 0) unwatch ??= watch()
    else {
      stop()
      share = 0
    }
  }
  configure(first)
  return {
    shed: () => share > 0 && Math.random() < share,
    get share() {
      return share
    },
    get settings() {
      return settings
    },
    configure,
    stop,
  }
}

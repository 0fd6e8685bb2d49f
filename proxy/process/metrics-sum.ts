// The workers' counters summed for the supervisor: the live workers' plus
// those of workers that are gone, so a sum never goes backwards when a worker
// drains or a generation leaves. Scope counters feed the plan controller;
// metrics feed /metrics.

import { AggregatorRegistry, type Registry } from 'prom-client'
import { addStats, newStats, type ScopeStats } from '../../rollout/scope.ts'
import type { ScopeSet } from '../../rollout/scopes.ts'
import type { WireStats } from './ipc.ts'

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>

export interface MetricsSum {
  /** Keeps a leaving worker's scope counters, and its final metrics when it sent them. */
  retire(stats: Record<string, WireStats>, metrics?: unknown): void
  /**
   * The counters of the supervisor this one replaced (`cutover upgrade`), in
   * place of those it sent before: they count in every sum from now on.
   */
  predecessor(stats: Record<string, WireStats>, metrics: unknown): void
  /** Sets each scope's counters to the sum over `live` workers and the retired ones. */
  sumStats(scopes: ScopeSet, live: Iterable<Record<string, WireStats>>): void
  /**
   * The workers' metrics as one exposition. `live` is read once every retired
   * worker's metrics are in: it leaves out a worker retired meanwhile (counted
   * in the retired sum already).
   */
  text(live: () => unknown[]): Promise<string>
  /** The same sum as `text`, as prom-client's JSON (for a successor to take over). */
  json(live: () => unknown[]): Promise<unknown>
}

/** Counters and histograms only: the gauges of a process that is gone describe nothing any more. */
function monotonicOf(metrics: unknown): MetricsJson {
  return (metrics as MetricsJson).filter(
    (m) => String(m.type) === 'counter' || String(m.type) === 'histogram',
  )
}

export function metricsSum(): MetricsSum {
  const retiredStats = new Map<string, ScopeStats>()
  let retiredMetrics: MetricsJson = []
  let before: { stats: Record<string, WireStats>; metrics: MetricsJson } = {
    stats: {},
    metrics: [],
  }
  let retiring: Promise<void> = Promise.resolve()
  /** Every worker's metrics, gone, before an upgrade and `live`, added up. */
  const merged = async (live: () => unknown[]) => {
    // A worker may retire while an earlier one's metrics are being added in.
    let settled: Promise<void>
    do {
      settled = retiring
      await settled
    } while (settled !== retiring)
    return AggregatorRegistry.aggregate([
      retiredMetrics,
      before.metrics,
      ...(live() as MetricsJson[]),
    ])
  }
  return {
    retire(stats, metrics) {
      for (const [id, s] of Object.entries(stats)) {
        const r = retiredStats.get(id) ?? newStats()
        addStats(r, s)
        retiredStats.set(id, r)
      }
      if (!metrics) return
      const monotonic = monotonicOf(metrics)
      retiring = retiring.then(async () => {
        retiredMetrics = await AggregatorRegistry.aggregate([
          retiredMetrics,
          monotonic,
        ]).getMetricsAsJSON()
      })
    },
    predecessor(stats, metrics) {
      before = { stats, metrics: monotonicOf(metrics) }
    },
    sumStats(scopes, live) {
      const workers = [...live, before.stats]
      for (const [id, scope] of scopes) {
        const sum = newStats()
        for (const stats of workers) if (stats[id]) addStats(sum, stats[id])
        const gone = retiredStats.get(id)
        if (gone) addStats(sum, gone)
        Object.assign(scope.stats, sum)
      }
    },
    text: async (live) => (await merged(live)).metrics(),
    json: async (live) => (await merged(live)).getMetricsAsJSON(),
  }
}

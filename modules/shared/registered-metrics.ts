// Metrics that outlive one set-up of a module. A reload sets every module up
// again on the same registry: counters must count on, and gauges must report
// what the instances serving now hold, not what retired ones held.

import { Counter, Gauge, type Registry } from 'prom-client'

type Metric = NonNullable<ReturnType<Registry['getSingleMetric']>>

/** The metric called `name` in `registry`, made by `make` the first time only. */
export function registered<T extends Metric>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make()
}

/**
 * The series of counter `name` (one label, `label`) for each of `values`, each
 * made now at zero so that rate() sees its first increment; the counter itself
 * is made once per registry, so a reload counts on.
 */
export function counterSeries<V extends string>(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  values: readonly V[],
): Record<V, Counter.Internal> {
  const counter = registered(
    registry,
    name,
    () => new Counter({ name, help, labelNames: [label], registers: [registry] }),
  )
  const series = {} as Record<V, Counter.Internal>
  for (const v of values) {
    series[v] = counter.labels(v)
    series[v].inc(0)
  }
  return series
}

const sourcesByRegistry = new WeakMap<Registry, Map<string, Set<() => number>>>()

/**
 * A gauge reporting, at scrape time, the sum over its sources. Add a source
 * per module instance; delete it when the instance closes.
 */
export function summedGauge(registry: Registry, name: string, help: string): Set<() => number> {
  let byName = sourcesByRegistry.get(registry)
  if (!byName) {
    byName = new Map()
    sourcesByRegistry.set(registry, byName)
  }
  let sources = byName.get(name)
  if (!sources) {
    const live = new Set<() => number>()
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        let sum = 0
        for (const read of live) sum += read()
        this.set(sum)
      },
    })
    sources = live
    byName.set(name, sources)
  }
  return sources
}

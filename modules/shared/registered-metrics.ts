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
 * One series of a counter, bumped on the request path as a plain number and
 * handed to prom-client when the registry is scraped: prom-client hashes the
 * labels on every inc() (about 300 ns).
 */
export class SeriesCount {
  n = 0
  flushed = 0
  inc(by = 1): void {
    this.n += by
  }
}

const seriesByRegistry = new WeakMap<Registry, Map<string, Map<string, SeriesCount>>>()

/**
 * The series of counter `name` (one label, `label`) for each of `values`, each
 * at zero from the start so that rate() sees its first increment; the counter
 * and its series are made once per registry, so a reload counts on.
 */
export function counterSeries<V extends string>(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  values: readonly V[],
): Record<V, SeriesCount> {
  let byName = seriesByRegistry.get(registry)
  if (!byName) {
    byName = new Map()
    seriesByRegistry.set(registry, byName)
  }
  let byValue = byName.get(name)
  if (!byValue) {
    const counts = new Map<string, SeriesCount>()
    byValue = counts
    byName.set(name, counts)
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        for (const [value, count] of counts) {
          this.inc({ [label]: value }, count.n - count.flushed)
          count.flushed = count.n
        }
      },
    })
  }
  const series = {} as Record<V, SeriesCount>
  for (const v of values) {
    let count = byValue.get(v)
    if (!count) {
      count = new SeriesCount()
      byValue.set(v, count)
    }
    series[v] = count
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

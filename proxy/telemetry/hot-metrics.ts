// Counters and histograms for per-request paths. prom-client hashes the label set
// on every inc() and observe() (~300 and ~700 ns here); on the hot path we bump
// plain numbers in a pre-bound child instead, and hand them to prom-client when
// the registry is scraped.

import { Counter, type Registry } from 'prom-client'

/** A pre-bound counter child: the hot path does `child.n++`. */
export interface HotCount {
  n: number
}

export interface HotCounter<L extends string> {
  readonly counter: Counter<L>
  child(labels: Record<L, string>): HotCount
}

/** A label set as a key: the same labels in the same order make the same key. */
function keyOf(labels: Record<string, string>): string {
  return JSON.stringify(labels)
}

/** A prom-client counter whose hot children are flushed into it at scrape time. */
export function hotCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): HotCounter<L> {
  const children: { labels: Record<L, string>; count: HotCount; flushed: number }[] = []
  const byKey = new Map<string, HotCount>()
  const counter = new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const c of children) {
        if (c.count.n === c.flushed) continue
        this.inc(c.labels, c.count.n - c.flushed)
        c.flushed = c.count.n
      }
    },
  })
  return {
    counter,
    child(labels) {
      // One count per label set: an engine built again on reload takes the one its predecessor counted in.
      const key = keyOf(labels)
      const known = byKey.get(key)
      if (known) return known
      const count = { n: 0 }
      byKey.set(key, count)
      // The series exists from the start at 0, so a rate or an alert on it has something to read.
      counter.inc(labels, 0)
      children.push({ labels, count, flushed: 0 })
      return count
    },
  }
}

/** A pre-bound histogram child: observe(seconds) is a bucket search and two additions. */
export interface HotObserver {
  observe(value: number): void
}

interface HistogramChild extends HotObserver {
  labels: Record<string, string>
  counts: Float64Array
  sum: number
}

/** A Prometheus histogram the registry can expose, with hot pre-bound children. */
export class HotHistogram {
  readonly name: string
  readonly help: string
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly #buckets: Float64Array
  readonly #children: HistogramChild[] = []
  readonly #byKey = new Map<string, HistogramChild>()

  constructor(registry: Registry, name: string, help: string, buckets: readonly number[]) {
    this.name = name
    this.help = help
    this.#buckets = Float64Array.from(buckets)
    registry.registerMetric(this as never)
  }

  child(labels: Record<string, string>): HotObserver {
    const key = keyOf(labels)
    const known = this.#byKey.get(key)
    if (known) return known
    const buckets = this.#buckets
    const child: HistogramChild = {
      labels,
      counts: new Float64Array(buckets.length + 1),
      sum: 0,
      observe(value) {
        let i = 0
        while (i < buckets.length && value > buckets[i]) i++
        this.counts[i]++
        this.sum += value
      },
    }
    this.#children.push(child)
    this.#byKey.set(key, child)
    return child
  }

  /** prom-client's metric interface: cumulative buckets, sum and count per child. */
  get() {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] =
      []
    for (const c of this.#children) {
      let cumulative = 0
      for (let i = 0; i < this.#buckets.length; i++) {
        cumulative += c.counts[i]
        values.push({
          value: cumulative,
          labels: { ...c.labels, le: this.#buckets[i] },
          metricName: `${this.name}_bucket`,
        })
      }
      cumulative += c.counts[this.#buckets.length]
      values.push({
        value: cumulative,
        labels: { ...c.labels, le: '+Inf' },
        metricName: `${this.name}_bucket`,
      })
      values.push({ value: c.sum, labels: c.labels, metricName: `${this.name}_sum` })
      values.push({ value: cumulative, labels: c.labels, metricName: `${this.name}_count` })
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    }
  }

  reset(): void {
    for (const c of this.#children) {
      c.counts.fill(0)
      c.sum = 0
    }
  }
}

// Hot counters and histograms: plain numbers on the hot path, handed to
// prom-client when the registry is scraped.

import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { HotHistogram, hotCounter } from './hot-metrics.ts'

/** The sample lines of `name` (and its _bucket/_sum/_count series) in a scrape. */
async function lines(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.metrics()
  return text.split('\n').filter((l) => l.startsWith(name) && !l.startsWith('#'))
}

describe('hotCounter', () => {
  it('shows what the children counted at scrape time, per label set, 0 for one that counted nothing', async () => {
    const registry = new Registry()
    const c = hotCounter(registry, 'cutover_test_total', 'help text', ['protocol', 'path'])
    const newDns = c.child({ protocol: 'dns', path: 'new' })
    const legacyDns = c.child({ protocol: 'dns', path: 'legacy' })
    const newHttp = c.child({ protocol: 'http', path: 'new' })
    newDns.n += 3
    legacyDns.n++
    expect(await lines(registry, 'cutover_test_total')).toEqual([
      'cutover_test_total{protocol="dns",path="new"} 3',
      'cutover_test_total{protocol="dns",path="legacy"} 1',
      'cutover_test_total{protocol="http",path="new"} 0',
    ])
    expect(newHttp.n).toBe(0)
  })

  it('has the help and type lines', async () => {
    const registry = new Registry()
    hotCounter(registry, 'cutover_test_total', 'Requests by path.', ['path'])
    const text = await registry.metrics()
    expect(text).toContain('# HELP cutover_test_total Requests by path.')
    expect(text).toContain('# TYPE cutover_test_total counter')
  })

  it('adds only what was counted since the last scrape', async () => {
    const registry = new Registry()
    const c = hotCounter(registry, 'cutover_test_total', 'h', ['path'])
    const child = c.child({ path: 'new' })
    child.n = 5
    expect(await lines(registry, 'cutover_test_total')).toEqual([
      'cutover_test_total{path="new"} 5',
    ])
    expect(await lines(registry, 'cutover_test_total')).toEqual([
      'cutover_test_total{path="new"} 5',
    ])
    child.n += 2
    expect(await lines(registry, 'cutover_test_total')).toEqual([
      'cutover_test_total{path="new"} 7',
    ])
  })

  it('gives the same child for the same labels (an engine built again counts on), added to direct increments', async () => {
    const registry = new Registry()
    const c = hotCounter(registry, 'cutover_test_total', 'h', ['path'])
    const a = c.child({ path: 'new' })
    a.n += 2
    const b = c.child({ path: 'new' })
    expect(b).toBe(a)
    b.n += 3
    c.counter.inc({ path: 'new' }, 10)
    expect(await lines(registry, 'cutover_test_total')).toEqual([
      'cutover_test_total{path="new"} 15',
    ])
  })

  it('exposes the prom-client counter with the flushed value', async () => {
    const registry = new Registry()
    const c = hotCounter(registry, 'cutover_test_total', 'h', ['path'])
    c.child({ path: 'legacy' }).n = 4
    const got = await c.counter.get()
    expect(got.values).toEqual([{ value: 4, labels: { path: 'legacy' } }])
  })

  it('keeps registries apart', async () => {
    const one = new Registry()
    const two = new Registry()
    hotCounter(one, 'cutover_test_total', 'h', ['path']).child({ path: 'new' }).n = 1
    hotCounter(two, 'cutover_test_total', 'h', ['path']).child({ path: 'new' }).n = 2
    expect(await lines(one, 'cutover_test_total')).toEqual(['cutover_test_total{path="new"} 1'])
    expect(await lines(two, 'cutover_test_total')).toEqual(['cutover_test_total{path="new"} 2'])
  })
})

describe('HotHistogram', () => {
  const buckets = [0.001, 0.01, 0.1, 1]

  it('counts each observation in the first bucket it fits, cumulatively, with sum and count', async () => {
    const registry = new Registry()
    const h = new HotHistogram(registry, 'cutover_test_seconds', 'Latency.', buckets)
    const child = h.child({ protocol: 'dns' })
    for (const v of [0.0005, 0.001, 0.005, 0.05, 0.05, 0.5, 2]) child.observe(v)
    expect(await lines(registry, 'cutover_test_seconds')).toEqual([
      'cutover_test_seconds_bucket{protocol="dns",le="0.001"} 2',
      'cutover_test_seconds_bucket{protocol="dns",le="0.01"} 3',
      'cutover_test_seconds_bucket{protocol="dns",le="0.1"} 5',
      'cutover_test_seconds_bucket{protocol="dns",le="1"} 6',
      'cutover_test_seconds_bucket{protocol="dns",le="+Inf"} 7',
      'cutover_test_seconds_sum{protocol="dns"} 2.6065',
      'cutover_test_seconds_count{protocol="dns"} 7',
    ])
  })

  it('has the help and type lines, and nothing else before any child', async () => {
    const registry = new Registry()
    new HotHistogram(registry, 'cutover_test_seconds', 'Latency.', buckets)
    const text = await registry.metrics()
    expect(text).toContain('# HELP cutover_test_seconds Latency.')
    expect(text).toContain('# TYPE cutover_test_seconds histogram')
    expect(await lines(registry, 'cutover_test_seconds')).toEqual([])
  })

  it('shows a child with no observations as zeros', async () => {
    const registry = new Registry()
    new HotHistogram(registry, 'cutover_test_seconds', 'h', [0.5]).child({ path: 'new' })
    expect(await lines(registry, 'cutover_test_seconds')).toEqual([
      'cutover_test_seconds_bucket{path="new",le="0.5"} 0',
      'cutover_test_seconds_bucket{path="new",le="+Inf"} 0',
      'cutover_test_seconds_sum{path="new"} 0',
      'cutover_test_seconds_count{path="new"} 0',
    ])
  })

  it('keeps children with different labels apart', async () => {
    const registry = new Registry()
    const h = new HotHistogram(registry, 'cutover_test_seconds', 'h', [0.01, 0.1])
    const fast = h.child({ protocol: 'dns', path: 'new' })
    const slow = h.child({ protocol: 'http', path: 'legacy' })
    fast.observe(0.002)
    fast.observe(0.003)
    slow.observe(0.2)
    expect(await lines(registry, 'cutover_test_seconds')).toEqual([
      'cutover_test_seconds_bucket{protocol="dns",path="new",le="0.01"} 2',
      'cutover_test_seconds_bucket{protocol="dns",path="new",le="0.1"} 2',
      'cutover_test_seconds_bucket{protocol="dns",path="new",le="+Inf"} 2',
      'cutover_test_seconds_sum{protocol="dns",path="new"} 0.005',
      'cutover_test_seconds_count{protocol="dns",path="new"} 2',
      'cutover_test_seconds_bucket{protocol="http",path="legacy",le="0.01"} 0',
      'cutover_test_seconds_bucket{protocol="http",path="legacy",le="0.1"} 0',
      'cutover_test_seconds_bucket{protocol="http",path="legacy",le="+Inf"} 1',
      'cutover_test_seconds_sum{protocol="http",path="legacy"} 0.2',
      'cutover_test_seconds_count{protocol="http",path="legacy"} 1',
    ])
    expect(h.child({ protocol: 'dns', path: 'new' })).toBe(fast)
  })

  it('gives cumulative counts from get()', () => {
    const h = new HotHistogram(new Registry(), 'cutover_test_seconds', 'h', [1, 2])
    const child = h.child({ a: 'x' })
    child.observe(1)
    child.observe(1.5)
    child.observe(3)
    const got = h.get()
    expect(got.name).toBe('cutover_test_seconds')
    expect(got.type).toBe('histogram')
    expect(got.values.map((v) => [v.metricName, v.labels.le, v.value])).toEqual([
      ['cutover_test_seconds_bucket', 1, 1],
      ['cutover_test_seconds_bucket', 2, 2],
      ['cutover_test_seconds_bucket', '+Inf', 3],
      ['cutover_test_seconds_sum', undefined, 5.5],
      ['cutover_test_seconds_count', undefined, 3],
    ])
  })

  it('starts every child from zero after reset, and keeps counting', async () => {
    const registry = new Registry()
    const h = new HotHistogram(registry, 'cutover_test_seconds', 'h', [1])
    const a = h.child({ c: 'a' })
    const b = h.child({ c: 'b' })
    a.observe(0.5)
    b.observe(5)
    h.reset()
    expect(await lines(registry, 'cutover_test_seconds')).toEqual([
      'cutover_test_seconds_bucket{c="a",le="1"} 0',
      'cutover_test_seconds_bucket{c="a",le="+Inf"} 0',
      'cutover_test_seconds_sum{c="a"} 0',
      'cutover_test_seconds_count{c="a"} 0',
      'cutover_test_seconds_bucket{c="b",le="1"} 0',
      'cutover_test_seconds_bucket{c="b",le="+Inf"} 0',
      'cutover_test_seconds_sum{c="b"} 0',
      'cutover_test_seconds_count{c="b"} 0',
    ])
    a.observe(2)
    expect(await lines(registry, 'cutover_test_seconds_count{c="a"}')).toEqual([
      'cutover_test_seconds_count{c="a"} 1',
    ])
  })

  it('is reset with the rest of its registry', async () => {
    const registry = new Registry()
    const h = new HotHistogram(registry, 'cutover_test_seconds', 'h', [1])
    h.child({ c: 'a' }).observe(0.5)
    registry.resetMetrics()
    expect(await lines(registry, 'cutover_test_seconds_count')).toEqual([
      'cutover_test_seconds_count{c="a"} 0',
    ])
  })

  it('refuses a second metric of the same name in a registry', () => {
    const registry = new Registry()
    new HotHistogram(registry, 'cutover_test_seconds', 'h', [1])
    expect(() => new HotHistogram(registry, 'cutover_test_seconds', 'h', [1])).toThrow(
      /already been registered/,
    )
  })
})

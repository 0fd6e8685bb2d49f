// The strict metric reads the end-to-end tests rely on: the same registry read
// in process and through its /metrics text gives the same values and the same refusals.

import { Counter, Gauge, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { HotHistogram } from './hot-metrics.ts'
import { familiesOfRegistry, familiesOfText, type MetricFamily, sampleOf } from './metric-sample.ts'

async function registry(): Promise<Registry> {
  const r = new Registry()
  const registers = [r]
  const requests = new Counter({
    name: 'cutover_t_requests_total',
    help: 'h',
    labelNames: ['protocol', 'path'],
    registers,
  })
  requests.inc({ protocol: 'dns', path: 'new' }, 3)
  requests.inc({ protocol: 'dns', path: 'legacy' }, 2)
  requests.inc({ protocol: 'http', path: 'new' })
  new Counter({ name: 'cutover_t_idle_total', help: 'h', labelNames: ['reason'], registers })
  new Counter({ name: 'cutover_t_plain_total', help: 'h', registers })
  const percent = new Gauge({
    name: 'cutover_t_percent',
    help: 'h',
    labelNames: ['scope'],
    registers,
  })
  percent.set({ scope: 'dns:a "quoted"\\name' }, 30)
  percent.set({ scope: 'dns:b' }, 0)
  const seconds = new HotHistogram(r, 'cutover_t_seconds', 'h', [0.1, 1])
  seconds.child({ protocol: 'dns' }).observe(0.5)
  seconds.child({ protocol: 'dns' }).observe(5)
  return r
}

const sources: [string, (r: Registry) => Promise<MetricFamily[]>][] = [
  ['the registry', familiesOfRegistry],
  ['/metrics text', async (r) => familiesOfText(await r.metrics())],
]

describe.each(sources)('reading %s', (_, familiesOf) => {
  const read = async (name: string, labels: Record<string, string> = {}) =>
    sampleOf(await familiesOf(await registry()), name, labels)

  it('gives a counted sample, and sums a counter over the labels left out', async () => {
    expect(await read('cutover_t_requests_total', { protocol: 'dns', path: 'new' })).toBe(3)
    expect(await read('cutover_t_requests_total', { protocol: 'dns' })).toBe(5)
    expect(await read('cutover_t_requests_total')).toBe(6)
  })

  it('gives 0 for a counter that has not counted that label set, or anything', async () => {
    expect(await read('cutover_t_requests_total', { protocol: 'http', path: 'legacy' })).toBe(0)
    expect(await read('cutover_t_idle_total')).toBe(0)
    expect(await read('cutover_t_plain_total')).toBe(0)
  })

  it("gives a gauge's value and a histogram's observation count", async () => {
    expect(await read('cutover_t_percent', { scope: 'dns:a "quoted"\\name' })).toBe(30)
    expect(await read('cutover_t_percent', { scope: 'dns:b' })).toBe(0)
    expect(await read('cutover_t_seconds', { protocol: 'dns' })).toBe(2)
    expect(await read('cutover_t_seconds', { protocol: 'http' })).toBe(0)
  })

  it('throws for a metric that does not exist, listing the ones that do', async () => {
    await expect(read('cutover_t_request_total')).rejects.toThrow(
      /no metric cutover_t_request_total; the cutover metrics are: cutover_t_idle_total, cutover_t_percent, cutover_t_plain_total, cutover_t_requests_total, cutover_t_seconds$/,
    )
  })

  it('throws for a label the metric does not have', async () => {
    await expect(read('cutover_t_requests_total', { proto: 'dns' })).rejects.toThrow(
      'metric cutover_t_requests_total has no label proto; its labels are: protocol, path',
    )
    await expect(read('cutover_t_plain_total', { reason: 'x' })).rejects.toThrow(
      'has no label reason',
    )
  })

  it('throws for a gauge never set for that label set, or set for several', async () => {
    await expect(read('cutover_t_percent', { scope: 'dns:c' })).rejects.toThrow('has 0 values')
    await expect(read('cutover_t_percent')).rejects.toThrow('has 2 values')
  })
})

describe('reading the registry', () => {
  it('knows the label names of a labelled counter that has counted nothing', async () => {
    const families = await familiesOfRegistry(await registry())
    expect(sampleOf(families, 'cutover_t_idle_total', { reason: 'x' })).toBe(0)
    expect(() => sampleOf(families, 'cutover_t_idle_total', { why: 'x' })).toThrow('no label why')
  })
})

describe('reading /metrics text', () => {
  it('cannot know the labels of a counter with no samples, so takes none', async () => {
    const families = familiesOfText(await (await registry()).metrics())
    expect(() => sampleOf(families, 'cutover_t_idle_total', { reason: 'x' })).toThrow(
      'has no label reason',
    )
  })

  it('adds the samples of a family met again in a second scrape', () => {
    const scrape = '# TYPE cutover_x_total counter\ncutover_x_total{a="1"} 2\n'
    const families = familiesOfText(`${scrape}\n${scrape.replace('"1"', '"2"')}`)
    expect(sampleOf(families, 'cutover_x_total', {})).toBe(4)
  })
})

// The JSON report: the whole report back from JSON.parse, pretty, and the same
// bytes whatever order the report's objects were built in.

import { describe, expect, it } from 'vitest'
import { ODD_DNS_ID, sampleReport } from './report-fixture.ts'
import { renderJson } from './report-json.ts'
import type { RunReport } from './report-model.ts'

/** The same value with every object's keys inserted in reverse order. */
function reversed<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversed) as T
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversed(v)]),
  ) as T
}

describe('renderJson', () => {
  it('gives the report back through JSON.parse', () => {
    const report = sampleReport()
    expect(JSON.parse(renderJson(report))).toEqual(report)
  })

  it('is indented by two spaces and ends with a newline', () => {
    const out = renderJson(sampleReport())
    expect(out.startsWith('{\n  "suites": [\n    "dns-basic",\n')).toBe(true)
    expect(out.endsWith('}\n')).toBe(true)
  })

  it('writes keys in the order of the model, whatever order they were built in', () => {
    const report = sampleReport()
    const out = renderJson(reversed(report))
    expect(out).toBe(renderJson(report))
    const parsed = JSON.parse(out) as RunReport
    expect(Object.keys(parsed)).toEqual([
      'suites',
      'startedAt',
      'durationMs',
      'targets',
      'totals',
      'groups',
      'expired',
      'results',
    ])
    expect(Object.keys(parsed.targets)).toEqual(['legacy', 'candidate'])
    expect(Object.keys(parsed.totals)).toEqual([
      'cases',
      'match',
      'mismatch',
      'error',
      'noisy',
      'suppressed',
    ])
    expect(Object.keys(parsed.results[0])).toEqual([
      'id',
      'kind',
      'outcome',
      'durationMs',
      'diffs',
      'noise',
      'suppressed',
      'replay',
      'legacy',
      'candidate',
    ])
    expect(Object.keys(parsed.results[0].diffs[0])).toEqual(['field', 'legacy', 'candidate'])
    expect(Object.keys(parsed.groups[0])).toEqual(['field', 'label', 'count', 'example'])
    expect(Object.keys(parsed.expired[0])).toEqual(['field', 'case', 'who', 'why', 'expires'])
    expect(Object.keys(parsed.results[4].suppressed[0])).toEqual(['diff', 'by'])
  })

  it('keeps fields the model does not know yet, sorted, after the known ones', () => {
    const report = sampleReport()
    const withExtras = {
      ...report,
      zeta: 1,
      alpha: { y: 2, x: [{ b: 1, a: 2 }] },
      results: [{ ...report.results[0], suite: 'dns-basic' }, ...report.results.slice(1)],
    }
    const parsed = JSON.parse(renderJson(withExtras))
    expect(Object.keys(parsed).slice(-2)).toEqual(['alpha', 'zeta'])
    expect(JSON.stringify(parsed.alpha)).toBe('{"x":[{"a":2,"b":1}],"y":2}')
    expect(Object.keys(parsed.results[0]).at(-1)).toBe('suite')
  })

  it('leaves out absent optional fields and keeps odd characters as they are', () => {
    const parsed = JSON.parse(renderJson(sampleReport())) as RunReport
    const robots = parsed.results.find((r) => r.id === 'GET www.example.test/robots.txt')!
    expect('legacy' in robots).toBe(false)
    expect('error' in robots).toBe(false)
    expect(parsed.results.some((r) => r.id === ODD_DNS_ID)).toBe(true)
  })
})

// Plan gates: pass, hold (too few samples) or breach (with the reason), judged
// on the counters of a window.

import { describe, expect, it } from 'vitest'
import { type GateReading, judge, windowOf } from './gates.ts'
import { limits } from './gates-test-support.ts'
import { recordLatency } from './latency.ts'
import { newStats, type ScopeStats } from './scope.ts'

interface Traffic {
  newRequests?: number
  newErrors?: number
  fallbacks?: number
  legacyRequests?: number
  shadowed?: number
  mismatches?: number
  /** Seconds every new (legacy) request took. */
  newSeconds?: number
  legacySeconds?: number
}

function stats(t: Traffic): ScopeStats {
  const s = newStats()
  s.newRequests = t.newRequests ?? 0
  s.newErrors = t.newErrors ?? 0
  s.fallbacks = t.fallbacks ?? 0
  s.legacyRequests = t.legacyRequests ?? 0
  s.shadowed = t.shadowed ?? 0
  s.mismatches = t.mismatches ?? 0
  for (let i = 0; i < s.newRequests; i++) recordLatency(s.newLatency, t.newSeconds ?? 0.001)
  for (let i = 0; i < s.legacyRequests; i++)
    recordLatency(s.legacyLatency, t.legacySeconds ?? 0.001)
  return s
}

const healthy: Traffic = { newRequests: 1000, legacyRequests: 1000 }

function reading(readings: GateReading[], gate: GateReading['gate']): GateReading {
  return readings.find((r) => r.gate === gate)!
}

describe('judge', () => {
  it('passes when every gate has its samples and holds', () => {
    const j = judge(stats({ ...healthy, newErrors: 5, fallbacks: 20, shadowed: 2000 }), limits)
    expect(j.kind).toBe('pass')
    expect(j.readings.map((r) => [r.gate, r.state])).toEqual([
      ['error-rate', 'ok'],
      ['fallback-rate', 'ok'],
      ['latency', 'ok'],
      ['mismatch-rate', 'ok'],
    ])
    expect(reading(j.readings, 'error-rate')).toEqual({
      gate: 'error-rate',
      value: 0.005,
      limit: 0.01,
      samples: 1000,
      state: 'ok',
    })
    expect(reading(j.readings, 'fallback-rate')).toMatchObject({ value: 20 / 1020, samples: 1020 })
    expect(reading(j.readings, 'latency')).toMatchObject({ value: 1, samples: 1000 })
  })

  it('holds with too few samples, and never breaches on them', () => {
    const few = judge(stats({ newRequests: 50, newErrors: 50, legacyRequests: 1000 }), limits)
    expect(few.kind).toBe('hold')
    expect(reading(few.readings, 'error-rate')).toMatchObject({ value: 1, state: 'inconclusive' })
    expect(few.kind === 'hold' && few.why).toBe(
      'inconclusive: error-rate has 50 of 100 samples; fallback-rate has 50 of 100 samples; latency has 50 of 100 samples',
    )
    const fallbacks = judge(stats({ newRequests: 10, fallbacks: 80, legacyRequests: 1000 }), limits)
    expect(fallbacks.kind).toBe('hold')
    const slow = judge(stats({ newRequests: 99, legacyRequests: 99, newSeconds: 5 }), limits)
    expect(slow.kind).toBe('hold')
  })

  it('holds with no traffic at all', () => {
    const j = judge(newStats(), limits)
    expect(j.kind).toBe('hold')
    expect(reading(j.readings, 'error-rate')).toMatchObject({
      value: 0,
      samples: 0,
      state: 'inconclusive',
    })
  })

  it('counts exactly the minimum as enough', () => {
    expect(judge(stats({ newRequests: 100, legacyRequests: 100 }), limits).kind).toBe('pass')
    expect(judge(stats({ newRequests: 99, legacyRequests: 100 }), limits).kind).toBe('hold')
  })

  it('breaches on the error rate, saying by how much', () => {
    const j = judge(stats({ ...healthy, newErrors: 20 }), limits)
    expect(j.kind).toBe('breach')
    expect(j.kind === 'breach' && j.why).toBe('error-rate 2.00% over 0.01 (1000 samples)')
    expect(reading(j.readings, 'error-rate').state).toBe('breached')
  })

  it('breaches on the fallback rate, counting fallbacks among the attempts', () => {
    const j = judge(stats({ newRequests: 900, fallbacks: 100, legacyRequests: 1000 }), limits)
    expect(j.kind === 'breach' && j.why).toBe('fallback-rate 10.00% over 0.05 (1000 samples)')
  })

  it('breaches on the latency ratio of the p99s', () => {
    const j = judge(stats({ ...healthy, newSeconds: 0.1, legacySeconds: 0.01 }), limits)
    expect(j.kind === 'breach' && j.why).toBe('latency 10.00× over 1.5 (1000 samples)')
    expect(reading(j.readings, 'latency').value).toBeCloseTo(10)
    // At the limit is not over it.
    const even = stats(healthy)
    even.newLatency.fill(0)
    even.newLatency[4] = 1000 // 2.5 ms
    even.legacyLatency.fill(0)
    even.legacyLatency[4] = 1000
    expect(judge(even, { ...limits, maxLatencyRatio: 1 }).kind).toBe('pass')
  })

  it('breaches on the mismatch rate of shadowed requests', () => {
    const j = judge(stats({ ...healthy, shadowed: 1000, mismatches: 5 }), limits)
    expect(j.kind === 'breach' && j.why).toBe('mismatch-rate 0.50% over 0.001 (1000 samples)')
    const few = judge(stats({ ...healthy, shadowed: 10, mismatches: 10 }), limits)
    expect(few.kind === 'hold' && few.why).toBe('inconclusive: mismatch-rate has 10 of 100 samples')
  })

  it('lists every breached gate, and a breach wins over a hold', () => {
    const j = judge(
      stats({ newRequests: 1000, newErrors: 100, fallbacks: 500, legacyRequests: 10 }),
      limits,
    )
    expect(j.kind === 'breach' && j.why).toBe(
      'error-rate 10.00% over 0.01 (1000 samples); fallback-rate 33.33% over 0.05 (1500 samples)',
    )
    expect(reading(j.readings, 'latency').state).toBe('inconclusive')
  })

  it('does not apply the latency gate without legacy traffic (at 100%)', () => {
    const j = judge(stats({ newRequests: 1000, newSeconds: 5 }), limits)
    expect(j.kind).toBe('pass')
    expect(reading(j.readings, 'latency')).toMatchObject({ state: 'not-applicable', samples: 0 })
  })

  it('does not apply the mismatch gate without shadow traffic: nothing compared is not "ok"', () => {
    const j = judge(stats(healthy), limits)
    expect(reading(j.readings, 'mismatch-rate')).toEqual({
      gate: 'mismatch-rate',
      value: 0,
      limit: 0.001,
      samples: 0,
      state: 'not-applicable',
    })
    expect(j.kind).toBe('pass')
  })
})

describe('windowOf', () => {
  it('subtracts every counter, latency buckets one by one, leaving both inputs as they were', () => {
    const then = stats({
      newRequests: 10,
      newErrors: 1,
      fallbacks: 2,
      legacyRequests: 20,
      shadowed: 3,
      mismatches: 1,
    })
    const now = stats({
      newRequests: 110,
      newErrors: 4,
      fallbacks: 9,
      legacyRequests: 50,
      shadowed: 13,
      mismatches: 2,
    })
    recordLatency(now.newLatency, 1)
    recordLatency(now.legacyLatency, 100)
    const nowCopy = structuredClone(now)
    const thenCopy = structuredClone(then)
    const w = windowOf(now, then)
    expect(w.newRequests).toBe(100)
    expect(w.newErrors).toBe(3)
    expect(w.fallbacks).toBe(7)
    expect(w.legacyRequests).toBe(30)
    expect(w.shadowed).toBe(10)
    expect(w.mismatches).toBe(1)
    const newWant = new Float64Array(16)
    newWant[3] = 100 // 1 ms
    newWant[12] = 1 // 1 s
    expect([...w.newLatency]).toEqual([...newWant])
    const legacyWant = new Float64Array(16)
    legacyWant[3] = 30
    legacyWant[15] = 1 // past the last bound
    expect([...w.legacyLatency]).toEqual([...legacyWant])
    expect(now).toEqual(nowCopy)
    expect(then).toEqual(thenCopy)
  })

  it('gives an empty window for the same counters', () => {
    const s = stats(healthy)
    const w = windowOf(s, s)
    expect(w).toEqual(newStats())
    expect(judge(w, limits).kind).toBe('hold')
  })
})

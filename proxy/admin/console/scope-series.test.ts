// A scope's points for the console's charts: rates over the time between two
// readings, and null where nothing was measured, never a reassuring 0.

import { describe, expect, it } from 'vitest'
import { recordLatency } from '../../../rollout/latency.ts'
import { newStats } from '../../../rollout/scope.ts'
import { pointOf } from './scope-series.ts'

describe('pointOf', () => {
  it('turns a window of counters into rates, error rates and p99s per path', () => {
    const w = newStats()
    Object.assign(w, {
      newRequests: 100,
      newErrors: 5,
      legacyRequests: 300,
      legacyErrors: 3,
      fallbacks: 25,
    })
    Object.assign(w, { shadowed: 40, mismatches: 2 })
    for (let i = 0; i < 100; i++) recordLatency(w.newLatency, 0.002)
    for (let i = 0; i < 300; i++) recordLatency(w.legacyLatency, 0.02)
    expect(pointOf(w, 5, 1000)).toEqual({
      t: 1000,
      newRps: 20,
      legacyRps: 60,
      fallbackRps: 5,
      newErrorRate: 0.05,
      legacyErrorRate: 0.01,
      newP99Ms: 2.5,
      legacyP99Ms: 25,
      fallbackRate: 0.2,
      mismatchRate: 0.05,
    })
  })

  it('has no rate, p99 or mismatch rate where nothing was measured', () => {
    expect(pointOf(newStats(), 5, 0)).toMatchObject({
      newRps: 0,
      newErrorRate: null,
      legacyErrorRate: null,
      newP99Ms: null,
      legacyP99Ms: null,
      fallbackRate: null,
      mismatchRate: null,
    })
  })
})

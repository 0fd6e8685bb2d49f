import { describe, expect, it } from 'vitest'
import { judge } from '../rollout/gates.ts'
import { newStats } from '../rollout/scope.ts'
import { readingText } from './gate-text.ts'

const limits = {
  minSamples: 100,
  maxErrorRate: 0.01,
  maxFallbackRate: 0.05,
  maxLatencyRatio: 1.5,
  maxMismatchRate: 0.001,
}

describe('readingText', () => {
  it('says "no data" for every gate of a window with no traffic, never "ok"', () => {
    const texts = judge(newStats(), limits).readings.map(readingText)
    expect(texts).toEqual([
      'error-rate no data (0 samples so far)',
      'fallback-rate no data (0 samples so far)',
      'latency no data (no legacy traffic to compare with)',
      'mismatch-rate no data (nothing shadowed)',
    ])
  })

  it('gives the value and the verdict once a gate has its samples', () => {
    expect(
      readingText({
        gate: 'error-rate',
        value: 0.02,
        limit: 0.01,
        samples: 500,
        state: 'breached',
      }),
    ).toBe('error-rate 2.00% breached')
    expect(
      readingText({ gate: 'latency', value: 1.234, limit: 1.5, samples: 500, state: 'ok' }),
    ).toBe('latency 1.23x ok')
    expect(
      readingText({
        gate: 'fallback-rate',
        value: 0,
        limit: 0.05,
        samples: 12,
        state: 'inconclusive',
      }),
    ).toBe('fallback-rate no data (12 samples so far)')
  })
})

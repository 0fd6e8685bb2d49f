import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { Judgement } from '../../rollout/gates.ts'
import type { RolloutState } from '../../rollout/state.ts'
import { familiesOfRegistry, sampleOf } from './metric-sample.ts'
import { registerRolloutGauges } from './rollout-gauges.ts'

const state = {
  version: 3,
  scopes: {
    'dns:a.test': {
      basisPoints: 500,
      updatedAt: 0,
      updatedBy: 'admin',
      plan: {
        steps: [500, 2500],
        step: 0,
        status: 'running',
        bakeMs: 60_000,
        stepStartedAt: 0,
        lastGood: 0,
      },
    },
    'http:b.test': { basisPoints: 0, updatedAt: 0, updatedBy: 'admin' },
  },
} as unknown as RolloutState

const judgement: Judgement = {
  kind: 'hold',
  why: 'inconclusive',
  readings: [
    { gate: 'error-rate', value: 0.002, limit: 0.01, samples: 500, state: 'ok' },
    { gate: 'fallback-rate', value: 0, limit: 0.05, samples: 3, state: 'inconclusive' },
    { gate: 'latency', value: 1.8, limit: 1.5, samples: 500, state: 'breached' },
    { gate: 'mismatch-rate', value: 0, limit: 0.001, samples: 0, state: 'not-applicable' },
  ],
}

describe('rollout gauges', () => {
  it('give each plan step, and each gate reading with its limit only where it rests on samples', async () => {
    const registry = new Registry()
    registerRolloutGauges(registry, {
      current: () => state,
      judgement: (scope) => (scope === 'dns:a.test' ? judgement : undefined),
    })
    const families = await familiesOfRegistry(registry)
    expect(sampleOf(families, 'cutover_rollout_plan_step', { scope: 'dns:a.test' })).toBe(1)
    expect(sampleOf(families, 'cutover_rollout_plan_step', { scope: 'http:b.test' })).toBe(0)
    const gate = (name: string, g: string) =>
      sampleOf(families, name, { scope: 'dns:a.test', gate: g })
    expect(gate('cutover_rollout_gate_value', 'error-rate')).toBe(0.002)
    expect(gate('cutover_rollout_gate_limit', 'latency')).toBe(1.5)
    expect(gate('cutover_rollout_gate_value', 'latency')).toBe(1.8)
    // No data is no series, not a 0.
    const text = await registry.metrics()
    expect(text).not.toContain('gate="fallback-rate"')
    expect(text).not.toContain('gate="mismatch-rate"')
  })
})

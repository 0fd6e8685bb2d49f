import { describe, expect, it } from 'vitest'
import { type Drift, moveFor } from './rollout-drift.ts'

const drift = (live: number, config: number | undefined, planRunning = false): Drift => ({
  scope: 'dns:example.test',
  live,
  config,
  planRunning,
})

describe('moveFor', () => {
  it('sets a lowering, and a raise of up to 25 points, at once', () => {
    expect(moveFor(drift(50, 0))).toEqual({ kind: 'set', scope: 'dns:example.test', percent: 0 })
    expect(moveFor(drift(10, 35))).toEqual({ kind: 'set', scope: 'dns:example.test', percent: 35 })
  })

  it('walks a larger raise as a plan of 25-point steps ending at the config', () => {
    expect(moveFor(drift(0, 100))).toEqual({
      kind: 'plan',
      scope: 'dns:example.test',
      steps: [25, 50, 75, 100],
    })
    expect(moveFor(drift(10, 40))).toMatchObject({ steps: [35, 40] })
  })

  it('leaves a scope the config sets no percent for, or one a plan is moving, saying why', () => {
    expect(moveFor(drift(30, undefined))).toEqual({
      kind: 'leave',
      scope: 'dns:example.test',
      why: 'the config sets no percent for it',
    })
    expect(moveFor(drift(30, 100, true))).toMatchObject({ kind: 'leave' })
  })
})

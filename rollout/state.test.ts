// Rollout state transitions: the next state, the history entries that explain
// it, the version bump, and the transitions that are refused.

import { describe, expect, it } from 'vitest'
import {
  abortPlan,
  advancePlan,
  pausePlan,
  promotePlan,
  type RolloutState,
  resumePlan,
  rollbackPlan,
  setPercent,
  startPlan,
  stateSchema,
  type Transition,
  TransitionError,
  withInitialScopes,
} from './state.ts'

const S = 'dns:example.test'
const OTHER = 'http:shop.example.test'

function base(bp = 0): RolloutState {
  return {
    version: 7,
    scopes: {
      [S]: { basisPoints: bp, updatedAt: 1, updatedBy: 'config' },
      [OTHER]: { basisPoints: 300, updatedAt: 1, updatedBy: 'config' },
    },
  }
}

/** A plan 1,5,25 (basis points 100,500,2500) with a one-minute bake, started at t=1000 from `bp`. */
function planned(bp = 0): RolloutState {
  return startPlan(base(bp), S, [100, 500, 2500], 60_000, 'admin', 1000).state
}

/** Checks what every transition keeps: one version up, the input untouched, other scopes kept, a valid state. */
function checked(before: RolloutState, t: Transition): Transition {
  const copy = structuredClone(before)
  expect(t.state.version).toBe(before.version + 1)
  expect(before).toEqual(copy)
  expect(t.state.scopes[OTHER]).toEqual(before.scopes[OTHER])
  expect(stateSchema.safeParse(JSON.parse(JSON.stringify(t.state))).success).toBe(true)
  return t
}

describe('setPercent', () => {
  it('sets the percentage, says who, why and when, and bumps the version', () => {
    const s = base(100)
    const t = checked(s, setPercent(s, S, 2500, 'admin', 'more traffic', 5000))
    expect(t.state.scopes[S]).toEqual({
      basisPoints: 2500,
      updatedAt: 5000,
      updatedBy: 'admin',
      plan: undefined,
    })
    expect(t.entries).toEqual([
      { at: 5000, scope: S, from: 100, to: 2500, by: 'admin', action: 'set', why: 'more traffic' },
    ])
  })

  it('pauses a running plan: the operator took over', () => {
    const s = planned()
    const t = checked(s, setPercent(s, S, 50, 'admin', 'too hot', 5000))
    expect(t.state.scopes[S].basisPoints).toBe(50)
    expect(t.state.scopes[S].plan).toMatchObject({
      status: 'paused',
      step: 0,
      note: 'paused: percentage set by hand (too hot)',
    })
  })

  it('leaves a plan that is not running as it is', () => {
    const paused = pausePlan(planned(), S, 'admin', 'lunch', 2000).state
    const t = setPercent(paused, S, 50, 'admin', 'x', 5000)
    expect(t.state.scopes[S].plan).toEqual(paused.scopes[S].plan)
    const aborted = abortPlan(planned(), S, 'admin', 'no', 2000).state
    expect(setPercent(aborted, S, 50, 'admin', 'x', 5000).state.scopes[S].plan).toEqual(
      aborted.scopes[S].plan,
    )
  })

  it('refuses an unknown scope', () => {
    expect(() => setPercent(base(), 'dns:nope.test', 1, 'admin', 'x', 1)).toThrow(TransitionError)
    expect(() => setPercent(base(), 'dns:nope.test', 1, 'admin', 'x', 1)).toThrow(
      "unknown scope 'dns:nope.test'",
    )
  })
})

describe('startPlan', () => {
  it('starts at the first step, with no step held yet (a first breach goes back to 0)', () => {
    const s = base(30)
    const t = checked(s, startPlan(s, S, [100, 500, 2500], 60_000, 'admin', 1000))
    expect(t.state.scopes[S]).toEqual({
      basisPoints: 100,
      updatedAt: 1000,
      updatedBy: 'admin',
      plan: {
        steps: [100, 500, 2500],
        bakeMs: 60_000,
        step: 0,
        stepStartedAt: 1000,
        status: 'running',
        lastGood: 0,
      },
    })
    expect(t.entries).toEqual([
      {
        at: 1000,
        scope: S,
        from: 30,
        to: 100,
        by: 'admin',
        action: 'plan',
        why: 'plan 1,5,25 with 60 s bake',
      },
    ])
  })

  it('replaces a plan that was there', () => {
    const s = planned()
    const t = checked(s, startPlan(s, S, [1000, 10_000], 0, 'admin', 9000))
    expect(t.state.scopes[S].plan).toMatchObject({ steps: [1000, 10_000], step: 0, lastGood: 0 })
    expect(t.entries[0].why).toBe('plan 10,100 with 0 s bake')
  })

  it('refuses steps that do not go up, and an empty plan', () => {
    for (const steps of [[500, 100], [100, 100], [100, 500, 200], []]) {
      expect(() => startPlan(base(), S, steps, 1000, 'admin', 1)).toThrow(TransitionError)
    }
    expect(() => startPlan(base(), S, [5, 1], 1000, 'admin', 1)).toThrow(
      'plan steps must go up, like 1,5,25,50,100',
    )
    expect(() => startPlan(base(), S, [], 1000, 'admin', 1)).toThrow(
      'a plan needs at least one step',
    )
    expect(() => startPlan(base(), 'dns:nope.test', [1], 1000, 'admin', 1)).toThrow(TransitionError)
  })

  it('accepts a single step', () => {
    const t = startPlan(base(), S, [10_000], 0, 'admin', 1)
    expect(t.state.scopes[S].basisPoints).toBe(10_000)
  })
})

describe('pausePlan', () => {
  it('pauses a running plan with the reason, keeping the percentage', () => {
    const s = planned()
    const t = checked(s, pausePlan(s, S, 'admin', 'lunch', 2000))
    expect(t.state.scopes[S]).toMatchObject({
      basisPoints: 100,
      updatedAt: 2000,
      updatedBy: 'admin',
      plan: { status: 'paused', note: 'lunch', step: 0, stepStartedAt: 1000 },
    })
    expect(t.entries).toEqual([
      { at: 2000, scope: S, from: 100, to: 100, by: 'admin', action: 'pause', why: 'lunch' },
    ])
  })

  it('refuses a plan that is not running, and a scope without a plan', () => {
    const paused = pausePlan(planned(), S, 'admin', 'x', 2000).state
    expect(() => pausePlan(paused, S, 'admin', 'x', 3000)).toThrow(
      `the plan of '${S}' is paused, not running`,
    )
    expect(() => pausePlan(base(), S, 'admin', 'x', 3000)).toThrow(
      `scope '${S}' has no plan; start one with 'cutover rollout plan'`,
    )
    const aborted = abortPlan(planned(), S, 'admin', 'x', 2000).state
    expect(() => pausePlan(aborted, S, 'admin', 'x', 3000)).toThrow(TransitionError)
  })
})

describe('resumePlan', () => {
  it('resumes a paused plan where it was, with the bake starting over', () => {
    const s = pausePlan(
      advancePlan(planned(), S, 'baked', 70_000).state,
      S,
      'admin',
      'x',
      80_000,
    ).state
    const t = checked(s, resumePlan(s, S, 'admin', 90_000))
    expect(t.state.scopes[S].basisPoints).toBe(500)
    expect(t.state.scopes[S].plan).toMatchObject({
      step: 1,
      status: 'running',
      stepStartedAt: 90_000,
      note: undefined,
    })
    expect(t.entries).toEqual([
      {
        at: 90_000,
        scope: S,
        from: 500,
        to: 500,
        by: 'admin',
        action: 'resume',
        why: 'resumed at step 2 of 3',
      },
    ])
  })

  it('resumes after a rollback from the step that matches the percentage rolled back to', () => {
    let s = planned()
    s = advancePlan(s, S, 'baked', 70_000).state
    s = advancePlan(s, S, 'baked', 140_000).state
    s = rollbackPlan(s, S, false, 'error-rate', 150_000).state
    expect(s.scopes[S].basisPoints).toBe(500)
    const t = checked(s, resumePlan(s, S, 'admin', 200_000))
    expect(t.state.scopes[S].basisPoints).toBe(500)
    expect(t.state.scopes[S].plan).toMatchObject({ step: 1, status: 'running' })
    expect(t.entries[0].why).toBe('resumed at step 2 of 3')
  })

  it('resumes at the first step after a rollback to zero', () => {
    let s = planned()
    s = advancePlan(s, S, 'baked', 70_000).state
    s = rollbackPlan(s, S, true, 'latency', 80_000).state
    expect(s.scopes[S].basisPoints).toBe(0)
    const t = resumePlan(s, S, 'admin', 90_000)
    expect(t.state.scopes[S].basisPoints).toBe(100)
    expect(t.state.scopes[S].plan).toMatchObject({ step: 0, status: 'running' })
    expect(t.entries[0]).toMatchObject({ from: 0, to: 100, why: 'resumed at step 1 of 3' })
  })

  it('resumes at the last step when the percentage was set above every step', () => {
    const s = setPercent(planned(), S, 9000, 'admin', 'x', 2000).state
    const t = resumePlan(s, S, 'admin', 3000)
    expect(t.state.scopes[S].basisPoints).toBe(2500)
    expect(t.state.scopes[S].plan?.step).toBe(2)
  })

  it('refuses a plan that is not paused', () => {
    expect(() => resumePlan(planned(), S, 'admin', 2000)).toThrow(
      `the plan of '${S}' is running, not paused`,
    )
    const aborted = abortPlan(planned(), S, 'admin', 'x', 2000).state
    expect(() => resumePlan(aborted, S, 'admin', 3000)).toThrow(TransitionError)
    expect(() => resumePlan(base(), S, 'admin', 3000)).toThrow(TransitionError)
  })
})

describe('abortPlan', () => {
  it('ends the plan and sends all traffic back to the legacy', () => {
    const s = advancePlan(planned(), S, 'baked', 70_000).state
    const t = checked(s, abortPlan(s, S, 'admin', 'bad answers', 80_000))
    expect(t.state.scopes[S]).toMatchObject({
      basisPoints: 0,
      updatedBy: 'admin',
      plan: { status: 'aborted', note: 'bad answers', step: 1 },
    })
    expect(t.entries).toEqual([
      { at: 80_000, scope: S, from: 500, to: 0, by: 'admin', action: 'abort', why: 'bad answers' },
    ])
  })

  it('aborts a paused plan, and refuses one already done or aborted', () => {
    const paused = pausePlan(planned(), S, 'admin', 'x', 2000).state
    expect(abortPlan(paused, S, 'admin', 'x', 3000).state.scopes[S].plan?.status).toBe('aborted')
    const aborted = abortPlan(planned(), S, 'admin', 'x', 2000).state
    expect(() => abortPlan(aborted, S, 'admin', 'x', 3000)).toThrow(
      `the plan of '${S}' is already aborted`,
    )
    const done = startPlan(base(), S, [10_000], 0, 'admin', 1).state
    const finished = promotePlan(done, S, 'admin', 'x', 2).state
    expect(() => abortPlan(finished, S, 'admin', 'x', 3)).toThrow('is already done')
  })
})

describe('advancePlan and promotePlan', () => {
  it('advance to the next step, remembering the step before as good', () => {
    const s = planned()
    const t = checked(s, advancePlan(s, S, 'step 1 of 3 baked 60 s', 61_000))
    expect(t.state.scopes[S]).toMatchObject({
      basisPoints: 500,
      updatedAt: 61_000,
      updatedBy: 'controller',
      plan: { step: 1, stepStartedAt: 61_000, status: 'running', lastGood: 100 },
    })
    expect(t.entries).toEqual([
      {
        at: 61_000,
        scope: S,
        from: 100,
        to: 500,
        by: 'controller',
        action: 'advance',
        why: 'step 1 of 3 baked 60 s',
      },
    ])
  })

  it('promote by hand in the same way, skipping the bake', () => {
    const s = planned()
    const t = checked(s, promotePlan(s, S, 'admin', 'looks fine', 2000))
    expect(t.state.scopes[S]).toMatchObject({
      basisPoints: 500,
      updatedBy: 'admin',
      plan: { step: 1, stepStartedAt: 2000, status: 'running', lastGood: 100 },
    })
    expect(t.entries[0]).toMatchObject({ by: 'admin', action: 'promote', why: 'looks fine' })
  })

  it('keep a paused plan paused when promoted', () => {
    const s = pausePlan(planned(), S, 'admin', 'x', 2000).state
    const t = promotePlan(s, S, 'admin', 'y', 3000)
    expect(t.state.scopes[S]).toMatchObject({
      basisPoints: 500,
      plan: { step: 1, status: 'paused' },
    })
  })

  it('finish the plan at its last step, keeping the percentage', () => {
    let s = planned()
    s = advancePlan(s, S, 'a', 70_000).state
    s = advancePlan(s, S, 'b', 140_000).state
    const t = checked(s, advancePlan(s, S, 'last step baked', 210_000))
    expect(t.state.scopes[S]).toMatchObject({
      basisPoints: 2500,
      updatedBy: 'controller',
      plan: { step: 2, status: 'done', lastGood: 2500, note: 'last step baked' },
    })
    expect(t.entries).toEqual([
      {
        at: 210_000,
        scope: S,
        from: 2500,
        to: 2500,
        by: 'controller',
        action: 'done',
        why: 'last step baked',
      },
    ])
    expect(() => advancePlan(t.state, S, 'again', 220_000)).toThrow('is already done')
    expect(() => promotePlan(t.state, S, 'admin', 'again', 220_000)).toThrow(TransitionError)
  })

  it('refuse an aborted plan and a scope without a plan', () => {
    const aborted = abortPlan(planned(), S, 'admin', 'x', 2000).state
    expect(() => promotePlan(aborted, S, 'admin', 'x', 3000)).toThrow('is already aborted')
    expect(() => advancePlan(base(), S, 'x', 3000)).toThrow('has no plan')
  })
})

describe('rollbackPlan', () => {
  it('goes back to the last good percentage and pauses the plan with why', () => {
    let s = planned()
    s = advancePlan(s, S, 'a', 70_000).state
    s = advancePlan(s, S, 'b', 140_000).state
    const t = checked(s, rollbackPlan(s, S, false, 'error-rate 2.00% over 0.01', 150_000))
    expect(t.state.scopes[S]).toMatchObject({
      basisPoints: 500,
      updatedAt: 150_000,
      updatedBy: 'controller',
      plan: {
        status: 'paused',
        step: 2,
        lastGood: 500,
        note: 'rolled back: error-rate 2.00% over 0.01',
      },
    })
    expect(t.entries).toEqual([
      {
        at: 150_000,
        scope: S,
        from: 2500,
        to: 500,
        by: 'controller',
        action: 'rollback',
        why: 'error-rate 2.00% over 0.01',
      },
    ])
  })

  it('goes back to zero when asked to', () => {
    const s = advancePlan(planned(), S, 'a', 70_000).state
    const t = checked(s, rollbackPlan(s, S, true, 'latency', 80_000))
    expect(t.state.scopes[S].basisPoints).toBe(0)
    expect(t.entries[0]).toMatchObject({ from: 500, to: 0, action: 'rollback', by: 'controller' })
  })

  it('goes back to the percentage before the plan when the first step breaks', () => {
    const t = rollbackPlan(planned(0), S, false, 'x', 2000)
    expect(t.state.scopes[S].basisPoints).toBe(0)
  })

  // A rollback must take traffic off the new path. These two paths make it a no-op or a raise.
  it('lowers the percentage when a step resumed after a rollback breaks again', () => {
    let s = planned()
    s = advancePlan(s, S, 'a', 70_000).state // 5%, lastGood 1%
    s = advancePlan(s, S, 'b', 140_000).state // 25%, lastGood 5%
    s = rollbackPlan(s, S, false, 'first breach', 150_000).state // back to 5%
    s = resumePlan(s, S, 'admin', 200_000).state // running again at 5%
    expect(s.scopes[S].basisPoints).toBe(500)
    const t = rollbackPlan(s, S, false, 'second breach, at 5%', 210_000)
    expect(t.entries[0].from).toBe(500)
    expect(t.entries[0].to).toBeLessThan(500)
  })

  it('never raises the percentage when a plan started below the percentage before it breaks', () => {
    // 30% was set by hand; the operator restarts carefully from 1%.
    const s = startPlan(base(3000), S, [100, 500], 60_000, 'admin', 1000).state
    const t = rollbackPlan(s, S, false, 'error-rate', 2000)
    expect(t.entries[0].from).toBe(100)
    expect(t.entries[0].to).toBeLessThanOrEqual(100)
  })
})

describe('withInitialScopes', () => {
  it('adds the scopes the state lacks, at their starting percentage, in one version', () => {
    const s = base()
    const initial = new Map([
      [S, 9999],
      ['dns:new.test', 2500],
      ['http:new.test/api/', 0],
    ])
    const t = withInitialScopes(s, initial, 4000)
    expect(t.state.version).toBe(8)
    expect(t.state.scopes[S]).toEqual(s.scopes[S])
    expect(t.state.scopes[OTHER]).toEqual(s.scopes[OTHER])
    expect(t.state.scopes['dns:new.test']).toEqual({
      basisPoints: 2500,
      updatedAt: 4000,
      updatedBy: 'config',
    })
    expect(t.entries).toEqual([
      {
        at: 4000,
        scope: 'dns:new.test',
        from: 0,
        to: 2500,
        by: 'config',
        action: 'init',
        why: 'starting percentage from the config',
      },
      {
        at: 4000,
        scope: 'http:new.test/api/',
        from: 0,
        to: 0,
        by: 'config',
        action: 'init',
        why: 'starting percentage from the config',
      },
    ])
    expect(s.scopes['dns:new.test']).toBeUndefined()
  })

  it('returns the same state, version unchanged, when nothing is missing', () => {
    const s = base()
    const t = withInitialScopes(s, new Map([[S, 10_000]]), 4000)
    expect(t.state).toBe(s)
    expect(t.entries).toEqual([])
    const empty = { version: 0, scopes: {} }
    expect(withInitialScopes(empty, new Map(), 1).state).toBe(empty)
  })

  it('fills an empty state on first start', () => {
    const t = withInitialScopes({ version: 0, scopes: {} }, new Map([[S, 100]]), 1)
    expect(t.state).toEqual({
      version: 1,
      scopes: { [S]: { basisPoints: 100, updatedAt: 1, updatedBy: 'config' } },
    })
  })
})

describe('versions', () => {
  it('go up by one with every change, whatever the transition', () => {
    let s = base()
    const steps: ((s: RolloutState) => Transition)[] = [
      (x) => setPercent(x, S, 10, 'admin', 'x', 1),
      (x) => startPlan(x, S, [100, 500], 0, 'admin', 2),
      (x) => pausePlan(x, S, 'admin', 'x', 3),
      (x) => resumePlan(x, S, 'admin', 4),
      (x) => promotePlan(x, S, 'admin', 'x', 5),
      (x) => rollbackPlan(x, S, false, 'x', 6),
      (x) => resumePlan(x, S, 'admin', 7),
      (x) => advancePlan(x, S, 'x', 8),
      (x) => abortPlan(x, S, 'admin', 'x', 9),
    ]
    for (const step of steps) {
      const before = s.version
      s = step(s).state
      expect(s.version).toBe(before + 1)
    }
    expect(s.version).toBe(7 + steps.length)
  })
})

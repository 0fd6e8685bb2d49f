// The rollout state every worker and instance shares: per scope its live
// percentage (basis points) and its plan, under one version that every write
// bumps; and the audit history of changes. Transitions are pure functions that
// return the next state and the history entries that explain it.

import { z } from 'zod'
import { BUCKETS } from './bucket.ts'

export const planSchema = z.object({
  /** The percentages to walk through, in basis points. */
  steps: z.array(z.int().min(0).max(BUCKETS)).min(1),
  bakeMs: z.int().min(0),
  step: z.int().min(0),
  stepStartedAt: z.number(),
  status: z.enum(['running', 'paused', 'done', 'aborted']),
  /** The last percentage whose gates held (rolled back to on a breach). */
  lastGood: z.int().min(0).max(BUCKETS),
  note: z.string().optional(),
})

export const scopeStateSchema = z.object({
  basisPoints: z.int().min(0).max(BUCKETS),
  updatedAt: z.number(),
  updatedBy: z.string(),
  plan: planSchema.optional(),
})

export const stateSchema = z.object({
  version: z.int().min(0),
  scopes: z.record(z.string(), scopeStateSchema),
})

export type PlanState = z.output<typeof planSchema>
export type ScopeState = z.output<typeof scopeStateSchema>
export type RolloutState = z.output<typeof stateSchema>

export interface HistoryEntry {
  at: number
  scope: string
  /** Basis points before and after. */
  from: number
  to: number
  /** Who: `admin` (by hand, with the token), `controller`, `config` (initial). */
  by: string
  action:
    | 'set'
    | 'plan'
    | 'advance'
    | 'rollback'
    | 'pause'
    | 'resume'
    | 'abort'
    | 'promote'
    | 'done'
    | 'init'
  why: string
}

export interface Transition {
  state: RolloutState
  entries: HistoryEntry[]
}

export class TransitionError extends Error {}

function withScope(state: RolloutState, scope: string, next: ScopeState): RolloutState {
  return { version: state.version + 1, scopes: { ...state.scopes, [scope]: next } }
}

function current(state: RolloutState, scope: string): ScopeState {
  const s = state.scopes[scope]
  if (!s)
    throw new TransitionError(
      `unknown scope '${scope}'; see 'cutover rollout status' for the scopes`,
    )
  return s
}

/** Sets a percentage by hand; a running plan is paused (the operator took over). */
export function setPercent(
  state: RolloutState,
  scope: string,
  bp: number,
  by: string,
  why: string,
  now: number,
): Transition {
  const s = current(state, scope)
  const plan =
    s.plan?.status === 'running'
      ? { ...s.plan, status: 'paused' as const, note: `paused: percentage set by hand (${why})` }
      : s.plan
  return {
    state: withScope(state, scope, { basisPoints: bp, updatedAt: now, updatedBy: by, plan }),
    entries: [{ at: now, scope, from: s.basisPoints, to: bp, by, action: 'set', why }],
  }
}

/** Starts a plan at its first step. */
export function startPlan(
  state: RolloutState,
  scope: string,
  steps: number[],
  bakeMs: number,
  by: string,
  now: number,
): Transition {
  const s = current(state, scope)
  if (steps.length === 0) throw new TransitionError('a plan needs at least one step')
  for (let i = 1; i < steps.length; i++) {
    if (steps[i] <= steps[i - 1])
      throw new TransitionError('plan steps must go up, like 1,5,25,50,100')
  }
  const plan: PlanState = {
    steps,
    bakeMs,
    step: 0,
    stepStartedAt: now,
    status: 'running',
    // No step has held yet: a breach at the first step goes back to 0, never up.
    lastGood: 0,
  }
  return {
    state: withScope(state, scope, { basisPoints: steps[0], updatedAt: now, updatedBy: by, plan }),
    entries: [
      {
        at: now,
        scope,
        from: s.basisPoints,
        to: steps[0],
        by,
        action: 'plan',
        why: `plan ${steps.map((b) => b / 100).join(',')} with ${bakeMs / 1000} s bake`,
      },
    ],
  }
}

function planOf(state: RolloutState, scope: string): { s: ScopeState; plan: PlanState } {
  const s = current(state, scope)
  if (!s.plan)
    throw new TransitionError(`scope '${scope}' has no plan; start one with 'cutover rollout plan'`)
  return { s, plan: s.plan }
}

export function pausePlan(
  state: RolloutState,
  scope: string,
  by: string,
  why: string,
  now: number,
): Transition {
  const { s, plan } = planOf(state, scope)
  if (plan.status !== 'running')
    throw new TransitionError(`the plan of '${scope}' is ${plan.status}, not running`)
  return {
    state: withScope(state, scope, {
      ...s,
      updatedAt: now,
      updatedBy: by,
      plan: { ...plan, status: 'paused', note: why },
    }),
    entries: [{ at: now, scope, from: s.basisPoints, to: s.basisPoints, by, action: 'pause', why }],
  }
}

/** Resumes a paused plan at the current percentage; its bake starts over. */
export function resumePlan(
  state: RolloutState,
  scope: string,
  by: string,
  now: number,
): Transition {
  const { s, plan } = planOf(state, scope)
  if (plan.status !== 'paused')
    throw new TransitionError(`the plan of '${scope}' is ${plan.status}, not paused`)
  // After a rollback the percentage sits below the plan's step: resume from the step that matches.
  let step = plan.steps.findIndex((b) => b >= s.basisPoints)
  if (step < 0) step = plan.steps.length - 1
  const bp = plan.steps[step]
  // The step below held before; it is where a breach of this one goes back to.
  const lastGood = step > 0 ? Math.min(plan.steps[step - 1], plan.lastGood) : 0
  return {
    state: withScope(state, scope, {
      basisPoints: bp,
      updatedAt: now,
      updatedBy: by,
      plan: { ...plan, step, status: 'running', stepStartedAt: now, lastGood, note: undefined },
    }),
    entries: [
      {
        at: now,
        scope,
        from: s.basisPoints,
        to: bp,
        by,
        action: 'resume',
        why: `resumed at step ${step + 1} of ${plan.steps.length}`,
      },
    ],
  }
}

/** Ends the plan and sends the scope's traffic back to the legacy. */
export function abortPlan(
  state: RolloutState,
  scope: string,
  by: string,
  why: string,
  now: number,
): Transition {
  const { s, plan } = planOf(state, scope)
  if (plan.status === 'done' || plan.status === 'aborted')
    throw new TransitionError(`the plan of '${scope}' is already ${plan.status}`)
  return {
    state: withScope(state, scope, {
      basisPoints: 0,
      updatedAt: now,
      updatedBy: by,
      plan: { ...plan, status: 'aborted', note: why },
    }),
    entries: [{ at: now, scope, from: s.basisPoints, to: 0, by, action: 'abort', why }],
  }
}

/** Moves to the next step now (by hand: gates and bake are skipped), or finishes the plan at its last step. */
export function promotePlan(
  state: RolloutState,
  scope: string,
  by: string,
  why: string,
  now: number,
): Transition {
  return advance(state, scope, by, 'promote', why, now)
}

/** The controller's move after a step baked with its gates holding. */
export function advancePlan(
  state: RolloutState,
  scope: string,
  why: string,
  now: number,
): Transition {
  return advance(state, scope, 'controller', 'advance', why, now)
}

function advance(
  state: RolloutState,
  scope: string,
  by: string,
  action: 'advance' | 'promote',
  why: string,
  now: number,
): Transition {
  const { s, plan } = planOf(state, scope)
  if (plan.status === 'done' || plan.status === 'aborted')
    throw new TransitionError(`the plan of '${scope}' is already ${plan.status}`)
  const last = plan.step >= plan.steps.length - 1
  if (last) {
    return {
      state: withScope(state, scope, {
        ...s,
        updatedAt: now,
        updatedBy: by,
        plan: { ...plan, status: 'done', lastGood: s.basisPoints, note: why },
      }),
      entries: [
        { at: now, scope, from: s.basisPoints, to: s.basisPoints, by, action: 'done', why },
      ],
    }
  }
  const step = plan.step + 1
  const bp = plan.steps[step]
  return {
    state: withScope(state, scope, {
      basisPoints: bp,
      updatedAt: now,
      updatedBy: by,
      plan: {
        ...plan,
        step,
        stepStartedAt: now,
        status: plan.status === 'paused' ? 'paused' : 'running',
        lastGood: s.basisPoints,
      },
    }),
    entries: [{ at: now, scope, from: s.basisPoints, to: bp, by, action, why }],
  }
}

/** A gate broke: back to the last good percentage (or 0), plan paused, and why. */
export function rollbackPlan(
  state: RolloutState,
  scope: string,
  toZero: boolean,
  why: string,
  now: number,
): Transition {
  const { s, plan } = planOf(state, scope)
  if (plan.status !== 'running')
    throw new TransitionError(`the plan of '${scope}' is ${plan.status}, not running`)
  // A rollback only ever lowers the share on the new path.
  const bp = toZero ? 0 : Math.min(plan.lastGood, s.basisPoints)

  return {
    state: withScope(state, scope, {
      basisPoints: bp,
      updatedAt: now,
      updatedBy: 'controller',
      plan: { ...plan, status: 'paused', note: `rolled back: ${why}` },
    }),
    entries: [
      { at: now, scope, from: s.basisPoints, to: bp, by: 'controller', action: 'rollback', why },
    ],
  }
}

/** Adds scopes the state does not know yet at their starting percentage (first start, new zone or site). */
export function withInitialScopes(
  state: RolloutState,
  initial: ReadonlyMap<string, number>,
  now: number,
): Transition {
  const entries: HistoryEntry[] = []
  const scopes = { ...state.scopes }
  for (const [scope, bp] of initial) {
    if (scopes[scope]) continue
    scopes[scope] = { basisPoints: bp, updatedAt: now, updatedBy: 'config' }
    entries.push({
      at: now,
      scope,
      from: 0,
      to: bp,
      by: 'config',
      action: 'init',
      why: 'starting percentage from the config',
    })
  }
  return { state: entries.length ? { version: state.version + 1, scopes } : state, entries }
}

// The rollout state every worker and instance shares: per scope its live
// percentage (basis points) and its plan, under one version that every write
// bumps; and the audit history of changes. Transitions are pure functions that
// return the next state and the history entries that explain it.

import { z } from 'zod'
import { BUCKETS } from './bucket.ts'
import type { GateReading } from './gates.ts'

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
  /** The readings the controller judged by, on an advance or a rollback. */
  gates?: GateReading[]
}

export interface Transition {
  state: RolloutState
  entries: HistoryEntry[]
}

export class TransitionError extends Error {}

function current(state: RolloutState, scope: string): ScopeState {
  const s = state.scopes[scope]
  if (!s)
    throw new TransitionError(
      `unknown scope '${scope}'; see 'cutover rollout status' for the scopes`,
    )
  return s
}

/** One move of a scope: where its percentage and plan go, and the history entry saying who and why. */
interface Move {
  to: number
  plan: PlanState | undefined
  by: string
  action: HistoryEntry['action']
  why: string
  now: number
}

/** The state after `m` under the next version, with the entry that explains it. */
function move(state: RolloutState, scope: string, from: ScopeState, m: Move): Transition {
  const next: ScopeState = { basisPoints: m.to, updatedAt: m.now, updatedBy: m.by, plan: m.plan }
  return {
    state: { version: state.version + 1, scopes: { ...state.scopes, [scope]: next } },
    entries: [
      {
        at: m.now,
        scope,
        from: from.basisPoints,
        to: m.to,
        by: m.by,
        action: m.action,
        why: m.why,
      },
    ],
  }
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
  return move(state, scope, s, { to: bp, plan, by, action: 'set', why, now })
}

/** Starts a plan at its first step. */
export function startPlan(
  state: RolloutState,
  scope: string,
  steps: number[],
  bakeMs: number,
  by: string,
  now: number,
  /** Why, from the operator; the plan's shape is said after it. */
  reason?: string,
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
  const shape = `plan ${steps.map((b) => b / 100).join(',')} with ${bakeMs / 1000} s bake`
  const why = reason ? `${reason} (${shape})` : shape
  return move(state, scope, s, { to: steps[0], plan, by, action: 'plan', why, now })
}

/**
 * The scope and its plan, which must be `running`, `paused`, or `unfinished`
 * (either of those); an error naming the plan's status otherwise.
 */
function planOf(
  state: RolloutState,
  scope: string,
  must: 'running' | 'paused' | 'unfinished',
): { s: ScopeState; plan: PlanState } {
  const s = current(state, scope)
  const plan = s.plan
  if (!plan)
    throw new TransitionError(`scope '${scope}' has no plan; start one with 'cutover rollout plan'`)
  if (must === 'unfinished' && (plan.status === 'done' || plan.status === 'aborted'))
    throw new TransitionError(`the plan of '${scope}' is already ${plan.status}`)
  if (must !== 'unfinished' && plan.status !== must)
    throw new TransitionError(`the plan of '${scope}' is ${plan.status}, not ${must}`)
  return { s, plan }
}

/** An operator's command on a scope's plan (pause, abort, promote): who gave it, why, and when. */
export type PlanCommand = (
  state: RolloutState,
  scope: string,
  by: string,
  why: string,
  now: number,
) => Transition

/** Pauses a running plan where it is: the percentage stays, the bake stops. */
export const pausePlan: PlanCommand = (state, scope, by, why, now) => {
  const { s, plan } = planOf(state, scope, 'running')
  const paused: PlanState = { ...plan, status: 'paused', note: why }
  return move(state, scope, s, { to: s.basisPoints, plan: paused, by, action: 'pause', why, now })
}

/** Resumes a paused plan at the current percentage; its bake starts over. */
export function resumePlan(
  state: RolloutState,
  scope: string,
  by: string,
  now: number,
  reason?: string,
): Transition {
  const { s, plan } = planOf(state, scope, 'paused')
  // After a rollback the percentage sits below the plan's step: resume from the step that matches.
  let step = plan.steps.findIndex((b) => b >= s.basisPoints)
  if (step < 0) step = plan.steps.length - 1
  // The step below held before; it is where a breach of this one goes back to.
  const lastGood = step > 0 ? Math.min(plan.steps[step - 1], plan.lastGood) : 0
  return move(state, scope, s, {
    to: plan.steps[step],
    plan: { ...plan, step, status: 'running', stepStartedAt: now, lastGood, note: undefined },
    by,
    action: 'resume',
    why: `${reason ? `${reason}: ` : ''}resumed at step ${step + 1} of ${plan.steps.length}`,
    now,
  })
}

/** Ends the plan and sends the scope's traffic back to the legacy. */
export const abortPlan: PlanCommand = (state, scope, by, why, now) => {
  const { s, plan } = planOf(state, scope, 'unfinished')
  const aborted: PlanState = { ...plan, status: 'aborted', note: why }
  return move(state, scope, s, { to: 0, plan: aborted, by, action: 'abort', why, now })
}

/** Moves to the next step now (by hand: gates and bake are skipped), or finishes the plan at its last step. */
export const promotePlan: PlanCommand = (state, scope, by, why, now) =>
  advance(state, scope, by, 'promote', why, now)

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
  const { s, plan } = planOf(state, scope, 'unfinished')
  if (plan.step >= plan.steps.length - 1) {
    const done: PlanState = { ...plan, status: 'done', lastGood: s.basisPoints, note: why }
    return move(state, scope, s, { to: s.basisPoints, plan: done, by, action: 'done', why, now })
  }
  const step = plan.step + 1
  const next: PlanState = {
    ...plan,
    step,
    stepStartedAt: now,
    status: plan.status === 'paused' ? 'paused' : 'running',
    lastGood: s.basisPoints,
  }
  return move(state, scope, s, { to: plan.steps[step], plan: next, by, action, why, now })
}

/** A gate broke: back to the last good percentage (or 0), plan paused, and why. */
export function rollbackPlan(
  state: RolloutState,
  scope: string,
  toZero: boolean,
  why: string,
  now: number,
): Transition {
  const { s, plan } = planOf(state, scope, 'running')
  return move(state, scope, s, {
    // A rollback only ever lowers the share on the new path.
    to: toZero ? 0 : Math.min(plan.lastGood, s.basisPoints),
    plan: { ...plan, status: 'paused', note: `rolled back: ${why}` },
    by: 'controller',
    action: 'rollback',
    why,
    now,
  })
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

// Where the live rollout state and the config's percentages differ. The config
// seeds the state at the first start only, so an edit to a `percent` later
// changes nothing by itself: `cutover check` and `reload` say where the two
// differ, and `cutover rollout apply` moves the live state to the config,
// through the same transitions a person would make (a raise of more than 25
// points becomes a plan that bakes each step).

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../proxy/config/config.ts'
import { scopeListOf } from '../proxy/config/scope-list.ts'
import { stateSchema } from '../rollout/state.ts'

/** Points a single change may raise a scope by; more becomes a plan of such steps. */
export const MAX_JUMP = 25

/** A scope as the live state has it. */
export interface LiveScope {
  scope: string
  percent: number
  plan?: { status: string }
}

export interface Drift {
  scope: string
  live: number
  /** What the config says; undefined where it sets no percent (the scope started at 0). */
  config: number | undefined
  /** A plan is running on it: a change now would fight the plan. */
  planRunning: boolean
}

/** The config's percent for each of its scopes, undefined where it sets none. */
export function configPercents(config: Config): Map<string, number | undefined> {
  const list = scopeListOf(config)
  const out = new Map<string, number | undefined>()
  list.zones.forEach((z, i) => {
    out.set(z.scope.id, config.dns?.zones[i].percent)
    for (const narrow of z.qtypes.values()) out.set(narrow.id, narrow.initialBasisPoints)
  })
  list.sites.forEach((s, i) => {
    out.set(s.scope.id, config.http?.sites[i].percent)
    for (const p of s.paths) out.set(p.scope.id, p.scope.initialBasisPoints)
  })
  // Basis points to percent.
  for (const [id, bp] of out) out.set(id, bp === undefined ? undefined : bp / 100)
  return out
}

/** Every scope of the config whose live percentage is not what the config says. */
export function driftOf(config: Config, live: readonly LiveScope[]): Drift[] {
  const wanted = configPercents(config)
  return live.flatMap((s) => {
    if (!wanted.has(s.scope)) return []
    const want = wanted.get(s.scope)
    if ((want ?? 0) === s.percent) return []
    return [
      {
        scope: s.scope,
        live: s.percent,
        config: want,
        planRunning: s.plan?.status === 'running',
      },
    ]
  })
}

export function driftLine(d: Drift): string {
  const config = d.config === undefined ? 'sets no percent (0)' : `says ${d.config}%`
  return `${d.scope} is at ${d.live}% live; the config ${config}${d.planRunning ? ' (a plan is running)' : ''}`
}

/**
 * The live scopes from the state file of a file store, when there is one;
 * undefined without one (nothing started yet) or with a Redis store.
 */
export function liveFromStateFile(config: Config): LiveScope[] | undefined {
  const file = join(config.state, 'rollout.json')
  if (config.rollout.store !== 'file' || !existsSync(file)) return undefined
  const parsed = stateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')))
  if (!parsed.success) return undefined
  return Object.entries(parsed.data.scopes).map(([scope, s]) => ({
    scope,
    percent: s.basisPoints / 100,
    plan: s.plan,
  }))
}

/** What `apply` does for one drift: set it, make it a plan, or leave it (and why). */
export type Move =
  | { kind: 'set'; scope: string; percent: number }
  | { kind: 'plan'; scope: string; steps: number[] }
  | { kind: 'leave'; scope: string; why: string }

export function moveFor(d: Drift): Move {
  if (d.config === undefined)
    return { kind: 'leave', scope: d.scope, why: 'the config sets no percent for it' }
  if (d.planRunning)
    return {
      kind: 'leave',
      scope: d.scope,
      why: 'a plan is running on it: let it finish, or abort it, then apply again',
    }
  if (d.config - d.live <= MAX_JUMP) return { kind: 'set', scope: d.scope, percent: d.config }
  const steps: number[] = []
  for (let p = d.live + MAX_JUMP; p < d.config; p += MAX_JUMP) steps.push(p)
  steps.push(d.config)
  return { kind: 'plan', scope: d.scope, steps }
}

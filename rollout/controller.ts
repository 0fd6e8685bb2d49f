// The plan controller: once a second, for every scope whose plan is running, it
// judges the gates on the counters since the step began (summed over every
// worker and instance by the stats source) and advances the step when it has
// baked with its gates holding, or rolls back at once when one breaks. Only one
// controller acts at a time: the one that holds the lease.

import { type GateLimits, type Judgement, judge, windowOf } from './gates.ts'
import { copyStats, type ScopeStats } from './scope.ts'
import { advancePlan, type RolloutState, rollbackPlan, type Transition } from './state.ts'
import type { RolloutStore } from './store.ts'

/** Counters per scope, summed over everything that serves it. */
export interface StatsSource {
  snapshot(scope: string): ScopeStats | undefined
}

export interface ControllerOptions {
  store: RolloutStore
  stats: StatsSource
  limits: GateLimits
  rollbackToZero: boolean
  /** True while this process may drive plans (always, on one machine; the lease holder across a fleet). */
  leading: () => boolean
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void }
  tickMs?: number
  now?: () => number
}

export class Controller {
  readonly #o: ControllerOptions
  /** Counters at the start of each running step, by scope; the window is "now minus this". */
  readonly #baselines = new Map<string, { step: string; stats: ScopeStats }>()
  readonly #judgements = new Map<string, Judgement>()
  #timer: NodeJS.Timeout | undefined
  #busy = false

  constructor(options: ControllerOptions) {
    this.#o = options
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#o.tickMs ?? 1000)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  /** The last judgement of a scope's running plan, for status displays. */
  judgement(scope: string): Judgement | undefined {
    return this.#judgements.get(scope)
  }

  async tick(): Promise<void> {
    if (this.#busy || !this.#o.leading()) return
    this.#busy = true
    try {
      const now = (this.#o.now ?? Date.now)()
      for (const [scope, s] of Object.entries(this.#o.store.current().scopes)) {
        const plan = s.plan
        if (plan?.status !== 'running') {
          this.#baselines.delete(scope)
          this.#judgements.delete(scope)
          continue
        }
        const stats = this.#o.stats.snapshot(scope)
        if (!stats) continue
        const step = `${plan.step}@${plan.stepStartedAt}`
        let base = this.#baselines.get(scope)
        if (base?.step !== step) {
          // A new step (or a controller that just took over): its window starts now.
          base = { step, stats: copyStats(stats) }
          this.#baselines.set(scope, base)
        }
        const j = judge(windowOf(stats, base.stats), this.#o.limits)
        this.#judgements.set(scope, j)
        // Act only if the plan is still at the step judged: another process may have moved it meanwhile.
        const unchanged = (st: RolloutState) => {
          const p = st.scopes[scope]?.plan
          return (
            p?.status === 'running' &&
            p.step === plan.step &&
            p.stepStartedAt === plan.stepStartedAt
          )
        }
        const nothing = (st: RolloutState) => ({ state: st, entries: [] })
        if (j.kind === 'breach') {
          this.#o.log.warn({ scope, why: j.why }, 'rollout: gate breached, rolling back')
          await this.#o.store.update((st) =>
            unchanged(st)
              ? judgedBy(rollbackPlan(st, scope, this.#o.rollbackToZero, j.why, now), j)
              : nothing(st),
          )
        } else if (j.kind === 'pass' && now - plan.stepStartedAt >= plan.bakeMs) {
          const why = `step ${plan.step + 1} of ${plan.steps.length} baked ${Math.round((now - plan.stepStartedAt) / 1000)} s with its gates holding`
          this.#o.log.info({ scope, why }, 'rollout: advancing')
          await this.#o.store.update((st) =>
            unchanged(st) ? judgedBy(advancePlan(st, scope, why, now), j) : nothing(st),
          )
        }
      }
    } catch (err) {
      this.#o.log.warn({ err: (err as Error).message }, 'rollout: controller tick failed')
    } finally {
      this.#busy = false
    }
  }
}

/** The transition with the readings it was decided on, for the history and webhooks. */
function judgedBy(t: Transition, j: Judgement): Transition {
  return { ...t, entries: t.entries.map((e) => ({ ...e, gates: j.readings })) }
}

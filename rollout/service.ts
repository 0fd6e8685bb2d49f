// The rollout side of one instance: the state store (file or Redis), applied to
// every scope the moment it changes; the plan controller (behind the fleet
// lease with Redis); and what the admin API needs to show and change it.

import { join } from 'node:path'
import { Controller } from './controller.ts'
import { FileStore } from './file-store.ts'
import { localStats } from './local-stats.ts'
import { type Notifier, startNotifier } from './notify.ts'
import { type Fleet, type FleetInstance, joinFleet } from './redis-fleet.ts'
import { RedisStore } from './redis-store.ts'
import { carryStats, type ScopeSet } from './scopes.ts'
import type { RolloutSettings } from './settings.ts'
import { type HistoryEntry, type RolloutState, withInitialScopes } from './state.ts'
import type { RolloutStore } from './store.ts'

/** How long a stop waits for the webhooks to be told of the last changes. */
const NOTIFY_ON_STOP_MS = 2000

/** Where the rollout logs: the proxy's logger fits. */
export interface RolloutLog {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

/** The gauge of each scope's live percentage (`cutover_rollout_percent`). */
export interface PercentGauge {
  set(labels: { scope: string }, percent: number): void
}

export interface RolloutService {
  store: RolloutStore
  controller: Controller
  scopes: ScopeSet
  notReady(): string[]
  /** With a Redis store: the instances of the fleet (undefined on one machine). */
  instances(): FleetInstance[] | undefined
  /** Applies the current state to `scopes` again (after a reload replaced them). */
  reapply(): void
  /**
   * Takes the scopes of a reloaded config in place of `scopes`' contents (a
   * scope kept keeps its counters), seeds the state with the new ones and
   * applies it; `notify`: the webhooks of the reloaded config.
   */
  adopt(next: ScopeSet, notify: readonly string[]): Promise<void>
  stop(): Promise<void>
}

/**
 * Opens the rollout state for `scopes` and keeps their percentages live. The
 * one process that drives plans (`drives`: a lone instance, or the supervisor
 * of workers) also seeds the state with the config's scopes and runs the
 * controller on `scopes`' counters; a worker only follows the state.
 * `mayLead`: whether the controller may act yet (a supervisor that is taking
 * over from another waits until that one has stopped driving plans).
 */
export async function startRollout(
  config: { rollout: RolloutSettings; state: string },
  scopes: ScopeSet,
  rolloutPercent: PercentGauge,
  log: RolloutLog,
  drives = true,
  mayLead: () => boolean = () => true,
): Promise<RolloutService> {
  const initialOf = (set: ScopeSet) =>
    new Map([...set.values()].map((s) => [s.id, s.initialBasisPoints]))
  const seed = (state: RolloutState) =>
    drives ? withInitialScopes(state, initialOf(scopes), Date.now()) : { state, entries: [] }
  const r = config.rollout
  // Only the process that makes the changes tells the webhooks of them.
  const notifier = drives ? startNotifier(r.notify, log) : undefined
  const kept: RolloutStore =
    r.store === 'redis'
      ? await RedisStore.open({
          url: r.redis.url,
          prefix: r.redis.prefix,
          snapshotFile: join(config.state, 'rollout-snapshot.json'),
          initial: seed,
          log,
        })
      : new FileStore(join(config.state, 'rollout.json'), seed, () =>
          log.info(
            { file: join(config.state, 'rollout.json') },
            "rollout: no state file yet; created it from the config's percentages",
          ),
        )
  const apply = (state: RolloutState) => {
    for (const scope of scopes.values()) {
      scope.basisPoints = state.scopes[scope.id]?.basisPoints ?? scope.initialBasisPoints
      rolloutPercent.set({ scope: scope.id }, scope.servable ? scope.basisPoints / 100 : 0)
    }
  }
  const store = notifier ? notifying(kept, notifier) : kept
  apply(store.current())
  store.onChange(apply)
  const fleet: Fleet | undefined =
    drives && r.store === 'redis' ? await joinFleet(r.redis.url, r.redis.prefix, scopes) : undefined
  const controller = new Controller({
    store,
    stats: fleet?.stats ?? localStats(scopes),
    limits: r.gates,
    rollbackToZero: r.rollbackTo === 'zero',
    leading: fleet ? () => mayLead() && fleet.leading() : mayLead,
    log,
  })
  if (drives) controller.start()
  return {
    store,
    controller,
    scopes,
    reapply: () => apply(store.current()),
    async adopt(next, notify) {
      notifier?.configure(notify)
      carryStats(scopes, next)
      scopes.clear()
      for (const [id, scope] of next) scopes.set(id, scope)
      if (drives) await store.update(seed)
      apply(store.current())
    },

    instances: () => fleet?.instances(),
    notReady: () => {
      const h = store.health()
      return h.ok ? [] : [h.detail ?? 'rollout state unavailable']
    },
    async stop() {
      controller.stop()
      fleet?.close()
      await notifier?.close(NOTIFY_ON_STOP_MS)
      await store.close()
    },
  }
}

/** `store`, each change made through it also sent to the webhooks. */
function notifying(store: RolloutStore, notifier: Notifier): RolloutStore {
  return {
    current: () => store.current(),
    async update(change, expectedVersion) {
      // The store may compute a change again on a conflict: the entries of the last one are those kept.
      let entries: HistoryEntry[] = []
      const state = await store.update((s) => {
        const t = change(s)
        entries = t.entries
        return t
      }, expectedVersion)
      notifier.send(entries)
      return state
    },
    onChange: (listener) => store.onChange(listener),
    history: (scope, limit) => store.history(scope, limit),
    health: () => store.health(),
    close: () => store.close(),
  }
}

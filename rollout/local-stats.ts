// Stats for the controller on one process: the scopes' own counters.

import type { StatsSource } from './controller.ts'
import type { ScopeStats } from './scope.ts'
import type { ScopeSet } from './scopes.ts'

export function localStats(scopes: ScopeSet): StatsSource {
  return { snapshot: (scope): ScopeStats | undefined => scopes.get(scope)?.stats }
}

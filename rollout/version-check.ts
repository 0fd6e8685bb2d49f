// The check both rollout stores make before a write: the change was computed
// from the version the state is still at.

import type { RolloutState } from './state.ts'
import { VersionConflict } from './store.ts'

/** The conflict to throw when `expected` is given and `state` has moved on from it; undefined otherwise. */
export function versionConflict(
  state: RolloutState,
  expected: number | undefined,
): VersionConflict | undefined {
  if (expected === undefined || expected === state.version) return undefined
  return new VersionConflict(
    `the rollout state moved on (version ${state.version}, you had ${expected}); look again and retry`,
  )
}

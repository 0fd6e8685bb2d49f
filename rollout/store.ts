// Where the rollout state lives: the contract both stores keep (a state file on
// one machine, Redis across a fleet). Writes are conditional on the version a
// change was computed from, so two operators never overwrite each other unseen.

import type { HistoryEntry, RolloutState, Transition } from './state.ts'

export class VersionConflict extends Error {}

/** The store cannot take a change now (Redis unreachable, the state folder full or read-only); the state is as it was. */
export class StoreUnavailable extends Error {}

export interface StoreHealth {
  ok: boolean
  /** Why not, for /readyz and logs (e.g. "redis unreachable; serving the last known state, version 12"). */
  detail?: string
}

export interface RolloutStore {
  /** The last known state. */
  current(): RolloutState
  /**
   * Applies `change` to the latest state and persists it. With `expectedVersion`,
   * fails with VersionConflict when the state moved on since; without, retries.
   */
  update(
    change: (state: RolloutState) => Transition,
    expectedVersion?: number,
  ): Promise<RolloutState>
  /** Called after every change, ours or another process's. */
  onChange(listener: (state: RolloutState) => void): void
  history(scope?: string, limit?: number): Promise<HistoryEntry[]>
  health(): StoreHealth
  close(): Promise<void>
}

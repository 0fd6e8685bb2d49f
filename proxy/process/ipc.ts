// The messages between the supervisor and its workers.

import type { ScopeStats, StatsLike } from '../../rollout/scope.ts'
import type { Published } from '../records/feed.ts'
import type { TakeAnswer, TakeRequest } from './shared-ratelimit.ts'

/** Scope counters as they travel (latency counts as plain arrays). */
export type WireStats = StatsLike

export type ToWorker =
  | { type: 'drain'; deadlineMs: number }
  | { type: 'reload' }
  | { type: 'metrics'; id: number }
  | { type: 'shadow'; id: number; scope: string }
  | TakeAnswer

export type FromWorker =
  | {
      type: 'ready'
      scopes: { id: string; servable: boolean }[]
      ports: { dns?: number; candidate?: number; http?: number }
    }
  | { type: 'failed'; error: string }
  | {
      type: 'stats'
      scopes: Record<string, WireStats>
      connections: number
      /** Why this worker is not ready (legacy unreachable, record events behind). */
      notReady: string[]
    }
  | { type: 'record-outcome'; id: string; outcome: Published }
  | { type: 'reloaded'; ok: boolean; error?: string }
  | { type: 'drained'; cut: number; metrics: unknown }
  | { type: 'metrics'; id: number; metrics: unknown }
  | { type: 'shadow'; id: number; examples: unknown[]; fields: unknown[] }
  | TakeRequest

export function toWire(s: ScopeStats): WireStats {
  return { ...s, newLatency: [...s.newLatency], legacyLatency: [...s.legacyLatency] }
}

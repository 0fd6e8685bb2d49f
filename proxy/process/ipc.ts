// The messages between the supervisor and its workers: a command (drain),
// requests each answered by a reply carrying the request's id, and reports a
// worker sends unasked.

import type { ScopeStats, StatsLike } from '../../rollout/scope.ts'
import type { HandedConnection } from '../net/connection-handover.ts'
import type { Published } from '../records/feed.ts'
import type { TakeAnswer, TakeRequest } from './shared-ratelimit.ts'
import type {
  DealtConnection,
  LentSocket,
  ListenAnswer,
  ListenAsk,
  TakenBack,
} from './worker-sockets.ts'

/** Scope counters as they travel (latency counts as plain arrays). */
export type WireStats = StatsLike

/** What the supervisor asks a worker; the worker answers with the same `id`. */
export type WorkerRequest =
  | { type: 'reload'; id: number }
  | { type: 'metrics'; id: number }
  | { type: 'shadow'; id: number; scope: string }

export type WorkerReply =
  | { type: 'reloaded'; id: number; ok: boolean; error?: string }
  | { type: 'metrics'; id: number; metrics: unknown }
  | { type: 'shadow'; id: number; examples: unknown[]; fields: unknown[] }

/** The reply type each request is answered with. */
export const replyTypeOf = { reload: 'reloaded', metrics: 'metrics', shadow: 'shadow' } as const

export type ReplyTo<K extends WorkerRequest['type']> = Extract<
  WorkerReply,
  { type: (typeof replyTypeOf)[K] }
>

export type ToWorker =
  /** `handOver`: a restart's drain, whose idle DNS-over-TCP connections go to the new generation. */
  | { type: 'drain'; deadlineMs: number; handOver: boolean }
  /** A connection from a worker of the generation before (its socket comes with it). */
  | HandedConnection
  /** New session ticket keys (base64), from the supervisor's rotation. */
  | { type: 'ticket-keys'; keys: string }
  | WorkerRequest
  | TakeAnswer
  /** A listening socket it asked for (the socket comes with it, unless dealt). */
  | ListenAnswer
  /** A connection the supervisor accepted for it (the socket comes with it). */
  | DealtConnection
  /** A listening socket to serve until its own worker is back (the socket comes with it), and its return. */
  | LentSocket
  | TakenBack

export type FromWorker =
  | {
      type: 'ready'
      scopes: { id: string; servable: boolean }[]
      ports: { dns?: number; candidate?: number; http?: number; https?: number; dot?: number }
    }
  | { type: 'failed'; error: string }
  | {
      type: 'stats'
      scopes: Record<string, WireStats>
      connections: number
      /** Why this worker is not ready (legacy unreachable, record events behind). */
      notReady: string[]
      /** What /readyz warns about without failing (a certificate expiring soon). */
      warnings: string[]
    }
  /** A record event's outcome, by the event's own id (its entry in the record log). */
  | { type: 'record-outcome'; id: string; outcome: Published }
  /** Its last counters, sent once it finished draining, just before it exits. */
  | { type: 'drained'; cut: number; metrics: unknown }
  /** An idle connection for the new generation (its socket comes with it). */
  | HandedConnection
  | WorkerReply
  | TakeRequest
  | ListenAsk

export function toWire(s: ScopeStats): WireStats {
  return { ...s, newLatency: [...s.newLatency], legacyLatency: [...s.legacyLatency] }
}

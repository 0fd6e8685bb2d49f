// The supervisor's admin API: proxy/admin's routes over what the workers
// answer (their metrics summed with those of workers gone, their shadow views
// gathered) and the supervisor's view of them (GET /workers, readiness),
// served on its socket beside the metrics listener.

import type { FastifyInstance } from 'fastify'
import type { RolloutService } from '../../rollout/service.ts'
import { createAdmin } from '../admin/admin-api.ts'
import { type MetricsSource, serveMetrics } from '../admin/metrics-listener.ts'
import type { NamedToken } from '../admin/token.ts'
import type { Config } from '../config/config.ts'
import type { ListenSockets } from '../net/listen-sockets.ts'
import { listenOnHandle } from '../net/socket-source.ts'
import type { Generations } from './generations.ts'
import type { MetricsSum } from './metrics-sum.ts'
import type { RecordPublisher } from './record-publisher.ts'
import type { SupervisorMetrics } from './supervisor-metrics.ts'
import type { Ask, WorkerRequests } from './worker-requests.ts'

/** How long /metrics and the shadow view wait for a worker's answer. */
const ASK_WITHIN_MS = 2000

/** GET /workers. */
export interface SupervisorStatus {
  generation: number
  workers: {
    id: number
    pid: number | undefined
    generation: number
    state: string
    connections: number
  }[]
  reloads: number
  lastReload: { ok: boolean; error?: string } | undefined
  crashes: number
  /** The supervisor's own pid: after `cutover upgrade`, its successor's. */
  pid: number
  /** The last `cutover upgrade` asked of this supervisor: the new one's pid, or why it failed. */
  lastUpgrade: { at: number; ok: boolean; pid?: number; error?: string } | undefined
}

export type Reloads = Pick<SupervisorStatus, 'reloads' | 'lastReload'>

export interface SupervisorAdminDeps {
  /** The state folder. */
  state: string
  /** Every admin token by name and role, the main one first; a reload reads them again. */
  tokens(): readonly NamedToken[]
  generations: Generations
  requests: WorkerRequests
  sum: MetricsSum
  metrics: SupervisorMetrics
  rollout: RolloutService
  records: RecordPublisher | undefined
  reloads(): Reloads
  lastUpgrade(): SupervisorStatus['lastUpgrade']
  /** Starts `cutover upgrade`; throws (a usage error) when it cannot start now. */
  upgrade(): void
  /** Whether the supervisor is stopping (draining every worker). */
  stopping(): boolean
}

/** Asks every worker that serves, or drains and has not sent its last counters; each answer with its worker. */
export async function askWorkers<A extends Ask>(
  generations: Generations,
  requests: WorkerRequests,
  request: A,
) {
  const live = generations
    .all()
    .filter((w) => w.state !== 'starting' && !w.drained && w.worker.isConnected())
  const replies = await requests.askEach(
    live.map((w) => w.worker),
    request,
    ASK_WITHIN_MS,
  )
  return live.flatMap((w, i) => {
    const reply = replies[i]
    return reply ? [{ w, reply }] : []
  })
}

/** /metrics of a supervisor: every worker's metrics summed with those of workers gone, then its own. */
export function summedMetrics(
  d: Pick<SupervisorAdminDeps, 'generations' | 'requests' | 'sum' | 'metrics'>,
): MetricsSource {
  const { generations } = d
  const lastAnswer = new WeakMap<object, unknown>()
  return {
    contentType: d.metrics.registry.contentType,
    async metrics() {
      const replies = await askWorkers(generations, d.requests, { type: 'metrics' })
      for (const r of replies) lastAnswer.set(r.w, r.reply.metrics)
      // A worker too busy to answer in time (overload) counts with its last
      // answer: left out, every counter of the sum would go backwards. One
      // that drained meanwhile is in the retired sum already.
      const workers = await d.sum.text(() =>
        generations.all().flatMap((w) => {
          const metrics = w.drained ? undefined : lastAnswer.get(w)
          return metrics === undefined ? [] : [metrics]
        }),
      )
      d.metrics.workers.reset()
      for (const w of generations.all()) d.metrics.workers.inc({ state: w.state })
      return `${workers}\n${await d.metrics.registry.metrics()}`
    },
  }
}

export function supervisorAdmin(d: SupervisorAdminDeps): FastifyInstance {
  const { generations } = d
  const status = (): SupervisorStatus => ({
    generation: generations.current,
    workers: generations.all().map((w) => ({
      id: w.worker.id,
      pid: w.worker.process.pid,
      generation: w.generation,
      state: w.state,
      connections: w.connections,
    })),
    ...d.reloads(),
    crashes: generations.crashes,
    pid: process.pid,
    lastUpgrade: d.lastUpgrade(),
  })

  /** Why the proxy is not ready (empty when it is), for /readyz. */
  const notReady = () => {
    const reasons = d.rollout.notReady()
    if (d.stopping()) reasons.push('draining')
    const ready = generations.ready()
    if (ready.length === 0) reasons.push('no worker is ready')
    reasons.push(...new Set(ready.flatMap((w) => w.notReady)))
    const crashes = generations.crashingTooOften()
    if (crashes > 0) reasons.push(`workers keep crashing (${crashes} in the last minute)`)
    return reasons
  }

  const askAll = <A extends Ask>(request: A) => askWorkers(generations, d.requests, request)

  const { records } = d
  return createAdmin({
    registry: summedMetrics(d),
    token: d.tokens()[0].token,
    state: d.state,
    tokens: d.tokens,
    rollout: d.rollout,
    publishRecord:
      records &&
      ((body) =>
        records.publish(
          body,
          generations.ready().map((w) => w.worker.id),
        )),
    shadow: async (scope) => {
      const replies = await askAll({ type: 'shadow', scope })
      return {
        examples: replies.flatMap((r) => r.reply.examples),
        fields: replies.flatMap((r) => r.reply.fields),
      }
    },
    notReady,
    warnings: () => [...new Set(generations.ready().flatMap((w) => w.warnings))],
    status,
    upgrade: d.upgrade,
  })
}

/**
 * Serves `admin` on admin.listen and, when the config has metrics.listen, the
 * summed metrics there; returns what closes both (their sockets stay open for a successor).
 */
export async function listenAdmin(
  admin: FastifyInstance,
  d: SupervisorAdminDeps,
  table: ListenSockets,
  config: Config,
): Promise<() => Promise<void>> {
  await admin.ready()
  await listenOnHandle(admin.server, table.open('tcp', 'admin', config.admin.listen).handle)
  const scrape = config.metrics?.listen
  const closeScrape = scrape
    ? await serveMetrics(summedMetrics(d), table.open('tcp', 'metrics', scrape).handle)
    : async () => {}
  return async () => {
    await Promise.all([admin.close(), closeScrape()])
  }
}

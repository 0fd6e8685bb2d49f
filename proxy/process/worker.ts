// A worker process: serves the listeners its supervisor shares with it, with
// the modules and state of the current config; reports readiness and counters;
// reloads in place, drains and exits when told; reopens its access and query
// log files on SIGUSR1. The supervisor does the rest.

import cluster from 'node:cluster'
import type { Socket } from 'node:net'
import { Counter, Registry } from 'prom-client'
import { startRollout } from '../../rollout/service.ts'
import { loadOrCreateToken } from '../admin/token.ts'
import { loadConfig } from '../config/config.ts'
import type { HandedListener, HandOver } from '../net/connection-handover.ts'
import { createLogger } from '../telemetry/log.ts'
import { createMetrics } from '../telemetry/metrics.ts'
import { ticketKeysFromEnv } from '../tls/ticket-keys.ts'
import { startInstance } from './instance.ts'
import { type FromWorker, type ToWorker, toWire } from './ipc.ts'
import { workerBuckets } from './shared-ratelimit.ts'
import { workerSockets } from './worker-sockets.ts'

const STATS_MS = 1000

function send(m: FromWorker): void {
  process.send?.(m)
}

/** Connections on their way to the supervisor: the process may not exit before they are. */
const handing = new Set<Promise<void>>()

/** Hands an idle connection of `listener` to the supervisor, for the new generation. */
function handOverTo(listener: HandedListener): HandOver {
  return (socket, client, data) => {
    const m: FromWorker = { type: 'connection', listener, client, data: data.toString('base64') }
    // Called back once sent, or with the error that it could not be (the descriptor then closes here).
    const sent = new Promise<void>((resolve) => {
      if (process.send) process.send(m, socket, {}, () => resolve())
      else resolve()
    })
    handing.add(sent)
    void sent.then(() => handing.delete(sent))
  }
}

async function main(): Promise<void> {
  const file = process.env.CUTOVER_CONFIG
  if (!file) throw new Error('a worker needs CUTOVER_CONFIG')
  let config = loadConfig(file)
  const id = cluster.worker?.id ?? 0
  const log = createLogger(config.log.level).child({
    worker: id,
    generation: Number(process.env.CUTOVER_GENERATION ?? 1),
  })
  const registry = new Registry()
  const metrics = createMetrics(registry)
  const buckets = workerBuckets(send)
  const sockets = workerSockets(send)
  // Before the instance starts: its listeners ask for their sockets as they start.
  process.on('message', (m: ToWorker, handle?: unknown) => {
    if (m.type === 'listening') sockets.answered(m, handle)
    else if (m.type === 'dealt') sockets.dealt(m, handle as Socket | undefined)
    else if (m.type === 'lend') sockets.lend(m, handle)
    else if (m.type === 'take-back') sockets.takeBack(m)
  })
  new Counter({
    name: 'cutover_ratelimit_fail_open_total',
    help: 'Rate limit tokens let through because the supervisor did not answer in time',
    registers: [registry],
    collect() {
      this.reset()
      this.inc(buckets.unanswered)
    },
  })
  const instance = await startInstance(config, {
    log,
    registry,
    metrics,
    token: loadOrCreateToken(config),
    buckets: buckets.factory,
    recorderSuffix: `-${id}`,
    snapshotWriter: process.env.CUTOVER_SNAPSHOT_WRITER === '1',
    ticketKeys: ticketKeysFromEnv(),
    worker: id,
    sockets,
  }).catch((err: Error) => {
    send({ type: 'failed', error: err.message })
    process.exit(1)
  })
  const { scopes, dns, http } = instance
  const rollout = await startRollout(config, scopes, metrics.rolloutPercent, log, false)
  dns?.records.onOutcome((eventId, outcome) =>
    send({ type: 'record-outcome', id: eventId, outcome }),
  )
  const scopeList = () => [...scopes.values()].map((s) => ({ id: s.id, servable: s.servable }))
  const ports = {
    dns: dns?.port,
    candidate: dns?.candidatePort,
    http: http?.port,
    https: http?.tlsPort,
    dot: dns?.tlsPort,
  }
  send({ type: 'ready', scopes: scopeList(), ports })
  const sendStats = () => {
    let connections = 0
    for (const read of metrics.openConnections.values()) connections += read()
    send({
      type: 'stats',
      scopes: Object.fromEntries([...scopes].map(([k, s]) => [k, toWire(s.stats)])),
      connections,
      notReady: instance.notReady(),
      warnings: instance.warnings(),
    })
  }
  const stats = setInterval(sendStats, STATS_MS)
  // /readyz has this worker's reasons and warnings from its first second.
  sendStats()

  let draining = false
  const drain = async (deadlineMs: number, handOver: boolean) => {
    if (draining) return
    draining = true
    sockets.returnAll()
    const cut = await instance.drain(deadlineMs, handOver ? handOverTo : undefined)
    await Promise.all(handing)
    if (cut > 0) log.warn({ cut }, 'drain deadline reached: cut what was still in flight')
    clearInterval(stats)
    sendStats()

    // Its last counters must reach the supervisor before the process goes: behind
    // handed-over connections, a message waits for their descriptors' acknowledgement.
    const last: FromWorker = { type: 'drained', cut, metrics: await registry.getMetricsAsJSON() }
    await new Promise<void>((resolve) => {
      if (process.send) process.send(last, undefined, {}, () => resolve())
      else resolve()
    })
    buckets.close()

    await rollout.stop()
    process.disconnect?.()
    process.exit(0)
  }

  const reload = async (requestId: number) => {
    try {
      const next = loadConfig(file)
      const { retired } = await instance.reload(next, () => rollout.reapply())
      config = next
      send({ type: 'reloaded', id: requestId, ok: true })
      send({ type: 'ready', scopes: scopeList(), ports })
      retired.catch((err: Error) =>
        log.warn({ err: err.message }, 'reload: the old parts did not close cleanly'),
      )
    } catch (err) {
      send({ type: 'reloaded', id: requestId, ok: false, error: (err as Error).message })
    }
  }
  let reloading = Promise.resolve()

  process.on('message', async (m: ToWorker, handle?: Socket) => {
    switch (m.type) {
      case 'drain':
        await drain(m.deadlineMs, m.handOver)
        break
      case 'connection':
        if (handle) instance.adopt(m.listener, handle, m.client, Buffer.from(m.data, 'base64'))
        break
      case 'taken':
        buckets.answered(m)
        break
      case 'metrics':
        send({ type: 'metrics', id: m.id, metrics: await registry.getMetricsAsJSON() })
        break
      case 'shadow': {
        const judge = instance.judge(m.scope)
        send({
          type: 'shadow',
          id: m.id,
          examples: [...(judge?.examples() ?? [])],
          fields: judge?.rates() ?? [],
        })
        break
      }
      case 'ticket-keys':
        instance.setTicketKeys(Buffer.from(m.keys, 'base64'))
        break
      case 'reload':
        // One at a time: a reload the supervisor gave up on may still be running here.
        reloading = reloading.then(() => reload(m.id))
        break
    }
  })
  // Signals to the process group (Ctrl-C) are the supervisor's to handle; it sends "drain".
  process.on('SIGINT', () => {})
  process.on('SIGTERM', () => {})
  // Each worker has the log files open itself: logrotate's postrotate signals every worker.
  process.on('SIGUSR1', () => instance.reopenLogs())
  // A supervisor that is gone cannot send "drain": finish what is in flight and go.
  process.on('disconnect', () => void drain(config.drainDeadline, false))
}

main().catch((err) => {
  send({ type: 'failed', error: (err as Error).message })
  process.exit(1)
})

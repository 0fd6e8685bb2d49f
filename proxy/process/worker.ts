// A worker process: serves the listeners its supervisor shares with it, with
// the modules and state of the current config; reports readiness and counters;
// reloads in place, drains and exits when told. The supervisor does the rest.

import cluster from 'node:cluster'
import { Counter, Registry } from 'prom-client'
import type { ScopeSet } from '../../rollout/scopes.ts'
import { startRollout } from '../../rollout/service.ts'
import { loadOrCreateToken } from '../admin/token.ts'
import { type Config, loadConfig } from '../config/config.ts'
import { type DnsService, startDns } from '../dns/service.ts'
import { type HttpService, startHttp } from '../http/service.ts'
import { Recorder } from '../shadow/traffic-recorder.ts'
import { startLoadGauge } from '../telemetry/load-gauge.ts'
import { createLogger } from '../telemetry/log.ts'
import { createMetrics } from '../telemetry/metrics.ts'
import { type FromWorker, type ToWorker, toWire } from './ipc.ts'
import type { PreparedReload, ServiceDeps } from './service-deps.ts'
import { workerBuckets } from './shared-ratelimit.ts'

const STATS_MS = 1000

function send(m: FromWorker): void {
  process.send?.(m)
}

/** What a reload may not change: the sockets are the supervisor's, and where record events come from. */
function listenKey(c: Config): string {
  return JSON.stringify([
    c.dns?.listen,
    c.dns?.candidateListen,
    c.dns?.records,
    c.http?.listen,
    c.admin.listen,
  ])
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
  new Counter({
    name: 'cutover_ratelimit_fail_open_total',
    help: 'Rate limit tokens let through because the supervisor did not answer in time',
    registers: [registry],
    collect() {
      this.reset()
      this.inc(buckets.unanswered)
    },
  })
  const scopes: ScopeSet = new Map()
  const load = startLoadGauge(config.shadow.maxLoad)
  const recorder = config.record
    ? new Recorder({
        dir: config.record.dir,
        basisPoints: config.record.percent,
        maxCases: config.record.maxCases,
        secrets: config.record.secrets,
        suffix: `-${id}`,
      })
    : undefined
  const deps = (c: Config, into: ScopeSet = scopes): ServiceDeps => ({
    env: { log, registry, buckets: buckets.factory },
    metrics,
    scopes: into,
    subnet: c.rollout.subnet,
    token: loadOrCreateToken(c),
    ednsOption: c.rollout.ednsOption,
    shadow: c.shadow,
    load,
    recorder,
  })
  let dns: DnsService | undefined
  let http: HttpService | undefined
  try {
    if (config.dns)
      dns = await startDns(config.dns, deps(config), process.env.CUTOVER_SNAPSHOT_WRITER === '1')
    const dnsService = dns
    if (config.http)
      http = await startHttp(config.http, deps(config), dnsService && (() => dnsService.engine))
  } catch (err) {
    send({ type: 'failed', error: (err as Error).message })
    process.exit(1)
  }
  const rollout = await startRollout(config, scopes, metrics.rolloutPercent, log, false)
  dns?.records.onOutcome((eventId, outcome) =>
    send({ type: 'record-outcome', id: eventId, outcome }),
  )
  const scopeList = () => [...scopes.values()].map((s) => ({ id: s.id, servable: s.servable }))
  const ports = { dns: dns?.port, candidate: dns?.candidatePort, http: http?.port }
  send({ type: 'ready', scopes: scopeList(), ports })
  const sendStats = () => {
    let connections = 0
    for (const read of metrics.openConnections.values()) connections += read()
    send({
      type: 'stats',
      scopes: Object.fromEntries([...scopes].map(([k, s]) => [k, toWire(s.stats)])),
      connections,
      notReady: dns?.notReady() ?? [],
    })
  }
  const stats = setInterval(sendStats, STATS_MS)

  let draining = false
  const drain = async (deadlineMs: number) => {
    if (draining) return
    draining = true
    const cut = (
      await Promise.all([dns?.drain(deadlineMs), http?.drain(deadlineMs)])
    ).reduce<number>((a, b) => a + (b ?? 0), 0)
    if (cut > 0) log.warn({ cut }, 'drain deadline reached: cut what was still in flight')
    clearInterval(stats)
    sendStats()

    send({ type: 'drained', cut, metrics: await registry.getMetricsAsJSON() })
    recorder?.close()
    buckets.close()
    load.stop()

    await rollout.stop()
    process.disconnect?.()
    process.exit(0)
  }

  process.on('message', async (m: ToWorker) => {
    switch (m.type) {
      case 'drain':
        await drain(m.deadlineMs)
        break
      case 'taken':
        buckets.answered(m)
        break
      case 'metrics':
        send({ type: 'metrics', id: m.id, metrics: await registry.getMetricsAsJSON() })
        break
      case 'shadow': {
        const judge = dns?.engine.shadow?.judge(m.scope) ?? http?.shadow.judge(m.scope)
        send({
          type: 'shadow',
          id: m.id,
          examples: [...(judge?.examples() ?? [])],
          fields: judge?.rates() ?? [],
        })
        break
      }
      case 'reload': {
        try {
          const next = loadConfig(file)
          if (listenKey(next) !== listenKey(config))
            throw new Error(
              'listen addresses or dns.records changed: that needs `cutover restart`, not a reload',
            )
          if (!next.dns !== !dns || !next.http !== !http)
            throw new Error('DNS or HTTP was added or removed: that needs `cutover restart`')
          const nextScopes: ScopeSet = new Map()
          const prepared: PreparedReload[] = []
          try {
            if (dns && next.dns)
              prepared.push(await dns.prepareReload(next.dns, deps(next, nextScopes)))
            if (http && next.http)
              prepared.push(await http.prepareReload(next.http, deps(next, nextScopes)))
          } catch (err) {
            await Promise.all(prepared.map((p) => p.discard()))
            throw err
          }
          for (const [k, s] of nextScopes) {
            const was = scopes.get(k)
            if (was) s.stats = was.stats
          }
          scopes.clear()
          for (const [k, s] of nextScopes) scopes.set(k, s)

          rollout.reapply()
          const retired = Promise.all(prepared.map((p) => p.commit()))
          config = next
          send({ type: 'reloaded', ok: true })
          send({ type: 'ready', scopes: scopeList(), ports })
          await retired
        } catch (err) {
          send({ type: 'reloaded', ok: false, error: (err as Error).message })
        }
        break
      }
    }
  })
  // Signals to the process group (Ctrl-C) are the supervisor's to handle; it sends "drain".
  process.on('SIGINT', () => {})
  process.on('SIGTERM', () => {})
  // A supervisor that is gone cannot send "drain": finish what is in flight and go.
  process.on('disconnect', () => void drain(config.drainDeadline))
}

main().catch((err) => {
  send({ type: 'failed', error: (err as Error).message })
  process.exit(1)
})

// The serving parts of one proxy process, assembled from a config: the scopes,
// the DNS side, the HTTP side (its DoH feeding the DNS engine), the load gauge,
// the traffic recorder and the access and query logs; reloaded in place, drained, stopped. A worker and
// the single-process proxy each run one: they differ only in what is around it
// (IPC to a supervisor, or the admin API and the rollout in the same process).

import type { Socket } from 'node:net'
import type { Registry } from 'prom-client'
import type { LiveJudge } from '../../flamingo-tests/live-judge.ts'
import type { BucketStoreFactory } from '../../modules/ratelimit/bucket-store.ts'
import { carryStats, type ScopeSet } from '../../rollout/scopes.ts'
import type { Config } from '../config/config.ts'
import { scopeListOf } from '../config/scope-list.ts'
import { type DnsService, startDns } from '../dns/service.ts'
import { type HttpService, startHttp } from '../http/service.ts'
import type { HandedListener, HandOver } from '../net/connection-handover.ts'
import type { SocketSource } from '../net/socket-source.ts'
import { TrafficRecorder } from '../shadow/traffic-recorder.ts'
import { AccessLogs, checkLogFiles } from '../telemetry/access-log.ts'
import { startLoadGauge } from '../telemetry/load-gauge.ts'
import type { Logger } from '../telemetry/log.ts'
import type { Metrics } from '../telemetry/metrics.ts'
import { startOverloadGuard } from '../telemetry/overload.ts'
import { expiryWarnings, watchCertificates } from '../tls/certificate-metrics.ts'
import { loadCertificates } from '../tls/certificates.ts'
import type { PreparedReload, ServiceDeps } from './service-deps.ts'

export interface InstanceOptions {
  log: Logger
  registry: Registry
  metrics: Metrics
  /** The admin token, for forced paths and traces. */
  token: string
  /** Rate limit buckets shared with the other workers (absent in one process). */
  buckets?: BucketStoreFactory
  /** Appended to recorded suites' names, so workers do not write over each other. */
  recorderSuffix?: string
  /** Whether this process writes the zones' snapshots (one per instance). */
  snapshotWriter: boolean
  /** Session ticket keys for the TLS listeners, from the supervisor (absent: each listener makes its own). */
  ticketKeys?: Buffer
  /** The worker id access and query log lines carry (absent in one process: 0). */
  worker?: number
  /** Where the listeners get their sockets. */
  sockets: SocketSource
}

export interface Instance {
  /** Every scope by id; the same map for the instance's life (a reload replaces its contents). */
  scopes: ScopeSet
  dns: DnsService | undefined
  http: HttpService | undefined
  /** Why this process is not ready (legacy unreachable, record events behind). */
  notReady(): string[]
  /** What /readyz warns about: certificates expiring within seven days. */
  warnings(): string[]
  /** The live comparison of `scope`, if it is shadowed. */
  judge(scope: string): LiveJudge | undefined
  /**
   * Builds every side again from `next` beside the serving ones, then swaps them
   * in at once; `applyState` runs between the scopes' swap and the engines', so
   * the new engines serve the live percentages from their first query. Throws,
   * changing nothing, when a side cannot be built or the change needs a restart.
   * Resolves once the new parts serve, with `retired`: settled when the old
   * parts have finished what they had.
   */
  reload(next: Config, applyState: () => void): Promise<{ retired: Promise<void> }>
  /** New session ticket keys for the TLS listeners (the supervisor rotates them). */
  setTicketKeys(keys: Buffer): void
  /** Reopens the access and query log files by name (SIGUSR1, after logrotate moved them). */
  reopenLogs(): void
  /**
   * Stops reading and accepting, finishes what is in flight; resolves with
   * what the deadline cut. `handOver`: in a restart, where idle DNS-over-TCP
   * connections go instead of closing.
   */
  drain(deadlineMs: number, handOver?: (listener: HandedListener) => HandOver): Promise<number>
  /** A connection a worker of the generation before handed over. */
  adopt(listener: HandedListener, socket: Socket, client: string, data: Buffer): void
  stop(): Promise<void>
}

/** What a reload may not change: the sockets are the supervisor's, and where record events come from. */
function listenKey(c: Config): string {
  return JSON.stringify([
    c.dns?.listen,
    c.dns?.candidateListen,
    c.dns?.records,
    c.http?.listen,
    c.http?.tls?.listen,
    c.dns?.tls?.listen,
    c.admin.listen,
  ])
}

export async function startInstance(config: Config, o: InstanceOptions): Promise<Instance> {
  const accessLogs = new AccessLogs(config.log, o.worker ?? 0, o.log)
  const load = startLoadGauge(config.shadow.maxLoad)
  const overload = startOverloadGuard(config.overload)
  const stopGauges = () => {
    load.stop()
    overload.stop()
  }
  const recorder = config.record
    ? new TrafficRecorder({
        dir: config.record.dir,
        basisPoints: config.record.percent,
        maxCases: config.record.maxCases,
        secrets: config.record.secrets,
        suffix: o.recorderSuffix,
      })
    : undefined
  const deps = (c: Config): ServiceDeps => ({
    env: { log: o.log, registry: o.registry, buckets: o.buckets },
    sockets: o.sockets,
    metrics: o.metrics,
    scopes: scopeListOf(c),
    token: o.token,
    ednsOption: c.rollout.ednsOption,
    shadow: c.shadow,
    load,
    overload,
    recorder,
    accessLogs,
    certificates: c.tls ? loadCertificates(c.tls) : undefined,
    tls: c.tls,
    ticketKeys,
  })
  let ticketKeys = o.ticketKeys
  const first = deps(config)
  let certificates = first.certificates
  watchCertificates(o.registry, () => certificates)
  const scopes = first.scopes.all
  let dns: DnsService | undefined
  let http: HttpService | undefined
  try {
    if (config.dns) dns = await startDns(config.dns, first, o.snapshotWriter)
    const dnsService = dns
    if (config.http)
      http = await startHttp(config.http, first, dnsService && (() => dnsService.engine))
  } catch (err) {
    await Promise.allSettled([dns?.stop(), http?.stop()])
    stopGauges()
    recorder?.close()
    await accessLogs.close()
    throw err
  }
  let current = config
  const release = () => {
    recorder?.close()
    stopGauges()
    return accessLogs.close()
  }
  return {
    scopes,
    dns,
    http,
    notReady: () => dns?.notReady() ?? [],
    warnings: () => expiryWarnings(certificates),
    judge: (scope) => dns?.engine.shadow?.judge(scope) ?? http?.shadow.judge(scope),
    async reload(next, applyState) {
      if (listenKey(next) !== listenKey(current))
        throw new Error(
          'listen addresses or dns.records changed: that needs `cutover restart`, not a reload',
        )
      if (!next.dns !== !dns || !next.http !== !http)
        throw new Error('DNS or HTTP was added or removed: that needs `cutover restart`')
      checkLogFiles(next.log)
      const nextDeps = deps(next)
      const prepared: PreparedReload[] = []
      try {
        if (dns && next.dns) prepared.push(await dns.prepareReload(next.dns, nextDeps))
        if (http && next.http) prepared.push(await http.prepareReload(next.http, nextDeps))
      } catch (err) {
        await Promise.all(prepared.map((p) => p.discard()))
        throw err
      }
      const nextScopes = nextDeps.scopes.all
      carryStats(scopes, nextScopes)
      scopes.clear()
      for (const [id, scope] of nextScopes) scopes.set(id, scope)
      applyState()
      current = next
      certificates = nextDeps.certificates
      accessLogs.configure(next.log)
      overload.configure(next.overload)
      return { retired: Promise.all(prepared.map((p) => p.commit())).then(() => undefined) }
    },
    setTicketKeys(keys) {
      ticketKeys = keys
      http?.setTicketKeys(keys)
      dns?.setTicketKeys(keys)
    },
    reopenLogs: () => accessLogs.reopen(),
    adopt(listener, socket, client, data) {
      if (dns) dns.adopt(listener, socket, client, data)
      else socket.destroy()
    },
    async drain(deadlineMs, handOver) {
      const cut = await Promise.all([
        dns?.drain(deadlineMs, handOver),
        http?.drain(deadlineMs, current.upgradeDrainDeadline),
      ])
      await release()
      return cut.reduce<number>((a, b) => a + (b ?? 0), 0)
    },
    async stop() {
      await Promise.allSettled([http?.stop(), dns?.stop()])
      await release()
    },
  }
}

// One proxy instance in one process (`workers: 0`, the tests, the quickstart):
// the serving parts, the rollout state driving plans, and the admin API; and
// its stop. No supervisor, so no restart or reload; SIGUSR1 reopens the access
// and query log files.

import type { Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { CutoverError } from '../../common/cutover-error.ts'
import type { AuthoritativeModule } from '../../modules/authoritative/index.ts'
import { type RolloutService, startRollout } from '../../rollout/service.ts'
import { createAdmin } from '../admin/admin-api.ts'
import { metricsServer } from '../admin/metrics-listener.ts'
import { loadNamedTokens } from '../admin/token.ts'
import type { Config } from '../config/config.ts'
import { listenSockets } from '../net/listen-sockets.ts'
import { localSource } from '../net/socket-source.ts'
import { registerUdpDrops } from '../net/udp-drops.ts'
import type { Logger } from '../telemetry/log.ts'
import { createMetrics } from '../telemetry/metrics.ts'
import { registerRolloutGauges } from '../telemetry/rollout-gauges.ts'
import { ticketKeysFor } from '../tls/fleet-ticket-keys.ts'
import { type Instance, startInstance } from './instance.ts'

export interface RunningProxy {
  /** 0 when the config has no such side. */
  dnsPort: number
  /** The DNS candidate listener (every query on the new path), 0 when not configured. */
  dnsCandidatePort: number
  httpPort: number
  /** The HTTPS listener (http.tls) and the DNS-over-TLS one (dns.tls), 0 when not configured. */
  httpsPort: number
  dotPort: number
  adminPort: number
  /** GET /metrics alone (metrics.listen), 0 when not configured. */
  metricsPort: number
  /** The main admin token (named "admin"): for the API and the console's sign-in. */
  token: string
  registry: Registry
  authoritative: AuthoritativeModule | undefined
  rollout: RolloutService
  /** Reopens the access and query log files by name: what SIGUSR1 does. */
  reopenLogs(): void
  stop(): Promise<void>
}

export async function startProxy(config: Config, log: Logger): Promise<RunningProxy> {
  const registry = new Registry()
  const metrics = createMetrics(registry)
  const tokens = loadNamedTokens(config)
  const token = tokens[0].token
  let instance: Instance | undefined
  let rollout: RolloutService | undefined
  let admin: FastifyInstance | undefined
  let scrape: Server | undefined
  let metricsPort = 0
  const ticketKeys = await ticketKeysFor(config, log, (keys) => instance?.setTicketKeys(keys))
  const sockets = listenSockets()
  registerUdpDrops(registry, () => sockets.all())
  try {
    instance = await startInstance(config, {
      log,
      registry,
      metrics,
      token,
      snapshotWriter: true,
      ticketKeys: ticketKeys?.current(),
      sockets: localSource(sockets),
    })
    const { dns, scopes } = instance
    rollout = await startRollout(config, scopes, metrics.rolloutPercent, log)
    const r = rollout
    registerRolloutGauges(registry, {
      current: () => r.store.current(),
      judgement: (scope) => r.controller.judgement(scope),
    })
    const serving = instance
    admin = createAdmin({
      registry,
      token,
      state: config.state,
      tokens: () => tokens,
      rollout: r,
      shadow: async (id) => {
        const judge = serving.judge(id)
        return { examples: judge?.examples() ?? [], fields: judge?.rates() ?? [] }
      },
      notReady: () => [...serving.notReady(), ...r.notReady()],
      warnings: () => serving.warnings(),
      publishRecord: dns && ((body) => dns.records.publish(body)),
    })
    await admin.listen({ host: config.admin.listen.host, port: config.admin.listen.port })
    if (config.metrics) {
      scrape = metricsServer(registry)
      metricsPort = await localSource(sockets).listen(scrape, 'metrics', config.metrics.listen)
    }
  } catch (err) {
    ticketKeys?.stop()
    scrape?.close()
    await Promise.allSettled([instance?.stop(), rollout?.stop(), admin?.close()])
    sockets.close()
    if (err instanceof CutoverError) throw err
    throw new CutoverError('LISTEN_FAILED', `cannot listen: ${(err as Error).message}`, {
      cause: err,
    })
  }
  const { dns, http } = instance
  const adminAddress = admin.server.address()
  const running = admin
  const adminPort = typeof adminAddress === 'object' && adminAddress ? adminAddress.port : 0
  log.info(
    {
      dns: dns ? `${config.dns?.listen.host}:${dns.port}` : undefined,
      candidate: dns?.candidatePort
        ? `${config.dns?.candidateListen?.host}:${dns.candidatePort}`
        : undefined,
      http: http ? `${config.http?.listen.host}:${http.port}` : undefined,
      https: http?.tlsPort ? `${config.http?.tls?.listen.host}:${http.tlsPort}` : undefined,
      dot: dns?.tlsPort ? `${config.dns?.tls?.listen.host}:${dns.tlsPort}` : undefined,
      admin: `${config.admin.listen.host}:${adminPort}`,
    },
    'cutover is serving',
  )
  const serving = instance
  const stopRollout = rollout
  const reopenLogs = () => serving.reopenLogs()
  // After logrotate moved the files away (its postrotate sends the signal).
  process.on('SIGUSR1', reopenLogs)
  return {
    dnsPort: dns?.port ?? 0,
    dnsCandidatePort: dns?.candidatePort ?? 0,
    httpPort: http?.port ?? 0,
    httpsPort: http?.tlsPort ?? 0,
    dotPort: dns?.tlsPort ?? 0,
    adminPort,
    metricsPort,
    token,
    registry,
    authoritative: dns?.authoritative,
    rollout,
    reopenLogs,
    async stop() {
      process.off('SIGUSR1', reopenLogs)
      ticketKeys?.stop()
      scrape?.closeAllConnections()
      scrape?.close()
      await Promise.allSettled([serving.stop(), running.close()])
      sockets.close()
      await stopRollout.stop()
    },
  }
}

// Starts one proxy instance from a config: the DNS side, the HTTP side and the
// admin API; and stops it. The one place that puts the sides together.

import type { FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { CutoverError } from '../../common/cutover-error.ts'
import type { AuthoritativeModule } from '../../modules/authoritative/index.ts'
import type { ScopeSet } from '../../rollout/scopes.ts'
import { type RolloutService, startRollout } from '../../rollout/service.ts'
import { createAdmin } from '../admin/admin-api.ts'
import { loadOrCreateToken } from '../admin/token.ts'
import type { Config } from '../config/config.ts'
import { type DnsService, startDns } from '../dns/service.ts'
import { type HttpService, startHttp } from '../http/service.ts'
import { Recorder } from '../shadow/traffic-recorder.ts'
import { startLoadGauge } from '../telemetry/load-gauge.ts'
import type { Logger } from '../telemetry/log.ts'
import { createMetrics } from '../telemetry/metrics.ts'
import type { ServiceDeps } from './service-deps.ts'

export interface RunningProxy {
  /** 0 when the config has no such side. */
  dnsPort: number
  /** The DNS candidate listener (every query on the new path), 0 when not configured. */
  dnsCandidatePort: number
  httpPort: number
  adminPort: number
  registry: Registry
  authoritative: AuthoritativeModule | undefined
  rollout: RolloutService
  stop(): Promise<void>
}

export async function startProxy(config: Config, log: Logger): Promise<RunningProxy> {
  const registry = new Registry()
  const metrics = createMetrics(registry)
  const env = { log, registry }
  const scopes: ScopeSet = new Map()
  const subnet = config.rollout.subnet
  let dns: DnsService | undefined
  let http: HttpService | undefined
  let rollout: RolloutService | undefined
  let admin: FastifyInstance | undefined
  const token = loadOrCreateToken(config)
  const load = startLoadGauge(config.shadow.maxLoad)
  const recorder = config.record
    ? new Recorder({
        dir: config.record.dir,
        basisPoints: config.record.percent,
        maxCases: config.record.maxCases,
        secrets: config.record.secrets,
      })
    : undefined
  try {
    const deps: ServiceDeps = {
      env,
      metrics,
      scopes,
      subnet,
      token,
      ednsOption: config.rollout.ednsOption,
      shadow: config.shadow,
      load,
      recorder,
    }
    if (config.dns) dns = await startDns(config.dns, deps)
    const dnsService = dns
    if (config.http)
      http = await startHttp(config.http, deps, dnsService && (() => dnsService.engine))
    rollout = await startRollout(config, scopes, metrics.rolloutPercent, log)
    const r = rollout
    admin = createAdmin({
      registry,
      token,
      rollout: r,
      shadow: async (id) => {
        const judge = dns?.engine.shadow?.judge(id) ?? http?.shadow.judge(id)
        return { examples: judge?.examples() ?? [], fields: judge?.rates() ?? [] }
      },
      notReady: () => [...(dns?.notReady() ?? []), ...r.notReady()],
      publishRecord: dnsService && ((body) => dnsService.records.publish(body)),
    })

    await admin.listen({ host: config.admin.listen.host, port: config.admin.listen.port })
  } catch (err) {
    await Promise.allSettled([dns?.stop(), http?.stop(), rollout?.stop(), admin?.close()])
    if (err instanceof CutoverError) throw err
    throw new CutoverError('LISTEN_FAILED', `cannot listen: ${(err as Error).message}`, {
      cause: err,
    })
  }
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
      admin: `${config.admin.listen.host}:${adminPort}`,
    },
    'cutover is serving',
  )
  return {
    dnsPort: dns?.port ?? 0,
    dnsCandidatePort: dns?.candidatePort ?? 0,
    httpPort: http?.port ?? 0,
    adminPort,
    registry,
    authoritative: dns?.authoritative,
    rollout: rollout!,
    async stop() {
      await Promise.allSettled([http?.stop(), dns?.stop(), running.close()])
      await rollout!.stop()
      load.stop()
      recorder?.close()
    },
  }
}

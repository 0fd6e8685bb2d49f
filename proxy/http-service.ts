// The HTTP side of one proxy instance, wired from its config section: each
// site's modules set up from its rules, the router, the upstream pools (legacy
// and origins), the engine, DoH and the listener.

import { CutoverError } from '../dns/errors.ts'
import { HttpUpstream } from '../legacy-adapter/http-upstream.ts'
import type { ModuleEnv } from '../modules/env.ts'
import { modulesForRules, unsupportedRuleTypes } from '../modules/http-registry.ts'
import { createHttpRouter, type HttpScopeConfig } from '../rollout/http-router.ts'
import type { HttpConfig } from './config.ts'
import type { DnsEngine } from './dns-engine.ts'
import { dohHandler } from './doh.ts'
import { HttpEngine, type HttpSite } from './http-engine.ts'
import { HttpListener } from './http-listener.ts'
import type { Logger } from './log.ts'
import type { Metrics } from './metrics.ts'

export interface HttpService {
  port: number
  stop(): Promise<void>
}

export async function startHttp(
  http: HttpConfig,
  env: ModuleEnv & { log: Logger },
  metrics: Metrics,
  dns: DnsEngine | undefined,
): Promise<HttpService> {
  const pool = (url: string) =>
    new HttpUpstream({
      url,
      connections: http.upstream.connections,
      connectTimeoutMs: http.upstream.connectTimeout,
      headersTimeoutMs: http.upstream.headersTimeout,
      bodyTimeoutMs: http.upstream.bodyTimeout,
      keepAliveTimeoutMs: http.upstream.keepAliveTimeout,
    })
  const legacyUpstream = pool(http.legacy.url)
  const origins = new Map<string, HttpUpstream>()
  const scopes: HttpScopeConfig<HttpSite>[] = http.sites.map((s, i) => {
    const hosts = [s.host, ...s.aliases]
    const id = `http:${s.host}`
    const missing = unsupportedRuleTypes(s.rules)
    if (s.path === 'legacy' || missing.length > 0) {
      if (s.path === 'new')
        env.log.warn(
          { scope: id, unsupported: missing },
          `site uses rule types the new path does not serve (${missing.join(', ')}); it stays on the legacy path`,
        )
      metrics.rolloutPercent.set({ scope: id }, 0)
      return { hosts, path: 'legacy', site: undefined }
    }
    const where = `http.sites[${i}]`
    const modules = modulesForRules(s.rules, where).map(({ module, rules, where: at }) => {
      try {
        return { name: module.name, phases: module.site(rules, at, env) }
      } catch (err) {
        throw new CutoverError('CONFIG_INVALID', `site ${s.host}: ${(err as Error).message}`, {
          cause: err,
        })
      }
    })
    const originUrl = s.origin!
    let origin = origins.get(originUrl)
    if (!origin) {
      origin = pool(originUrl)
      origins.set(originUrl, origin)
    }
    metrics.rolloutPercent.set({ scope: id }, 100)
    return { hosts, path: 'new', site: { modules, origin } }
  })
  const engine = new HttpEngine({
    router: createHttpRouter(scopes),
    legacy: legacyUpstream,
    metrics,
    log: env.log,
    maxBodySize: http.limits.maxBodySize,
    moduleBudgetMs: http.moduleBudget,
    dohPath: http.doh ? http.doh.path : undefined,
    doh: http.doh && dns ? dohHandler(dns) : undefined,
  })
  const listener = new HttpListener(
    engine,
    {
      maxHeaderSize: http.limits.maxHeaderSize,
      headersTimeoutMs: http.limits.headersTimeout,
      requestTimeoutMs: http.limits.requestTimeout,
      keepAliveTimeoutMs: http.limits.keepAliveTimeout,
      maxConnections: http.limits.maxConnections,
    },
    metrics.malformed.child({ protocol: 'http' }),
  )
  await listener.listen(http.listen)
  return {
    port: listener.port,
    async stop() {
      await listener.close()
      await Promise.allSettled([
        legacyUpstream.close(),
        ...[...origins.values()].map((o) => o.close()),
      ])
    },
  }
}

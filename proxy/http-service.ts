// The HTTP side of one proxy instance, wired from its config section: each
// site's modules set up from its rules, the router, the upstream pools (legacy
// and origins), the engine, DoH and the listener.

import { CutoverError } from '../dns/errors.ts'
import { HttpUpstream } from '../legacy-adapter/http-upstream.ts'
import { modulesForRules, unsupportedRuleTypes } from '../modules/http-registry.ts'
import { createHttpRouter, type HttpSiteScopes } from '../rollout/http-router.ts'
import { createScope } from '../rollout/scopes.ts'
import type { HttpConfig } from './config.ts'
import type { DnsEngine } from './dns-engine.ts'
import { dohHandler } from './doh.ts'
import { HttpEngine, type HttpSite } from './http-engine.ts'
import { HttpListener } from './http-listener.ts'
import { HttpShadow } from './http-shadow.ts'
import type { ServiceDeps } from './service-deps.ts'

export interface HttpService {
  port: number
  shadow: HttpShadow

  stop(): Promise<void>
}

/**
 * Starts the HTTP side; its scopes (one per site, one per narrowed path prefix,
 * and `http:*`) are added to `scopes`.
 */
export async function startHttp(
  http: HttpConfig,
  deps: ServiceDeps,
  dns: DnsEngine | undefined,
): Promise<HttpService> {
  const { env, metrics, scopes, subnet, token, load } = deps
  const shadowConfig = deps.shadow
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
  /** A site's modules set up from its rules, and its origin's pool (shared by sites with one origin). */
  const siteSetup = (s: HttpConfig['sites'][number], i: number): HttpSite => {
    const modules = modulesForRules(s.rules, `http.sites[${i}]`).map(({ module, rules, where }) => {
      try {
        return { name: module.name, phases: module.site(rules, where, env) }
      } catch (err) {
        throw new CutoverError('CONFIG_INVALID', `site ${s.host}: ${(err as Error).message}`, {
          cause: err,
        })
      }
    })
    const url = s.origin!
    let origin = origins.get(url)
    if (!origin) {
      origin = pool(url)
      origins.set(url, origin)
    }
    return { modules, origin }
  }
  const sites: HttpSiteScopes<HttpSite>[] = http.sites.map((s, i) => {
    const id = `http:${s.host}`
    const missing = unsupportedRuleTypes(s.rules)
    if (missing.length > 0) {
      env.log.warn(
        { scope: id, unsupported: missing },
        `site uses rule types the new path does not serve (${missing.join(', ')}); it stays on the legacy path whatever its percentage`,
      )
    }
    const site = missing.length === 0 && s.origin ? siteSetup(s, i) : undefined
    const settings = {
      protocol: 'http' as const,
      stickiness: s.stickiness,
      salt: s.salt,
      servable: site !== undefined,
      shadowBasisPoints: s.shadow,
    }

    const scope = createScope({ id, basisPoints: s.percent, ...settings }, subnet)
    scopes.set(id, scope)
    const paths = Object.entries(s.paths).map(([prefix, bp]) => {
      const narrow = createScope({ id: `${id}${prefix}`, basisPoints: bp, ...settings }, subnet)
      scopes.set(narrow.id, narrow)
      return { prefix, scope: narrow }
    })
    return { hosts: [s.host, ...s.aliases], scope, paths, site }
  })
  const fallback = createScope(
    {
      id: 'http:*',
      protocol: 'http',
      basisPoints: 0,
      stickiness: undefined,
      salt: undefined,
      servable: false,
    },
    subnet,
  )
  scopes.set(fallback.id, fallback)

  const shadow = new HttpShadow({
    token,
    methods: new Set(shadowConfig.methods),
    maxBody: shadowConfig.maxBody,
    maxInFlight: shadowConfig.maxInFlight,
    examples: shadowConfig.examples,
    mismatches: metrics.diffMismatches,
    shed: metrics.shadowShed.child({ protocol: 'http' }),
    busy: load.busy,
  })
  const engine = new HttpEngine({
    router: createHttpRouter(sites, fallback),
    legacy: legacyUpstream,
    metrics,
    log: env.log,
    maxBodySize: http.limits.maxBodySize,
    moduleBudgetMs: http.moduleBudget,
    token,
    shadow,
    recorder: deps.recorder,
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
  shadow.listening(
    `http://${http.listen.host.includes(':') ? `[${http.listen.host}]` : http.listen.host}:${listener.port}`,
  )
  return {
    port: listener.port,
    shadow,
    async stop() {
      await listener.close()
      await Promise.allSettled([
        shadow.close(),
        legacyUpstream.close(),
        ...[...origins.values()].map((o) => o.close()),
      ])
    },
  }
}

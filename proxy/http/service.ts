// The HTTP side of one proxy instance, wired from its config section: each
// site's modules set up from its rules, the router, the upstream pools (legacy
// and origins), the engine, DoH and the listener.

import { CutoverError } from '../../common/cutover-error.ts'
import { HttpUpstream } from '../../legacy-adapter/http-upstream.ts'
import type { ModuleEnv } from '../../modules/env.ts'
import type { HttpSiteModule } from '../../modules/http-module.ts'
import {
  type ChainLink,
  everywhereModulesForRules,
  modulesForRules,
  unsupportedRuleTypes,
} from '../../modules/http-registry.ts'
import { createHttpRouter, type HttpSiteScopes } from '../../rollout/http-router.ts'
import type { HttpConfig } from '../config/config.ts'

type UpstreamConfig = HttpConfig['legacy']

import { markServable, type ScopeList } from '../config/scope-list.ts'
import { dohHandler } from '../dns/doh.ts'
import type { DnsEngine } from '../dns/engine.ts'
import { type ProxyProtocolIntake, proxyProtocolRefused } from '../net/proxy-protocol-intake.ts'
import { trustedProxies } from '../net/trusted-proxies.ts'
import type { PreparedReload, ServiceDeps } from '../process/service-deps.ts'
import { HttpShadow } from '../shadow/http-shadow.ts'
import { HttpEngine, type HttpSite } from './engine.ts'
import type { SiteModules } from './exchange.ts'
import { HttpListener } from './listener.ts'
import { upstreamTlsOptions } from './upstream-tls.ts'

export interface HttpService {
  port: number
  /** The HTTPS listener's port, when http.tls is set. */
  tlsPort: number | undefined
  /** New session ticket keys for the HTTPS listener (the supervisor rotates them). */
  setTicketKeys(keys: Buffer): void
  /** The shadow of the engine serving now (replaced on reload). */
  shadow: HttpShadow
  /** Sets the sites up again from `http`, ready to swap in; the old pools finish their requests. */
  prepareReload(http: HttpConfig, deps: ServiceDeps): Promise<PreparedReload>
  /**
   * Stops accepting; lets requests on the wire finish (Connection: close) and
   * upgraded connections run until `upgradeDeadlineMs`; resolves with what was cut.
   */
  drain(deadlineMs: number, upgradeDeadlineMs?: number): Promise<number>
  stop(): Promise<void>
}

/** An engine with the pools and shadow it owns. */
interface HttpParts {
  engine: HttpEngine
  shadow: HttpShadow
  pools: HttpUpstream[]
  siteModules: HttpSiteModule[]
}

/** The sites' new-path setups and the upstream pools they and the legacy use. */
export interface HttpSites {
  sites: HttpSiteScopes<HttpSite>[]
  /** Why the new path cannot serve a site, by its index in `http.sites`. */
  reasons: Map<number, string>
  legacy: HttpUpstream
  pools: HttpUpstream[]
  siteModules: HttpSiteModule[]
}

/**
 * Sets each site's modules up from its rules and marks its scopes servable
 * when every rule type has a module and it has an origin. Its rules marked
 * `everywhere: true` are set up apart, on every site, servable or not.
 */
export function setUpSites(http: HttpConfig, scopes: ScopeList, env: ModuleEnv): HttpSites {
  const pool = (upstream: UpstreamConfig, key: string) =>
    new HttpUpstream({
      url: upstream.url,
      connections: http.upstream.connections,
      connectTimeoutMs: http.upstream.connectTimeout,
      headersTimeoutMs: http.upstream.headersTimeout,
      bodyTimeoutMs: http.upstream.bodyTimeout,
      keepAliveTimeoutMs: http.upstream.keepAliveTimeout,
      tls: upstream.url.startsWith('https:') ? upstreamTlsOptions(upstream.tls, key) : undefined,
      http2: upstream.http2,
    })
  const legacy = pool(http.legacy, 'http.legacy')
  const origins = new Map<string, HttpUpstream>()
  const siteModules: HttpSiteModule[] = []
  type Site = HttpConfig['sites'][number]
  /** `chain` set up for site `s`, in request slots from `firstSlot` on; an error names the site. */
  const setUp = (s: Site, chain: () => ChainLink[], firstSlot: number): SiteModules => {
    try {
      return chain().map(({ module, rules, where }, j) => {
        const phases = module.site(rules, where, env, firstSlot + j)
        siteModules.push(phases)
        return { name: module.name, phases }
      })
    } catch (err) {
      throw new CutoverError('CONFIG_INVALID', `site ${s.host}: ${(err as Error).message}`, {
        cause: err,
      })
    }
  }
  /**
   * A site's new path (its modules and its origin's pool, shared by sites with
   * one origin) when it can serve it, and its everywhere rules: set up again
   * from those rules alone, in slots after the new path's (a fallback runs both).
   */
  const siteSetup = (s: Site, i: number, servable: boolean): HttpSite | undefined => {
    const at = `http.sites[${i}]`
    const modules = servable ? setUp(s, () => modulesForRules(s.rules, at), 0) : []
    const everywhere = setUp(s, () => everywhereModulesForRules(s.rules, at), modules.length)
    if (!servable)
      return everywhere.length > 0 ? { modules, origin: undefined, everywhere } : undefined
    // Sites with the same origin, reached the same way, share its pool.
    const same = JSON.stringify(s.origin)
    let origin = origins.get(same)
    if (!origin) {
      origin = pool(s.origin!, `${at}.origin`)
      origins.set(same, origin)
    }
    return { modules, origin, everywhere }
  }
  const reasons = new Map<number, string>()
  const sites = http.sites.map((s, i): HttpSiteScopes<HttpSite> => {
    const own = scopes.sites[i]
    const missing = unsupportedRuleTypes(s.rules)
    if (missing.length > 0)
      reasons.set(i, `it uses rule types the new path does not serve: ${missing.join(', ')}`)
    else if (!s.origin) reasons.set(i, 'it has no origin')
    const site = siteSetup(s, i, !reasons.has(i))
    markServable(own, site?.origin !== undefined)
    return { hosts: [s.host, ...s.aliases], scope: own.scope, paths: own.paths, site }
  })
  return { sites, reasons, legacy, pools: [legacy, ...origins.values()], siteModules }
}

/** Builds the sites, shadow and engine for `http`. */
async function buildHttp(
  http: HttpConfig,
  deps: ServiceDeps,
  dns: (() => DnsEngine) | undefined,
): Promise<HttpParts> {
  const { env, metrics, scopes, token, load } = deps
  const shadowConfig = deps.shadow
  const {
    sites,
    reasons,
    legacy: legacyUpstream,
    pools,
    siteModules,
  } = setUpSites(http, scopes, env)
  for (const [i, reason] of reasons)
    env.log.warn(
      { scope: sites[i].scope.id, reason },
      'site stays on the legacy path as a whole, whatever its percentage',
    )

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
    router: createHttpRouter(sites, scopes.httpCatchAll),
    legacy: legacyUpstream,
    metrics,
    log: env.log,
    maxBodySize: http.limits.maxBodySize,
    moduleBudgetMs: http.moduleBudget,
    token,
    shadow,
    recorder: deps.recorder,
    accessLog: deps.accessLogs.access,
    dohPath: http.doh ? http.doh.path : undefined,
    doh: http.doh && dns ? dohHandler(dns) : undefined,
    trustedProxies: trustedProxies(http.trustedProxies),
    overload: deps.overload,
  })
  return { engine, shadow, pools, siteModules }
}

/** Closes the pools (each waits for its requests in flight), the shadow and the site modules. */
async function retire(parts: HttpParts): Promise<void> {
  await Promise.allSettled([parts.shadow.close(), ...parts.pools.map((p) => p.close())])
  for (const m of parts.siteModules) m.close?.()
}

/** Starts the HTTP side on the sites' scopes in `deps.scopes`. `dns` gives the DNS engine DoH feeds. */
export async function startHttp(
  http: HttpConfig,
  deps: ServiceDeps,
  dns: (() => DnsEngine) | undefined,
): Promise<HttpService> {
  let parts = await buildHttp(http, deps, dns)
  let certificates = deps.certificates
  const { metrics } = deps
  const limits = {
    maxHeaderSize: http.limits.maxHeaderSize,
    headersTimeoutMs: http.limits.headersTimeout,
    requestTimeoutMs: http.limits.requestTimeout,
    keepAliveTimeoutMs: http.limits.keepAliveTimeout,
    maxConnections: http.limits.maxConnections,
  }
  const malformed = metrics.malformed.child({ protocol: 'http' })
  const refused = proxyProtocolRefused(deps.env.registry)
  const intakes: ProxyProtocolIntake[] = []
  /** The PROXY protocol intake of a listener that has it on; its trust follows reloads. */
  const intake = (on: boolean | undefined, name: 'http' | 'https') => {
    if (!on) return undefined
    const made = {
      trusted: trustedProxies(http.trustedProxies),
      timeoutMs: http.limits.headersTimeout,
      refused: refused[name],
    }
    intakes.push(made)
    return made
  }
  const listener = new HttpListener(
    parts.engine,
    limits,
    malformed,
    undefined,
    intake(http.proxyProtocol, 'http'),
  )
  const listeners = [listener]
  let secure: HttpListener | undefined
  try {
    await listener.listen(http.listen, deps.sockets, 'http')
    if (http.tls) {
      if (!deps.tls || !certificates) throw new Error('http.tls without certificates')
      secure = new HttpListener(
        parts.engine,
        limits,
        malformed,
        {
          certificates: () => certificates!,
          minVersion: deps.tls.minVersion,
          handshakeTimeoutMs: deps.tls.handshakeTimeout,
          http2: http.tls.http2,
          maxConcurrentStreams: http.tls.maxConcurrentStreams,
          ticketKeys: deps.ticketKeys,
          http2SessionErrors: metrics.http2SessionErrors,
        },
        intake(http.tls.proxyProtocol, 'https'),
      )
      listeners.push(secure)
      await secure.listen(http.tls.listen, deps.sockets, 'https')
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()))
    await retire(parts)
    throw err
  }
  // An upgraded connection counts as websocket only, whatever protocol it switched to.
  metrics.openConnections.set('http', () =>
    listeners.reduce((n, l) => n + l.connections - l.upgraded, 0),
  )
  metrics.openConnections.set('websocket', () => listeners.reduce((n, l) => n + l.upgraded, 0))

  const self = `http://${http.listen.host.includes(':') ? `[${http.listen.host}]` : http.listen.host}:${listener.port}`
  parts.shadow.listening(self)
  const service: HttpService = {
    port: listener.port,
    tlsPort: secure?.port,
    shadow: parts.shadow,
    async prepareReload(next, nextDeps) {
      const built = await buildHttp(next, nextDeps, dns)
      return {
        commit() {
          const old = parts
          parts = built
          parts.shadow.listening(self)
          for (const l of listeners) l.engine = parts.engine
          for (const i of intakes) i.trusted = trustedProxies(next.trustedProxies)
          certificates = nextDeps.certificates
          service.shadow = parts.shadow
          return retire(old)
        },
        discard: () => retire(built),
      }
    },
    setTicketKeys(keys) {
      secure?.setTicketKeys(keys)
    },
    async drain(deadlineMs, upgradeDeadlineMs) {
      const cut = await Promise.all(listeners.map((l) => l.drain(deadlineMs, upgradeDeadlineMs)))
      await retire(parts)
      return cut.reduce((a, b) => a + b, 0)
    },
    async stop() {
      await Promise.all(listeners.map((l) => l.close()))
      await retire(parts)
    },
  }
  return service
}

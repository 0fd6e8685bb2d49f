// Every scope a config defines, built once: one per zone and per narrowed query
// type, one per site and per narrowed path prefix, and the `dns:*` and `http:*`
// catch-alls. The DNS and HTTP sides mark afterwards whether the new path can
// serve each zone and site; the supervisor holds the same list for the rollout
// state and the plans' counters, and `cutover check` prints it.

import { typeCode } from '../../dns/constants.ts'
import { type DnsZoneScopes, dnsScopeId } from '../../rollout/dns-router.ts'
import type { Scope } from '../../rollout/scope.ts'
import { catchAllSpec, createScope, type ScopeSet, type ScopeSpec } from '../../rollout/scopes.ts'
import type { Config } from './config.ts'

/** A site's scopes: its own and those of its narrowed path prefixes. */
export interface SiteScopes {
  scope: Scope
  paths: { prefix: string; scope: Scope }[]
}

export interface ScopeList {
  /** Every scope by id, the catch-alls included: what the rollout state is applied to. */
  all: ScopeSet
  /** One per `dns.zones` entry, in config order. */
  zones: DnsZoneScopes[]
  /** One per `http.sites` entry, in config order. */
  sites: SiteScopes[]
  dnsCatchAll: Scope
  httpCatchAll: Scope
}

/** The scopes of `config`, each servable until a side says otherwise. */
export function scopeListOf(config: Config): ScopeList {
  const subnet = config.rollout.subnet
  const all: ScopeSet = new Map()
  const add = (spec: ScopeSpec): Scope => {
    const scope = createScope(spec, subnet)
    all.set(scope.id, scope)
    return scope
  }
  const spec = (
    id: string,
    protocol: 'dns' | 'http',
    basisPoints: number,
    from: { stickiness?: string; salt?: string; shadow: number },
  ): ScopeSpec => ({
    id,
    protocol,
    basisPoints,
    stickiness: from.stickiness,
    salt: from.salt,
    servable: true,
    shadowBasisPoints: from.shadow,
  })
  const zones = (config.dns?.zones ?? []).map((z): DnsZoneScopes => {
    const id = dnsScopeId(z.name)
    const scope = add(spec(id, 'dns', z.percent ?? 0, z))
    const qtypes = new Map<number, Scope>()
    for (const [type, bp] of Object.entries(z.qtypes))
      qtypes.set(typeCode(type)!, add(spec(`${id}/${type.toUpperCase()}`, 'dns', bp, z)))
    return { zone: z.name, scope, qtypes }
  })
  // The catch-alls of a side the config lacks are made but not listed: nothing routes to them.
  const dnsCatchAll = createScope(catchAllSpec('dns'), subnet)
  if (config.dns) all.set(dnsCatchAll.id, dnsCatchAll)
  const sites = (config.http?.sites ?? []).map((s): SiteScopes => {
    const id = `http:${s.host}`
    const scope = add(spec(id, 'http', s.percent ?? 0, s))
    const paths = Object.entries(s.paths).map(([prefix, bp]) => ({
      prefix,
      scope: add(spec(`${id}${prefix}`, 'http', bp, s)),
    }))
    return { scope, paths }
  })
  const httpCatchAll = createScope(catchAllSpec('http'), subnet)
  if (config.http) all.set(httpCatchAll.id, httpCatchAll)
  return { all, zones, sites, dnsCatchAll, httpCatchAll }
}

/** Marks a zone's or site's scopes (narrowed ones included) as servable by the new path, or not. */
export function markServable(scopes: DnsZoneScopes | SiteScopes, servable: boolean): void {
  scopes.scope.servable = servable
  const narrow = 'qtypes' in scopes ? scopes.qtypes.values() : scopes.paths.map((p) => p.scope)
  for (const scope of narrow) scope.servable = servable
}

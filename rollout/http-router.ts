// Which site and scope an HTTP request falls in: the site of its Host (exact
// name first, then the closest `*.` wildcard), narrowed to the longest path
// prefix with a scope of its own; hosts of no configured site belong to `http:*`.

import type { Scope } from './scope.ts'

export interface HttpRoute<Site> {
  scope: Scope
  /** Narrower scopes by path prefix, longest first. */
  paths: readonly { prefix: string; scope: Scope }[]
  /** The site's new-path setup, when the new path can serve it. */
  site: Site | undefined
}

export interface HttpSiteScopes<Site> extends HttpRoute<Site> {
  hosts: readonly string[]
}

export type HttpRouter<Site> = (host: string) => HttpRoute<Site>

export function createHttpRouter<Site>(
  sites: readonly HttpSiteScopes<Site>[],
  fallback: Scope,
): HttpRouter<Site> {
  const exact = new Map<string, HttpRoute<Site>>()
  const wildcard = new Map<string, HttpRoute<Site>>()
  for (const s of sites) {
    const route: HttpRoute<Site> = {
      scope: s.scope,
      paths: [...s.paths].sort((a, b) => b.prefix.length - a.prefix.length),
      site: s.site,
    }
    for (const host of s.hosts) {
      if (host.startsWith('*.')) wildcard.set(host.slice(1), route)
      else exact.set(host, route)
    }
  }
  const catchAll: HttpRoute<Site> = { scope: fallback, paths: [], site: undefined }
  return (host) => {
    const found = exact.get(host)
    if (found !== undefined) return found
    if (wildcard.size > 0) {
      for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
        const w = wildcard.get(host.slice(dot))
        if (w !== undefined) return w
      }
    }
    return catchAll
  }
}

/** The narrowest scope of `route` for `path`. */
export function scopeForPath<Site>(route: HttpRoute<Site>, path: string): Scope {
  for (const p of route.paths) if (path.startsWith(p.prefix)) return p.scope
  return route.scope
}

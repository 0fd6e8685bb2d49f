// Which path an HTTP request takes: the site of its Host (exact name first,
// then the closest `*.` wildcard), whose scope says new or legacy; hosts of no
// configured site belong to the `http:*` scope, served by the legacy.

import type { Path } from './dns-router.ts'

export interface HttpScope<Site> {
  /** `http:<host>` or `http:*`. */
  id: string
  path: Path
  /** The site's new-path setup, for scopes on the new path. */
  site: Site | undefined
}

export type HttpRouter<Site> = (host: string) => HttpScope<Site>

export interface HttpScopeConfig<Site> {
  hosts: readonly string[]
  path: Path
  site: Site | undefined
}

export function createHttpRouter<Site>(scopes: readonly HttpScopeConfig<Site>[]): HttpRouter<Site> {
  const exact = new Map<string, HttpScope<Site>>()
  const wildcard = new Map<string, HttpScope<Site>>()
  for (const s of scopes) {
    const scope: HttpScope<Site> = { id: `http:${s.hosts[0]}`, path: s.path, site: s.site }
    for (const host of s.hosts) {
      if (host.startsWith('*.')) wildcard.set(host.slice(1), scope)
      else exact.set(host, scope)
    }
  }
  const fallback: HttpScope<Site> = { id: 'http:*', path: 'legacy', site: undefined }
  return (host) => {
    const found = exact.get(host)
    if (found !== undefined) return found
    if (wildcard.size > 0) {
      for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
        const w = wildcard.get(host.slice(dot))
        if (w !== undefined) return w
      }
    }
    return fallback
  }
}

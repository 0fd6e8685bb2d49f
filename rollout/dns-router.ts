// Which scope a DNS query falls in: the longest configured zone that encloses
// the question name, narrowed to the query type when that type has a scope of
// its own; names in no configured zone belong to `dns:*`. Looked up from the
// packet, without a string.

import { fqdnWire } from '../dns/name.ts'
import { NameTable } from '../dns/name-table.ts'
import type { QueryView } from '../dns/query-view.ts'
import type { Scope } from './scope.ts'

export interface DnsZoneScopes {
  zone: string
  scope: Scope
  /** Narrower scopes by query type. */
  qtypes: ReadonlyMap<number, Scope>
}

export type DnsRouter = (query: Buffer, view: QueryView) => Scope

/** The scope id of a zone: `dns:example.com` (no trailing dot, except for the root). */
export function dnsScopeId(zone: string): string {
  return `dns:${zone.length > 1 ? zone.replace(/\.$/, '') : zone}`
}

export function createDnsRouter(zones: readonly DnsZoneScopes[], fallback: Scope): DnsRouter {
  const table = new NameTable<DnsZoneScopes>()
  for (const z of zones) table.set(fqdnWire(z.zone), z)
  return (query, view) => {
    const z = table.enclosing(query, view)
    if (z === undefined) return fallback
    return z.qtypes.size === 0 ? z.scope : (z.qtypes.get(view.qtype) ?? z.scope)
  }
}

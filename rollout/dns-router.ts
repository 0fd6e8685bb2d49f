// Which path a DNS query takes: the scope of its zone (the longest configured
// zone that encloses the question name) decides; names in no configured zone
// belong to the `dns:*` scope. Looked up from the packet, without a string.

import { fqdnWire } from '../dns/name.ts'
import { NameTable } from '../dns/name-table.ts'
import type { QueryView } from '../dns/query-view.ts'

export type Path = 'new' | 'legacy'

export interface DnsScope {
  /** `dns:<zone>` or `dns:*`. */
  id: string
  path: Path
}

export interface DnsScopeConfig {
  zone: string
  path: Path
}

export type DnsRouter = (query: Buffer, view: QueryView) => DnsScope

/** The scope id of a zone: `dns:example.com` (no trailing dot, except for the root). */
export function dnsScopeId(zone: string): string {
  return `dns:${zone.length > 1 ? zone.replace(/\.$/, '') : zone}`
}

export function createDnsRouter(scopes: readonly DnsScopeConfig[]): DnsRouter {
  const table = new NameTable<DnsScope>()
  for (const s of scopes) table.set(fqdnWire(s.zone), { id: dnsScopeId(s.zone), path: s.path })
  const fallback: DnsScope = { id: 'dns:*', path: 'legacy' }
  return (query, view) => table.enclosing(query, view) ?? fallback
}

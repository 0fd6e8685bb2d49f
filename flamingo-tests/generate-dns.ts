// Writes a DNS suite from a zone file: every name and type in it, a type each
// name lacks (NODATA), names that do not exist next to ones that do, wildcard
// probes, empty non-terminals, delegations (and DS at the cut), mixed case, both
// transports and several EDNS sizes.

import { Type, typeName } from '../dns/constants.ts'
import { wireToText } from '../dns/name.ts'
import { loadZone } from '../modules/authoritative/load.ts'
import type { DnsCase } from './suite.ts'

/** Types asked at names that do not hold them, to probe NODATA. */
const PROBE_TYPES = [Type.A, Type.AAAA, Type.TXT, Type.MX]

function mixCase(name: string, seed: number): string {
  let s = seed || 1
  return [...name]
    .map((ch) => {
      s = (s * 1103515245 + 12345) & 0x7fffffff
      return s & 1 ? ch.toUpperCase() : ch.toLowerCase()
    })
    .join('')
}

function dnsCase(name: string, type: number, overrides: Partial<DnsCase> = {}): DnsCase {
  return {
    name,
    type: typeName(type),
    class: 'IN',
    transport: 'udp',
    edns: 1232,
    do: false,
    rd: true,
    allow: [],
    ...overrides,
  }
}

/** The cases for the zone in `file` with origin `origin`. */
export function generateDnsCases(origin: string, file: string): DnsCase[] {
  const { zone } = loadZone({ name: origin, file })
  const cases: DnsCase[] = []
  let seed = 1
  for (const node of zone.nodes.values()) {
    const name = wireToText(node.wire)
    const isWildcard = node.wire[0] === 1 && node.wire[1] === 0x2a
    const types = node.rrsets.types()
    const cut = node !== zone.apex && node.rrsets.has(Type.NS)
    for (const type of types) cases.push(dnsCase(name, type))
    const absent = PROBE_TYPES.find((t) => !node.rrsets.has(t))
    if (absent !== undefined) cases.push(dnsCase(name, absent))
    if (cut) {
      cases.push(dnsCase(name, Type.DS), dnsCase(`below.${name}`, Type.A))
      continue
    }
    if (isWildcard) {
      const parent = name.slice(2)
      for (const type of [...types, absent ?? Type.TXT])
        cases.push(dnsCase(`probe.${parent}`, type), dnsCase(`a.b.${parent}`, type))
      continue
    }
    // Each name in other letter case, without EDNS, and over TCP.
    const first = types[0] ?? Type.A
    cases.push(
      dnsCase(mixCase(name, seed++), first),
      dnsCase(name, first, { edns: false }),
      dnsCase(name, first, { transport: 'tcp' }),
      dnsCase(name, first, { edns: 512 }),
    )
    // A name that does not exist, next to one that does.
    if (types.length > 0) cases.push(dnsCase(`does-not-exist.${name}`, Type.A))
  }
  cases.push(
    dnsCase(`nx-${Date.now().toString(36)}.${zone.name}`, Type.A),
    dnsCase(zone.name, Type.SOA, { transport: 'tcp', edns: false }),
  )
  return cases
}

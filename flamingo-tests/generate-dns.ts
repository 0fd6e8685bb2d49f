// Writes a DNS suite from a zone file: every name and type in it, a type each
// name lacks (NODATA), names that do not exist next to ones that do, wildcard
// probes, empty non-terminals, delegations (and DS at the cut), mixed case, both
// transports, several EDNS sizes, RD 0 and 1, and for a signed zone DO 0 and 1.

import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { DNSSEC_TYPES, Type, typeName } from '../dns/constants.ts'
import { parseMasterFile } from '../dns/master-file.ts'
import { fqdnWire, lowerWire, parentWire, wireToText } from '../dns/name.ts'
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

/** A name of the zone and the types it holds (none: an empty non-terminal). */
interface ZoneName {
  wire: Buffer
  types: number[]
}

/**
 * Every name of the zone in `file` (as first written), the apex first, then in
 * the order the file writes them, each followed by the empty non-terminals
 * above it. Read from the master file itself, not from the module under test.
 */
function zoneNames(origin: string, file: string): ZoneName[] {
  const parsed = parseMasterFile(
    { text: readFileSync(file, 'utf8'), file },
    {
      origin,
      include: (path, from) => {
        const included = resolve(dirname(from), path)
        return { text: readFileSync(included, 'utf8'), file: included }
      },
    },
  )
  const apex = lowerWire(fqdnWire(origin))
  const names = new Map<string, ZoneName>([[apex.toString('latin1'), { wire: apex, types: [] }]])
  const add = (wire: Buffer): ZoneName => {
    const key = lowerWire(wire).toString('latin1')
    let found = names.get(key)
    if (found) return found
    found = { wire, types: [] }
    names.set(key, found)
    if (wire.length > apex.length) add(parentWire(wire))
    return found
  }
  for (const r of parsed.records) {
    const name = add(r.owner)
    if (!name.types.includes(r.type)) name.types.push(r.type)
  }
  return [...names.values()]
}

/** The cases for the zone in `file` with origin `origin`. */
export function generateDnsCases(origin: string, file: string): DnsCase[] {
  const all = zoneNames(origin, file)
  const apex = all[0]
  const cases: DnsCase[] = []
  let seed = 1
  for (const node of all) {
    const name = wireToText(node.wire)
    const isWildcard = node.wire[0] === 1 && node.wire[1] === 0x2a
    const types = node.types
    const cut = node !== apex && types.includes(Type.NS)
    for (const type of types) cases.push(dnsCase(name, type))
    const absent = PROBE_TYPES.find((t) => !types.includes(t))
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
    dnsCase(`nx-${Date.now().toString(36)}.${wireToText(apex.wire)}`, Type.A),
    dnsCase(wireToText(apex.wire), Type.SOA, { transport: 'tcp', edns: false }),
  )
  // Each case as a resolver asks an authoritative server (RD=0) and as a stub does (RD=1):
  // a default BIND answers the two differently.
  const both = cases.flatMap((c) => [{ ...c, rd: false }, c])
  // A signed zone is asked as validating resolvers ask it too: with DO, for its signatures and proofs.
  const signed = all.some((name) => name.types.some((t) => DNSSEC_TYPES.has(t)))
  return signed ? both.flatMap((c) => (c.edns === false ? [c] : [c, { ...c, do: true }])) : both
}

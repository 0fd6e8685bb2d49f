// A live zone written out as a master file: what a snapshot holds, and what a
// full build of the zone as it stands now reads. The first line records the
// event sequence the zone is consistent with.

import { Type, typeName } from '../../dns/constants.ts'
import { wireToText } from '../../dns/name.ts'
import { rdataToText } from '../../dns/rdata.ts'
import type { Sequence } from './record-event.ts'
import type { RRset, Zone, ZoneNode } from './zone.ts'

const SEQUENCE_LINE = /^; cutover-sequence: (\d+-\d+)$/m

/**
 * Types whose presentation form reads back byte for byte. Others are written
 * in RFC 3597's generic form: some wire data has no presentation form a parser
 * takes back (an empty TLSA or DS digest, a CAA tag set through `\#`).
 */
const PLAIN = new Set<number>([
  Type.A,
  Type.AAAA,
  Type.NS,
  Type.CNAME,
  Type.PTR,
  Type.MX,
  Type.TXT,
  Type.SRV,
  Type.SOA,
])

function dataText(type: number, wire: Buffer): string {
  if (PLAIN.has(type)) return rdataToText(type, wire, 0, wire.length)
  return wire.length > 0 ? `\\# ${wire.length} ${wire.toString('hex')}` : '\\# 0'
}

/** Every record of `zone`, the apex first, as master file lines. */
export function zoneText(zone: Zone): string {
  const lines = [`; cutover-sequence: ${zone.sequence}`, `$ORIGIN ${zone.name}`]
  const line = (owner: string, ttl: number, type: number, wire: Buffer) =>
    lines.push(`${owner} ${ttl} IN ${typeName(type)} ${dataText(type, wire)}`)
  const writeSet = (owner: string, rrset: RRset) => {
    for (const r of rrset.rdatas) line(owner, rrset.ttl, rrset.type, r.wire)
    // Each RRset's signatures with the TTL they were given, which may not be the others'.
    for (const r of rrset.signatures?.rdatas ?? [])
      line(owner, rrset.signatures!.ttl, Type.RRSIG, r.wire)
  }
  const write = (node: ZoneNode) => {
    const owner = wireToText(node.wire)
    for (const rrset of node.rrsets.values()) {
      if (rrset.type !== Type.RRSIG) writeSet(owner, rrset)
      // Signatures over an RRset the zone does not hold stay as they were loaded.
      else
        for (const r of rrset.rdatas)
          if (!node.rrsets.has(r.wire.readUInt16BE(0))) line(owner, rrset.ttl, Type.RRSIG, r.wire)
    }
  }
  write(zone.apex)
  for (const node of zone.nodes.values()) if (node !== zone.apex) write(node)
  for (const { owner, rrset } of zone.nsec3Sets?.values() ?? []) writeSet(wireToText(owner), rrset)
  return `${lines.join('\n')}\n`
}

/** The sequence a master file written by `zoneText` is consistent with; `0-0` for any other. */
export function sequenceOf(text: string): Sequence {
  return SEQUENCE_LINE.exec(text.slice(0, 4096))?.[1] ?? '0-0'
}

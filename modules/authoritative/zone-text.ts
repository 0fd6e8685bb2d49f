// A live zone written out as a master file: what a snapshot holds, and what a
// full build of the zone as it stands now reads. The first line records the
// event sequence the zone is consistent with.

import { Type, typeName } from '../../dns/constants.ts'
import { wireToText } from '../../dns/name.ts'
import { rdataToText } from '../../dns/rdata.ts'
import type { Sequence } from './record-event.ts'
import type { Zone } from './zone.ts'

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
  const write = (wire: Buffer, rrsets: Zone['apex']['rrsets']) => {
    const owner = wireToText(wire)
    for (const rrset of rrsets.values())
      for (const r of rrset.rdatas)
        lines.push(
          `${owner} ${rrset.ttl} IN ${typeName(rrset.type)} ${dataText(rrset.type, r.wire)}`,
        )
  }
  write(zone.apex.wire, zone.apex.rrsets)
  for (const node of zone.nodes.values()) if (node !== zone.apex) write(node.wire, node.rrsets)
  return `${lines.join('\n')}\n`
}

/** The sequence a master file written by `zoneText` is consistent with; `0-0` for any other. */
export function sequenceOf(text: string): Sequence {
  return SEQUENCE_LINE.exec(text.slice(0, 4096))?.[1] ?? '0-0'
}

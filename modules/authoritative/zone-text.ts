// A live zone written out as a master file: what a snapshot holds, and what a
// full build of the zone as it stands now reads. The first line records the
// event sequence the zone is consistent with.

import { typeName } from '../../dns/constants.ts'
import { wireToText } from '../../dns/name.ts'
import { rdataToText } from '../../dns/rdata.ts'
import type { Sequence } from './record-event.ts'
import type { Zone } from './zone.ts'

const SEQUENCE_LINE = /^; cutover-sequence: (\d+-\d+)$/m

/** Every record of `zone`, the apex first, as master file lines. */
export function zoneText(zone: Zone): string {
  const lines = [`; cutover-sequence: ${zone.sequence}`, `$ORIGIN ${zone.name}`]
  const write = (wire: Buffer, rrsets: Zone['apex']['rrsets']) => {
    const owner = wireToText(wire)
    for (const rrset of rrsets.values())
      for (const r of rrset.rdatas)
        lines.push(
          `${owner} ${rrset.ttl} IN ${typeName(rrset.type)} ${rdataToText(rrset.type, r.wire, 0, r.wire.length)}`,
        )
  }
  write(zone.apex.wire, zone.apex.rrsets)
  for (const node of zone.nodes.values()) if (node !== zone.apex) write(node.wire, node.rrsets)
  return `${lines.join('\n')}\n`
}

/** The sequence a master file written by `zoneText` is consistent with; `0-0` for any other. */
export function sequenceOf(text: string): Sequence {
  return SEQUENCE_LINE.exec(text.slice(0, 200))?.[1] ?? '0-0'
}

// Negative answers (RFC 2308): NXDOMAIN and NODATA with the zone's SOA, shared
// by every name when unsigned; for DO queries to a signed zone, with the proofs
// of absence, kept per node or per what proves them.

import { Rcode, Type } from '../../dns/constants.ts'
import type { LabeledName } from '../../dns/name.ts'
import { mapEntry } from '../shared/map-entry.ts'
import { type Answer, emptySections, encodeAnswer } from './answer.ts'
import { nameCover, nxdomainProof } from './denial.ts'
import { dependOn, newReads } from './reads.ts'
import { addNegativeSoa, addProof, encodeProven } from './sections.ts'
import type { Zone, ZoneNode } from './zone.ts'

/**
 * NXDOMAIN, or NODATA (NOERROR with no answer), without signatures: the SOA in
 * the authority section, the same for every name.
 */
export function negativeAnswer(
  zone: Zone,
  rcode: typeof Rcode.NXDOMAIN | typeof Rcode.NOERROR,
  qtype: number,
): Answer {
  const slot = (rcode === Rcode.NXDOMAIN ? 2 : 0) + (qtype === Type.SOA ? 1 : 0)
  const cached = zone.negative[slot]
  if (cached) return cached
  const s = emptySections(rcode)
  addNegativeSoa(zone, qtype, s)

  const answer = encodeAnswer(s, { kind: 'below', name: zone.apex.wire })
  zone.negative[slot] = answer
  return answer
}

/**
 * NODATA at `node` for DO queries: the signed SOA and the node's NSEC, the same
 * for every type it lacks; null where no NSEC is at the node (an empty
 * non-terminal, an NSEC3 chain), whose proof is the legacy's.
 */
export function signedNodata(zone: Zone, node: ZoneNode): Answer | null {
  if (node.signedNodata !== undefined) return node.signedNodata
  const s = emptySections(Rcode.NOERROR, true, true)
  const reads = newReads()
  addNegativeSoa(zone, Type.A, s, reads, node)
  dependOn(zone, node, reads, s)
  node.signedNodata = encodeProven(s, { kind: 'exact', name: node.wire })
  return node.signedNodata
}

/**
 * NXDOMAIN for a DO query, for the name at `name` in `buf` whose closest
 * encloser is `encloser`, at label `encloserLabel`: the signed SOA and the
 * NSEC or NSEC3 proof (denial.ts), kept per encloser and what covers the name;
 * null when the zone has no chain or the proof cannot be made here.
 */
export function provenNxdomain(
  zone: Zone,
  buf: Uint8Array,
  name: LabeledName,
  encloserLabel: number,
  encloser: ZoneNode,
  qtype: number,
): Answer | null {
  const cover = nameCover(zone, buf, name, encloserLabel)
  if (cover === undefined) return null
  zone.nxdomainProofs ??= new Map()
  const byCover = mapEntry(zone.nxdomainProofs, encloser, () => new Map())
  const answers = mapEntry(byCover, cover, () => [])
  const slot = qtype === Type.SOA ? 1 : 0
  if (answers[slot] === undefined) {
    const s = emptySections(Rcode.NXDOMAIN, true, true)
    addNegativeSoa(zone, qtype, s)
    addProof(nxdomainProof(zone, cover, encloser), s)
    answers[slot] = encodeProven(s, { kind: 'below', name: zone.apex.wire })
  }
  return answers[slot]
}

// Proofs of absence for DO queries to a signed zone, as BIND picks them: the
// NSEC records (RFC 4035 section 3.1.3) or NSEC3 records (RFC 5155 section 7.2)
// that show a name, a type or a DS is not there.

import { type LabeledName, labelName, parentWire } from '../../dns/name.ts'
import { covering, nsecChain } from './nsec-chain.ts'
import {
  coveringEntry,
  matchingEntry,
  type Nsec3Chain,
  nsec3Chain,
  nsec3Hash,
} from './nsec3-chain.ts'
import type { RRset, Zone, ZoneNode } from './zone.ts'

/** An NSEC or NSEC3 RRset, with its owner: one piece of a proof. */
export interface ProofSet {
  owner: Buffer
  rrset: RRset
}

const WILDCARD_LABEL = Buffer.from([1, 0x2a])

/**
 * What covers the name at `name` in `buf`, whose closest encloser is label
 * `encloserLabel`: the NSEC that covers the name, or the NSEC3 that covers the
 * hash of its next closer name. Undefined when the zone has neither chain.
 */
export function nameCover(
  zone: Zone,
  buf: Uint8Array,
  name: LabeledName,
  encloserLabel: number,
): ProofSet | undefined {
  const nsec = nsecChain(zone)
  if (nsec) return covering(nsec, buf, name)
  const nsec3 = nsec3Chain(zone)
  if (nsec3 === undefined) return undefined
  return coveringEntry(nsec3, nsec3Hash(nsec3, buf, name.labelStart[encloserLabel - 1]))
}

/**
 * The proof that `node` has no RRset of a type (or, at a delegation, no DS):
 * its NSEC, or for an empty non-terminal the NSEC that covers it; the NSEC3 that
 * matches it, or for a name an opt-out chain left out the closest provable
 * encloser proof, whose first set BIND writes before a NODATA's SOA.
 */
export function nodataProof(zone: Zone, node: ZoneNode): NodataProof | undefined {
  const nsec = nsecChain(zone)
  if (nsec) return { sets: [covering(nsec, node.wire, labelName(node.wire))], encloserFirst: false }
  const nsec3 = nsec3Chain(zone)
  if (nsec3 === undefined) return undefined
  const match = matchingEntry(nsec3, nsec3Hash(nsec3, node.wire, 0))
  if (match) return { sets: [match], encloserFirst: false }
  const sets = closestProvableEncloser(zone, nsec3, node.wire)
  return sets && { sets, encloserFirst: true }
}

export interface NodataProof {
  sets: ProofSet[]
  /**
   * BIND writes sets before the SOA: for a NODATA, the first (the closest
   * provable encloser's, found instead of the name); for a wildcard's, all.
   */
  encloserFirst: boolean
}

/**
 * NXDOMAIN's proof, given what covers the name: with NSEC, that and the NSEC
 * that covers the wildcard at the closest encloser; with NSEC3, the one that
 * matches the closest encloser, that, and the one that covers the wildcard.
 */
export function nxdomainProof(
  zone: Zone,
  cover: ProofSet,
  encloser: ZoneNode,
): ProofSet[] | undefined {
  const star = Buffer.concat([WILDCARD_LABEL, encloser.wire])
  const nsec = nsecChain(zone)
  if (nsec) return distinct([cover, covering(nsec, star, labelName(star))])
  const nsec3 = nsec3Chain(zone)!
  const match = matchingEntry(nsec3, nsec3Hash(nsec3, encloser.wire, 0))
  // An encloser an opt-out chain left out has no NSEC3 to match it.
  if (match === undefined) return undefined
  return distinct([match, cover, coveringEntry(nsec3, nsec3Hash(nsec3, star, 0))])
}

/**
 * What a wildcard answer adds to prove no closer name exists: what covers the
 * name (`cover`). With NSEC3 and no data of the type, the closest encloser
 * proof and the NSEC3 that matches the wildcard, which BIND writes before the SOA.
 */
export function wildcardProof(
  zone: Zone,
  cover: ProofSet,
  wildcard: ZoneNode,
  nodata: boolean,
): NodataProof | undefined {
  const nsec3 = nsec3Chain(zone)
  if (nsec3 === undefined || !nodata || nsecChain(zone))
    return { sets: [cover], encloserFirst: false }
  const encloser = matchingEntry(nsec3, nsec3Hash(nsec3, parentWire(wildcard.wire), 0))
  const star = matchingEntry(nsec3, nsec3Hash(nsec3, wildcard.wire, 0))
  return encloser && star && { sets: distinct([encloser, cover, star]), encloserFirst: true }
}

/**
 * For a name with no NSEC3 (a delegation an opt-out chain left out): the NSEC3
 * of its nearest ancestor that has one, and the one that covers the next
 * closer name on the way down to it (RFC 5155 section 7.2.1).
 */
function closestProvableEncloser(
  zone: Zone,
  chain: Nsec3Chain,
  name: Buffer,
): ProofSet[] | undefined {
  for (let next = name; !next.equals(zone.origin); next = parentWire(next)) {
    const match = matchingEntry(chain, nsec3Hash(chain, parentWire(next), 0))
    if (match) return distinct([match, coveringEntry(chain, nsec3Hash(chain, next, 0))])
  }
  return undefined
}

function distinct(sets: ProofSet[]): ProofSet[] {
  return sets.filter((set, i) => sets.findIndex((s) => s.rrset === set.rrset) === i)
}

// What goes into an answer's sections, as BIND writes them: RRsets followed by
// their signatures, the SOA of a negative answer, and proofs of absence
// (denial.ts) in BIND's order.

import { Rcode, Type } from '../../dns/constants.ts'
import type { LabeledName } from '../../dns/name.ts'
import {
  type Answer,
  type AnswerRecord,
  encodeAnswer,
  type QuestionShape,
  type Sections,
} from './answer.ts'
import { type NodataProof, nameCover, nodataProof, nxdomainProof, type ProofSet } from './denial.ts'
import type { Location } from './locate.ts'
import type { Reads } from './reads.ts'
import type { RRset, Zone, ZoneNode } from './zone.ts'

/** An RRset's records, followed by the RRSIGs over it when `s` wants signatures. */
export function records(owner: Buffer | undefined, rrset: RRset, s: Sections): AnswerRecord[] {
  const out = rrset.rdatas.map((rdata) => ({ owner, type: rrset.type, ttl: rrset.ttl, rdata }))
  const signatures = rrset.signatures
  if (s.dnssec && signatures)
    for (const rdata of signatures.rdatas)
      out.push({ owner, type: Type.RRSIG, ttl: signatures.ttl, rdata })
  return out
}

/**
 * The SOA of a negative answer, in the authority section: its TTL is the lesser of
 * its own and its minimum (RFC 2308 section 5), or 0 in an NXDOMAIN to an SOA
 * question (BIND's zero-no-soa-ttl). Signed, with its signatures (at that TTL
 * too, as BIND) and, for NODATA at `nodata`, the proof it lacks the type
 * (denial.ts); an NXDOMAIN's proof, which depends on the name, is the caller's.
 */
export function addNegativeSoa(
  zone: Zone,
  qtype: number,
  s: Sections,
  reads?: Reads,
  nodata?: ZoneNode,
): void {
  reads?.names.push(zone.apex.wire)
  const rdata = zone.soa.rdatas[0]
  const minimum = rdata.wire.readUInt32BE(rdata.wire.length - 4)
  const ttl = qtype === Type.SOA && s.rcode === Rcode.NXDOMAIN ? 0 : Math.min(zone.soa.ttl, minimum)
  s.authority.push({ owner: zone.apex.wire, type: Type.SOA, ttl, rdata })
  if (!s.dnssec) return
  for (const sig of zone.soa.signatures?.rdatas ?? [])
    s.authority.push({
      owner: zone.apex.wire,
      type: Type.RRSIG,
      ttl: Math.min(ttl, zone.soa.signatures!.ttl),
      rdata: sig,
    })
  // An NXDOMAIN's proof depends on the name, which its caller has.
  if (s.rcode !== Rcode.NOERROR) return
  const proof = nodata && nodataProof(zone, nodata)
  if (proof?.encloserFirst) {
    addProofFirst(proof.sets.slice(0, 1), s)
    addProof(proof.sets.slice(1), s)
  } else addProof(proof?.sets, s)
}

/**
 * The records of `proof` in the authority section, each once, with their
 * signatures; without one (undefined), `s` needs a proof made elsewhere.
 */
export function addProof(
  proof: readonly ProofSet[] | undefined,
  s: Sections,
  section = s.authority,
): void {
  if (proof === undefined) s.needsProof = true
  else
    for (const set of proof)
      if (!s.authority.some((r) => r.owner === set.owner && r.type === set.rrset.type))
        section.push(...records(set.owner, set.rrset, s))
}

/** `sets` at the front of the authority section, in their order, wherever BIND found them first. */
export function addProofFirst(sets: readonly ProofSet[], s: Sections): void {
  const owners = sets.map((set) => set.owner)
  s.authority = [
    ...sets.flatMap((set) => records(set.owner, set.rrset, s)),
    ...s.authority.filter((r) => !owners.includes(r.owner!)),
  ]
}

/** The proof of an NXDOMAIN for the name at `name` in `buf`, located `at` (see provenNxdomain). */
export function addNxdomainProof(
  zone: Zone,
  buf: Uint8Array,
  name: LabeledName,
  at: Location,
  s: Sections,
): void {
  const cover = nameCover(zone, buf, name, at.label)
  addProof(cover && nxdomainProof(zone, cover, at.node), s)
}

/** `proof` as `s`'s wildcard proof; an answer from two wildcards, or none provable, needs a proof made elsewhere. */
export function useWildcardProof(proof: NodataProof | undefined, s: Sections): void {
  if (proof === undefined || s.wildcardProof !== undefined) s.needsProof = true
  else s.wildcardProof = proof
}

/**
 * `s` encoded, with the proof of a wildcard it answers from placed as BIND
 * places it; null when it needs a proof made elsewhere.
 */
export function encodeProven(s: Sections, shape: QuestionShape): Answer | null {
  if (s.needsProof) return null
  const proof = s.wildcardProof
  if (proof?.encloserFirst) addProofFirst(proof.sets, s)
  else if (proof && s.optionalAuthority.length > 0) {
    // BIND writes the zone's NS before the proof, and leaves them out, not the
    // proof, for a small client: that form is made apart.
    const minimal = { ...s, optionalAuthority: [], additional: [], authority: [...s.authority] }
    addProof(proof.sets, minimal)
    s.authority.push(...s.optionalAuthority)
    s.optionalAuthority = []
    addProof(proof.sets, s)
    return { ...encodeAnswer(s, shape), minimal: encodeAnswer(minimal, shape) }
  } else if (proof) {
    // In a NODATA, BIND writes what proves no closer name before the wildcard's own NSEC.
    const at = s.authority.findIndex((r) => r.type === Type.NSEC)
    const denial = at < 0 ? [] : s.authority.splice(at)
    const fresh = proof.sets.filter(
      (set) => !denial.some((r) => r.owner === set.owner && r.type === set.rrset.type),
    )
    addProof(fresh, s)
    s.authority.push(...denial)
  }
  s.authority = byOwner(s.authority)
  return encodeAnswer(s, shape)
}

/**
 * `section` with each owner's records together, owners in the order they first
 * appear: BIND's message holds a section as names, so an apex NSEC added after
 * another name's still goes out beside the apex SOA.
 */
function byOwner(section: AnswerRecord[]): AnswerRecord[] {
  const owners: Buffer[] = []
  for (const r of section) if (!owners.includes(r.owner!)) owners.push(r.owner!)
  return owners.flatMap((owner) => section.filter((r) => r.owner === owner))
}

// The authoritative answer logic, computed once per (name, type) and then
// served from its precomputed form: positive answers (additional.ts adds the
// optional records), CNAME and DNAME chains inside the zone, wildcard synthesis
// (RFC 4592), referrals with glue; negative answers are negative.ts's.

import { MAX_NAME_LENGTH, Rcode, Type } from '../../dns/constants.ts'
import { isSubdomain, labelName } from '../../dns/name.ts'
import { targetName } from '../../dns/rdata.ts'
import { mapEntry } from '../shared/map-entry.ts'
import { addAdditional, addAuthorityNs } from './additional.ts'
import { type Answer, emptySections, type QuestionShape, type Sections } from './answer.ts'
import { nameCover, nodataProof, type ProofSet, wildcardProof } from './denial.ts'
import { Found, type Location, locateName } from './locate.ts'
import type { Extras } from './minimal-responses.ts'
import { negativeAnswer, signedNodata } from './negative.ts'
import { dependOn, newReads, type Reads } from './reads.ts'
import {
  addNegativeSoa,
  addNxdomainProof,
  addProof,
  encodeProven,
  records,
  useWildcardProof,
} from './sections.ts'
import type { Zone, ZoneNode } from './zone.ts'

/** BIND stops following a CNAME chain after this many steps. */
const MAX_CHAIN = 16

/** Memo key for "any type that exists nowhere in the zone" (and is chased): all such answers are equal. */
const ABSENT_TYPE = -1

/** Query types a CNAME is not followed for: what is asked is the CNAME owner's own DNSSEC data. */
const NOT_CHASED = new Set<number>([Type.RRSIG, Type.NSEC])

/** Query types whose answers BIND never adds optional records to. */
const NO_EXTRAS = new Set<number>([Type.DS, Type.DNSKEY, Type.CDS, Type.CDNSKEY])

/** A memo key is offset by this for each other variant of an answer (past every type and ABSENT_TYPE). */
const VARIANT_STRIDE = 0x20000

/** Which form of a positive answer a query gets: an index into `Zone.extras`. */
export type Form = 0 | 1

/**
 * Fills `s` with the answer for `qtype` at `node`, whose records are owned by
 * `owner` (undefined: the question name), following CNAMEs and DNAMEs inside
 * the zone, with the optional records `extras` asks for.
 */
function answerAt(
  zone: Zone,
  node: ZoneNode,
  owner: Buffer | undefined,
  qtype: number,
  extras: Extras,
  s: Sections,
  reads: Reads,
  chain: Chain = { seen: new Set(), steps: 0 },
): void {
  const asked = node
  for (;;) {
    chain.seen.add(node)
    const cname = node.rrsets.get(Type.CNAME)
    if (cname === undefined || qtype === Type.CNAME || NOT_CHASED.has(qtype)) {
      const rrset = node.rrsets.get(qtype)
      if (rrset === undefined) {
        addNegativeSoa(zone, qtype, s, reads, node)
        return
      }
      s.answer.push(...records(owner, rrset, s))
      // As BIND: DS and DNSKEY answers and their child-side copies carry nothing optional.
      if (NO_EXTRAS.has(qtype)) return
      if (extras.additional || rrset.type === Type.NS) addAdditional(zone, rrset, s, reads, asked)
      if (extras.authorityNs) addAuthorityNs(zone, s, reads, asked)
      return
    }
    s.answer.push(...records(owner, cname, s))
    const next = chase(zone, targetName(Type.CNAME, cname.rdatas[0].wire)!, qtype, s, reads, chain)
    if (next === undefined) return
    node = next.node
    owner = next.owner
  }
}

/** The nodes a chain of CNAMEs and DNAMEs went through, and its length. */
interface Chain {
  seen: Set<ZoneNode>
  steps: number
}

/**
 * Where a chain goes on from `target`: the node to answer at and the owner of
 * its records, or undefined when `s` is complete (the target is outside the
 * zone or delegated, does not exist, loops, or the chain is too long).
 */
function chase(
  zone: Zone,
  target: Buffer,
  qtype: number,
  s: Sections,
  reads: Reads,
  chain: Chain,
): { node: ZoneNode; owner: Buffer } | undefined {
  for (;;) {
    if (++chain.steps >= MAX_CHAIN || !isSubdomain(target, zone.origin)) return undefined
    reads.names.push(target)
    const at = locateName(zone, target)
    if (at.kind !== Found.NODE) reads.structure = true
    if (at.kind === Found.CUT) return undefined
    if (at.kind === Found.NXDOMAIN) {
      s.rcode = Rcode.NXDOMAIN
      addNegativeSoa(zone, qtype, s, reads)
      if (s.dnssec) addNxdomainProof(zone, target, labelName(target), at, s)
      return undefined
    }
    if (at.kind === Found.DNAME) {
      const prefix = target.subarray(0, labelName(target).labelStart[at.label])
      const next = synthesize(at.node, target, prefix, s)
      if (next === undefined) return undefined
      target = next
      continue
    }
    if (chain.seen.has(at.node)) {
      // A loop: BIND answers SERVFAIL with the chain so far.
      s.rcode = Rcode.SERVFAIL
      return undefined
    }
    if (at.kind === Found.WILDCARD) {
      reads.names.push(at.node.wire)
      // Signed, a synthesised answer proves no closer name exists (RFC 4035 section 3.1.3.3).
      if (s.dnssec) addChainedWildcardProof(zone, target, at, qtype, s)
    }
    // A synthesised record is owned by the name asked for, not by the `*` node.
    return { node: at.node, owner: at.kind === Found.WILDCARD ? target : at.node.wire }
  }
}

/** The proof for a wildcard a chain reached at `target`, located `at`; one per answer. */
function addChainedWildcardProof(
  zone: Zone,
  target: Buffer,
  at: Location,
  qtype: number,
  s: Sections,
): void {
  const cover = nameCover(zone, target, labelName(target), at.label)
  const rrsets = at.node.rrsets
  const nodata = !rrsets.has(qtype) && (qtype === Type.CNAME || !rrsets.has(Type.CNAME))
  useWildcardProof(cover && wildcardProof(zone, cover, at.node, nodata), s)
}

/**
 * Adds the DNAME at `node` and the CNAME it synthesises for the name `prefix`
 * labels below it (RFC 6672 section 3.3), owned by `owner` (undefined: the
 * question name). Returns the CNAME's target; undefined, with YXDOMAIN, when
 * that name would be too long.
 */
function synthesize(
  node: ZoneNode,
  owner: Buffer | undefined,
  prefix: Uint8Array,
  s: Sections,
): Buffer | undefined {
  const dname = node.rrsets.get(Type.DNAME)!
  s.answer.push(...records(node.wire, dname, s))
  const target = Buffer.concat([prefix, dname.rdatas[0].wire])
  if (target.length > MAX_NAME_LENGTH) {
    s.rcode = Rcode.YXDOMAIN
    return undefined
  }
  s.answer.push({ owner, type: Type.CNAME, ttl: dname.ttl, rdata: { wire: target, names: [0] } })
  return target
}

/**
 * The answer for a name `prefix` labels below the DNAME at `node`, asked as
 * `qname`. Made per query (it holds the name asked), never kept: DNAME names are few.
 */
export function dnameAnswer(
  zone: Zone,
  node: ZoneNode,
  qname: Buffer,
  prefix: Uint8Array,
  qtype: number,
  form: Form,
  dnssec: boolean,
): Answer | null {
  const s = emptySections(Rcode.NOERROR, true, dnssec)
  const reads = newReads()
  const chain: Chain = { seen: new Set(), steps: 0 }
  const extras = zone.extras[form]
  const target = synthesize(node, undefined, prefix, s)
  if (target && qtype === Type.CNAME) {
    // The synthesised CNAME is what was asked for.
    if (extras.authorityNs) addAuthorityNs(zone, s, reads, undefined)
  } else {
    const next = target && chase(zone, target, qtype, s, reads, chain)
    if (next) answerAt(zone, next.node, next.owner, qtype, extras, s, reads, chain)
  }
  return encodeProven(s, { kind: 'exact', name: qname })
}

/**
 * The answer for `qtype` at an existing node in `form`, with signatures when
 * `dnssec`, precomputed on first use; null when it needs a proof of absence.
 */
export function nodeAnswer(
  zone: Zone,
  node: ZoneNode,
  qtype: number,
  form: Form = 0,
  dnssec = false,
): Answer | null {
  const rrset = node.rrsets.get(qtype)
  const shape: QuestionShape = { kind: 'exact', name: node.wire }
  if (!node.rrsets.has(Type.CNAME) || qtype === Type.CNAME) {
    if (!rrset)
      return dnssec ? signedNodata(zone, node) : negativeAnswer(zone, Rcode.NOERROR, qtype)
    if (dnssec) {
      rrset.signedAnswers ??= []
      if (rrset.signedAnswers[form] === undefined)
        rrset.signedAnswers[form] = computeAnswer(zone, node, qtype, shape, form, true)
      return rrset.signedAnswers[form]
    }
    // Unsigned, nothing needs a proof: never null.
    if (form === 0) {
      rrset.answer ??= computeAnswer(zone, node, qtype, shape, 0, false)!
      return rrset.answer
    }
    rrset.nonRecursiveAnswer ??= computeAnswer(zone, node, qtype, shape, 1, false)!
    return rrset.nonRecursiveAnswer
  }
  node.chained ??= new Map()
  return memo(node.chained, zone, qtype, form, dnssec, () =>
    computeAnswer(zone, node, qtype, shape, form, dnssec),
  )
}

/**
 * The answer in `form` synthesised from wildcard `node` for a name under its
 * parent. Signed (`dnssec`), it carries `cover`, the NSEC or NSEC3 that
 * proves no closer name exists (RFC 4035 section 3.1.3.3, RFC 5155 section
 * 7.2.6); null without one.
 */
export function wildcardAnswer(
  zone: Zone,
  node: ZoneNode,
  qtype: number,
  form: Form = 0,
  dnssec = false,
  cover?: ProofSet,
): Answer | null {
  const shape: QuestionShape = { kind: 'below', name: node.wire.subarray(2) }
  if (!dnssec) {
    node.synthesized ??= new Map()
    return memo(node.synthesized, zone, qtype, form, false, () =>
      computeAnswer(zone, node, qtype, shape, form, false),
    )
  }
  if (cover === undefined) return null
  node.signedSynthesized ??= new Map()
  const byType = mapEntry(node.signedSynthesized, cover, () => new Map())
  return memo(byType, zone, qtype, form, true, () =>
    computeAnswer(zone, node, qtype, shape, form, true, cover),
  )
}

/** `answers`' entry for `qtype` in `form` (signed or not), made by `make` when missing. */
function memo(
  answers: Map<number, Answer | null>,
  zone: Zone,
  qtype: number,
  form: Form,
  dnssec: boolean,
  make: () => Answer | null,
): Answer | null {
  const key =
    (zone.types.has(qtype) || NOT_CHASED.has(qtype) ? qtype : ABSENT_TYPE) +
    (form + (dnssec ? 2 : 0)) * VARIANT_STRIDE
  let answer = answers.get(key)
  if (answer === undefined) {
    answer = make()
    answers.set(key, answer)
  }
  return answer
}

/** `wildcardCover`: for an answer synthesised from a wildcard, what covers the name asked. */
function computeAnswer(
  zone: Zone,
  node: ZoneNode,
  qtype: number,
  shape: QuestionShape,
  form: Form,
  dnssec: boolean,
  wildcardCover?: ProofSet,
): Answer | null {
  const s = emptySections(Rcode.NOERROR, true, dnssec)
  const reads = newReads()
  answerAt(zone, node, undefined, qtype, zone.extras[form], s, reads)
  if (wildcardCover)
    useWildcardProof(wildcardProof(zone, wildcardCover, node, s.answer.length === 0), s)
  dependOn(zone, node, reads, s)
  return encodeProven(s, shape)
}

/**
 * The referral to the delegation at `cut`: its NS records and their addresses,
 * not authoritative. Signed (`dnssec`), with its DS RRset, or the NSEC or
 * NSEC3 proof that there is none (RFC 4035 section 3.1.4, RFC 5155 section
 * 7.2.7), and their RRSIGs; null when that cannot be proven here.
 */
export function referralAnswer(zone: Zone, cut: ZoneNode, dnssec = false): Answer | null {
  const cached = dnssec ? cut.signedReferral : cut.referral
  if (cached !== undefined) return cached
  const s = emptySections(Rcode.NOERROR, false, dnssec)
  const ns = cut.rrsets.get(Type.NS)!
  // The NS RRset at a cut is the child's: never signed here.
  s.authority.push(...records(cut.wire, ns, emptySections()))
  const ds = cut.rrsets.get(Type.DS)
  if (dnssec && ds) s.authority.push(...records(cut.wire, ds, s))
  else if (dnssec) addProof(nodataProof(zone, cut)?.sets, s)
  const reads = newReads()
  addAdditional(zone, ns, s, reads, undefined, cut)
  const referral = encodeProven(s, { kind: 'below', name: cut.wire })
  if (dnssec) cut.signedReferral = referral
  else cut.referral = referral!
  dependOn(zone, cut, reads, s)
  return referral
}

/** Precomputes every answer the zone's own data can produce, so queries only copy. */
export function precomputeZone(zone: Zone): void {
  precomputeNegative(zone)
  for (const node of zone.nodes.values()) precomputeNode(zone, node)
}

export function precomputeNegative(zone: Zone): void {
  for (const qtype of [Type.A, Type.SOA]) {
    negativeAnswer(zone, Rcode.NXDOMAIN, qtype)
    negativeAnswer(zone, Rcode.NOERROR, qtype)
  }
}

/**
 * The answers of one node's own RRsets (a referral at a delegation), and in a
 * signed zone their signed forms too: a validating resolver sets DO on every query.
 */
export function precomputeNode(zone: Zone, node: ZoneNode): void {
  const signedToo = zone.signed ? [false, true] : [false]
  if (node !== zone.apex && node.rrsets.has(Type.NS)) {
    for (const dnssec of signedToo) referralAnswer(zone, node, dnssec)
    return
  }
  for (const [form] of zone.extras.entries()) {
    // RRSIG questions to a signed zone are the legacy's (index.ts).
    for (const dnssec of signedToo)
      for (const type of node.rrsets.types())
        if (type !== Type.RRSIG) nodeAnswer(zone, node, type, form as Form, dnssec)
    if (node.wire[0] === 1 && node.wire[1] === 0x2a) {
      for (const type of node.rrsets.types()) wildcardAnswer(zone, node, type, form as Form)
    }
  }
}

/** Drops a node's precomputed answers; they are made again when next asked for. */
export function forgetAnswers(node: ZoneNode): void {
  for (const rrset of node.rrsets.values()) {
    rrset.answer = undefined
    rrset.nonRecursiveAnswer = undefined
    rrset.signedAnswers = undefined
  }
  node.chained = undefined
  node.synthesized = undefined
  node.signedSynthesized = undefined
  node.referral = undefined
  node.signedReferral = undefined
  node.signedNodata = undefined
}

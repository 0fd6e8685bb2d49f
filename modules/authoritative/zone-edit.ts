// Per-record builds: one record created or deleted in a live zone, in place.
// Only the changed node's answers are encoded again, with the answers that read
// its data (CNAME chains into it, additional addresses, glue) forgotten and made
// again on their next query; a change that adds or removes a name also forgets
// the answers that relied on a name being absent or wildcard-matched. The
// checks are BIND's for dynamic updates (RFC 2136 section 3.4.2), so a sequence
// of changes always leaves a zone a full build would accept.

import { DNSSEC_TYPES, Type, typeName } from '../../dns/constants.ts'
import { isSubdomain, parentWire, wireToText } from '../../dns/name.ts'
import { type Rdata, rdataFromWire, targetName } from '../../dns/rdata.ts'
import { forgetAnswers, precomputeNegative, precomputeNode } from './resolve.ts'
import { ensureNode, hasData, nameId, type RRset, type Zone, type ZoneNode } from './zone.ts'
import { resignRRset, type SignedRRset, signChange } from './zone-signer.ts'

export interface RecordChange {
  op: 'create' | 'delete'
  /** Owner name, uncompressed wire form. */
  owner: Buffer
  type: number
  ttl: number
  rdata: Rdata
}

/** Types a change may not carry: meta types, and what the new path does not serve. */
function unchangeable(type: number): boolean {
  return type === 0 || type === Type.OPT || (type >= 128 && type <= 255) || DNSSEC_TYPES.has(type)
}

const hasAddress = (node: ZoneNode | undefined) =>
  node !== undefined && (node.rrsets.has(Type.A) || node.rrsets.has(Type.AAAA))

/** In-zone targets of the apex NS records. */
function nameServerTargets(zone: Zone): Buffer[] {
  const ns = zone.apex.rrsets.get(Type.NS)
  if (!ns) return []
  return ns.rdatas
    .map((r) => targetName(Type.NS, r.wire)!)
    .filter((t) => isSubdomain(t, zone.origin))
}

/** Why `c` may not be applied to `zone`, or undefined. */
function refusal(zone: Zone, c: RecordChange): string | undefined {
  const name = wireToText(c.owner)
  const type = typeName(c.type)
  if (!isSubdomain(c.owner, zone.origin)) return `${name} is outside ${zone.name}`
  if (unchangeable(c.type)) return `${type} records cannot be changed on the new path`
  const node = zone.nodes.get(c.owner)
  const isApex = node === zone.apex
  if (c.op === 'delete') {
    const rrset = node?.rrsets.get(c.type)
    if (!rrset?.rdatas.some((r) => r.wire.equals(c.rdata.wire))) return undefined
    if (c.type === Type.SOA) return 'the SOA record cannot be deleted'
    if (isApex && c.type === Type.NS && rrset.rdatas.length === 1)
      return `the last NS record of ${zone.name} cannot be deleted`
    if ((c.type === Type.A || c.type === Type.AAAA) && rrset.rdatas.length === 1) {
      const other = node!.rrsets.has(c.type === Type.A ? Type.AAAA : Type.A)
      const id = nameId(c.owner)
      if (!other && nameServerTargets(zone).some((t) => nameId(t) === id))
        return `${name} is a name server of ${zone.name} and needs an address`
    }
    return undefined
  }
  if (c.type === Type.CNAME) {
    if (isApex) return `${name} is the apex and cannot be a CNAME`
    // A signed name's NSEC and signatures may stand beside a CNAME (RFC 4035 section 2.5).
    if (node?.rrsets.types().some((t) => t !== Type.CNAME && t !== Type.NSEC && t !== Type.RRSIG))
      return `${name} has other data and cannot take a CNAME`
  } else if (node?.rrsets.has(Type.CNAME)) return `${name} is a CNAME and cannot take other data`
  if (c.type === Type.SOA && !isApex) return `an SOA record belongs at the apex of ${zone.name}`
  if (isApex && c.type === Type.NS) {
    const target = targetName(Type.NS, c.rdata.wire)!
    if (isSubdomain(target, zone.origin) && !hasAddress(zone.nodes.get(target)))
      return `NS '${wireToText(target)}' has no address records (A or AAAA) in ${zone.name}`
  }
  return undefined
}

/** What a change did: whether anything changed, and whether names appeared, went or got delegated. */
interface Effect {
  changed: boolean
  structure: boolean
}

function create(zone: Zone, c: RecordChange): Effect {
  const before = zone.nodes.size
  const node = ensureNode(zone, c.owner)
  const structure = zone.nodes.size !== before || (c.type === Type.NS && node !== zone.apex)
  const rrset = node.rrsets.get(c.type)
  if (!rrset) {
    node.rrsets.set({ type: c.type, ttl: c.ttl, rdatas: [c.rdata], answer: undefined })
    zone.types.add(c.type)
    return { changed: true, structure }
  }
  // One SOA and one CNAME per name: a new one replaces the old.
  if (c.type === Type.SOA || c.type === Type.CNAME) {
    const same = rrset.rdatas[0].wire.equals(c.rdata.wire) && rrset.ttl === c.ttl
    rrset.rdatas = [c.rdata]
    rrset.ttl = c.ttl
    return { changed: !same, structure: false }
  }
  // As BIND: the RRset takes the TTL of the record added to it.
  const ttlChanged = rrset.ttl !== c.ttl
  rrset.ttl = c.ttl
  if (rrset.rdatas.some((r) => r.wire.equals(c.rdata.wire)))
    return { changed: ttlChanged, structure }
  rrset.rdatas.push(c.rdata)
  return { changed: true, structure }
}

function remove(zone: Zone, c: RecordChange): Effect {
  const node = zone.nodes.get(c.owner)
  const rrset: RRset | undefined = node?.rrsets.get(c.type)
  const i = rrset ? rrset.rdatas.findIndex((r) => r.wire.equals(c.rdata.wire)) : -1
  if (!node || !rrset || i < 0) return { changed: false, structure: false }
  rrset.rdatas.splice(i, 1)
  if (rrset.rdatas.length > 0) return { changed: true, structure: false }
  node.rrsets.delete(c.type)
  const delegation = c.type === Type.NS && node !== zone.apex
  return { changed: true, structure: prune(zone, node) || delegation }
}

/** Removes `node` if it holds nothing and has nothing below, then its ancestors likewise. */
function prune(zone: Zone, node: ZoneNode): boolean {
  let removed = false
  while (node !== zone.apex && !hasData(node) && node.children === 0) {
    zone.nodes.delete(node.wire)
    forgetAnswers(node)
    const parent = zone.nodes.get(parentWire(node.wire))!
    parent.children--
    if (parent.wildcard === node) parent.wildcard = undefined
    removed = true
    node = parent
  }
  return removed
}

/** Whether `name` is a delegation (or DNAME) of `zone`: what is below it is not the zone's. */
function hidesBelow(zone: Zone, name: Buffer): boolean {
  const node = zone.nodes.get(name)
  if (node === undefined || node === zone.apex) return false
  return node.rrsets.has(Type.NS) || node.rrsets.has(Type.DNAME)
}

/** Forgets the answers that relied on a name being absent, delegated or wildcard-matched, or carry a proof. */
function forgetStructure(zone: Zone): void {
  for (const n of zone.structureDependents) forgetAnswers(n)
  zone.structureDependents.clear()
}

/** Forgets the answers that carry the records (or signatures) at `nodes`. */
function forgetSigned(zone: Zone, nodes: Iterable<ZoneNode>): void {
  for (const n of nodes) {
    forgetAnswers(n)
    forgetReaders(zone, n.wire)
  }
}

/**
 * Signs again up to `max` of the RRsets `due` yields (signatures about to
 * expire, zone-signer.ts), and forgets the answers that carried the old ones;
 * false once `due` is done.
 */
export function refreshSignatures(zone: Zone, due: Iterator<SignedRRset>, max: number): boolean {
  const nodes = new Set<ZoneNode>()
  let proofs = false
  let more = true
  for (let i = 0; i < max && more; i++) {
    const next = due.next()
    more = next.done !== true
    if (!more) break
    const { owner, rrset, node } = next.value
    resignRRset(zone, zone.signer!, owner, rrset, node)
    if (node) nodes.add(node)
    if (rrset.type === Type.NSEC || rrset.type === Type.NSEC3) proofs = true
    if (rrset === zone.soa) refreshSoa(zone)
  }
  forgetSigned(zone, nodes)
  if (proofs) forgetStructure(zone)
  for (const n of nodes) precomputeNode(zone, n)
  return more
}

/** Forgets the answers that read `name`'s data. */
function forgetReaders(zone: Zone, name: Buffer): void {
  const id = nameId(name)
  const readers = zone.dependents.get(id)
  if (!readers) return
  zone.dependents.delete(id)
  for (const node of readers) forgetAnswers(node)
}

/**
 * The SOA serial one higher (RFC 1982 arithmetic, skipping 0 as BIND does), as
 * a dynamic update that changed something does; the answers that carry the SOA
 * are made again.
 */
export function bumpSerial(zone: Zone): void {
  const wire = Buffer.from(zone.soa.rdatas[0].wire)
  const at = wire.length - 20
  const next = (wire.readUInt32BE(at) + 1) >>> 0
  wire.writeUInt32BE(next === 0 ? 1 : next, at)
  zone.soa.rdatas = [rdataFromWire(Type.SOA, wire)]
  if (zone.signer) resignRRset(zone, zone.signer, zone.origin, zone.soa, zone.apex)
  refreshSoa(zone)
}

/** Makes again what carries the SOA: negative answers, the apex's, and those that read it. */
function refreshSoa(zone: Zone): void {
  zone.soa = zone.apex.rrsets.get(Type.SOA)!
  zone.negative = []
  zone.nxdomainProofs = undefined
  forgetAnswers(zone.apex)
  forgetReaders(zone, zone.apex.wire)
  precomputeNegative(zone)
  precomputeNode(zone, zone.apex)
}

export type ChangeResult = { changed: boolean; refused?: undefined } | { refused: string }

/**
 * Applies one change: refused (with why), or applied (`changed` false for a
 * no-op such as deleting a record that is not there). The caller bumps the SOA
 * serial once for the changes it applies together (an update is two).
 */
export function applyChange(zone: Zone, c: RecordChange): ChangeResult {
  const why = refusal(zone, c)
  if (why) return { refused: why }
  const hidBelow = hidesBelow(zone, c.owner)
  const effect = c.op === 'create' ? create(zone, c) : remove(zone, c)
  if (!effect.changed) return { changed: false }
  const node = zone.nodes.get(c.owner)
  if (node) forgetAnswers(node)
  forgetReaders(zone, c.owner)
  if (zone.signer) {
    const signed = signChange(
      zone,
      zone.signer,
      c.owner,
      c.type,
      hidBelow !== hidesBelow(zone, c.owner),
    )
    forgetSigned(zone, signed.nodes)
    // Proofs of absence read the chain (denial.ts): those that carry one are made again.
    if (signed.chainChanged) effect.structure = true
  }
  if (effect.structure) forgetStructure(zone)
  if (c.type === Type.SOA || node === zone.apex) refreshSoa(zone)
  else if (node) precomputeNode(zone, node)
  return { changed: true }
}

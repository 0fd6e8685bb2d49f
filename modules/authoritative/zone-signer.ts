// Keeps a signed zone signed as record events change it, as BIND's inline
// signing does: the changed RRset signed again, and the NSEC or NSEC3 records
// around the changed name made to match (a name that appears gets its own and
// its predecessor's next name changes; one that goes, the reverse; a type that
// appears or goes changes a bitmap), each signed again. Signatures are made
// with the zone's keys (signing-keys.ts) and refreshed before they expire.

import { Type } from '../../dns/constants.ts'
import { isSubdomain, labelName, parentWire } from '../../dns/name.ts'
import { rdataFromWire } from '../../dns/rdata.ts'
import { base32hexEncode } from '../../dns/rdata-forms/base32hex.ts'
import { bitmapOf } from '../../dns/rdata-forms/type-bitmap.ts'
import type { ProofSet } from './denial.ts'
import { compareNames, nsecChain } from './nsec-chain.ts'
import { type Nsec3Chain, nsec3Chain, nsec3Hash } from './nsec3-chain.ts'
import { signRRset, type Validity } from './rrsig.ts'
import type { SigningKey } from './signing-keys.ts'
import { hasData, nameId, type RRset, type Zone, type ZoneNode } from './zone.ts'

export interface ZoneSigner {
  keys: readonly SigningKey[]
  /** How long a new signature is valid, in seconds (BIND's sig-validity-interval: 30 days). */
  validity: number
  /** Signatures closer than this to expiring (seconds) are made again (BIND: a quarter of the validity). */
  refresh: number
  /** The time in milliseconds (a test's clock). */
  now: () => number
}

export const DEFAULT_VALIDITY = 30 * 86_400

/** What signing after a change touched: nodes whose own records changed, and whether a proof did. */
export interface Signed {
  nodes: Set<ZoneNode>
  chainChanged: boolean
}

/**
 * The validity of signatures made now. An hour back (clocks differ), rounded
 * to the hour, so every worker of a fleet writes the same times.
 */
function validityNow(signer: ZoneSigner): Validity {
  const hour = Math.floor(signer.now() / 3_600_000) * 3600
  return { inception: hour - 3600, expiration: hour + signer.validity }
}

/** RRsets a parent's DS must vouch for the signer of (RFC 7344 section 4.1 for CDS and CDNSKEY). */
const KSK_SIGNED = new Set<number>([Type.DNSKEY, Type.CDS, Type.CDNSKEY])

/** The keys that sign `type`: DNSKEY, CDS and CDNSKEY by KSKs; the rest by ZSKs, or by KSKs for an algorithm with no ZSK here. */
function keysFor(signer: ZoneSigner, type: number): SigningKey[] {
  if (KSK_SIGNED.has(type)) return signer.keys.filter((k) => k.ksk)
  return signer.keys.filter(
    (k) => !k.ksk || !signer.keys.some((z) => !z.ksk && z.algorithm === k.algorithm),
  )
}

/** Signs `rrset` owned by `owner` again; `node`, if it lives at one, keeps its RRSIG RRset in step. */
export function resignRRset(
  zone: Zone,
  signer: ZoneSigner,
  owner: Buffer,
  rrset: RRset,
  node?: ZoneNode,
): boolean {
  const keys = keysFor(signer, rrset.type)
  if (keys.length === 0) return false
  const validity = validityNow(signer)
  const rdatas = keys.map((k) =>
    signRRset(owner, rrset.type, rrset.ttl, rrset.rdatas, zone.origin, k, validity),
  )
  rrset.signatures = { ttl: rrset.ttl, rdatas }
  if (node) syncSignatureSet(node, rrset.type)
  return true
}

/** Drops the signatures of `rrset` (now the child's, or glue). */
function unsign(node: ZoneNode, rrset: RRset): void {
  if (rrset.signatures === undefined) return
  rrset.signatures = undefined
  syncSignatureSet(node, rrset.type)
}

/** The node's RRSIG RRset made to hold what its RRsets' signatures are, for `covered`. */
function syncSignatureSet(node: ZoneNode, covered: number): void {
  const own = node.rrsets.get(covered)?.signatures
  const set = node.rrsets.get(Type.RRSIG)
  const others = set?.rdatas.filter((r) => r.wire.readUInt16BE(0) !== covered) ?? []
  const rdatas = [...others, ...(own?.rdatas ?? [])]
  if (rdatas.length === 0) node.rrsets.delete(Type.RRSIG)
  else if (set) set.rdatas = rdatas
  else node.rrsets.set({ type: Type.RRSIG, ttl: own!.ttl, rdatas, answer: undefined })
}

/** Whether a name sits below a delegation or DNAME: its records are not the zone's to sign. */
function occluded(zone: Zone, name: Buffer): boolean {
  for (let up = parentWire(name); up.length > zone.origin.length; up = parentWire(up)) {
    const node = zone.nodes.get(up)
    if (node && (node.rrsets.has(Type.NS) || node.rrsets.has(Type.DNAME))) return true
  }
  return false
}

const isCut = (zone: Zone, node: ZoneNode) => node !== zone.apex && node.rrsets.has(Type.NS)

/** Whether the zone signs RRsets of `type` at `node`: at a cut only DS and NSEC (RFC 4035 section 2.2). */
function signs(zone: Zone, node: ZoneNode, type: number, hidden: boolean): boolean {
  if (hidden || type === Type.RRSIG) return false
  return !isCut(zone, node) || type === Type.DS || type === Type.NSEC
}

/**
 * After the RRset `type` at `owner` changed: it signed again (or its
 * signatures dropped), then the chain made to match at `owner` and its
 * ancestors, and at every name below it when a delegation came or went.
 */
export function signChange(
  zone: Zone,
  signer: ZoneSigner,
  owner: Buffer,
  type: number,
  cutChanged: boolean,
): Signed {
  const signed: Signed = { nodes: new Set(), chainChanged: false }
  const node = zone.nodes.get(owner)
  const names: Buffer[] = []
  if (node && cutChanged) {
    // Every name at and below the cut: what it holds changed sides.
    for (const below of zone.nodes.values())
      if (isSubdomain(below.wire, owner)) names.push(below.wire)
  } else names.push(owner)
  // An RRset that went takes its signatures with it.
  if (node && !node.rrsets.has(type)) {
    syncSignatureSet(node, type)
    signed.nodes.add(node)
  }
  for (const name of names) {
    const at = zone.nodes.get(name)
    if (!at) continue
    const hidden = occluded(zone, name)
    for (const rrset of at.rrsets.values()) {
      if (rrset.type === Type.NSEC || rrset.type === Type.RRSIG) continue
      if (rrset.type !== type && !cutChanged) continue
      if (!signs(zone, at, rrset.type, hidden)) unsign(at, rrset)
      else if (rrset.type === type || rrset.signatures === undefined)
        resignRRset(zone, signer, at.wire, rrset, at)
      signed.nodes.add(at)
    }
  }
  // A name that went may have taken empty non-terminals above it; one that came may have made some.
  for (let up = owner; up.length >= zone.origin.length; up = parentWire(up)) {
    if (!names.some((n) => n.equals(up))) names.push(up)
    if (up.length === zone.origin.length) break
  }
  for (const name of names) if (matchChain(zone, signer, name, signed)) signed.chainChanged = true
  return signed
}

/** Makes the chain's record for `name` match what the zone holds there; true when it changed. */
function matchChain(zone: Zone, signer: ZoneSigner, name: Buffer, signed: Signed): boolean {
  if (nsecChain(zone)) return matchNsec(zone, signer, name, signed)
  const chain = nsec3Chain(zone)
  return chain ? matchNsec3(zone, signer, chain, name) : false
}

/**
 * The types a chain record lists for `node`: its data, NSEC for an NSEC chain
 * (`nsec`), and RRSIG where it signs something (at a cut, only DS or the NSEC).
 */
function typesAt(zone: Zone, node: ZoneNode, nsec: boolean): number[] {
  const types = node.rrsets.types().filter((t) => t !== Type.NSEC && t !== Type.RRSIG)
  const signsHere = hasData(node) && (!isCut(zone, node) || node.rrsets.has(Type.DS) || nsec)
  return [...types, ...(nsec ? [Type.NSEC] : []), ...(signsHere ? [Type.RRSIG] : [])]
}

function matchNsec(zone: Zone, signer: ZoneSigner, name: Buffer, signed: Signed): boolean {
  const chain = nsecChain(zone)!
  const node = zone.nodes.get(name)
  const want = node !== undefined && hasData(node) && !occluded(zone, name)
  const labeled = labelName(name)
  let i = position(chain.proofs.length, (k) =>
    compareNames(chain.proofs[k].owner, chain.names[k], name, labeled),
  )
  const present =
    i < chain.proofs.length &&
    compareNames(chain.proofs[i].owner, chain.names[i], name, labeled) === 0
  const nextOf = (k: number) => chain.proofs[(k + 1) % chain.proofs.length].owner
  if (want) {
    const bitmap = bitmapOf(typesAt(zone, node, true))
    if (present) {
      const set = chain.proofs[i]
      if (nsecBitmap(set.rrset).equals(bitmap)) return false
      setNsec(zone, signer, set, nextOf(i), bitmap, signed)
      return true
    }
    const rrset: RRset = {
      type: Type.NSEC,
      ttl: chain.proofs[0].rrset.ttl,
      rdatas: [],
      answer: undefined,
    }
    node.rrsets.set(rrset)
    chain.proofs.splice(i, 0, { owner: node.wire, rrset })
    chain.names.splice(i, 0, labelName(node.wire))
    setNsec(zone, signer, chain.proofs[i], nextOf(i), bitmap, signed)
    const before = chain.proofs[i - 1]
    setNsec(zone, signer, before, node.wire, nsecBitmap(before.rrset), signed)
    return true
  }
  if (!present) return false
  chain.proofs.splice(i, 1)
  chain.names.splice(i, 1)
  if (node) {
    node.rrsets.delete(Type.NSEC)
    syncSignatureSet(node, Type.NSEC)
    signed.nodes.add(node)
  }
  i = (i - 1 + chain.proofs.length) % chain.proofs.length
  const before = chain.proofs[i]
  setNsec(zone, signer, before, nextOf(i), nsecBitmap(before.rrset), signed)
  return true
}

/** The first index in a sorted list of `length` whose entry is not below the target (`compare(k)` < 0: below). */
function position(length: number, compare: (k: number) => number): number {
  let low = 0
  let high = length
  while (low < high) {
    const mid = (low + high) >> 1
    if (compare(mid) < 0) low = mid + 1
    else high = mid
  }
  return low
}

const nsecBitmap = (rrset: RRset) => {
  const wire = rrset.rdatas[0].wire
  let end = 0
  while (wire[end] !== 0) end += wire[end] + 1
  return wire.subarray(end + 1)
}

function setNsec(
  zone: Zone,
  signer: ZoneSigner,
  set: ProofSet,
  next: Buffer,
  bitmap: Buffer,
  signed: Signed,
): void {
  set.rrset.rdatas = [rdataFromWire(Type.NSEC, Buffer.concat([next, bitmap]))]
  const node = zone.nodes.get(set.owner)
  resignRRset(zone, signer, set.owner, set.rrset, node)
  if (node) signed.nodes.add(node)
}

function matchNsec3(zone: Zone, signer: ZoneSigner, chain: Nsec3Chain, name: Buffer): boolean {
  const node = zone.nodes.get(name)
  const optOut = (chain.entries[0].rrset.rdatas[0].wire[1] & 1) === 1
  const insecureCut = node !== undefined && isCut(zone, node) && !node.rrsets.has(Type.DS)
  const want =
    node !== undefined &&
    (hasData(node) || node.children > 0) &&
    !occluded(zone, name) &&
    !(optOut && insecureCut)
  const digest = nsec3Hash(chain, name, 0)
  const entries = chain.entries
  let i = position(entries.length, (k) => Buffer.compare(entries[k].hash, digest))
  const present = i < entries.length && entries[i].hash.equals(digest)
  // Every record of a chain has the same hash algorithm, flags, iterations and salt.
  const { head } = nsec3Fields(entries[0].rrset)
  const set = (k: number, bitmap: Buffer) => {
    const entry = entries[k]
    const next = entries[(k + 1) % entries.length].hash
    entry.rrset.rdatas = [
      rdataFromWire(Type.NSEC3, Buffer.concat([head, Buffer.from([next.length]), next, bitmap])),
    ]
    resignRRset(zone, signer, entry.owner, entry.rrset)
  }
  const before = (k: number) => (k - 1 + entries.length) % entries.length
  if (want) {
    const bitmap = bitmapOf(typesAt(zone, node, false))
    if (present) {
      if (nsec3Fields(entries[i].rrset).bitmap.equals(bitmap)) return false
      set(i, bitmap)
      return true
    }
    const label = base32hexEncode(digest).toLowerCase()
    const owner = Buffer.concat([Buffer.from([label.length]), Buffer.from(label), zone.origin])
    const rrset: RRset = {
      type: Type.NSEC3,
      ttl: entries[0].rrset.ttl,
      rdatas: [],
      answer: undefined,
    }
    entries.splice(i, 0, { owner, hash: digest, rrset })
    zone.nsec3Sets!.set(nameId(owner), { owner, rrset })
    set(i, bitmap)
    set(before(i), nsec3Fields(entries[before(i)].rrset).bitmap)
    return true
  }
  if (!present) return false
  const [gone] = entries.splice(i, 1)
  zone.nsec3Sets!.delete(nameId(gone.owner))
  i = before(i)
  set(i, nsec3Fields(entries[i].rrset).bitmap)
  return true
}

/** The parts of an NSEC3 record (RFC 5155 section 3.2) a change keeps or replaces. */
function nsec3Fields(rrset: RRset): { head: Buffer; bitmap: Buffer } {
  const wire = rrset.rdatas[0].wire
  const hashAt = 5 + wire[4]
  return { head: wire.subarray(0, hashAt), bitmap: wire.subarray(hashAt + 1 + wire[hashAt]) }
}

/** An RRset to sign again, with its owner and the node it lives at (none for NSEC3). */
export interface SignedRRset {
  owner: Buffer
  rrset: RRset
  node?: ZoneNode
}

/**
 * The RRsets whose signatures expire within the refresh window and that this
 * zone's keys can sign again, name by name (the zone may change between two).
 */
export function* dueForRefresh(zone: Zone, signer: ZoneSigner): Generator<SignedRRset> {
  // Fixed for the pass: what comes due while it runs is the next pass's.
  const horizon = Math.floor(signer.now() / 1000) + signer.refresh
  const due = (rrset: RRset) => {
    return (
      rrset.signatures?.rdatas.some((sig) => sig.wire.readUInt32BE(8) < horizon) === true &&
      keysFor(signer, rrset.type).length > 0
    )
  }
  for (const node of zone.nodes.values())
    for (const rrset of node.rrsets.values())
      if (rrset.type !== Type.RRSIG && due(rrset)) yield { owner: node.wire, rrset, node }
  for (const { owner, rrset } of zone.nsec3Sets?.values() ?? [])
    if (due(rrset)) yield { owner, rrset }
}

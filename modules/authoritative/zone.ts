// A zone held in memory: nodes by name (a NameTable the hot path can query with
// packet bytes), RRsets per node, empty non-terminals, the `*` child of each node.
// Built from master-file records with BIND's load-time checks.

import { CutoverError } from '../../common/cutover-error.ts'
import { DNSSEC_TYPES, Type, typeName } from '../../dns/constants.ts'
import type { ZoneRecord } from '../../dns/master-file.ts'
import {
  fqdnWire,
  isSubdomain,
  labelCount,
  lowerWire,
  parentWire,
  wireToText,
} from '../../dns/name.ts'
import { NameTable } from '../../dns/name-table.ts'
import { type Rdata, targetName } from '../../dns/rdata.ts'
import type { Answer } from './answer.ts'
import type { ProofSet } from './denial.ts'
import { DEFAULT_MINIMAL_RESPONSES, type Extras, extrasOf } from './minimal-responses.ts'
import type { NsecChain } from './nsec-chain.ts'
import type { Nsec3Chain } from './nsec3-chain.ts'
import { RRsets } from './rrsets.ts'
import type { ZoneSigner } from './zone-signer.ts'

export interface RRset {
  type: number
  ttl: number
  rdatas: Rdata[]
  /** The precomputed answer to a question for this type at this node (no CNAME beside it). */
  answer: Answer | undefined
  /** Its form for RD=0 queries, when the zone's minimal-responses setting makes them differ. */
  nonRecursiveAnswer?: Answer
  /** The RRSIGs covering it, in a signed zone: served after it to DO queries. */
  signatures?: Signatures
  /** Its answers to DO queries by form, made when first asked; null: the answer needs a proof of absence. */
  signedAnswers?: (Answer | null)[]
}

/** The signatures over one RRset, with the TTL the first of them was given, as BIND keeps them. */
export interface Signatures {
  ttl: number
  rdatas: Rdata[]
}

export interface ZoneNode {
  /** Owner name in wire form, case as first written. */
  wire: Buffer
  rrsets: RRsets
  /** Nodes directly below this one; a node with no RRsets but children is an empty non-terminal. */
  children: number
  wildcard: ZoneNode | undefined
  /**
   * Precomputed answers at a CNAME node, which answers every qtype, by qtype.
   * Created when first needed: a million-record zone has no room for a Map per
   * name that never holds anything.
   */
  chained: Map<number, Answer> | undefined
  /** Precomputed answers synthesised from this node as a wildcard, by qtype; created when needed. */
  synthesized: Map<number, Answer> | undefined
  /** The same for DO queries, by the NSEC or NSEC3 that covers the name asked. */
  signedSynthesized?: Map<ProofSet, Map<number, Answer | null>>
  /** Precomputed referral, for a delegation point. */
  referral: Answer | undefined
  /** Its form for DO queries, with the DS or the proof there is none (null: the legacy's). */
  signedReferral?: Answer | null
  /** In a signed zone, NODATA here for DO queries (null: its proof is the legacy's); made when first asked. */
  signedNodata?: Answer | null
}

export interface Zone {
  /** Origin in wire form, lowercase. */
  origin: Buffer
  name: string
  /** Labels in the origin, so a name's apex label index is its label count minus this. */
  labels: number
  apex: ZoneNode
  nodes: NameTable<ZoneNode>
  soa: RRset
  /** Every type present, so answers can be precomputed for types that exist. */
  types: Set<number>
  /** The forms of positive answers (minimal-responses.ts): one, or for RD=1 and RD=0. */
  extras: readonly Extras[]
  /** Negative answers, shared by every name: NODATA, NODATA to SOA, NXDOMAIN, NXDOMAIN to SOA. */
  negative: (Answer | undefined)[]
  /** Nodes whose precomputed answers read a name's data, by the name's `nameId`. */
  dependents: Map<string, Set<ZoneNode>>
  /** Nodes whose answers relied on a name being absent, delegated or wildcard-matched. */
  structureDependents: Set<ZoneNode>
  /** The last record event applied (`0-0` after a build from a master file alone). */
  sequence: string
  /**
   * Holds DNSSEC records (signed offline). DO queries get the signatures of
   * what they are answered with and the proofs of what is not there; record
   * events need its keys (`signer`).
   */
  signed: boolean
  /** Its keys and how it signs, when record events may change it (a `keys:` folder). */
  signer?: ZoneSigner
  /** Its NSEC3 RRsets, which live beside its names, by owner (`nameId`). */
  nsec3Sets?: Map<string, { owner: Buffer; rrset: RRset }>
  /** Those in hash order, made when a proof first needs them (nsec3-chain.ts). */
  nsec3Chain?: Nsec3Chain
  /** Its NSEC records in canonical order, made when an NXDOMAIN first needs them (nsec-chain.ts). */
  nsecChain?: NsecChain
  /** Signed NXDOMAIN answers by closest encloser, then by what covers the name; by SOA question or not. */
  nxdomainProofs?: Map<ZoneNode, Map<ProofSet, (Answer | null)[]>>
  /** The master file and its fingerprint, which a snapshot of this zone carries (see snapshot.ts); none for one with $INCLUDEs. */
  source: { file: string; fingerprint: string } | undefined
}

/** Whether `node` holds data of its own, beside the NSEC and signatures a signer puts at every name. */
export function hasData(node: ZoneNode): boolean {
  return node.rrsets.values().some((r) => r.type !== Type.NSEC && r.type !== Type.RRSIG)
}

/** A name's key in `Zone.dependents`: lowercase wire bytes. */
export function nameId(wire: Buffer): string {
  return lowerWire(wire).toString('latin1')
}

function newNode(wire: Buffer): ZoneNode {
  return {
    wire,
    rrsets: new RRsets(),
    children: 0,
    wildcard: undefined,
    chained: undefined,
    synthesized: undefined,
    referral: undefined,
  }
}

export interface BuiltZone {
  zone: Zone
  /** Load-time notes BIND would log (RRset TTL mismatches, duplicates). */
  warnings: string[]
}

/**
 * Builds a zone and checks it as BIND does at load: an SOA and NS at the apex,
 * no CNAME beside other data, addresses for in-zone name servers.
 */
export function buildZone(name: string, records: readonly ZoneRecord[], file: string): BuiltZone {
  const origin = lowerWire(fqdnWire(name))
  const nodes = new NameTable<ZoneNode>()
  const apex = newNode(origin)
  nodes.set(origin, apex)
  const zone: Zone = {
    origin,
    name: wireToText(origin),
    labels: labelCount(origin),
    apex,
    nodes,
    soa: { type: Type.SOA, ttl: 0, rdatas: [], answer: undefined },
    types: new Set(),
    extras: extrasOf(DEFAULT_MINIMAL_RESPONSES),
    negative: [],
    dependents: new Map(),
    structureDependents: new Set(),
    sequence: '0-0',
    source: undefined,
    signed: false,
  }
  const warnings: string[] = []
  const where = (r: ZoneRecord) => `${r.file}:${r.line}`
  // Where each name was first written, so a check on a whole name can point at it.
  const firstSeen = new Map<ZoneNode, string>()
  const signatures: { node: ZoneNode; record: ZoneRecord }[] = []
  const nsec3Signatures: ZoneRecord[] = []

  for (const r of records) {
    if (!isSubdomain(r.owner, origin))
      throw zoneError(`${where(r)}: ${wireToText(r.owner)} is outside ${zone.name}`)
    if (DNSSEC_TYPES.has(r.type)) zone.signed = true
    // An NSEC3 chain lives beside the zone's names, as in BIND: its hashed owners are no names of the zone.
    if (r.type === Type.NSEC3) {
      addNsec3(zone, r)
      continue
    }
    if (r.type === Type.RRSIG && r.rdata.wire.readUInt16BE(0) === Type.NSEC3) {
      nsec3Signatures.push(r)
      continue
    }
    const node = ensureNode(zone, r.owner)
    if (!firstSeen.has(node)) firstSeen.set(node, where(r))
    if (r.type === Type.RRSIG) signatures.push({ node, record: r })
    const rrset = node.rrsets.get(r.type)
    if (!rrset) {
      node.rrsets.set({ type: r.type, ttl: r.ttl, rdatas: [r.rdata], answer: undefined })
      zone.types.add(r.type)
      continue
    }
    if (rrset.rdatas.some((x) => x.wire.equals(r.rdata.wire))) {
      warnings.push(`${where(r)}: duplicate ${typeName(r.type)} record ignored`)
      continue
    }
    // Each signature has the TTL of the RRset it covers: they differ by design.
    if (r.ttl !== rrset.ttl && r.type !== Type.RRSIG)
      warnings.push(`${where(r)}: TTL set to prior TTL (${rrset.ttl})`)
    rrset.rdatas.push(r.rdata)
  }
  checkZone(zone, file, firstSeen)
  zone.soa = apex.rrsets.get(Type.SOA)!
  for (const { node, record } of signatures)
    attachSignature(node.rrsets.get(record.rdata.wire.readUInt16BE(0)), record)
  for (const r of nsec3Signatures) attachSignature(zone.nsec3Sets?.get(nameId(r.owner))?.rrset, r)
  return { zone, warnings }
}

function addNsec3(zone: Zone, r: ZoneRecord): void {
  zone.nsec3Sets ??= new Map()
  const id = nameId(r.owner)
  const found = zone.nsec3Sets.get(id)
  if (found === undefined)
    zone.nsec3Sets.set(id, {
      owner: r.owner,
      rrset: { type: Type.NSEC3, ttl: r.ttl, rdatas: [r.rdata], answer: undefined },
    })
  else if (!found.rrset.rdatas.some((x) => x.wire.equals(r.rdata.wire)))
    found.rrset.rdatas.push(r.rdata)
}

/** Files an RRSIG with the RRset it covers; one covering nothing here is only an RRSIG record. */
function attachSignature(covered: RRset | undefined, r: ZoneRecord): void {
  if (covered === undefined) return
  covered.signatures ??= { ttl: r.ttl, rdatas: [] }
  if (!covered.signatures.rdatas.some((x) => x.wire.equals(r.rdata.wire)))
    covered.signatures.rdatas.push(r.rdata)
}

/** The node for `owner`, created with any missing ancestors up to the apex. */
export function ensureNode(zone: Zone, owner: Buffer): ZoneNode {
  const found = zone.nodes.get(owner)
  if (found) return found
  const node = newNode(owner)
  zone.nodes.set(owner, node)
  const parent = ensureNode(zone, parentWire(owner))
  parent.children++
  if (owner[0] === 1 && owner[1] === 0x2a) parent.wildcard = node
  return node
}

function checkZone(zone: Zone, file: string, firstSeen: Map<ZoneNode, string>): void {
  const { apex, name } = zone
  const soa = apex.rrsets.get(Type.SOA)
  if (!soa) throw zoneError(`${file}: zone ${name} has no SOA record at its apex`)
  if (soa.rdatas.length > 1)
    throw zoneError(`${firstSeen.get(apex)}: zone ${name} has more than one SOA record`)
  const ns = apex.rrsets.get(Type.NS)
  if (!ns) throw zoneError(`${file}: zone ${name} has no NS records at its apex`)
  for (const node of zone.nodes.values()) {
    const cname = node.rrsets.get(Type.CNAME)
    if (!cname) continue
    const at = `${firstSeen.get(node)}: ${wireToText(node.wire)}`
    if (cname.rdatas.length > 1) throw zoneError(`${at} has more than one CNAME record`)
    // A signed zone's CNAME has its signatures and NSEC beside it (RFC 4035 section 2.5).
    const beside = [...node.rrsets.types()].filter((t) => t !== Type.RRSIG && t !== Type.NSEC)
    if (beside.length > 1) throw zoneError(`${at} has a CNAME beside other data`)
    if (node === apex) throw zoneError(`${at} is the apex and cannot be a CNAME`)
  }
  for (const rdata of ns.rdatas) {
    const target = targetName(Type.NS, rdata.wire)!
    if (!isSubdomain(target, zone.origin)) continue
    const t = zone.nodes.get(target)
    if (!t || (!t.rrsets.has(Type.A) && !t.rrsets.has(Type.AAAA))) {
      throw zoneError(
        `${file}: NS '${wireToText(target)}' of zone ${name} has no address records (A or AAAA)`,
      )
    }
  }
}

function zoneError(message: string): CutoverError {
  return new CutoverError('ZONE_DATA', message)
}

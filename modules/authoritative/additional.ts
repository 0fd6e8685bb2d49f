// The optional records of a positive answer as BIND adds them: addresses of
// the names its records point at, and the zone's NS RRset in the authority section.

import { Type } from '../../dns/constants.ts'
import { isSubdomain } from '../../dns/name.ts'
import { targetName } from '../../dns/rdata.ts'
import type { AnswerRecord, Sections } from './answer.ts'
import { Found, locateName } from './locate.ts'
import type { Reads } from './reads.ts'
import { records } from './sections.ts'
import type { RRset, Zone, ZoneNode } from './zone.ts'

/**
 * What BIND adds to the additional section for the names records of a type
 * point at (each rdata type's additionaldata): addresses for NS, MX, SRV and
 * their kin, X25 and ISDN too for RT (RFC 1183), L32 and L64 for LP (RFC 6742).
 */
const ADDITIONAL = new Map<number, readonly number[]>([
  ...[Type.NS, Type.MD, Type.MF, Type.MB, Type.MX, Type.KX, Type.AFSDB, Type.SRV].map(
    (t) => [t, [Type.A, Type.AAAA]] as const,
  ),
  [Type.RT, [Type.X25, Type.ISDN, Type.A, Type.AAAA]],
  [Type.LP, [Type.L32, Type.L64]],
])

/**
 * The additional records for the names `rrset` points at, when this zone holds
 * them and no section has them yet. Under `cut` (a referral) only glue counts:
 * names at or below it. `asked`: the node the question names, the owner of
 * answer records written without one.
 */
export function addAdditional(
  zone: Zone,
  rrset: RRset,
  s: Sections,
  reads: Reads,
  asked: ZoneNode | undefined,
  cut?: ZoneNode,
): void {
  const types = ADDITIONAL.get(rrset.type)
  if (types === undefined) return
  for (const rdata of rrset.rdatas) {
    const target = targetName(rrset.type, rdata.wire)!
    if (!isSubdomain(target, cut ? cut.wire : zone.origin)) continue
    reads.names.push(target)
    // Name servers' addresses may be glue under a delegation; others must be authoritative.
    const node =
      rrset.type === Type.NS ? zone.nodes.get(target) : authoritativeNode(zone, target, reads)
    if (!node) continue
    const present = (r: AnswerRecord, type: number) =>
      r.type === type && (r.owner === node.wire || (r.owner === undefined && node === asked))
    for (const type of types) {
      const data = node.rrsets.get(type)
      if (
        !data ||
        s.answer.some((r) => present(r, type)) ||
        s.additional.some((r) => present(r, type))
      )
        continue
      s.additional.push(...records(node.wire, data, s))
    }
  }
}

/** The zone's NS RRset in the authority section of a positive answer, and their addresses. */
export function addAuthorityNs(
  zone: Zone,
  s: Sections,
  reads: Reads,
  asked: ZoneNode | undefined,
): void {
  const ns = zone.apex.rrsets.get(Type.NS)
  if (ns === undefined) return
  reads.names.push(zone.apex.wire)
  const owner = asked === zone.apex ? undefined : zone.apex.wire
  // An NS question at the apex has them in the answer already.
  if (s.answer.some((r) => r.type === Type.NS && r.owner === owner)) return
  s.optionalAuthority.push(...records(zone.apex.wire, ns, s))
  addAdditional(zone, ns, s, reads, asked)
}

function authoritativeNode(zone: Zone, name: Buffer, reads: Reads): ZoneNode | undefined {
  const at = locateName(zone, name)
  if (at.kind === Found.NODE) return at.node
  reads.structure = true
  return undefined
}

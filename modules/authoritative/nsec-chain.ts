// A signed zone's NSEC records in canonical order (RFC 4034 section 6.1), to
// find the one at a name or covering a name the zone does not hold: the pieces
// of NSEC proofs (denial.ts). Names are compared in place, label by label from the right,
// lowercase, as the query holds them: a lookup allocates nothing.

import { Type } from '../../dns/constants.ts'
import { type LabeledName, labelName } from '../../dns/name.ts'
import type { ProofSet } from './denial.ts'
import type { Zone } from './zone.ts'

/** The zone's NSECs in canonical order, with their owners' label offsets. */
export interface NsecChain {
  proofs: ProofSet[]
  names: LabeledName[]
}

/** The zone's NSEC chain, made when first needed; undefined when it has none (unsigned, or NSEC3). */
export function nsecChain(zone: Zone): NsecChain | undefined {
  if (!zone.apex.rrsets.has(Type.NSEC)) return undefined
  if (zone.nsecChain) return zone.nsecChain
  const entries = [...zone.nodes.values()]
    .filter((n) => n.rrsets.has(Type.NSEC))
    .map((node) => ({ node, name: labelName(node.wire) }))
  entries.sort((a, b) => compareNames(a.node.wire, a.name, b.node.wire, b.name))
  zone.nsecChain = {
    proofs: entries.map((e) => ({ owner: e.node.wire, rrset: e.node.rrsets.get(Type.NSEC)! })),
    names: entries.map((e) => e.name),
  }
  return zone.nsecChain
}

/**
 * The NSEC at the name at `name` in `buf`, or the one that covers it (the last
 * before it in canonical order; the apex is first, so there always is one).
 */
export function covering(chain: NsecChain, buf: Uint8Array, name: LabeledName): ProofSet {
  let low = 0
  let high = chain.proofs.length - 1
  while (low < high) {
    const mid = (low + high + 1) >> 1
    if (compareNames(chain.proofs[mid].owner, chain.names[mid], buf, name) <= 0) low = mid
    else high = mid - 1
  }
  return chain.proofs[low]
}

const lower = (c: number) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c)

/** Canonical order of two names (negative: `a` first), each as labels at offsets in its buffer. */
export function compareNames(
  a: Uint8Array,
  an: LabeledName,
  b: Uint8Array,
  bn: LabeledName,
): number {
  for (let i = an.labels - 1, j = bn.labels - 1; ; i--, j--) {
    if (i < 0 || j < 0) return (i < 0 ? -1 : 0) - (j < 0 ? -1 : 0)
    const as = an.labelStart[i]
    const bs = bn.labelStart[j]
    const al = a[as]
    const bl = b[bs]
    for (let k = 1; k <= al && k <= bl; k++) {
      const d = lower(a[as + k]) - lower(b[bs + k])
      if (d !== 0) return d
    }
    if (al !== bl) return al - bl
  }
}

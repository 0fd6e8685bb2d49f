// A signed zone's NSEC records in canonical order (RFC 4034 section 6.1), to
// find the one that covers a name the zone does not hold: the proof of an
// NXDOMAIN. Names are compared in place, label by label from the right,
// lowercase, as the query holds them: a lookup allocates nothing.

import { Type } from '../../dns/constants.ts'
import { type LabeledName, labelName } from '../../dns/name.ts'
import type { Zone, ZoneNode } from './zone.ts'

/** The nodes holding an NSEC, in canonical order, with their label offsets. */
export interface NsecChain {
  nodes: ZoneNode[]
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
  zone.nsecChain = { nodes: entries.map((e) => e.node), names: entries.map((e) => e.name) }
  return zone.nsecChain
}

/**
 * The node whose NSEC covers the name at `name` in `buf` (the last one before
 * it in canonical order; the apex is first, so there always is one).
 */
export function coveringNode(chain: NsecChain, buf: Uint8Array, name: LabeledName): ZoneNode {
  let low = 0
  let high = chain.nodes.length - 1
  while (low < high) {
    const mid = (low + high + 1) >> 1
    if (compareNames(chain.nodes[mid].wire, chain.names[mid], buf, name) < 0) low = mid
    else high = mid - 1
  }
  return chain.nodes[low]
}

/** The node whose NSEC covers the name at `name` in `buf`; undefined when the zone has no NSEC chain. */
export function nsecCover(zone: Zone, buf: Uint8Array, name: LabeledName): ZoneNode | undefined {
  const chain = nsecChain(zone)
  return chain && coveringNode(chain, buf, name)
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

// Finds where a name falls in a zone, walking down from the apex one label at a
// time: an existing node, a delegation on the way, a wildcard to synthesise from,
// or nothing. Works on names inside packets (offsets and label hashes).

import { Type } from '../../dns/constants.ts'
import { type LabeledName, labelName } from '../../dns/name.ts'
import type { Zone, ZoneNode } from './zone.ts'

export const Found = { NODE: 0, CUT: 1, WILDCARD: 2, NXDOMAIN: 3, DNAME: 4 } as const
export type FoundKind = (typeof Found)[keyof typeof Found]

/** Reused result of `locate`: what was found and at which label of the name. */
export interface Location {
  kind: FoundKind
  /**
   * NODE: the node; CUT: the delegation point; WILDCARD: the `*` node;
   * NXDOMAIN: the closest encloser; DNAME: the DNAME's owner, above the name.
   */
  node: ZoneNode
  /** Label index of the closest encloser (NODE, CUT and DNAME: of the node itself). */
  label: number
}

/**
 * Locates the name in `buf` below `zone`, whose apex is the suffix at `apexLabel`.
 * Delegations, and DNAMEs (RFC 6672), are found before anything under them, as BIND does.
 */
export function locate(
  zone: Zone,
  buf: Uint8Array,
  name: LabeledName,
  apexLabel: number,
  at: Location,
): void {
  let node = zone.apex
  const dnames = zone.types.has(Type.DNAME)
  for (let i = apexLabel - 1; i >= 0; i--) {
    if (dnames && node.rrsets.has(Type.DNAME)) {
      at.kind = Found.DNAME
      at.node = node
      at.label = i + 1
      return
    }
    const next = zone.nodes.lookup(buf, name.labelStart[i], name.suffixHash[i])
    if (next === undefined) {
      at.label = i + 1
      if (node.wildcard !== undefined) {
        at.kind = Found.WILDCARD
        at.node = node.wildcard
      } else {
        at.kind = Found.NXDOMAIN
        at.node = node
      }
      return
    }
    node = next
    if (node.rrsets.has(Type.NS)) {
      at.kind = Found.CUT
      at.node = node
      at.label = i
      return
    }
  }
  at.kind = Found.NODE
  at.node = node
  at.label = 0
}

export function newLocation(): Location {
  // `node` is always set by locate before anyone reads it.
  return { kind: Found.NXDOMAIN, node: undefined as unknown as ZoneNode, label: 0 }
}

/** `locate` for a name in wire form, off the hot path. */
export function locateName(zone: Zone, name: Buffer): Location {
  const at = newLocation()
  const labeled = labelName(name)
  locate(zone, name, labeled, labeled.labels - zone.labels, at)
  return at
}

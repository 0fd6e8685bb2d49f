// Dependencies of precomputed answers, which a record change reads to forget
// only the answers it may have changed (zone-edit.ts).

import { Type } from '../../dns/constants.ts'
import { mapEntry } from '../shared/map-entry.ts'
import type { Sections } from './answer.ts'
import { nameId, type Zone, type ZoneNode } from './zone.ts'

/**
 * What an answer being computed read besides its own node: the names whose
 * data it used, and whether it relied on a name being absent, delegated or
 * matched by a wildcard (which any new or removed name may change). A record
 * change forgets exactly the answers that read what it changed.
 */
export interface Reads {
  names: Buffer[]
  structure: boolean
}

export const newReads = (): Reads => ({ names: [], structure: false })

/**
 * Notes that `node`'s answers depend on what `reads` lists, and on the zone's
 * NSEC or NSEC3 chain when `s` carries a proof from it.
 */
export function dependOn(zone: Zone, node: ZoneNode, reads: Reads, s?: Sections): void {
  for (const name of reads.names) {
    mapEntry(zone.dependents, nameId(name), () => new Set<ZoneNode>()).add(node)
  }
  if (reads.structure || (s !== undefined && carriesProof(s))) zone.structureDependents.add(node)
}

function carriesProof(s: Sections): boolean {
  if (!s.dnssec) return false
  if (s.wildcardProof !== undefined) return true
  return s.authority.some((r) => r.type === Type.NSEC || r.type === Type.NSEC3)
}

// Dependencies of precomputed answers, which a record change reads to forget
// only the answers it may have changed (zone-edit.ts).

import { mapEntry } from '../shared/map-entry.ts'
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

/** Notes that `node`'s answers depend on what `reads` lists. */
export function dependOn(zone: Zone, node: ZoneNode, reads: Reads): void {
  for (const name of reads.names) {
    mapEntry(zone.dependents, nameId(name), () => new Set<ZoneNode>()).add(node)
  }
  if (reads.structure) zone.structureDependents.add(node)
}

// Reads a zone's master file (and its $INCLUDEs, relative to the including file)
// and builds the in-memory zone with every answer precomputed.

import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseMasterFile } from '../../dns/master-file.ts'
import { precomputeZone } from './resolve.ts'
import { fingerprint, readSnapshot } from './snapshot.ts'
import { type BuiltZone, buildZone } from './zone.ts'
import { sequenceOf } from './zone-text.ts'

export interface ZoneSource {
  /** The zone's origin, e.g. `example.com`. */
  name: string
  /** Path of its master file. */
  file: string
}

/** Builds the zone from its snapshot in `snapshots` when there is one of this master file. */
export function loadZone(source: ZoneSource, snapshots?: string): BuiltZone & { from: string } {
  const master = readFileSync(source.file, 'utf8')
  const print = fingerprint(master)
  const snapshot = snapshots === undefined ? undefined : readSnapshot(snapshots, source.name, print)
  const { text, file } = snapshot ?? { text: master, file: source.file }
  const parsed = parseMasterFile(
    { text, file },
    {
      origin: source.name,
      include: (path, from) => {
        const file = resolve(dirname(from), path)
        return { text: readFileSync(file, 'utf8'), file }
      },
    },
  )
  const built = buildZone(source.name, parsed.records, file)
  built.zone.sequence = sequenceOf(text)
  built.zone.source = print
  built.warnings.unshift(...parsed.warnings)
  precomputeZone(built.zone)
  return { ...built, from: file }
}

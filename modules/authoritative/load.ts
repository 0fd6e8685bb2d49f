// Reads a zone's master file (and its $INCLUDEs, relative to the including file)
// and builds the in-memory zone with every answer precomputed.

import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseMasterFile } from '../../dns/master-file.ts'
import { precomputeZone } from './resolve.ts'
import { type BuiltZone, buildZone } from './zone.ts'
import { sequenceOf } from './zone-text.ts'

export interface ZoneSource {
  /** The zone's origin, e.g. `example.com`. */
  name: string
  /** Path of its master file. */
  file: string
}

export function loadZone(source: ZoneSource): BuiltZone {
  const text = readFileSync(source.file, 'utf8')
  const parsed = parseMasterFile(
    { text, file: source.file },
    {
      origin: source.name,
      include: (path, from) => {
        const file = resolve(dirname(from), path)
        return { text: readFileSync(file, 'utf8'), file }
      },
    },
  )
  const built = buildZone(source.name, parsed.records, source.file)
  built.zone.sequence = sequenceOf(text)
  built.warnings.unshift(...parsed.warnings)
  precomputeZone(built.zone)
  return built
}

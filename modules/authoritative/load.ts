// Reads a zone's master file (and its $INCLUDEs, relative to the including file)
// and builds the in-memory zone with every answer precomputed.

import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseMasterFile } from '../../dns/master-file.ts'
import { DEFAULT_MINIMAL_RESPONSES, extrasOf, type MinimalResponses } from './minimal-responses.ts'
import { precomputeZone } from './resolve.ts'
import { fingerprint, readSnapshot, type SnapshotPlace } from './snapshot.ts'
import { type BuiltZone, buildZone } from './zone.ts'
import { sequenceOf } from './zone-text.ts'

export interface ZoneSource {
  /** The zone's origin, e.g. `example.com`. */
  name: string
  /** Path of its master file. */
  file: string
  /** Which optional records its answers carry; BIND's default when not given. */
  minimalResponses?: MinimalResponses
  /** A folder of the BIND key files a signed zone is signed with, to sign record events. */
  keys?: string
}

/**
 * Builds the zone from its snapshot in `snapshots` when there is one of this
 * master file and log; a snapshot that does not build is set aside (with a
 * warning) for the master file and the whole log.
 */
export function loadZone(
  source: ZoneSource,
  snapshots?: SnapshotPlace,
): BuiltZone & { from: string } {
  const master = readFileSync(source.file, 'utf8')
  const print = fingerprint(master)
  const snapshot = snapshots === undefined ? undefined : readSnapshot(snapshots, source.name, print)
  let built: BuiltZone & { from: string }
  if (snapshot) {
    try {
      built = buildFrom(source, snapshot)
    } catch (err) {
      built = buildFrom(source, { text: master, file: source.file })
      built.warnings.unshift(
        `snapshot ${snapshot.file} does not build (${(err as Error).message}): built from ${source.file} and the whole record log`,
      )
    }
  } else built = buildFrom(source, { text: master, file: source.file })
  built.zone.source = print === undefined ? undefined : { file: source.file, fingerprint: print }
  return built
}

function buildFrom(
  source: ZoneSource,
  { text, file }: { text: string; file: string },
): BuiltZone & { from: string } {
  const parsed = parseMasterFile(
    { text, file },
    {
      origin: source.name,
      include: (path, from) => {
        const included = resolve(dirname(from), path)
        return { text: readFileSync(included, 'utf8'), file: included }
      },
    },
  )
  const built = buildZone(source.name, parsed.records, file)
  built.zone.sequence = sequenceOf(text)
  built.zone.extras = extrasOf(source.minimalResponses ?? DEFAULT_MINIMAL_RESPONSES)
  built.warnings.unshift(...parsed.warnings)
  precomputeZone(built.zone)
  return { ...built, from: file }
}

// Snapshots: a zone as it stands after record events, written as a master file
// with the sequence it is consistent with and a fingerprint of the master file
// it grew from. A full build starts from the snapshot when the master file is
// unchanged, and replays only the events after it; an edited master file, or
// one with $INCLUDEs (whose parts a fingerprint of one file cannot vouch for),
// is built from itself and the whole log.

import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { basename, join } from 'node:path'
import { nameKey } from '../../dns/name.ts'
import type { Sequence } from './record-event.ts'
import type { Zone } from './zone.ts'
import { zoneText } from './zone-text.ts'

/** A temporary snapshot untouched this long belongs to no live writer (a write takes seconds). */
const ABANDONED_AFTER_MS = 3_600_000

const SOURCE_LINE = /^; cutover-source: ([0-9a-f]{64})$/m

/** What a snapshot is checked against: the master file's SHA-256, none for a file with $INCLUDEs. */
export function fingerprint(masterText: string): string | undefined {
  if (/^\$INCLUDE/im.test(masterText)) return undefined
  return createHash('sha256').update(masterText).digest('hex')
}

/** `<dir>/example.com.zone`, by the zone's name without its final dot. */
export function snapshotFile(dir: string, zone: string): string {
  const key = nameKey(zone)
  return join(dir, `${encodeURIComponent(key === '.' ? 'root' : key.slice(0, -1))}.zone`)
}

/** The snapshot of `zone` in `dir`, if there is one grown from this master file. */
export function readSnapshot(
  dir: string,
  zone: string,
  source: string | undefined,
): { file: string; text: string } | undefined {
  const file = snapshotFile(dir, zone)
  if (source === undefined || !existsSync(file)) return undefined
  const text = readFileSync(file, 'utf8')
  return SOURCE_LINE.exec(text.slice(0, 300))?.[1] === source ? { file, text } : undefined
}

/**
 * Writes `zone` as consistent with `at` (the log position every event up to
 * which it has seen); atomic, so a reader sees the old snapshot or the new.
 * Returns false for a zone whose master file cannot vouch for a snapshot.
 */
export function writeSnapshot(dir: string, zone: Zone, at: Sequence): boolean {
  if (zone.source === undefined) return false
  mkdirSync(dir, { recursive: true })
  const file = snapshotFile(dir, zone.name)
  // A name per process: during a restart the old generation's writer and the new one's may overlap.
  const temporary = `${file}.${process.pid}.tmp`
  removeAbandoned(dir, basename(file))
  const sequence = zone.sequence
  zone.sequence = at
  try {
    writeFileSync(temporary, `; cutover-source: ${zone.source}\n${zoneText(zone)}`)
  } finally {
    zone.sequence = sequence
  }
  renameSync(temporary, file)
  return true
}

/** Temporary files of writers that died mid-write (killed at their drain deadline): old ones. */
function removeAbandoned(dir: string, name: string): void {
  const before = Date.now() - ABANDONED_AFTER_MS
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith(`${name}.`) || !entry.endsWith('.tmp')) continue
    const path = join(dir, entry)
    if (statSync(path).mtimeMs < before) rmSync(path, { force: true })
  }
}

// Snapshots: a zone as it stands after record events, written as a master file
// with the sequence it is consistent with, the log the events came from, and a
// fingerprint of the master file it grew from. A full build starts from the
// snapshot when both still hold, and replays only the events after it; an
// edited master file, or one with $INCLUDEs (whose parts a fingerprint of one
// file cannot vouch for), is built from itself and the whole log.

import { createHash } from 'node:crypto'
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import { basename, join } from 'node:path'
import { nameKey } from '../../dns/name.ts'
import { compareSequence, type Sequence } from './record-event.ts'
import type { Zone } from './zone.ts'
import { sequenceOf, zoneText } from './zone-text.ts'

export interface SnapshotPlace {
  dir: string
  /** The log the events come from (a journal's path, a Redis stream): another log's sequences mean nothing here. */
  log: string
}

/** A temporary snapshot untouched this long belongs to no live writer (a write takes seconds). */
const ABANDONED_AFTER_MS = 3_600_000
const HEADER = /^; cutover-source: ([0-9a-f]{64})\n; cutover-log: (.*)\n/
/** The last line: a snapshot without it was cut short. */
const END = '; cutover-end\n'

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

/** The snapshot of `zone`, if there is a whole one grown from this master file and fed by this log. */
export function readSnapshot(
  place: SnapshotPlace,
  zone: string,
  source: string | undefined,
): { file: string; text: string } | undefined {
  const file = snapshotFile(place.dir, zone)
  if (source === undefined || !existsSync(file)) return undefined
  const text = readFileSync(file, 'utf8')
  const header = HEADER.exec(text)
  if (!header || header[1] !== source || header[2] !== place.log || !text.endsWith(END))
    return undefined
  return { file, text }
}

/**
 * Writes `zone` as consistent with `at` (the log position every event up to
 * which it has seen); atomic and synced, so a reader sees the old snapshot or
 * the new whole. Writes nothing, returning false, for a zone whose master
 * file cannot vouch for a snapshot or has changed since the zone was built
 * (a newer build of it may have written one), or when the snapshot there is
 * as recent.
 */
export function writeSnapshot(place: SnapshotPlace, zone: Zone, at: Sequence): boolean {
  const source = zone.source
  if (source === undefined) return false
  if (fingerprint(readFileSync(source.file, 'utf8')) !== source.fingerprint) return false
  mkdirSync(place.dir, { recursive: true })
  const file = snapshotFile(place.dir, zone.name)
  const there = headerOf(file)
  if (
    there?.source === source.fingerprint &&
    there.log === place.log &&
    compareSequence(there.sequence, at) >= 0
  )
    return false

  // A name per process: during a restart the old generation's writer and the new one's may overlap.
  const temporary = `${file}.${process.pid}.tmp`
  removeAbandoned(place.dir, basename(file))
  const sequence = zone.sequence
  zone.sequence = at
  let text: string
  try {
    text = `; cutover-source: ${source.fingerprint}\n; cutover-log: ${place.log}\n${zoneText(zone)}${END}`
  } finally {
    zone.sequence = sequence
  }
  const fd = openSync(temporary, 'w')
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temporary, file)
  return true
}

/** The source, log and sequence at the head of a snapshot file, if there is one. */
function headerOf(file: string): { source: string; log: string; sequence: Sequence } | undefined {
  if (!existsSync(file)) return undefined
  const fd = openSync(file, 'r')
  try {
    const buf = Buffer.alloc(2048)
    const head = buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0))
    const m = HEADER.exec(head)
    return m ? { source: m[1], log: m[2], sequence: sequenceOf(head) } : undefined
  } finally {
    closeSync(fd)
  }
}

/** Temporary files of writers that died mid-write (killed at their drain deadline): old ones. */
function removeAbandoned(dir: string, name: string): void {
  const before = Date.now() - ABANDONED_AFTER_MS
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith(`${name}.`) || !entry.endsWith('.tmp')) continue
    try {
      const path = join(dir, entry)
      if (statSync(path).mtimeMs < before) rmSync(path, { force: true })
    } catch {
      // Renamed by its writer meanwhile.
    }
  }
}

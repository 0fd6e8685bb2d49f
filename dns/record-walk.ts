// Visits every resource record of a whole message with its section and the
// offsets of its TTL and data, for code that edits replies in place (TTL
// countdown in a cache) without decoding them. Off the hot path.

import { HEADER_LENGTH } from './constants.ts'
import { skipName } from './query-view.ts'

export const Section = { ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 2 } as const
export type SectionIndex = (typeof Section)[keyof typeof Section]

export interface RecordVisit {
  section: SectionIndex
  type: number
  /** Offset of the owner name. */
  start: number
  /** Offset of the 32-bit TTL field. */
  ttlOffset: number
  rdataStart: number
  rdataEnd: number
}

/** Calls `visit` for each record; false when the message is malformed (visits may have happened). */
export function walkRecords(msg: Uint8Array, visit: (r: RecordVisit) => void): boolean {
  const length = msg.length
  if (length < HEADER_LENGTH) return false
  let pos = HEADER_LENGTH
  const qdcount = (msg[4] << 8) | msg[5]
  for (let i = 0; i < qdcount; i++) {
    pos = skipName(msg, pos, length)
    if (pos < 0 || pos + 4 > length) return false
    pos += 4
  }
  const r: RecordVisit = { section: 0, type: 0, start: 0, ttlOffset: 0, rdataStart: 0, rdataEnd: 0 }
  for (let s = 0; s < 3; s++) {
    const count = (msg[6 + s * 2] << 8) | msg[7 + s * 2]
    for (let i = 0; i < count; i++) {
      r.start = pos
      pos = skipName(msg, pos, length)
      if (pos < 0 || pos + 10 > length) return false
      r.section = s as SectionIndex
      r.type = (msg[pos] << 8) | msg[pos + 1]
      r.ttlOffset = pos + 4
      r.rdataStart = pos + 10
      r.rdataEnd = r.rdataStart + ((msg[pos + 8] << 8) | msg[pos + 9])
      if (r.rdataEnd > length) return false
      visit(r)
      pos = r.rdataEnd
    }
  }
  return pos === length
}

// Replies that carry only an rcode (FORMERR, SERVFAIL, REFUSED), built from the
// query's header: its ID, opcode, RD and CD echoed, and its question when known.

import { Flag, HEADER_LENGTH } from './constants.ts'

/** Header bits a response copies from its query: opcode, RD, CD. */
export const ECHOED_FLAGS = 0x7800 | Flag.RD | Flag.CD

/**
 * Writes a reply with `rcode` into `out`; `questionEnd` > 0 copies the question
 * (query bytes 12..questionEnd). Returns the reply's length.
 */
export function writeRcodeReply(
  query: Uint8Array,
  out: Uint8Array,
  rcode: number,
  questionEnd = 0,
): number {
  const flags = Flag.QR | (((query[2] << 8) | query[3]) & ECHOED_FLAGS) | rcode
  out[0] = query[0]
  out[1] = query[1]
  out[2] = flags >> 8
  out[3] = flags & 0xff
  out.fill(0, 4, HEADER_LENGTH)
  if (questionEnd <= HEADER_LENGTH) return HEADER_LENGTH
  out[5] = 1
  out.set(query.subarray(HEADER_LENGTH, questionEnd), HEADER_LENGTH)
  return questionEnd
}

// Adds an EDNS option to a finished reply whose OPT record is its last record
// (ours always are; BIND's too). Off the hot path: used for decision traces.

import { Type } from './constants.ts'
import { walkRecords } from './record-walk.ts'

/** A copy of reply[0..length) with the option appended to its OPT record, or undefined when there is no OPT last. */
export function appendEdnsOption(
  reply: Uint8Array,
  length: number,
  code: number,
  data: Uint8Array,
): Buffer | undefined {
  const msg = Buffer.from(reply.subarray(0, length))
  let optEnd = -1
  let rdlengthAt = -1
  walkRecords(msg, (r) => {
    if (r.type === Type.OPT) {
      optEnd = r.rdataEnd
      rdlengthAt = r.rdataStart - 2
    }
  })
  if (optEnd !== length) return undefined
  const out = Buffer.allocUnsafe(length + 4 + data.length)
  msg.copy(out)
  out.writeUInt16BE(code, length)
  out.writeUInt16BE(data.length, length + 2)
  out.set(data, length + 4)
  out.writeUInt16BE(msg.readUInt16BE(rdlengthAt) + 4 + data.length, rdlengthAt)
  return out
}

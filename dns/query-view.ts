// The hot-path reader: walks a received query in place and records what routing
// and answering need as offsets and numbers in a reused view. No allocation.

import { EdnsOption, HEADER_LENGTH, MAX_LABELS, MAX_NAME_LENGTH, Type } from './constants.ts'
import { joinHash, labelHash, ROOT_HASH } from './name.ts'

export interface QueryView {
  length: number
  id: number
  flags: number
  opcode: number
  qdcount: number
  ancount: number
  nscount: number
  arcount: number
  /** Offset just past the question name's root label; the name itself starts at 12. */
  qnameEnd: number
  qtype: number
  qclass: number
  questionEnd: number
  /** Labels in the question name, not counting the root. */
  labels: number
  /** labelStart[i]: offset of label i; labelStart[labels] is the root octet. */
  labelStart: Uint16Array
  /** suffixHash[i]: hash of the name that starts at label i; suffixHash[labels] is the root's. */
  suffixHash: Int32Array
  edns: boolean
  ednsUdpSize: number
  ednsVersion: number
  ednsDo: boolean
  /** Offset of the OPT record's options, and their end (both 0 without EDNS). */
  ednsOptionsStart: number
  ednsOptionsEnd: number
  /** Offset of the EDNS Client Subnet option's data, or -1. */
  ecsOffset: number
  /** Offset of the data of the first option with a local-use code (65001-65534), or -1; and that code. */
  localOptionOffset: number
  localOptionCode: number
  /** True when the message carries records we do not interpret (TSIG, answers in a query). */
  extraRecords: boolean
}

export function createQueryView(): QueryView {
  return {
    length: 0,
    id: 0,
    flags: 0,
    opcode: 0,
    qdcount: 0,
    ancount: 0,
    nscount: 0,
    arcount: 0,
    qnameEnd: 0,
    qtype: 0,
    qclass: 0,
    questionEnd: 0,
    labels: 0,
    labelStart: new Uint16Array(MAX_LABELS + 1),
    suffixHash: new Int32Array(MAX_LABELS + 1),
    edns: false,
    ednsUdpSize: 0,
    ednsVersion: 0,
    ednsDo: false,
    ednsOptionsStart: 0,
    ednsOptionsEnd: 0,
    ecsOffset: -1,
    localOptionOffset: -1,
    localOptionCode: 0,
    extraRecords: false,
  }
}

/** What the reader concluded: answer it, answer FORMERR, or drop it silently. */
export const Parse = { OK: 0, FORMERR: 1, DROP: 2 } as const
export type ParseResult = (typeof Parse)[keyof typeof Parse]

/**
 * Reads the header, the single question and the additional section's OPT record of
 * `buf[0..length)` into `v`. Drops what cannot be answered at all (shorter than a
 * header, or a response); FORMERR for anything else malformed, as BIND does
 * (which answers a query with trailing octets after its last record).

 */
export function readQuery(buf: Uint8Array, length: number, v: QueryView): ParseResult {
  v.length = length
  v.edns = false
  v.ednsDo = false
  v.ednsUdpSize = 0
  v.ednsVersion = 0
  v.ednsOptionsStart = 0
  v.ednsOptionsEnd = 0
  v.ecsOffset = -1
  v.localOptionOffset = -1
  v.extraRecords = false
  v.labels = 0
  if (length < HEADER_LENGTH) return Parse.DROP
  v.id = (buf[0] << 8) | buf[1]
  v.flags = (buf[2] << 8) | buf[3]
  if (v.flags & 0x8000) return Parse.DROP
  v.opcode = (v.flags >> 11) & 0xf
  v.qdcount = (buf[4] << 8) | buf[5]
  v.ancount = (buf[6] << 8) | buf[7]
  v.nscount = (buf[8] << 8) | buf[9]
  v.arcount = (buf[10] << 8) | buf[11]
  if (v.qdcount !== 1) return Parse.FORMERR

  let pos = HEADER_LENGTH
  let labels = 0
  for (;;) {
    if (pos >= length) return Parse.FORMERR
    const len = buf[pos]
    if (len === 0) break
    // A pointer or an extended label type cannot occur in a lone question name.
    if (len > 63) return Parse.FORMERR
    if (labels === MAX_LABELS) return Parse.FORMERR
    v.labelStart[labels++] = pos
    pos += len + 1
    if (pos - HEADER_LENGTH >= MAX_NAME_LENGTH) return Parse.FORMERR
  }
  v.labelStart[labels] = pos
  v.labels = labels
  v.qnameEnd = pos + 1
  if (v.qnameEnd + 4 > length) return Parse.FORMERR
  let h = ROOT_HASH
  v.suffixHash[labels] = h
  for (let i = labels - 1; i >= 0; i--) {
    h = joinHash(labelHash(buf, v.labelStart[i]), h)
    v.suffixHash[i] = h
  }
  v.qtype = (buf[v.qnameEnd] << 8) | buf[v.qnameEnd + 1]
  v.qclass = (buf[v.qnameEnd + 2] << 8) | buf[v.qnameEnd + 3]
  pos = v.qnameEnd + 4
  v.questionEnd = pos

  if (v.ancount > 0 || v.nscount > 0) v.extraRecords = true
  const records = v.ancount + v.nscount + v.arcount
  const additionalFrom = v.ancount + v.nscount
  for (let r = 0; r < records; r++) {
    const nameStart = pos
    pos = skipName(buf, pos, length)
    if (pos < 0 || pos + 10 > length) return Parse.FORMERR
    const type = (buf[pos] << 8) | buf[pos + 1]
    const rdlength = (buf[pos + 8] << 8) | buf[pos + 9]
    const rdata = pos + 10
    const end = rdata + rdlength
    if (end > length) return Parse.FORMERR
    if (type === Type.OPT) {
      if (r < additionalFrom || v.edns || buf[nameStart] !== 0) return Parse.FORMERR
      if (!readOpt(buf, pos, rdata, end, v)) return Parse.FORMERR
    } else {
      v.extraRecords = true
    }
    pos = end
  }
  // Octets after the last record are ignored, as BIND ignores them.
  return Parse.OK
}

function readOpt(buf: Uint8Array, pos: number, rdata: number, end: number, v: QueryView): boolean {
  v.edns = true
  v.ednsUdpSize = (buf[pos + 2] << 8) | buf[pos + 3]
  v.ednsVersion = buf[pos + 5]
  v.ednsDo = (buf[pos + 6] & 0x80) !== 0
  v.ednsOptionsStart = rdata
  v.ednsOptionsEnd = end
  for (let o = rdata; o < end; ) {
    if (o + 4 > end) return false
    const code = (buf[o] << 8) | buf[o + 1]
    const len = (buf[o + 2] << 8) | buf[o + 3]
    if (o + 4 + len > end) return false
    if (code === EdnsOption.ECS) v.ecsOffset = o + 4
    else if (code >= 65001 && code <= 65534 && v.localOptionOffset < 0) {
      v.localOptionOffset = o + 4
      v.localOptionCode = code
    }
    o += 4 + len
  }
  return true
}

/**
 * Skips a possibly compressed name at `pos`; returns the offset after it or -1.
 * Pointers must aim backwards, at or after the header, as BIND requires.
 */
export function skipName(buf: Uint8Array, pos: number, length: number): number {
  const start = pos
  let total = 0
  for (;;) {
    if (pos >= length) return -1
    const len = buf[pos]
    if (len === 0) return pos + 1
    if ((len & 0xc0) === 0xc0) {
      if (pos + 2 > length) return -1
      const target = ((len & 0x3f) << 8) | buf[pos + 1]
      if (target < HEADER_LENGTH || target >= start) return -1
      return pos + 2
    }
    if (len > 63) return -1
    total += len + 1
    if (total >= MAX_NAME_LENGTH) return -1
    pos += len + 1
  }
}

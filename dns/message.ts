// Whole-message decode and query building, for the paths off the hot one: tests,
// the differential harness, the legacy cache, tools. Records come back in
// presentation form so they can be compared and printed.

import { CutoverError } from '../common/cutover-error.ts'
import { Flag, HEADER_LENGTH, Type } from './constants.ts'
import { expandName, fqdnWire, wireToText } from './name.ts'
import { rdataToText } from './rdata.ts'
import { WireWriter } from './wire-writer.ts'

export interface Question {
  name: string
  type: number
  class: number
}

export interface ResourceRecord {
  name: string
  type: number
  class: number
  ttl: number
  data: string
}

export interface EdnsOptionData {
  code: number
  data: Buffer
}

export interface Edns {
  udpSize: number
  version: number
  extendedRcode: number
  do: boolean
  options: EdnsOptionData[]
}

export interface Message {
  id: number
  /** The 16-bit flags word; see `Flag`. */
  flags: number
  opcode: number
  /** The full rcode: the header's four bits plus the OPT record's extended bits. */
  rcode: number
  questions: Question[]
  answer: ResourceRecord[]
  authority: ResourceRecord[]
  additional: ResourceRecord[]
  edns: Edns | undefined
}

function malformed(why: string): CutoverError {
  return new CutoverError('MESSAGE_MALFORMED', `malformed DNS message: ${why}`)
}

/** Decodes a whole message; the OPT record is lifted out of the additional section. */
export function decodeMessage(buf: Uint8Array): Message {
  if (buf.length < HEADER_LENGTH) throw malformed('shorter than a header')
  const u16 = (at: number) => (buf[at] << 8) | buf[at + 1]
  const flags = u16(2)
  const counts = [u16(4), u16(6), u16(8), u16(10)]
  const msg: Message = {
    id: u16(0),
    flags,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    questions: [],
    answer: [],
    authority: [],
    additional: [],
    edns: undefined,
  }
  let pos = HEADER_LENGTH
  const readName = () => {
    const n = expandName(buf, pos)
    if (!n) throw malformed(`bad name at offset ${pos}`)
    pos = n.end
    return wireToText(n.wire)
  }
  for (let i = 0; i < counts[0]; i++) {
    const name = readName()
    if (pos + 4 > buf.length) throw malformed('question runs past the end')
    msg.questions.push({ name, type: u16(pos), class: u16(pos + 2) })
    pos += 4
  }
  const sections = [msg.answer, msg.authority, msg.additional]
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]; i++) {
      const name = readName()
      if (pos + 10 > buf.length) throw malformed('record header runs past the end')
      const type = u16(pos)
      const klass = u16(pos + 2)
      const ttl =
        ((buf[pos + 4] << 24) | (buf[pos + 5] << 16) | (buf[pos + 6] << 8) | buf[pos + 7]) >>> 0
      const rdlength = u16(pos + 8)
      const start = pos + 10
      const end = start + rdlength
      if (end > buf.length) throw malformed('record data runs past the end')
      if (type === Type.OPT) {
        if (s !== 2 || msg.edns)
          throw malformed('OPT record outside the additional section or repeated')
        msg.edns = readEdns(buf, klass, ttl, start, end)
        msg.rcode |= msg.edns.extendedRcode << 4
      } else {
        sections[s].push({
          name,
          type,
          class: klass,
          ttl,
          data: rdataToText(type, buf, start, end),
        })
      }
      pos = end
    }
  }
  if (pos !== buf.length) throw malformed(`${buf.length - pos} octets of trailing garbage`)
  return msg
}

function readEdns(buf: Uint8Array, klass: number, ttl: number, start: number, end: number): Edns {
  const options: EdnsOptionData[] = []
  for (let o = start; o < end; ) {
    if (o + 4 > end) throw malformed('EDNS option header runs past the record')
    const code = (buf[o] << 8) | buf[o + 1]
    const len = (buf[o + 2] << 8) | buf[o + 3]
    if (o + 4 + len > end) throw malformed('EDNS option runs past the record')
    options.push({ code, data: Buffer.from(buf.subarray(o + 4, o + 4 + len)) })
    o += 4 + len
  }
  return {
    udpSize: klass,
    version: (ttl >>> 16) & 0xff,
    extendedRcode: ttl >>> 24,
    do: (ttl & 0x8000) !== 0,
    options,
  }
}

export interface QueryOptions {
  id?: number
  name: string
  type: number
  class?: number
  /** Recursion desired; on by default, as dig sends it. */
  rd?: boolean
  cd?: boolean
  edns?: { udpSize?: number; do?: boolean; version?: number; options?: EdnsOptionData[] }
}

/** Builds a query message (one question, optional OPT record). */
export function buildQuery(q: QueryOptions): Buffer {
  const w = new WireWriter(0, HEADER_LENGTH + 260 + 11 + 512)
  const id = q.id ?? Math.floor(Math.random() * 0x10000)
  w.u16(id)
  w.u16((q.rd === false ? 0 : Flag.RD) | (q.cd ? Flag.CD : 0))
  w.u16(1)
  w.u16(0)
  w.u16(0)
  w.u16(q.edns ? 1 : 0)
  w.name(fqdnWire(q.name), false)
  w.u16(q.type)
  w.u16(q.class ?? 1)
  if (q.edns)
    writeOpt(
      w,
      q.edns.udpSize ?? 1232,
      q.edns.do ?? false,
      q.edns.version ?? 0,
      q.edns.options ?? [],
    )
  return w.take()
}

/** Writes an OPT pseudo-record (RFC 6891) with the given options. */
export function writeOpt(
  w: WireWriter,
  udpSize: number,
  dnssecOk: boolean,
  version: number,
  options: EdnsOptionData[],
): void {
  w.u8(0)
  w.u16(Type.OPT)
  w.u16(udpSize)
  w.u32((version << 16) | (dnssecOk ? 0x8000 : 0))
  w.u16(options.reduce((n, o) => n + 4 + o.data.length, 0))
  for (const o of options) {
    w.u16(o.code)
    w.u16(o.data.length)
    w.bytes(o.data)
  }
}

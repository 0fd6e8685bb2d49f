// readQuery: the hot-path reader of a received query, checked on hand-built packets
// and on a few hundred thousand random and mutated ones.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Type } from './constants.ts'
import { buildQuery, decodeMessage } from './message.ts'
import { nameToWire, wireHash, wireToText } from './name.ts'
import { createQueryView, Parse, type QueryView, readQuery, skipName } from './query-view.ts'

const fromHex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const cat = (...parts: (Buffer | string)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? fromHex(p) : p)))

function header(o: {
  id?: number
  flags?: number
  qd?: number
  an?: number
  ns?: number
  ar?: number
}) {
  const b = Buffer.alloc(12)
  b.writeUInt16BE(o.id ?? 0xabcd, 0)
  b.writeUInt16BE(o.flags ?? 0x0100, 2)
  b.writeUInt16BE(o.qd ?? 1, 4)
  b.writeUInt16BE(o.an ?? 0, 6)
  b.writeUInt16BE(o.ns ?? 0, 8)
  b.writeUInt16BE(o.ar ?? 0, 10)
  return b
}

/** www.example.com. A IN */
const QUESTION = '03777777076578616d706c6503636f6d00 0001 0001'

function record(name: string, type: number, klass: number, ttl: number, rdata: string) {
  const fixed = Buffer.alloc(10)
  fixed.writeUInt16BE(type, 0)
  fixed.writeUInt16BE(klass, 2)
  fixed.writeUInt32BE(ttl, 4)
  const data = fromHex(rdata)
  fixed.writeUInt16BE(data.length, 8)
  return cat(name, fixed, data)
}

function opt(o: { udp?: number; ttl?: number; options?: string; name?: string } = {}) {
  return record(o.name ?? '00', Type.OPT, o.udp ?? 1232, o.ttl ?? 0, o.options ?? '')
}

function read(buf: Uint8Array, v: QueryView = createQueryView()) {
  return { result: readQuery(buf, buf.length, v), v }
}

describe('readQuery on a normal query', () => {
  it('reads header, question, labels and hashes', () => {
    const q = buildQuery({ id: 0x1234, name: 'www.example.com', type: Type.AAAA })
    const { result, v } = read(q)
    expect(result).toBe(Parse.OK)
    expect(v).toMatchObject({
      length: 33,
      id: 0x1234,
      flags: 0x0100,
      opcode: 0,
      qdcount: 1,
      ancount: 0,
      nscount: 0,
      arcount: 0,
      qnameEnd: 29,
      qtype: Type.AAAA,
      qclass: 1,
      questionEnd: 33,
      labels: 3,
      edns: false,
      ednsUdpSize: 0,
      ednsOptionsStart: 0,
      ednsOptionsEnd: 0,
      ecsOffset: -1,
      extraRecords: false,
    })
    expect([...v.labelStart.subarray(0, 4)]).toEqual([12, 16, 24, 28])
    expect(v.suffixHash[0]).toBe(wireHash(nameToWire('www.example.com.')))
    expect(v.suffixHash[1]).toBe(wireHash(nameToWire('example.com.')))
    expect(v.suffixHash[2]).toBe(wireHash(nameToWire('com.')))
    expect(v.suffixHash[3]).toBe(wireHash(nameToWire('.')))
  })

  it('reads a hand-built query byte for byte', () => {
    const q = cat(header({ id: 0xbeef, flags: 0x2910 }), '01610000100003')
    const { result, v } = read(q)
    expect(result).toBe(Parse.OK)
    expect(v.id).toBe(0xbeef)
    expect(v.opcode).toBe(5)
    expect(v.flags).toBe(0x2910)
    expect(v.labels).toBe(1)
    expect(v.qnameEnd).toBe(15)
    expect(v.qtype).toBe(Type.TXT)
    expect(v.qclass).toBe(3)
  })

  it('reads a query for the root', () => {
    const { result, v } = read(cat(header({}), '00 0002 0001'))
    expect(result).toBe(Parse.OK)
    expect(v.labels).toBe(0)
    expect(v.labelStart[0]).toBe(12)
    expect(v.qnameEnd).toBe(13)
    expect(v.qtype).toBe(Type.NS)
  })

  it('reads only the first `length` octets of a reused buffer', () => {
    const q = buildQuery({ id: 1, name: 'a.example', type: Type.A, edns: {} })
    const big = Buffer.alloc(512, 0xff)
    q.copy(big)
    const v = createQueryView()
    expect(readQuery(big, q.length, v)).toBe(Parse.OK)
    expect(v.length).toBe(q.length)
    expect(v.edns).toBe(true)
    // The OPT record is in the buffer but not within `length`.
    expect(readQuery(big, q.length - 1, v)).toBe(Parse.FORMERR)
  })

  it('accepts a name of exactly 255 octets and rejects 256', () => {
    const l63 = 'a'.repeat(63)
    const name = `${l63}.${l63}.${l63}.${'b'.repeat(61)}.`
    const q = buildQuery({ id: 1, name, type: Type.A })
    const { result, v } = read(q)
    expect(result).toBe(Parse.OK)
    expect(v.labels).toBe(4)
    expect(v.qnameEnd).toBe(12 + 255)
    expect(v.suffixHash[0]).toBe(wireHash(nameToWire(name)))
    // The same with one more octet in the last label.
    const long = cat(
      header({}),
      nameToWire(`${l63}.${l63}.${l63}.`).subarray(0, 192),
      '3e',
      Buffer.alloc(62, 0x62),
      '00 0001 0001',
    )
    expect(long.length).toBe(12 + 256 + 4)
    expect(read(long).result).toBe(Parse.FORMERR)
  })
})

describe('readQuery with EDNS', () => {
  const cookie = '0102030405060708'
  const ecs = '0001 18 00 c00002'

  it('reads the OPT record fields and option offsets', () => {
    const q = buildQuery({
      id: 2,
      name: 'www.example.com',
      type: Type.A,
      edns: {
        udpSize: 4096,
        do: true,
        options: [
          { code: 10, data: fromHex(cookie) },
          { code: 8, data: fromHex(ecs) },
        ],
      },
    })
    const { result, v } = read(q)
    expect(result).toBe(Parse.OK)
    expect(v.arcount).toBe(1)
    expect(v.edns).toBe(true)
    expect(v.ednsUdpSize).toBe(4096)
    expect(v.ednsDo).toBe(true)
    expect(v.ednsVersion).toBe(0)
    // OPT at 33: name 33, type 34, class 36, ttl 38, rdlength 42, rdata 44.
    expect(v.ednsOptionsStart).toBe(44)
    expect(v.ednsOptionsEnd).toBe(44 + 12 + 11)
    expect(v.ednsOptionsEnd).toBe(q.length)
    expect(v.ecsOffset).toBe(60)
    expect(q.subarray(v.ecsOffset, v.ecsOffset + 7).toString('hex')).toBe(
      fromHex(ecs).toString('hex'),
    )
    expect(v.extraRecords).toBe(false)
  })

  it('reads a hand-built OPT with version 1, no DO and no options', () => {
    const q = cat(header({ ar: 1 }), QUESTION, opt({ udp: 512, ttl: 0x00010000 }))
    const { result, v } = read(q)
    expect(result).toBe(Parse.OK)
    expect(v.edns).toBe(true)
    expect(v.ednsUdpSize).toBe(512)
    expect(v.ednsVersion).toBe(1)
    expect(v.ednsDo).toBe(false)
    expect(v.ednsOptionsStart).toBe(q.length)
    expect(v.ednsOptionsEnd).toBe(q.length)
    expect(v.ecsOffset).toBe(-1)
  })

  it('reads DO from the top bit of the flags only', () => {
    const q = cat(header({ ar: 1 }), QUESTION, opt({ ttl: 0x00007fff }))
    expect(read(q).v.ednsDo).toBe(false)
    const d = cat(header({ ar: 1 }), QUESTION, opt({ ttl: 0xff008000 }))
    expect(read(d).v.ednsDo).toBe(true)
    expect(read(d).v.ednsVersion).toBe(0)
  })

  it('accepts an empty ECS option and points just past its header', () => {
    const q = cat(header({ ar: 1 }), QUESTION, opt({ options: '0008 0000' }))
    const { result, v } = read(q)
    expect(result).toBe(Parse.OK)
    expect(v.ecsOffset).toBe(q.length)
  })

  it('resets the EDNS fields when the view is reused', () => {
    const v = createQueryView()
    const withEcs = cat(
      header({ ar: 1 }),
      QUESTION,
      opt({ ttl: 0x8000, options: `0008 0007 ${ecs}` }),
    )
    expect(readQuery(withEcs, withEcs.length, v)).toBe(Parse.OK)
    expect(v.ecsOffset).toBeGreaterThan(0)
    const tsig = cat(header({ ar: 1 }), QUESTION, record('00', Type.TSIG, 255, 0, '00'))
    expect(readQuery(tsig, tsig.length, v)).toBe(Parse.OK)
    expect(v.extraRecords).toBe(true)
    const plain = cat(header({}), QUESTION)
    expect(readQuery(plain, plain.length, v)).toBe(Parse.OK)
    expect(v).toMatchObject({
      edns: false,
      ednsDo: false,
      ednsUdpSize: 0,
      ednsVersion: 0,
      ednsOptionsStart: 0,
      ednsOptionsEnd: 0,
      ecsOffset: -1,
      extraRecords: false,
    })
  })
})

describe('readQuery drops', () => {
  it('drops anything shorter than a header', () => {
    const q = buildQuery({ id: 1, name: 'example.com', type: Type.A })
    for (let n = 0; n < 12; n++) expect(readQuery(q, n, createQueryView())).toBe(Parse.DROP)
  })

  it('drops responses, even malformed ones', () => {
    const q = buildQuery({ id: 1, name: 'example.com', type: Type.A })
    q[2] |= 0x80
    expect(read(q).result).toBe(Parse.DROP)
    expect(read(cat(header({ flags: 0x8180, qd: 0 }))).result).toBe(Parse.DROP)
    expect(read(cat(header({ flags: 0x8000, qd: 1 }), 'c00c')).result).toBe(Parse.DROP)
  })
})

describe('readQuery FORMERR', () => {
  const formerr = (buf: Buffer) => expect(read(buf).result).toBe(Parse.FORMERR)

  it('for a valid query cut at every length from the header on', () => {
    const q = buildQuery({
      id: 3,
      name: 'www.example.com',
      type: Type.A,
      edns: { options: [{ code: 8, data: fromHex('00011800c00002') }] },
    })
    expect(read(q).result).toBe(Parse.OK)
    for (let n = 12; n < q.length; n++) {
      expect(readQuery(q, n, createQueryView()), `length ${n}`).toBe(Parse.FORMERR)
    }
  })

  it('for a compression pointer in the question', () => {
    formerr(cat(header({}), 'c00c 0001 0001'))
    formerr(cat(header({}), '03777777 c00c 0001 0001'))
  })

  it('for extended label types and labels longer than 63', () => {
    for (const len of ['40', '41', '7f', '80', 'bf'])
      formerr(cat(header({}), `${len}61 00 0001 0001`))
    formerr(cat(header({}), '40', Buffer.alloc(64, 0x61), '00 0001 0001'))
  })

  it('for a question name over 255 octets', () => {
    const label = cat('3f', Buffer.alloc(63, 0x61))
    formerr(cat(header({}), label, label, label, label, '00 0001 0001'))
  })

  it('for qdcount 0 and 2', () => {
    formerr(cat(header({ qd: 0 })))
    formerr(cat(header({ qd: 0 }), QUESTION))
    formerr(cat(header({ qd: 2 }), QUESTION, QUESTION))
    formerr(cat(header({ qd: 2 }), QUESTION))
  })

  it('for two OPT records', () => {
    formerr(cat(header({ ar: 2 }), QUESTION, opt(), opt()))
  })

  it('for OPT in the answer or authority section', () => {
    formerr(cat(header({ an: 1 }), QUESTION, opt()))
    formerr(cat(header({ ns: 1 }), QUESTION, opt()))
  })

  it('for OPT with a name other than the root', () => {
    formerr(cat(header({ ar: 1 }), QUESTION, opt({ name: '016100' })))
    formerr(cat(header({ ar: 1 }), QUESTION, opt({ name: 'c00c' })))
  })

  it('for bad EDNS option lengths', () => {
    formerr(cat(header({ ar: 1 }), QUESTION, opt({ options: '0008' })))
    formerr(cat(header({ ar: 1 }), QUESTION, opt({ options: '000a 0009 0102030405060708' })))
    formerr(cat(header({ ar: 1 }), QUESTION, opt({ options: '000a 0000 000a' })))
  })

  it('for a record whose data runs past the end', () => {
    const tsig = record('00', Type.TSIG, 255, 0, '0102')
    const cut = tsig.subarray(0, tsig.length - 1)
    formerr(cat(header({ ar: 1 }), QUESTION, cut))
    const long = Buffer.from(opt())
    long.writeUInt16BE(1, 9)
    formerr(cat(header({ ar: 1 }), QUESTION, long))
  })

  it('for more records announced than present', () => {
    formerr(cat(header({ ar: 2 }), QUESTION, opt()))
    formerr(cat(header({ an: 1 }), QUESTION))
  })

  it('for a record name with a bad pointer', () => {
    // Forward, to itself, and into the header.
    formerr(cat(header({ ar: 1 }), QUESTION, record('c0ff', Type.A, 1, 0, '7f000001')))
    formerr(cat(header({ ar: 1 }), QUESTION, record('c021', Type.A, 1, 0, '7f000001')))
    formerr(cat(header({ ar: 1 }), QUESTION, record('c002', Type.A, 1, 0, '7f000001')))
  })
})

describe('readQuery trailing octets', () => {
  it('ignores octets after the last record, as BIND does', () => {
    const a = read(cat(header({}), QUESTION, '00'))
    expect(a.result).toBe(Parse.OK)
    expect(a.v.questionEnd).toBe(33)
    expect(a.v.length).toBe(34)
    expect(a.v.edns).toBe(false)
    const b = read(cat(header({ ar: 1 }), QUESTION, opt({ udp: 4000 }), 'ffffff'))
    expect(b.result).toBe(Parse.OK)
    expect(b.v.edns).toBe(true)
    expect(b.v.ednsUdpSize).toBe(4000)
    expect(b.v.ednsOptionsEnd).toBe(33 + 11)
  })

  it('does not read an OPT record that arcount does not announce', () => {
    const { result, v } = read(cat(header({}), QUESTION, opt()))
    expect(result).toBe(Parse.OK)
    expect(v.edns).toBe(false)
  })
})

describe('readQuery extra records', () => {
  it('flags a TSIG-like additional record, with or without OPT', () => {
    const tsig = record('036b657900', Type.TSIG, 255, 0, '0102030405')
    const a = read(cat(header({ ar: 1 }), QUESTION, tsig))
    expect(a.result).toBe(Parse.OK)
    expect(a.v.extraRecords).toBe(true)
    expect(a.v.edns).toBe(false)
    const b = read(cat(header({ ar: 2 }), QUESTION, opt({ udp: 1400 }), tsig))
    expect(b.result).toBe(Parse.OK)
    expect(b.v.extraRecords).toBe(true)
    expect(b.v.edns).toBe(true)
    expect(b.v.ednsUdpSize).toBe(1400)
  })

  it('flags answers and authority records in a query', () => {
    const a = record('c00c', Type.A, 1, 60, 'c0000201')
    const an = read(cat(header({ an: 1 }), QUESTION, a))
    expect(an.result).toBe(Parse.OK)
    expect(an.v.extraRecords).toBe(true)
    const ns = read(cat(header({ ns: 1, ar: 1 }), QUESTION, a, opt()))
    expect(ns.result).toBe(Parse.OK)
    expect(ns.v.extraRecords).toBe(true)
    expect(ns.v.edns).toBe(true)
  })
})

describe('skipName', () => {
  const msg = cat(header({}), QUESTION, '03777777 c00c', 'c010', '00')
  it('skips labels, pointers and the root', () => {
    expect(skipName(msg, 12, msg.length)).toBe(29)
    expect(skipName(msg, 33, msg.length)).toBe(39)
    expect(skipName(msg, 39, msg.length)).toBe(41)
    expect(skipName(msg, 41, msg.length)).toBe(42)
  })
  it('returns -1 for a truncated name or a bad pointer', () => {
    expect(skipName(msg, 12, 20)).toBe(-1)
    expect(skipName(msg, 39, 40)).toBe(-1)
    expect(skipName(cat(header({}), 'c00c'), 12, 14)).toBe(-1)
    expect(skipName(cat(header({}), 'c00b'), 12, 14)).toBe(-1)
    expect(skipName(cat(header({}), '4000'), 12, 14)).toBe(-1)
  })
})

// Properties: readQuery must never throw, and what it reports must be inside the packet.

type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'pointer'; at: number; target: number }
  | { kind: 'count'; which: number; value: number }
  | { kind: 'record'; section: number; type: number; rdata: Uint8Array }

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('append' as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant('pointer' as const),
    at: fc.nat(),
    target: fc.integer({ min: 0, max: 0x3fff }),
  }),
  fc.record({
    kind: fc.constant('count' as const),
    which: fc.integer({ min: 0, max: 3 }),
    value: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({
    kind: fc.constant('record' as const),
    section: fc.integer({ min: 0, max: 2 }),
    type: fc.constantFrom(Type.A, Type.OPT, Type.TSIG, Type.NS),
    rdata: fc.uint8Array({ maxLength: 12 }),
  }),
)

function mutate(packet: Buffer, m: Mutation): Buffer {
  const at = (n: number) => n % (packet.length + 1)
  switch (m.kind) {
    case 'flip': {
      if (packet.length === 0) return packet
      const out = Buffer.from(packet)
      out[m.at % packet.length] ^= m.xor
      return out
    }
    case 'truncate':
      return packet.subarray(0, at(m.at))
    case 'append':
      return Buffer.concat([packet, m.bytes])
    case 'insert':
      return Buffer.concat([packet.subarray(0, at(m.at)), m.bytes, packet.subarray(at(m.at))])
    case 'pointer': {
      const p = Buffer.of(0xc0 | (m.target >> 8), m.target & 0xff)
      return Buffer.concat([packet.subarray(0, at(m.at)), p, packet.subarray(at(m.at))])
    }
    case 'count': {
      if (packet.length < 12) return packet
      const out = Buffer.from(packet)
      out.writeUInt16BE(m.value, 4 + m.which * 2)
      return out
    }
    case 'record': {
      if (packet.length < 12) return packet
      const out = Buffer.concat([
        packet,
        record('c00c', m.type, 1, 0, Buffer.from(m.rdata).toString('hex')),
      ])
      const countAt = 6 + m.section * 2
      out.writeUInt16BE((out.readUInt16BE(countAt) + 1) & 0xffff, countAt)
      return out
    }
  }
}

const labelArb = fc.uint8Array({ minLength: 1, maxLength: 63 })
const nameWireArb = fc
  .array(labelArb, { maxLength: 5 })
  .filter((ls) => ls.reduce((n, l) => n + l.length + 1, 0) <= 254)
  .map((ls) =>
    Buffer.concat([...ls.map((l) => Buffer.concat([Buffer.of(l.length), l])), Buffer.of(0)]),
  )

const queryArb = fc.record({
  id: fc.integer({ min: 0, max: 0xffff }),
  wire: nameWireArb,
  type: fc.integer({ min: 0, max: 0xffff }),
  klass: fc.integer({ min: 0, max: 0xffff }),
  rd: fc.boolean(),
  cd: fc.boolean(),
  edns: fc.option(
    fc.record({
      udpSize: fc.integer({ min: 0, max: 0xffff }),
      do: fc.boolean(),
      version: fc.integer({ min: 0, max: 255 }),
      options: fc.array(
        fc.record({
          code: fc.constantFrom(3, 8, 10, 12, 65001),
          data: fc.uint8Array({ maxLength: 24 }).map((d) => Buffer.from(d)),
        }),
        { maxLength: 3 },
      ),
    }),
    { nil: undefined },
  ),
})

type QuerySpec = typeof queryArb extends fc.Arbitrary<infer T> ? T : never

function build(s: QuerySpec): Buffer {
  return buildQuery({
    id: s.id,
    name: wireToText(s.wire),
    type: s.type,
    class: s.klass,
    rd: s.rd,
    cd: s.cd,
    edns: s.edns,
  })
}

function must(ok: boolean, why: string): void {
  if (!ok) throw new Error(why)
}

const shared = createQueryView()
/** How many OK packets the full decoder also accepted (and agreed on). */
let crossChecked = 0

/** What must hold for any input; returns the result. */
function checkInvariants(buf: Buffer): number {
  const v = shared
  const r = readQuery(buf, buf.length, v)
  must(r === Parse.OK || r === Parse.FORMERR || r === Parse.DROP, `result ${r}`)
  const drop = buf.length < 12 || (buf[2] & 0x80) !== 0
  must((r === Parse.DROP) === drop, `DROP is ${r === Parse.DROP}, expected ${drop}`)
  must(v.length === buf.length, 'length')
  if (r !== Parse.OK) return r
  must(v.qdcount === 1, 'qdcount')
  must(v.qnameEnd > 12 && v.qnameEnd <= buf.length, 'qnameEnd inside')
  must(v.qnameEnd - 12 <= 255, 'name at most 255 octets')
  must(v.questionEnd === v.qnameEnd + 4 && v.questionEnd <= buf.length, 'questionEnd inside')
  must(v.labels >= 0 && v.labels <= 127, 'label count')
  must(v.labelStart[0] === 12, 'first label at 12')
  for (let i = 0; i < v.labels; i++) {
    const len = buf[v.labelStart[i]]
    must(len >= 1 && len <= 63, 'label length')
    must(v.labelStart[i + 1] === v.labelStart[i] + len + 1, 'labels contiguous')
  }
  must(v.labelStart[v.labels] === v.qnameEnd - 1 && buf[v.qnameEnd - 1] === 0, 'root octet')
  must(v.suffixHash[0] === wireHash(buf.subarray(12, v.qnameEnd)), 'hash matches wireHash')
  must(
    v.qtype === buf.readUInt16BE(v.qnameEnd) && v.qclass === buf.readUInt16BE(v.qnameEnd + 2),
    'qtype/qclass',
  )
  if (v.edns) {
    must(v.ednsOptionsStart > v.questionEnd, 'options after the question')
    must(v.ednsOptionsStart <= v.ednsOptionsEnd && v.ednsOptionsEnd <= buf.length, 'options inside')
    must(
      v.ecsOffset === -1 ||
        (v.ecsOffset >= v.ednsOptionsStart + 4 && v.ecsOffset <= v.ednsOptionsEnd),
      'ECS inside',
    )
  } else {
    must(v.ednsOptionsStart === 0 && v.ednsOptionsEnd === 0 && v.ecsOffset === -1, 'no EDNS fields')
  }
  if (v.ancount + v.nscount > 0) must(v.extraRecords, 'answers in a query are extra records')
  // When the full decoder also accepts the packet, both must agree.
  let m: ReturnType<typeof decodeMessage> | undefined
  try {
    m = decodeMessage(buf)
  } catch {
    m = undefined
  }
  if (m) {
    crossChecked++
    must(
      m.questions.length === 1 && m.questions[0].name === wireToText(buf.subarray(12, v.qnameEnd)),
      'name agrees',
    )
    must(m.questions[0].type === v.qtype && m.questions[0].class === v.qclass, 'type/class agree')
    must((m.edns !== undefined) === v.edns, 'EDNS presence agrees')
    if (m.edns) {
      must(
        m.edns.udpSize === v.ednsUdpSize &&
          m.edns.do === v.ednsDo &&
          m.edns.version === v.ednsVersion,
        'EDNS agrees',
      )
      const ecs = m.edns.options.find((o) => o.code === 8)
      must((ecs !== undefined) === v.ecsOffset >= 0, 'ECS presence agrees')
    }
  }
  return r
}

describe('readQuery properties', () => {
  it('reads every generated valid query as built', () => {
    fc.assert(
      fc.property(queryArb, (s) => {
        const q = build(s)
        must(checkInvariants(q) === Parse.OK, 'valid query not OK')
        const v = shared
        must(v.id === s.id && v.qtype === s.type && v.qclass === s.klass, 'header fields')
        must(q.subarray(12, v.qnameEnd).equals(s.wire), 'question name')
        must(v.edns === (s.edns !== undefined), 'edns')
        must(!v.extraRecords, 'no extra records')
        if (s.edns) {
          must(
            v.ednsUdpSize === s.edns.udpSize &&
              v.ednsDo === s.edns.do &&
              v.ednsVersion === s.edns.version,
            'EDNS fields',
          )
          const size = s.edns.options.reduce((n, o) => n + 4 + o.data.length, 0)
          must(v.ednsOptionsEnd - v.ednsOptionsStart === size, 'options size')
          const last = s.edns.options.findLastIndex((o) => o.code === 8)
          must(last >= 0 === v.ecsOffset >= 0, 'ECS found')
          if (last >= 0) {
            const data = s.edns.options[last].data
            must(q.subarray(v.ecsOffset, v.ecsOffset + data.length).equals(data), 'ECS offset')
          }
        }
      }),
      { numRuns: 10_000 },
    )
  })

  it('never throws and stays in bounds on 100,000+ random and mutated packets', () => {
    const mutated = fc
      .tuple(queryArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
      .map(([s, ms]) => ms.reduce(mutate, build(s)))
    const random = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b))
    const headed = fc
      .tuple(
        fc.integer({ min: 0, max: 0x7fff }),
        fc.uint8Array({ maxLength: 8 }),
        fc.uint8Array({ maxLength: 200 }),
      )
      .map(([flags, counts, rest]) => {
        const h = header({
          flags,
          qd: 1,
          an: counts[0] & 1,
          ns: counts[1] & 1,
          ar: (counts[2] ?? 0) & 3,
        })
        return Buffer.concat([h, rest])
      })
    // Mostly well-formed: extra records appended behind a valid query.
    const recordArb = fc.record({
      kind: fc.constant('record' as const),
      section: fc.integer({ min: 0, max: 2 }),
      type: fc.constantFrom(Type.A, Type.TSIG, Type.NS, Type.OPT),
      rdata: fc.uint8Array({ maxLength: 12 }),
    })
    const extended = fc
      .tuple(queryArb, fc.array(recordArb, { minLength: 1, maxLength: 3 }))
      .map(([s, ms]) => ms.reduce(mutate, build(s)))
    const seen = [0, 0, 0]
    crossChecked = 0
    fc.assert(
      fc.property(
        fc.oneof(
          { arbitrary: mutated, weight: 5 },
          { arbitrary: extended, weight: 2 },
          { arbitrary: random, weight: 2 },
          { arbitrary: headed, weight: 1 },
        ),
        (buf) => {
          seen[checkInvariants(buf)]++
        },
      ),
      { numRuns: 110_000 },
    )
    // The generators reach all three outcomes.
    expect(seen[Parse.OK]).toBeGreaterThan(1000)
    expect(seen[Parse.FORMERR]).toBeGreaterThan(1000)
    expect(seen[Parse.DROP]).toBeGreaterThan(1000)
    expect(crossChecked).toBeGreaterThan(1000)
  })
})

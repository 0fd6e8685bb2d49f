// Whole-message decoding and query building (off the hot path).

import { describe, expect, it } from 'vitest'
import { CutoverError } from '../common/cutover-error.ts'
import { Flag, Rcode, Type } from './constants.ts'
import { buildQuery, decodeMessage, writeOpt } from './message.ts'
import { WireWriter } from './wire-writer.ts'

const fromHex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

// A response built by hand, with compression pointers:
//   12  question www.example.com. A IN (name 12..28)
//   33  www.example.com. CNAME web.example.com.   (web at 45)
//   51  web.example.com. A 192.0.2.1              (owner -> 45)
//   67  example.com. NS ns1.example.com.          (ns1 at 79)
//   85  ns1.example.com. A 192.0.2.53             (owner -> 79)
//  101  OPT udp 1232, extended rcode 1, DO, cookie option
const RESPONSE = `
  beef 8180 0001 0002 0001 0002
  03777777 076578616d706c65 03636f6d 00  0001 0001
  c00c 0005 0001 0000012c 0006  03776562 c010
  c02d 0001 0001 0000012c 0004  c0000201
  c010 0002 0001 00000e10 0006  036e7331 c010
  c04f 0001 0001 00000e10 0004  c0000235
  00 0029 04d0 01008000 000c  000a 0008 0102030405060708`

function malformed(buf: Uint8Array): string {
  try {
    decodeMessage(buf)
  } catch (err) {
    expect(err).toBeInstanceOf(CutoverError)
    expect((err as CutoverError).code).toBe('CUTOVER_ERR_MESSAGE_MALFORMED')
    return (err as CutoverError).message
  }
  throw new Error('expected a MESSAGE_MALFORMED error')
}

describe('decodeMessage', () => {
  it('decodes a compressed response, lifting OPT into edns', () => {
    const msg = fromHex(RESPONSE)
    expect(msg.length).toBe(124)
    const m = decodeMessage(msg)
    expect(m.id).toBe(0xbeef)
    expect(m.flags).toBe(0x8180)
    expect(m.opcode).toBe(0)
    expect(m.questions).toEqual([{ name: 'www.example.com.', type: Type.A, class: 1 }])
    expect(m.answer).toEqual([
      { name: 'www.example.com.', type: Type.CNAME, class: 1, ttl: 300, data: 'web.example.com.' },
      { name: 'web.example.com.', type: Type.A, class: 1, ttl: 300, data: '192.0.2.1' },
    ])
    expect(m.authority).toEqual([
      { name: 'example.com.', type: Type.NS, class: 1, ttl: 3600, data: 'ns1.example.com.' },
    ])
    expect(m.additional).toEqual([
      { name: 'ns1.example.com.', type: Type.A, class: 1, ttl: 3600, data: '192.0.2.53' },
    ])
    expect(m.edns).toEqual({
      udpSize: 1232,
      version: 0,
      extendedRcode: 1,
      do: true,
      options: [{ code: 10, data: fromHex('0102030405060708') }],
    })
    // Header rcode 0 plus extended rcode 1 << 4.
    expect(m.rcode).toBe(Rcode.BADVERS)
  })

  it('joins the header rcode with the extended bits', () => {
    const msg = fromHex(RESPONSE)
    msg[3] = 0x83 // NXDOMAIN in the header
    expect(decodeMessage(msg).rcode).toBe(16 + 3)
    msg[3] = 0x80
    msg.writeUInt32BE(0x00008000, 101 + 5) // extended rcode 0
    expect(decodeMessage(msg).rcode).toBe(0)
  })

  it('leaves edns undefined without an OPT record', () => {
    const m = decodeMessage(fromHex('0001 8183 0001 0000 0000 0000 0161 00 0001 0001'))
    expect(m.edns).toBeUndefined()
    expect(m.rcode).toBe(Rcode.NXDOMAIN)
    expect(m.questions).toEqual([{ name: 'a.', type: 1, class: 1 }])
  })

  it('reads the EDNS version, a clear DO bit and several options', () => {
    const m = decodeMessage(
      fromHex(
        '0001 0000 0000 0000 0000 0001 00 0029 1000 00020000 000b 0008 0003 000100 000c 0000',
      ),
    )
    expect(m.edns).toEqual({
      udpSize: 4096,
      version: 2,
      extendedRcode: 0,
      do: false,
      options: [
        { code: 8, data: fromHex('000100') },
        { code: 12, data: Buffer.alloc(0) },
      ],
    })
    expect(m.additional).toEqual([])
  })

  it('decodes a header-only message and large TTLs', () => {
    expect(decodeMessage(fromHex('ffff 0000 0000 0000 0000 0000'))).toMatchObject({
      id: 0xffff,
      questions: [],
      answer: [],
    })
    const m = decodeMessage(
      fromHex('0000 8000 0000 0001 0000 0000 00 0001 0001 ffffffff 0004 01020304'),
    )
    expect(m.answer[0].ttl).toBe(0xffffffff)
    expect(m.answer[0].name).toBe('.')
  })

  it('rejects trailing garbage', () => {
    expect(malformed(Buffer.concat([fromHex(RESPONSE), fromHex('00')]))).toBe(
      'malformed DNS message: 1 octets of trailing garbage',
    )
  })

  it('rejects the response cut at every length', () => {
    const msg = fromHex(RESPONSE)
    for (let n = 0; n < msg.length; n++) malformed(msg.subarray(0, n))
    expect(malformed(msg.subarray(0, 11))).toContain('shorter than a header')
    expect(malformed(msg.subarray(0, 31))).toContain('question runs past the end')
    expect(malformed(msg.subarray(0, 40))).toContain('record header runs past the end')
    expect(malformed(msg.subarray(0, 48))).toContain('record data runs past the end')
    expect(malformed(msg.subarray(0, 20))).toContain('bad name at offset 12')
  })

  it('rejects bad compression pointers', () => {
    expect(malformed(fromHex('0000 0000 0001 0000 0000 0000 c00c 0001 0001'))).toContain(
      'bad name at offset 12',
    )
    expect(malformed(fromHex('0000 0000 0001 0000 0000 0000 c0ff 0001 0001'))).toContain('bad name')
  })

  it('rejects OPT outside the additional section, or twice', () => {
    const opt = '00 0029 04d0 00000000 0000'
    expect(malformed(fromHex(`0000 0000 0000 0001 0000 0000 ${opt}`))).toContain(
      'OPT record outside',
    )
    expect(malformed(fromHex(`0000 0000 0000 0000 0001 0000 ${opt}`))).toContain(
      'OPT record outside',
    )
    expect(malformed(fromHex(`0000 0000 0000 0000 0000 0002 ${opt} ${opt}`))).toContain('repeated')
  })

  it('rejects EDNS options that overrun the record', () => {
    expect(
      malformed(fromHex('0000 0000 0000 0000 0000 0001 00 0029 04d0 00000000 0002 000a')),
    ).toContain('EDNS option header runs past the record')
    expect(
      malformed(fromHex('0000 0000 0000 0000 0000 0001 00 0029 04d0 00000000 0005 000a 0002 00')),
    ).toContain('EDNS option runs past the record')
  })
})

describe('buildQuery', () => {
  it('builds a plain query with RD on by default', () => {
    const q = buildQuery({ id: 0x1234, name: 'example.com', type: Type.A })
    expect(hex(q)).toBe('123401000001000000000000076578616d706c6503636f6d0000010001')
    expect(hex(buildQuery({ id: 0x1234, name: 'example.com.', type: Type.A }))).toBe(hex(q))
  })

  it('clears RD and sets CD when asked', () => {
    const flags = (q: Buffer) => q.readUInt16BE(2)
    expect(flags(buildQuery({ id: 1, name: 'a', type: 1, rd: false }))).toBe(0)
    expect(flags(buildQuery({ id: 1, name: 'a', type: 1, cd: true }))).toBe(Flag.RD | Flag.CD)
    expect(flags(buildQuery({ id: 1, name: 'a', type: 1, rd: false, cd: true }))).toBe(Flag.CD)
    expect(flags(buildQuery({ id: 1, name: 'a', type: 1, rd: true }))).toBe(Flag.RD)
  })

  it('sets the type and class and keeps the name case', () => {
    const q = buildQuery({ id: 9, name: 'Version.Bind', type: Type.TXT, class: 3 })
    expect(hex(q.subarray(12))).toBe('0756657273696f6e0442696e6400 0010 0003'.replace(/ /g, ''))
    expect(decodeMessage(q).questions).toEqual([
      { name: 'Version.Bind.', type: Type.TXT, class: 3 },
    ])
  })

  it('builds a query for the root', () => {
    expect(hex(buildQuery({ id: 0, name: '.', type: Type.NS }).subarray(12))).toBe('0000020001')
  })

  it('adds an OPT record with defaults', () => {
    const q = buildQuery({ id: 1, name: 'a', type: Type.A, edns: {} })
    expect(q.readUInt16BE(10)).toBe(1)
    expect(hex(q.subarray(12 + 3 + 4))).toBe('00 0029 04d0 00000000 0000'.replace(/ /g, ''))
  })

  it('adds DO, version, size and options', () => {
    const q = buildQuery({
      id: 1,
      name: 'a',
      type: Type.A,
      edns: {
        udpSize: 4096,
        do: true,
        version: 1,
        options: [
          { code: 8, data: fromHex('00011800c00002') },
          { code: 10, data: fromHex('0102030405060708') },
        ],
      },
    })
    expect(hex(q.subarray(19))).toBe(
      '00 0029 1000 00018000 0017 0008 0007 00011800c00002 000a 0008 0102030405060708'.replace(
        / /g,
        '',
      ),
    )
    expect(decodeMessage(q).edns).toEqual({
      udpSize: 4096,
      version: 1,
      extendedRcode: 0,
      do: true,
      options: [
        { code: 8, data: fromHex('00011800c00002') },
        { code: 10, data: fromHex('0102030405060708') },
      ],
    })
  })

  it('picks a 16-bit ID when none is given', () => {
    for (let i = 0; i < 20; i++) {
      const id = buildQuery({ name: 'a', type: 1 }).readUInt16BE(0)
      expect(Number.isInteger(id) && id >= 0 && id <= 0xffff).toBe(true)
    }
  })

  it('rejects a bad name', () => {
    expect(() => buildQuery({ id: 1, name: 'a..b', type: 1 })).toThrow(/empty label/)
  })
})

describe('writeOpt', () => {
  it('writes the OPT pseudo-record at the writer position', () => {
    const w = new WireWriter(0, 64)
    w.u8(0xff)
    writeOpt(w, 1232, false, 0, [{ code: 65001, data: fromHex('ab') }])
    expect(hex(w.take())).toBe('ff 00 0029 04d0 00000000 0005 fde9 0001 ab'.replace(/ /g, ''))
  })
})

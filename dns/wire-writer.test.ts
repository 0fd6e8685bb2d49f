// WireWriter: name compression against what was written, against seeded names
// (absolute offsets or question-name suffixes), and in blob mode with fixups.

import { describe, expect, it } from 'vitest'
import { Type } from './constants.ts'
import { decodeMessage } from './message.ts'
import { nameToWire, wireLength } from './name.ts'
import { type Rdata, rdataFromText } from './rdata.ts'
import { WireWriter } from './wire-writer.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const fromHex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const w = (text: string) => nameToWire(text)
const rd = (type: number, ...texts: string[]): Rdata =>
  rdataFromText(
    type,
    texts.map((text) => ({ text, quoted: false })),
    w('example.com.'),
  )

function header(out: WireWriter, an: number, qd = 1) {
  out.u16(0x1234)
  out.u16(0x8180)
  out.u16(qd)
  out.u16(an)
  out.u16(0)
  out.u16(0)
}

/** A writer at offset 0 holding a response header (ancount `an`) and the question `name` `type` IN, kept for compression. */
function response(name: string, type: number, an: number): WireWriter {
  const out = new WireWriter(0)
  header(out, an)
  out.name(w(name))
  out.u16(type)
  out.u16(1)
  return out
}

/** Copies a blob behind a message prefix, resolving its fixups as documented. */
function place(prefix: Buffer, qnameEnd: number, blob: Buffer, fixups: Int32Array): Buffer {
  const out = Buffer.concat([prefix, blob])
  for (let i = 0; i < fixups.length; i += 2) {
    const at = fixups[i]
    const t = fixups[i + 1]
    const target = t >= 0 ? prefix.length + t : qnameEnd + t
    out.writeUInt16BE(0xc000 | target, prefix.length + at)
  }
  return out
}

/** A query-like prefix: header (ancount given) and a question for `name` type A. */
function questionPrefix(name: string, an: number): { prefix: Buffer; qnameEnd: number } {
  const out = new WireWriter(0, 512)
  header(out, an)
  out.name(w(name), false)
  const qnameEnd = out.pos
  out.u16(Type.A)
  out.u16(1)
  return { prefix: out.take(), qnameEnd }
}

describe('WireWriter at a known offset', () => {
  it('compresses repeated names in a whole response', () => {
    const out = response('www.example.com.', Type.A, 3)
    out.record(undefined, Type.A, 1, 300, rd(Type.A, '192.0.2.1'))
    out.record(w('www.example.com.'), Type.CNAME, 1, 300, rd(Type.CNAME, 'web.example.com.'))
    out.record(w('web.example.com.'), Type.A, 1, 300, rd(Type.A, '192.0.2.2'))
    const msg = out.take()
    expect(hex(msg)).toBe(
      [
        '1234 8180 0001 0003 0000 0000',
        '03777777076578616d706c6503636f6d00 0001 0001',
        'c00c 0001 0001 0000012c 0004 c0000201',
        'c00c 0005 0001 0000012c 0006 03776562 c010',
        'c03d 0001 0001 0000012c 0004 c0000202',
      ]
        .join('')
        .replace(/ /g, ''),
    )
    // Uncompressed it would take 12 + 21 + 16 + 44 + 31 = 124 octets.
    expect(msg.length).toBe(83)
    const m = decodeMessage(msg)
    expect(m.questions).toEqual([{ name: 'www.example.com.', type: Type.A, class: 1 }])
    expect(m.answer.map((r) => `${r.name} ${r.ttl} ${r.type} ${r.data}`)).toEqual([
      'www.example.com. 300 1 192.0.2.1',
      'www.example.com. 300 5 web.example.com.',
      'web.example.com. 300 1 192.0.2.2',
    ])
  })

  it('compresses case-insensitively', () => {
    const out = new WireWriter(0)
    out.name(w('www.example.com.'))
    out.name(w('WWW.EXAMPLE.COM.'))
    out.name(w('Mail.Example.Com.'))
    expect(hex(out.take())).toBe(
      `${hex(w('www.example.com.'))}c000 044d61696c c004`.replace(/ /g, ''),
    )
  })

  it('writes uncompressed and remembers nothing when told not to compress', () => {
    const out = new WireWriter(0)
    const name = w('a.example.')
    out.name(name, false)
    out.name(name, false)
    out.name(name)
    out.name(name)
    expect(hex(out.take())).toBe(`${hex(name)}${hex(name)}${hex(name)}c016`)
  })

  it('compresses names inside rdata where the type allows it, and only there', () => {
    const out = response('example.com.', Type.MX, 3)
    out.record(undefined, Type.MX, 1, 60, rd(Type.MX, '10', 'mail.example.com.'))
    out.record(undefined, Type.SRV, 1, 60, rd(Type.SRV, '0', '0', '25', 'mail.example.com.'))
    out.record(
      undefined,
      Type.SOA,
      1,
      60,
      rd(Type.SOA, 'mail.example.com.', 'hm.example.com.', '1', '2', '3', '4', '5'),
    )
    const msg = out.take()
    // MX: preference, then 'mail' and a pointer to the question name.
    expect(hex(msg.subarray(29 + 12, 29 + 12 + 9))).toBe('000a046d61696cc00c')
    // SRV: the target in full although it is known.
    const srvData = 29 + 21 + 12
    expect(hex(msg.subarray(srvData, srvData + 6 + 18))).toBe(
      `00000000 0019 ${hex(w('mail.example.com.'))}`.replace(/ /g, ''),
    )
    // SOA: both names compressed (mail.example.com. against the MX data).
    const soaData = srvData + 24 + 12
    expect(hex(msg.subarray(soaData, soaData + 2))).toBe('c02b')
    expect(hex(msg.subarray(soaData + 2, soaData + 7))).toBe('02686dc00c')
    const m = decodeMessage(msg)
    expect(m.answer.map((r) => r.data)).toEqual([
      '10 mail.example.com.',
      '0 0 25 mail.example.com.',
      'mail.example.com. hm.example.com. 1 2 3 4 5',
    ])
  })

  it('seeds absolute targets, suffixes included', () => {
    const out = new WireWriter(40)
    out.seed(w('example.com.'), { kind: 'abs', offset: 12 })
    out.name(w('www.example.com.'))
    out.name(w('mail.com.'))
    out.name(w('example.com.'))
    out.name(w('www.example.com.'))
    // www at 40, then mail at 46: pointers at 12 + 8 = 20 and to 40.
    expect(hex(out.take())).toBe('03777777c00c 046d61696cc014 c00c c028'.replace(/ /g, ''))
    expect(out.fixups()).toEqual(new Int32Array(0))
  })

  it('keeps the first seed for a name', () => {
    const out = new WireWriter(0)
    out.seed(w('example.com.'), { kind: 'abs', offset: 12 })
    out.seed(w('example.com.'), { kind: 'abs', offset: 100 })
    out.name(w('example.com.'))
    expect(hex(out.take())).toBe('c00c')
  })

  it('does not use a name past offset 0x3fff as a pointer target', () => {
    const out = new WireWriter(0x3ffc)
    out.name(w('www.example.com.')) // www at 0x3ffc, example at 0x4000, com at 0x4008
    out.name(w('example.com.')) // not compressible: written in full
    out.name(w('com.'))
    out.name(w('www.example.com.')) // www at 0x3ffc is still a valid target
    const bytes = out.take()
    expect(hex(bytes)).toBe(
      `${hex(w('www.example.com.'))}${hex(w('example.com.'))}${hex(w('com.'))}fffc`,
    )
  })
})

describe('WireWriter seeds past 0x3fff', () => {
  it('does not use a seeded suffix past offset 0x3fff as a pointer target', () => {
    // www at 0x3ffc can be pointed at; example.com. at 0x4000 cannot (14 bits).
    const out = new WireWriter(0x5000)
    out.seed(w('www.example.com.'), { kind: 'abs', offset: 0x3ffc })
    out.name(w('example.com.'))
    out.name(w('www.example.com.'))
    expect(hex(out.take())).toBe(`${hex(w('example.com.'))}fffc`)
  })
})

describe('WireWriter in blob mode', () => {
  it('records fixups for question-name suffixes (tail seeds)', () => {
    const question = w('www.example.com.')
    const out = new WireWriter(undefined)
    out.seed(question, { kind: 'tail', length: question.length })
    out.name(w('example.com.'))
    out.name(w('ftp.com.'))
    out.name(w('WWW.example.com.'))
    expect(hex(out.take())).toBe('c000 03667470c000 c000'.replace(/ /g, ''))
    expect([...out.fixups()]).toEqual([0, -13, 6, -5, 8, -17])
  })

  it('records fixups for positions inside the blob', () => {
    const out = new WireWriter(undefined)
    out.name(w('a.example.'))
    out.name(w('b.example.'))
    out.name(w('a.example.'))
    expect(hex(out.take())).toBe(`${hex(w('a.example.'))}0162c000c000`)
    expect([...out.fixups()]).toEqual([13, 2, 15, 0])
  })

  it('builds answers that decode once placed behind the question', () => {
    const question = w('www.example.com.')
    const out = new WireWriter(undefined)
    out.seed(question, { kind: 'tail', length: question.length })
    out.record(question, Type.CNAME, 1, 60, rd(Type.CNAME, 'ftp.example.com.'))
    out.record(w('ftp.example.com.'), Type.A, 1, 60, rd(Type.A, '192.0.2.7'))
    out.record(undefined, Type.TXT, 1, 60, rd(Type.TXT, 'x'))
    const blob = out.take()
    // The owner of the A record points at 'ftp' inside the CNAME data (blob offset 12).
    expect([...out.fixups()]).toEqual([0, -17, 16, -13, 18, 12])
    const { prefix, qnameEnd } = questionPrefix('www.example.com.', 3)
    const m = decodeMessage(place(prefix, qnameEnd, blob, out.fixups()))
    expect(m.answer.map((r) => `${r.name} ${r.type} ${r.data}`)).toEqual([
      'www.example.com. 5 ftp.example.com.',
      'ftp.example.com. 1 192.0.2.7',
      'www.example.com. 16 "x"',
    ])
  })

  it('writes absolute seeds as pointers without fixups', () => {
    const out = new WireWriter(undefined)
    out.seed(w('example.com.'), { kind: 'abs', offset: 12 })
    out.name(w('www.example.com.'))
    out.name(w('mail.com.'))
    expect(hex(out.take())).toBe('03777777c00c 046d61696cc014'.replace(/ /g, ''))
    expect(out.fixups().length).toBe(0)
  })

  it('only remembers positions that stay below 0x4000 behind the longest question', () => {
    // The longest question ends at 12 + 255 + 4 = 271: a name at blob offset p may
    // end up at 271 + p, so p = 0x3ef0 is the last usable position.
    const out = new WireWriter(undefined)
    out.bytes(Buffer.alloc(0x3ef0))
    out.name(w('a.')) // at 0x3ef0: remembered
    out.name(w('b.')) // at 0x3ef3: not remembered
    out.name(w('a.'))
    out.name(w('b.'))
    expect(hex(out.take().subarray(0x3ef0))).toBe('016100 016200 c000 016200'.replace(/ /g, ''))
    expect([...out.fixups()]).toEqual([0x3ef6, 0x3ef0])
  })
})

describe('WireWriter basics', () => {
  it('writes integers big-endian and copies bytes out', () => {
    const out = new WireWriter(0, 32)
    out.u8(0xab)
    out.u16(0x1234)
    out.u32(0xdeadbeef)
    out.u32(-1)
    out.bytes(fromHex('0102'))
    const taken = out.take()
    expect(hex(taken)).toBe('ab1234deadbeefffffffff0102')
    expect(out.pos).toBe(13)
    out.buf[0] = 0
    expect(taken[0]).toBe(0xab)
  })

  it('writes the root as one zero octet', () => {
    const out = new WireWriter(0)
    out.name(w('.'))
    out.name(w('.'))
    expect(hex(out.take())).toBe('0000')
  })

  it('writes the owner of a question-name record as a pointer to 12', () => {
    const out = new WireWriter(undefined)
    out.record(undefined, Type.A, 1, 1, rd(Type.A, '10.0.0.1'))
    expect(hex(out.take())).toBe('c00c 0001 0001 00000001 0004 0a000001'.replace(/ /g, ''))
    expect(out.fixups().length).toBe(0)
  })

  it('sets rdlength to the compressed size', () => {
    const out = new WireWriter(0)
    out.name(w('example.com.'))
    out.record(w('example.com.'), Type.NS, 1, 1, rd(Type.NS, 'ns.example.com.'))
    const msg = out.take()
    const rdlength = msg.readUInt16BE(13 + 2 + 8)
    expect(rdlength).toBe(5)
    expect(msg.length).toBe(13 + 2 + 10 + 5)
    expect(wireLength(w('ns.example.com.'))).toBeGreaterThan(rdlength)
  })
})

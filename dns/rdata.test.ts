// Record data: zone-file tokens -> wire, wire -> text, the compressible-name offsets
// a writer relies on, and the target name of the types that have one.

import { describe, expect, it } from 'vitest'
import { CutoverError } from '../common/cutover-error.ts'
import { Type, typeCode, typeName } from './constants.ts'
import { nameToWire, wireToText } from './name.ts'
import {
  hasTextForm,
  type Rdata,
  rdataFromText,
  rdataFromWire,
  rdataToText,
  type Token,
  targetName,
  targetOffset,
} from './rdata.ts'

const ORIGIN = nameToWire('example.com.')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const fromHex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const wireHex = (name: string) => hex(nameToWire(name))

/** Tokens as the zone lexer gives them: `"..."` marks a quoted one (quotes removed). */
function toks(...texts: string[]): Token[] {
  return texts.map((t) =>
    t.length >= 2 && t.startsWith('"') && t.endsWith('"')
      ? { text: t.slice(1, -1), quoted: true }
      : { text: t, quoted: false },
  )
}

function parse(type: number, ...texts: string[]): Rdata {
  return rdataFromText(type, toks(...texts), ORIGIN)
}

function text(type: number, rdata: Rdata | Buffer): string {
  const wire = Buffer.isBuffer(rdata) ? rdata : rdata.wire
  return rdataToText(type, wire, 0, wire.length)
}

function rdataError(fn: () => unknown): CutoverError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CutoverError)
    expect((err as CutoverError).code).toBe('CUTOVER_ERR_RDATA_INVALID')
    return err as CutoverError
  }
  throw new Error('expected an RDATA_INVALID error')
}

describe('rdataFromText', () => {
  it('A', () => {
    const r = parse(Type.A, '192.0.2.1')
    expect(hex(r.wire)).toBe('c0000201')
    expect(r.names).toEqual([])
    expect(text(Type.A, r)).toBe('192.0.2.1')
  })

  it('AAAA', () => {
    const r = parse(Type.AAAA, '2001:DB8::1')
    expect(hex(r.wire)).toBe('20010db8000000000000000000000001')
    expect(r.names).toEqual([])
    expect(text(Type.AAAA, r)).toBe('2001:db8::1')
  })

  it('NS, CNAME and PTR: one compressible name, relative to the origin', () => {
    for (const type of [Type.NS, Type.CNAME, Type.PTR]) {
      const r = parse(type, 'ns1')
      expect(hex(r.wire)).toBe(wireHex('ns1.example.com.'))
      expect(r.names).toEqual([0])
      expect(text(type, r)).toBe('ns1.example.com.')
      expect(hex(parse(type, 'host.example.net.').wire)).toBe(wireHex('host.example.net.'))
      expect(hex(parse(type, '@').wire)).toBe(hex(ORIGIN))
    }
  })

  it('DNAME: a name that is never compressed', () => {
    const r = parse(Type.DNAME, 'other.example.net.')
    expect(hex(r.wire)).toBe(wireHex('other.example.net.'))
    expect(r.names).toEqual([])
  })

  it('MX: preference then a compressible name', () => {
    const r = parse(Type.MX, '10', 'mail')
    expect(hex(r.wire)).toBe(`000a${wireHex('mail.example.com.')}`)
    expect(r.names).toEqual([2])
    expect(text(Type.MX, r)).toBe('10 mail.example.com.')
    expect(hex(parse(Type.MX, '0', '@').wire)).toBe(`0000${hex(ORIGIN)}`)
  })

  it('SOA: two compressible names and timers with TTL units', () => {
    const r = parse(Type.SOA, 'ns1', 'hostmaster', '2024010101', '1h', '15m', '1w', '5m')
    const mname = nameToWire('ns1.example.com.')
    const rname = nameToWire('hostmaster.example.com.')
    expect(hex(r.wire)).toBe(
      `${hex(mname)}${hex(rname)}78a3f175 00000e10 00000384 00093a80 0000012c`.replace(/ /g, ''),
    )
    expect(r.names).toEqual([0, mname.length])
    expect(text(Type.SOA, r)).toBe(
      'ns1.example.com. hostmaster.example.com. 2024010101 3600 900 604800 300',
    )
  })

  it('SOA: the serial is a full 32-bit number, without units', () => {
    expect(text(Type.SOA, parse(Type.SOA, '.', '.', '4294967295', '1', '2', '3', '4'))).toBe(
      '. . 4294967295 1 2 3 4',
    )
    expect(
      rdataError(() => parse(Type.SOA, '.', '.', '4294967296', '1', '2', '3', '4')).message,
    ).toContain("'4294967296'")
    expect(rdataError(() => parse(Type.SOA, '.', '.', '1h', '1', '2', '3', '4')).message).toContain(
      "'1h'",
    )
    expect(
      rdataError(() => parse(Type.SOA, '.', '.', '1', '1', '2', '3', 'forever')).message,
    ).toContain("'forever'")
    expect(rdataError(() => parse(Type.SOA, '.', '.', '1', '1', '2', '3')).message).toContain(
      'end of record',
    )
  })

  it('TXT: several strings, quoted with spaces', () => {
    const r = parse(Type.TXT, '"hello world"', '"second"', 'bare')
    expect(hex(r.wire)).toBe('0b68656c6c6f20776f726c64' + '067365636f6e64' + '0462617265')
    expect(r.names).toEqual([])
    expect(text(Type.TXT, r)).toBe('"hello world" "second" "bare"')
  })

  it('TXT: escapes \\" \\\\ and \\DDD', () => {
    const r = parse(Type.TXT, '"say \\"hi\\""', '"back\\\\slash"', '"\\065\\000\\255"')
    const str = (t: string) => hex(Buffer.from(t, 'latin1'))
    expect(hex(r.wire)).toBe(`08${str('say "hi"')}0a${str('back\\slash')}034100ff`)
    expect(text(Type.TXT, r)).toBe('"say \\"hi\\"" "back\\\\slash" "A\\000\\255"')
  })

  it('TXT: an empty string, 255 octets, and the 256-octet error', () => {
    expect(hex(parse(Type.TXT, '""').wire)).toBe('00')
    const max = parse(Type.TXT, `"${'x'.repeat(255)}"`)
    expect(max.wire.length).toBe(256)
    expect(max.wire[0]).toBe(255)
    // An escape counts as one octet.
    expect(parse(Type.TXT, `"${'\\120'.repeat(255)}"`).wire.length).toBe(256)
    const err = rdataError(() => parse(Type.TXT, `"${'x'.repeat(256)}"`))
    expect(err.message).toContain('character-string longer than 255 octets')
    expect(err.message).toContain(`'${'x'.repeat(256)}'`)
  })

  it('TXT: needs at least one string; bad escapes are errors', () => {
    expect(rdataError(() => parse(Type.TXT)).message).toContain('end of record')
    expect(rdataError(() => parse(Type.TXT, '"\\256"')).message).toContain(
      'escape \\256 is over 255',
    )
    expect(rdataError(() => parse(Type.TXT, 'abc\\')).message).toContain('dangling backslash')
    expect(rdataError(() => parse(Type.TXT, '"\u20ac"')).message).toContain('outside Latin-1')
  })

  it('SRV: numbers then a target that is never compressed', () => {
    const r = parse(Type.SRV, '10', '20', '5060', 'sip.example.com.')
    expect(hex(r.wire)).toBe(`000a 0014 13c4 ${wireHex('sip.example.com.')}`.replace(/ /g, ''))
    expect(r.names).toEqual([])
    expect(text(Type.SRV, r)).toBe('10 20 5060 sip.example.com.')
    expect(rdataError(() => parse(Type.SRV, '10', '20', '65536', 'x.')).message).toContain(
      "'65536'",
    )
  })

  it('CAA: flags, tag and quoted value', () => {
    const r = parse(Type.CAA, '0', 'issue', '"letsencrypt.org"')
    expect(hex(r.wire)).toBe(
      `00 05 ${hex(Buffer.from('issue'))} ${hex(Buffer.from('letsencrypt.org'))}`.replace(/ /g, ''),
    )
    expect(text(Type.CAA, r)).toBe('0 issue "letsencrypt.org"')
    expect(text(Type.CAA, parse(Type.CAA, '128', 'iodef', '"mailto:a@example.com"'))).toBe(
      '128 iodef "mailto:a@example.com"',
    )
    expect(rdataError(() => parse(Type.CAA, '0', 'is-sue', '"x"')).message).toContain("'is-sue'")
    expect(rdataError(() => parse(Type.CAA, '256', 'issue', '"x"')).message).toContain("'256'")
  })

  it('HINFO: two strings', () => {
    const r = parse(Type.HINFO, '"INTEL"', 'LINUX')
    expect(hex(r.wire)).toBe('05494e54454c054c494e5558')
    expect(text(Type.HINFO, r)).toBe('"INTEL" "LINUX"')
    expect(rdataError(() => parse(Type.HINFO, '"INTEL"')).message).toContain('end of record')
  })

  it('DS: numbers then a digest in one or several hex tokens', () => {
    const digest = '2BB183AF5F22588179A53B0A98631FAD1A292118'
    const r = parse(Type.DS, '60485', '5', '1', digest)
    expect(hex(r.wire)).toBe(`ec45 05 01 ${digest.toLowerCase()}`.replace(/ /g, ''))
    expect(text(Type.DS, r)).toBe(`60485 5 1 ${digest}`)
    expect(hex(parse(Type.DS, '60485', '5', '1', digest.slice(0, 10), digest.slice(10)).wire)).toBe(
      hex(r.wire),
    )
    expect(rdataError(() => parse(Type.DS, '60485', '5', '1', 'xyz')).message).toContain("'xyz'")
    expect(rdataError(() => parse(Type.DS, '60485', '5', '1', 'abc')).message).toContain(
      'hexadecimal',
    )
    expect(rdataError(() => parse(Type.DS, '60485', '5', '1')).message).toContain('hexadecimal')
  })

  it('the generic form \\# for an unknown type', () => {
    const r = parse(65280, '\\#', '4', '0a000001')
    expect(hex(r.wire)).toBe('0a000001')
    expect(r.names).toEqual([])
    expect(text(65280, r)).toBe('\\# 4 0a000001')
    expect(hex(parse(65280, '\\#', '4', '0a00', '0001').wire)).toBe('0a000001')
    const empty = parse(65280, '\\#', '0')
    expect(empty.wire.length).toBe(0)
    expect(text(65280, empty)).toBe('\\# 0')
  })

  it('the generic form \\# for a known type, validated and with its names found', () => {
    const a = parse(Type.A, '\\#', '4', '0a000001')
    expect(hex(a.wire)).toBe('0a000001')
    expect(text(Type.A, a)).toBe('10.0.0.1')
    const mx = parse(Type.MX, '\\#', '6', `000a${wireHex('mx.')}`)
    expect(mx.names).toEqual([2])
    expect(text(Type.MX, mx)).toBe('10 mx.')
    const err = rdataError(() => parse(Type.A, '\\#', '3', '0a0000'))
    expect(err.message).toContain('not valid A data')
  })

  it('the generic form \\# with a length that does not match the data', () => {
    const err = rdataError(() => parse(65280, '\\#', '5', '0a000001'))
    expect(err.message).toContain("'5'")
    expect(err.message).toContain('length says 5 but the hex holds 4 octets')
    expect(rdataError(() => parse(65280, '\\#', 'four', '0a000001')).message).toContain("'four'")
    expect(rdataError(() => parse(65280, '\\#')).message).toContain('end of record')
    expect(rdataError(() => parse(65280, '\\#', '2', '0g00')).message).toContain("'0g00'")
  })

  it('the generic form \\# must not smuggle a compression pointer into stored data', () => {
    // Stored rdata is uncompressed: a pointer here would be copied into answers
    // and aimed at whatever sits at that offset of the answer message.
    expect(() => parse(Type.MX, '\\#', '4', '0000c000')).toThrow(CutoverError)
    const ns = wireHex('ns.')
    expect(() => parse(Type.SOA, '\\#', String(4 + 2 + 20), `${ns}c000${'00'.repeat(20)}`)).toThrow(
      CutoverError,
    )
  })

  it('a quoted \\# is data, not the generic form', () => {
    expect(hex(parse(Type.TXT, '"\\#"', '"1"').wire)).toBe('01230131')
  })

  it('refuses types without a text form, pointing at \\#', () => {
    const err = rdataError(() => parse(Type.NULL, 'host.example.com.', 'A'))
    expect(err.message).toContain("NULL rdata at 'host.example.com.'")
    expect(err.message).toContain('\\# <length> <hex>')
    expect(rdataError(() => parse(65280, 'x')).message).toContain('TYPE65280')
  })

  it('names the offending token in its errors', () => {
    const err = rdataError(() => parse(Type.A, '192.0.2.256'))
    expect(err.message).toBe("A rdata at '192.0.2.256': expected an IPv4 address")
    expect(rdataError(() => parse(Type.AAAA, '1::2::3')).message).toContain(
      "AAAA rdata at '1::2::3'",
    )
    expect(rdataError(() => parse(Type.A)).message).toBe(
      'A rdata at end of record: expected an IPv4 address',
    )
    expect(rdataError(() => parse(Type.A, '192.0.2.1', 'extra')).message).toBe(
      "A rdata at 'extra': unexpected extra data",
    )
    expect(rdataError(() => parse(Type.MX, 'ten', 'mail')).message).toContain("MX rdata at 'ten'")
    expect(rdataError(() => parse(Type.NS, 'a..b')).message).toContain("NS rdata at 'a..b'")
    expect(rdataError(() => parse(Type.CNAME, `${'x'.repeat(64)}.`)).message).toContain(
      'label longer than 63',
    )
  })
})

describe('rdataFromWire', () => {
  it('finds the compressible names of known types', () => {
    const soa = parse(Type.SOA, 'ns1', 'hm', '1', '2', '3', '4', '5')
    expect(rdataFromWire(Type.SOA, soa.wire).names).toEqual(soa.names)
    expect(rdataFromWire(Type.SRV, parse(Type.SRV, '1', '2', '3', 'x.').wire).names).toEqual([])
  })

  it('passes unknown types through and rejects malformed known ones', () => {
    expect(rdataFromWire(65280, fromHex('ff')).names).toEqual([])
    expect(() => rdataFromWire(Type.AAAA, fromHex('00'.repeat(15)))).toThrow(/not valid AAAA data/)
    expect(() => rdataFromWire(Type.TXT, fromHex('05616263'))).toThrow(/not valid TXT data/)
    expect(() => rdataFromWire(Type.TXT, Buffer.alloc(0))).toThrow(/not valid TXT data/)
    expect(() => rdataFromWire(Type.NS, fromHex('0361626300ff'))).toThrow(/not valid NS data/)
  })
})

describe('rdataToText', () => {
  it('round-trips through rdataFromText', () => {
    const cases: [number, string[]][] = [
      [Type.A, ['192.0.2.1']],
      [Type.AAAA, ['2001:db8::2:1']],
      [Type.NS, ['ns1.example.com.']],
      [Type.CNAME, ['a\\.b.example.com.']],
      [Type.PTR, ['1.2.0.192.in-addr.arpa.']],
      [Type.DNAME, ['example.net.']],
      [Type.MX, ['10', 'mail.example.com.']],
      [Type.SOA, ['ns.example.com.', 'h\\.m.example.com.', '1', '2', '3', '4', '5']],
      [Type.TXT, ['"a b"', '"c\\"d"', '"\\000\\255"', '""']],
      [Type.SRV, ['0', '5', '443', '.']],
      [Type.CAA, ['0', 'issuewild', '";"']],
      [Type.HINFO, ['"PC"', '"Linux 6"']],
      [Type.DS, ['1', '13', '9', 'ABCDEF0123']],
      [Type.SSHFP, ['1', '9', '00FF']],
      [Type.TLSA, ['3', '1', '1', 'AB']],
      [Type.NAPTR, ['100', '10', '"S"', '"SIP+D2U"', '""', '_sip._udp.example.com.']],
    ]
    for (const [type, tokens] of cases) {
      const r = parse(type, ...tokens)
      const shown = text(type, r)
      expect(shown, typeName(type)).toBe(tokens.join(' '))
      const again = rdataFromText(type, toks(...splitShown(shown)), ORIGIN)
      expect(hex(again.wire), typeName(type)).toBe(hex(r.wire))
    }
  })

  it('expands compressed names inside a message', () => {
    // example.com. at 12; MX rdata at 25: preference 10, name = pointer to 12.
    const msg = fromHex(`000000000000000000000000 ${wireHex('example.com.')} 000a c00c`)
    expect(rdataToText(Type.MX, msg, 25, 29)).toBe('10 example.com.')
    // SOA whose second name points into the first.
    const soa = fromHex(
      `000000000000000000000000 ${wireHex('ns.example.')} 02686dc00f 00000001 00000002 00000003 00000004 00000005`,
    )
    expect(rdataToText(Type.SOA, soa, 12, soa.length)).toBe('ns.example. hm.example. 1 2 3 4 5')
  })

  it('falls back to the generic form for data that does not fit the type', () => {
    expect(rdataToText(Type.A, fromHex('0a0000'), 0, 3)).toBe('\\# 3 0a0000')
    expect(rdataToText(Type.A, fromHex('0a00000101'), 0, 5)).toBe('\\# 5 0a00000101')
    expect(rdataToText(Type.MX, fromHex('000a'), 0, 2)).toBe('\\# 2 000a')
    expect(rdataToText(Type.NS, fromHex('c000'), 0, 2)).toBe('\\# 2 c000')
    expect(rdataToText(Type.TXT, fromHex(''), 0, 0)).toBe('\\# 0')
    expect(rdataToText(Type.RRSIG, fromHex('0102'), 0, 2)).toBe('\\# 2 0102')
  })

  it('reads only [start, end) of the buffer', () => {
    const buf = fromHex('ff c0000201 ff')
    expect(rdataToText(Type.A, buf, 1, 5)).toBe('192.0.2.1')
  })
})

describe('targetName and targetOffset', () => {
  it('find the name a record points at', () => {
    expect(wireToText(targetName(Type.CNAME, parse(Type.CNAME, 'www').wire)!)).toBe(
      'www.example.com.',
    )
    expect(wireToText(targetName(Type.NS, parse(Type.NS, 'ns1').wire)!)).toBe('ns1.example.com.')
    expect(wireToText(targetName(Type.PTR, parse(Type.PTR, 'host.').wire)!)).toBe('host.')
    expect(wireToText(targetName(Type.DNAME, parse(Type.DNAME, 'x.net.').wire)!)).toBe('x.net.')
    expect(wireToText(targetName(Type.MX, parse(Type.MX, '10', 'mail').wire)!)).toBe(
      'mail.example.com.',
    )
    const srv = targetName(Type.SRV, parse(Type.SRV, '1', '2', '3', 'sip.example.com.').wire)!
    expect(hex(srv)).toBe(wireHex('sip.example.com.'))
  })

  it('return nothing for types without a target', () => {
    expect(targetName(Type.A, parse(Type.A, '192.0.2.1').wire)).toBeUndefined()
    expect(
      targetName(Type.SOA, parse(Type.SOA, '.', '.', '1', '2', '3', '4', '5').wire),
    ).toBeUndefined()
    expect(targetOffset(Type.TXT)).toBe(-1)
    expect(targetOffset(Type.MX)).toBe(2)
    expect(targetOffset(Type.SRV)).toBe(6)
    expect(targetOffset(Type.CNAME)).toBe(0)
  })
})

describe('type table', () => {
  it('knows which types have a text form', () => {
    for (const t of [Type.A, Type.AAAA, Type.NS, Type.SOA, Type.TXT, Type.CAA, Type.DS, Type.NSEC])
      expect(hasTextForm(t)).toBe(true)
    for (const t of [Type.NULL, Type.OPT, 65280]) expect(hasTextForm(t)).toBe(false)
  })

  it('maps mnemonics and TYPEnnn both ways', () => {
    expect(typeCode('aaaa')).toBe(Type.AAAA)
    expect(typeCode('TYPE65280')).toBe(65280)
    expect(typeCode('type1')).toBe(1)
    expect(typeCode('TYPE65536')).toBeUndefined()
    expect(typeCode('TYPE')).toBeUndefined()
    expect(typeCode('BOGUS')).toBeUndefined()
    expect(typeName(65280)).toBe('TYPE65280')
    expect(typeName(Type.CAA)).toBe('CAA')
  })
})

/** Splits presentation text into tokens, keeping quoted strings whole (quotes included). */
function splitShown(s: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < s.length) {
    if (s[i] === ' ') {
      i++
      continue
    }
    let j = i
    if (s[i] === '"') {
      j++
      while (s[j] !== '"') j += s[j] === '\\' ? 2 : 1
      j++
    } else {
      while (j < s.length && s[j] !== ' ') j++
    }
    out.push(s.slice(i, j))
    i = j
  }
  return out
}

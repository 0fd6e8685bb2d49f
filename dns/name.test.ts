// Domain names: text <-> wire, case folding, suffix tests, compressed-name expansion,
// and the label-wise hash that must agree with the query reader's.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CutoverError } from '../common/cutover-error.ts'
import { Type } from './constants.ts'
import { buildQuery } from './message.ts'
import {
  expandName,
  fqdnWire,
  isSubdomain,
  labelCount,
  labelName,
  lowerWire,
  nameKey,
  nameToWire,
  parentWire,
  ROOT_HASH,
  ROOT_WIRE,
  wireEquals,
  wireHash,
  wireLength,
  wireToText,
} from './name.ts'
import { createQueryView, Parse, readQuery } from './query-view.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const fromHex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const w = (text: string) => nameToWire(text)
const EXAMPLE = w('example.com.')

function nameError(fn: () => unknown): CutoverError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CutoverError)
    return err as CutoverError
  }
  throw new Error('expected a NAME_INVALID error')
}

describe('nameToWire', () => {
  it('encodes an absolute name label by label, case preserved', () => {
    expect(hex(w('www.example.com.'))).toBe('03777777076578616d706c6503636f6d00')
    expect(hex(w('WwW.Example.COM.'))).toBe('03577757074578616d706c6503434f4d00')
  })

  it('encodes the root as a single zero octet', () => {
    expect(hex(w('.'))).toBe('00')
    expect(hex(ROOT_WIRE)).toBe('00')
  })

  it('appends the origin to a relative name', () => {
    expect(hex(nameToWire('www', EXAMPLE))).toBe(hex(w('www.example.com.')))
    expect(hex(nameToWire('a.b', EXAMPLE))).toBe(hex(w('a.b.example.com.')))
    expect(hex(nameToWire('host', ROOT_WIRE))).toBe('04686f737400')
  })

  it('ignores the origin for an absolute name', () => {
    expect(hex(nameToWire('www.example.net.', EXAMPLE))).toBe(hex(w('www.example.net.')))
  })

  it('reads \\. as a dot inside a label', () => {
    expect(hex(w('a\\.b.example.'))).toBe('03612e62076578616d706c6500')
  })

  it('reads \\DDD as a decimal octet', () => {
    expect(hex(w('\\065bc.'))).toBe('0341626300')
    expect(hex(w('\\000.'))).toBe('010000')
    expect(hex(w('a\\255.'))).toBe('0261ff00')
    // Digits after a \DDD escape are ordinary characters.
    expect(hex(w('\\000123.'))).toBe('040031323300')
  })

  it('reads \\\\ as a backslash and \\X as X', () => {
    expect(hex(w('a\\\\b.'))).toBe('03615c6200')
    expect(hex(w('\\"x\\;.'))).toBe('0322783b00')
  })

  it('treats an escaped final dot as part of a relative name', () => {
    expect(hex(nameToWire('a\\.', EXAMPLE))).toBe(`02612e${hex(EXAMPLE)}`)
    expect(() => nameToWire('a\\.')).toThrow(/relative name with no origin/)
  })

  it('rejects an empty label', () => {
    for (const text of ['a..b.', '.a.', '..', 'a..']) {
      const err = nameError(() => w(text))
      expect(err.code).toBe('CUTOVER_ERR_NAME_INVALID')
      expect(err.message).toContain('empty label')
      expect(err.message).toContain(`'${text}'`)
    }
  })

  it('accepts a 63-octet label and rejects a 64-octet one', () => {
    expect(w(`${'a'.repeat(63)}.`).length).toBe(65)
    expect(() => w(`${'a'.repeat(64)}.`)).toThrow(/label longer than 63 octets/)
    expect(() => nameToWire('b'.repeat(64), EXAMPLE)).toThrow(/label longer than 63/)
  })

  it('accepts a 255-octet name and rejects a 256-octet one', () => {
    const l63 = 'a'.repeat(63)
    const at255 = `${l63}.${l63}.${l63}.${'b'.repeat(61)}.`
    expect(w(at255).length).toBe(255)
    const at256 = `${l63}.${l63}.${l63}.${'b'.repeat(62)}.`
    expect(() => w(at256)).toThrow(/name longer than 255 octets/)
  })

  it('counts the origin towards the 255-octet limit', () => {
    const l63 = 'a'.repeat(63)
    // 3 x 64 + 13 (example.com.) = 205; a 50-octet label makes it 256.
    expect(nameToWire(`${l63}.${l63}.${l63}.${'c'.repeat(48)}`, EXAMPLE).length).toBe(254)
    expect(() => nameToWire(`${l63}.${l63}.${l63}.${'c'.repeat(50)}`, EXAMPLE)).toThrow(
      /name longer than 255/,
    )
  })

  it('rejects a relative name when there is no origin', () => {
    const err = nameError(() => w('www'))
    expect(err.code).toBe('CUTOVER_ERR_NAME_INVALID')
    expect(err.source).toBe('client')
    expect(err.retryable).toBe(false)
    expect(err.message).toBe("invalid domain name 'www': relative name with no origin")
  })

  it('rejects unescaped spaces and non-ASCII, bad escapes and a dangling backslash', () => {
    expect(() => w('a b.')).toThrow(/must be escaped/)
    expect(() => w('caf\u00e9.')).toThrow(/must be escaped/)
    expect(() => w('\\256.')).toThrow(/escape \\256 is over 255/)
    expect(() => w('a\\')).toThrow(/dangling backslash/)
  })
})

describe('wireToText', () => {
  it('round-trips ordinary names', () => {
    for (const text of [
      'www.example.com.',
      '.',
      'a.b.c.d.',
      'WwW.Ex-ample.COM.',
      '_sip._tcp.example.com.',
      '*.example.com.',
      'xn--bcher-kva.example.',
    ]) {
      expect(wireToText(w(text))).toBe(text)
    }
  })

  it('escapes special characters and non-printable octets', () => {
    expect(wireToText(w('a\\.b.example.'))).toBe('a\\.b.example.')
    expect(wireToText(w('a\\\\b.'))).toBe('a\\\\b.')
    expect(wireToText(fromHex('0100 00'))).toBe('\\000.')
    expect(wireToText(fromHex('03 20ff7f 00'))).toBe('\\032\\255\\127.')
    expect(wireToText(fromHex('06 2228293b2440 00'))).toBe('\\"\\(\\)\\;\\$\\@.')
  })

  it('starts at the given offset', () => {
    const buf = Buffer.concat([fromHex('ffffff'), w('mail.example.')])
    expect(wireToText(buf, 3)).toBe('mail.example.')
    expect(wireToText(buf, 8)).toBe('example.')
  })

  it('round-trips any wire name through text (property)', () => {
    const label = fc.uint8Array({ minLength: 1, maxLength: 63 })
    fc.assert(
      fc.property(fc.array(label, { maxLength: 3 }), (labels) => {
        const wire = Buffer.concat([
          ...labels.map((l) => Buffer.concat([Buffer.of(l.length), l])),
          ROOT_WIRE,
        ])
        const text = wireToText(wire)
        expect(hex(nameToWire(text))).toBe(hex(wire))
      }),
      { numRuns: 2000 },
    )
  })
})

describe('name helpers', () => {
  it('lowerWire folds only A-Z', () => {
    // \\192 is not a letter and stays; \\090 is 'Z' and folds to 'z'.
    expect(hex(lowerWire(w('WwW.ExAmPlE.\\192\\090.')))).toBe('03777777076578616d706c6502c07a00')
    expect(wireToText(lowerWire(w('A-Z.@[`{.')))).toBe('a-z.\\@[`{.')
  })

  it('wireEquals compares case-insensitively at any offsets', () => {
    const a = Buffer.concat([fromHex('aabb'), w('WWW.Example.COM.')])
    const b = w('www.example.com.')
    expect(wireEquals(a, 2, b, 0)).toBe(true)
    expect(wireEquals(b, 0, a, 2)).toBe(true)
    expect(wireEquals(b, 4, a, 6)).toBe(true)
    expect(wireEquals(a, 2, w('www.example.org.'), 0)).toBe(false)
    expect(wireEquals(w('a.b.'), 0, w('ab.'), 0)).toBe(false)
    expect(wireEquals(w('example.com.'), 0, w('www.example.com.'), 0)).toBe(false)
    // Only ASCII letters fold: \192 and \224 (Latin-1 A-grave, a-grave) differ.
    expect(wireEquals(w('\\192.'), 0, w('\\224.'), 0)).toBe(false)
  })

  it('isSubdomain respects label boundaries', () => {
    expect(isSubdomain(w('www.example.com.'), EXAMPLE)).toBe(true)
    expect(isSubdomain(w('a.b.www.example.com.'), EXAMPLE)).toBe(true)
    expect(isSubdomain(EXAMPLE, EXAMPLE)).toBe(true)
    expect(isSubdomain(w('WWW.EXAMPLE.com.'), w('example.COM.'))).toBe(true)
    expect(isSubdomain(w('bexample.com.'), EXAMPLE)).toBe(false)
    expect(isSubdomain(EXAMPLE, w('www.example.com.'))).toBe(false)
    expect(isSubdomain(w('example.org.'), EXAMPLE)).toBe(false)
    expect(isSubdomain(w('anything.at.all.'), ROOT_WIRE)).toBe(true)
    expect(isSubdomain(ROOT_WIRE, ROOT_WIRE)).toBe(true)
    // The last five octets of 'a\003com.' spell 'com.' but not on a label boundary.
    const tricky = w('a\\003com.')
    expect(hex(tricky)).toBe('056103636f6d00')
    expect(isSubdomain(tricky, w('com.'))).toBe(false)
  })

  it('wireLength, labelCount, parentWire and nameKey', () => {
    const buf = Buffer.concat([fromHex('ff'), w('www.example.com.'), fromHex('ffff')])
    expect(wireLength(buf, 1)).toBe(17)
    expect(wireLength(ROOT_WIRE)).toBe(1)
    expect(labelCount(w('www.example.com.'))).toBe(3)
    expect(labelCount(ROOT_WIRE)).toBe(0)
    expect(wireToText(parentWire(w('www.example.com.')))).toBe('example.com.')
    expect(nameKey('WWW.Example.COM')).toBe('www.example.com.')
    expect(nameKey('WWW.Example.COM.')).toBe('www.example.com.')
    expect(nameKey('A\\.B.')).toBe('a\\.b.')
    expect(nameKey('.')).toBe('.')
  })

  it('fqdnWire takes a name as absolute with or without the final dot', () => {
    expect(hex(fqdnWire('example.com'))).toBe(hex(EXAMPLE))
    expect(hex(fqdnWire('example.com.'))).toBe(hex(EXAMPLE))
    expect(hex(fqdnWire('.'))).toBe('00')
    expect(() => fqdnWire('a..b')).toThrow(/empty label/)
  })
})

describe('expandName', () => {
  // A message: 12 header octets, example.com. at 12, www + pointer to 12 at 25,
  // a pointer to 25 at 31.
  const msg = fromHex(`
    000000000000000000000000
    076578616d706c6503636f6d00
    03575757c00c
    c019`)

  it('reads an uncompressed name and its end', () => {
    const n = expandName(msg, 12)!
    expect(wireToText(n.wire)).toBe('example.com.')
    expect(n.end).toBe(25)
  })

  it('follows pointers, keeps case, and ends after the first pointer', () => {
    const n = expandName(msg, 25)!
    expect(hex(n.wire)).toBe('03575757076578616d706c6503636f6d00')
    expect(n.end).toBe(31)
    const chained = expandName(msg, 31)!
    expect(wireToText(chained.wire)).toBe('WWW.example.com.')
    expect(chained.end).toBe(33)
  })

  it('reads a name in the middle of a label sequence', () => {
    expect(wireToText(expandName(msg, 20)!.wire)).toBe('com.')
  })

  it('rejects a forward pointer and a pointer to itself', () => {
    const m = fromHex('000000000000000000000000 c00e 00')
    expect(expandName(m, 12)).toBeUndefined()
    expect(expandName(fromHex('000000000000000000000000 c00c'), 12)).toBeUndefined()
  })

  it('rejects a pointer loop', () => {
    // 12: pointer to 14; 14: pointer to 12. Starting at 14 goes back to 12, then forwards.
    const m = fromHex('000000000000000000000000 c00e c00c')
    expect(expandName(m, 14)).toBeUndefined()
    expect(expandName(m, 12)).toBeUndefined()
  })

  it('rejects a pointer whose target is outside the message', () => {
    expect(expandName(fromHex('000000000000000000000000 ffff'), 12)).toBeUndefined()
    expect(expandName(fromHex('0000 c0ff'), 2)).toBeUndefined()
  })

  it('rejects truncated names and labels', () => {
    expect(expandName(fromHex('03616263'), 0)).toBeUndefined()
    expect(expandName(fromHex('0361'), 0)).toBeUndefined()
    expect(expandName(fromHex('00 c0'), 1)).toBeUndefined()
    expect(expandName(fromHex(''), 0)).toBeUndefined()
    // The name fits the buffer but not the given length.
    expect(expandName(msg, 12, 24)).toBeUndefined()
    expect(expandName(msg, 12, 25)?.end).toBe(25)
  })

  it('rejects extended label types 0x40 and 0x80', () => {
    expect(expandName(fromHex('4000'), 0)).toBeUndefined()
    expect(expandName(fromHex('8000'), 0)).toBeUndefined()
  })

  it('rejects an expansion longer than 255 octets', () => {
    const l63 = Buffer.alloc(63, 0x61)
    const label = (b: Buffer) => Buffer.concat([Buffer.of(b.length), b])
    const parts = [
      Buffer.alloc(12),
      label(l63), // 12
      ROOT_WIRE, // name A ends at 77
      label(l63),
      fromHex('c00c'), // name B at 77: 129 octets
      label(l63),
      fromHex('c04d'), // name C at 143: 193 octets
    ]
    const base = Buffer.concat(parts)
    expect(base.length).toBe(209)
    expect(expandName(base, 143)!.wire.length).toBe(193)
    const ok = Buffer.concat([base, label(Buffer.alloc(61, 0x62)), fromHex('c08f')])
    expect(expandName(ok, 209)!.wire.length).toBe(255)
    const tooLong = Buffer.concat([base, label(Buffer.alloc(62, 0x62)), fromHex('c08f')])
    expect(expandName(tooLong, 209)).toBeUndefined()
  })
})

describe('wireHash', () => {
  const view = createQueryView()

  it('equals the query reader suffix hashes, whatever the case', () => {
    for (const name of ['www.example.com.', 'WWW.Example.COM.', 'a.b.c.d.e.f.', '_x.Y.']) {
      const q = buildQuery({ id: 1, name, type: Type.A })
      expect(readQuery(q, q.length, view)).toBe(Parse.OK)
      let wire = nameToWire(name)
      for (let i = 0; i <= view.labels; i++) {
        expect(view.suffixHash[i]).toBe(wireHash(wire))
        expect(view.suffixHash[i]).toBe(wireHash(lowerWire(wire)))
        if (i < view.labels) wire = parentWire(wire)
      }
    }
  })

  it('labelName gives the label offsets and suffix hashes the reader gives', () => {
    const name = 'Mail.Example.COM.'
    const q = buildQuery({ id: 1, name, type: Type.MX })
    expect(readQuery(q, q.length, view)).toBe(Parse.OK)
    const n = labelName(nameToWire(name))
    expect(n.labels).toBe(view.labels)
    for (let i = 0; i <= n.labels; i++) {
      expect(n.labelStart[i] + 12).toBe(view.labelStart[i])
      expect(n.suffixHash[i]).toBe(view.suffixHash[i])
    }
    expect(n.suffixHash[n.labels]).toBe(ROOT_HASH)
  })

  it('hashes the root to ROOT_HASH, as the reader does', () => {
    const q = buildQuery({ id: 1, name: '.', type: Type.NS })
    expect(readQuery(q, q.length, view)).toBe(Parse.OK)
    expect(view.labels).toBe(0)
    expect(view.suffixHash[0]).toBe(ROOT_HASH)
    expect(wireHash(ROOT_WIRE)).toBe(ROOT_HASH)
  })

  it('ignores case and tells apart different names', () => {
    expect(wireHash(w('WWW.EXAMPLE.COM.'))).toBe(wireHash(w('www.example.com.')))
    expect(wireHash(w('www.example.com.'))).not.toBe(wireHash(w('www.example.org.')))
    expect(wireHash(w('a.b.'))).not.toBe(wireHash(w('ab.')))
    expect(wireHash(w('a.b.'))).not.toBe(wireHash(w('b.a.')))
  })

  it('fits in 30 bits', () => {
    for (const name of ['.', 'a.', 'www.example.com.', 'zzzz.zzzz.zzzz.']) {
      const h = wireHash(w(name))
      expect(h).toBeGreaterThanOrEqual(0)
      expect(h).toBeLessThan(2 ** 30)
    }
  })
})

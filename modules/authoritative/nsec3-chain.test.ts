import { describe, expect, it } from 'vitest'
import { nameToWire } from '../../dns/name.ts'
import { base32hexEncode } from '../../dns/rdata-forms/base32hex.ts'
import { coveringEntry, matchingEntry, type Nsec3Chain, nsec3Hash } from './nsec3-chain.ts'
import type { RRset } from './zone.ts'

// RFC 5155 appendix A: salt AABBCCDD, 12 extra iterations (as nsec3hash prints them).
const chain = (hashes: string[]): Nsec3Chain => ({
  salt: Buffer.from('aabbccdd', 'hex'),
  iterations: 12,
  entries: hashes.map((h) => ({
    owner: nameToWire(`${h}.example.`),
    hash: Buffer.from(h, 'hex'),
    rrset: {} as RRset,
  })),
})

const hashOf = (name: string, c = chain([])) =>
  base32hexEncode(nsec3Hash(c, nameToWire(name), 0)).toLowerCase()

describe('NSEC3 hashing (RFC 5155 section 5)', () => {
  it('hashes names as the RFC example does, whatever their letter case', () => {
    expect(hashOf('example.')).toBe('0p9mhaveqvm6t7vbl5lop2u3t2rp3tom')
    expect(hashOf('a.example.')).toBe('35mthgpgcu1qg68fab165klnsnk3dpvl')
    expect(hashOf('NS1.Example.')).toBe('2t7b4g4vsa5smi47k61mv5bv1a22bojr')
    expect(hashOf('*.w.example.')).toBe('r53bq7cc2uvmubfu5ocmm6pers9tk9en')
  })

  it('hashes a name where it sits in a larger buffer', () => {
    const inside = Buffer.concat([Buffer.from([9, 9, 9]), nameToWire('a.example.')])
    expect(base32hexEncode(nsec3Hash(chain([]), inside, 3)).toLowerCase()).toBe(
      '35mthgpgcu1qg68fab165klnsnk3dpvl',
    )
  })
})

describe('the NSEC3 that matches or covers a hash', () => {
  const c = chain(['10', '20', '30'])
  const at = (hex: string) => Buffer.from(hex, 'hex')
  const hashes = (entry: { hash: Buffer } | undefined) => entry?.hash.toString('hex')

  it('matches only an equal hash', () => {
    expect(hashes(matchingEntry(c, at('20')))).toBe('20')
    expect(matchingEntry(c, at('21'))).toBeUndefined()
    expect(matchingEntry(c, at('05'))).toBeUndefined()
  })

  it('covers with the one before, and wraps around before the first', () => {
    expect(hashes(coveringEntry(c, at('25')))).toBe('20')
    expect(hashes(coveringEntry(c, at('30')))).toBe('20')
    expect(hashes(coveringEntry(c, at('40')))).toBe('30')
    expect(hashes(coveringEntry(c, at('05')))).toBe('30')
    expect(hashes(coveringEntry(c, at('10')))).toBe('30')
  })
})

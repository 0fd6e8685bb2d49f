// parseTtl: TTLs as zone files write them.

import { describe, expect, it } from 'vitest'
import { MAX_TTL, parseTtl } from './ttl.ts'

describe('parseTtl', () => {
  it('reads plain seconds', () => {
    expect(parseTtl('0')).toBe(0)
    expect(parseTtl('3600')).toBe(3600)
    expect(parseTtl('007')).toBe(7)
  })

  it('reads BIND units, alone and combined', () => {
    expect(parseTtl('5s')).toBe(5)
    expect(parseTtl('4m')).toBe(240)
    expect(parseTtl('3h')).toBe(10_800)
    expect(parseTtl('2d')).toBe(172_800)
    expect(parseTtl('1w')).toBe(604_800)
    expect(parseTtl('1w2d3h4m5s')).toBe(604_800 + 172_800 + 10_800 + 240 + 5)
    expect(parseTtl('1h30m')).toBe(5400)
    expect(parseTtl('90m')).toBe(5400)
  })

  it('reads units in any case', () => {
    expect(parseTtl('1H')).toBe(3600)
    expect(parseTtl('1W2D3H4M5S')).toBe(788_645)
    expect(parseTtl('1h30M')).toBe(5400)
  })

  it('rejects what is not a TTL', () => {
    for (const text of [
      '',
      'h',
      '1x',
      '1h 2m',
      ' 1',
      '1 ',
      '-1',
      '+1',
      '1.5',
      '1h-',
      'h1',
      '1hh',
      'abc',
      '0x10',
      'IN',
    ]) {
      expect(parseTtl(text), text).toBeUndefined()
    }
  })

  it('accepts at most 2^31-1 seconds (RFC 2181)', () => {
    expect(MAX_TTL).toBe(2 ** 31 - 1)
    expect(parseTtl('2147483647')).toBe(2_147_483_647)
    expect(parseTtl('2147483648')).toBeUndefined()
    expect(parseTtl('99999999999999999999')).toBeUndefined()
    expect(parseTtl('3550w')).toBe(3550 * 604_800)
    expect(parseTtl('3551w')).toBeUndefined()
    expect(parseTtl('3550w1000000s')).toBeUndefined()
  })
})

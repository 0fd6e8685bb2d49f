// The Cache-Control scanner alone: spacing, case, quoting, repeats, bad values.

import { describe, expect, it } from 'vitest'
import { NO_DIRECTIVES, parseCacheControl, parseDelta } from './cache-control.ts'

describe('parseCacheControl', () => {
  it('shares one object for messages without the field', () => {
    expect(parseCacheControl([])).toBe(NO_DIRECTIVES)
  })

  it('reads flags and values, any case and spacing, over several lines', () => {
    const cc = parseCacheControl([
      'Public ,MAX-AGE = 60,, s-maxage=120',
      '  must-revalidate,no-cache',
    ])
    expect(cc).toEqual({
      ...NO_DIRECTIVES,
      public: true,
      maxAge: 60,
      sMaxage: 120,
      mustRevalidate: true,
      noCache: true,
    })
  })

  it('reads quoted values, commas and escapes inside them included', () => {
    const cc = parseCacheControl(['private="set-cookie, x-a\\"b", max-age="30", no-store'])
    expect(cc).toMatchObject({ private: true, maxAge: 30, noStore: true })
  })

  it('keeps the first of repeated valued directives', () => {
    expect(parseCacheControl(['max-age=5, max-age=500']).maxAge).toBe(5)
    expect(parseCacheControl(['s-maxage=1', 's-maxage=2']).sMaxage).toBe(1)
  })

  it('takes an invalid max-age or s-maxage as 0', () => {
    expect(parseCacheControl(['max-age=-1']).maxAge).toBe(0)
    expect(parseCacheControl(['max-age']).maxAge).toBe(0)
    expect(parseCacheControl(['s-maxage=1.5']).sMaxage).toBe(0)
  })

  it('reads request directives', () => {
    expect(parseCacheControl(['max-stale'])).toMatchObject({ maxStale: Number.POSITIVE_INFINITY })
    expect(parseCacheControl(['max-stale=7, min-fresh=3, only-if-cached'])).toMatchObject({
      maxStale: 7,
      minFresh: 3,
      onlyIfCached: true,
    })
  })

  it('ignores unknown directives and stray text', () => {
    expect(parseCacheControl(['immutable, stale-while-revalidate=5, =, ,'])).toEqual(NO_DIRECTIVES)
  })
})

describe('parseDelta', () => {
  it('takes digits only, capped at 2^31', () => {
    expect(parseDelta('0')).toBe(0)
    expect(parseDelta('86400')).toBe(86400)
    expect(parseDelta('99999999999999999999')).toBe(2147483648)
    expect(parseDelta('')).toBeUndefined()
    expect(parseDelta('1e3')).toBeUndefined()
    expect(parseDelta(' 1')).toBeUndefined()
  })
})

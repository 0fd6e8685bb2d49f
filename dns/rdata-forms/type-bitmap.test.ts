import { describe, expect, it } from 'vitest'
import { bitmapFromText, bitmapToText, bitmapToTypes } from './type-bitmap.ts'

const fail = (token: string) => new Error(`no type: ${token}`)

describe('NSEC type bitmaps', () => {
  it('writes one window per 256 types, each as short as its last set bit, and reads them back', () => {
    const bitmap = bitmapFromText(['A', 'MX', 'RRSIG', 'NSEC', 'TYPE1234', 'CAA'], fail)
    // Window 0 up to RRSIG/NSEC (46, 47: octet 5), window 1 (CAA 257), window 4 (1234 = 4*256 + 210).
    expect([...bitmap.subarray(0, 2)]).toEqual([0, 6])
    expect(bitmapToText(bitmap, 0, bitmap.length)).toBe('A MX RRSIG NSEC CAA TYPE1234')
  })

  it('names the token that is no type', () => {
    expect(() => bitmapFromText(['A', 'BOGUS'], fail)).toThrow('no type: BOGUS')
  })

  it('reads malformed bitmaps as undefined', () => {
    for (const bad of [
      [0], // no length
      [0, 0], // an empty window
      [0, 33, ...new Array(33).fill(0)], // a window over 32 octets
      [1, 1, 0x40, 0, 1, 0x40], // windows out of order
      [0, 2, 0x40], // shorter than it says
    ])
      expect(bitmapToTypes(Uint8Array.from(bad), 0, bad.length)).toBeUndefined()
  })
})

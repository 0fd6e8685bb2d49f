// Query IDs for the forwarder: 16-bit, spread over the whole range, never a
// constant or a short cycle, also across the refills of the batch.

import { describe, expect, it } from 'vitest'
import { RandomIds } from './random-ids.ts'

describe('RandomIds', () => {
  it('draws 16-bit integers spread over the range, across several refills', () => {
    const ids = new RandomIds()
    const drawn = Array.from({ length: 20_000 }, () => ids.next())
    expect(drawn.filter((id) => !Number.isInteger(id) || id < 0 || id > 0xffff)).toEqual([])
    // 20,000 uniform draws from 65,536 values give about 17,000 distinct ones.
    expect(new Set(drawn).size).toBeGreaterThan(16_000)
    // Both bytes vary over their whole range.
    expect(new Set(drawn.map((id) => id >> 8)).size).toBe(256)
    expect(new Set(drawn.map((id) => id & 0xff)).size).toBe(256)
    expect(Math.min(...drawn)).toBeLessThan(0x0800)
    expect(Math.max(...drawn)).toBeGreaterThan(0xf800)
  })

  it('does not repeat one batch in the next', () => {
    const ids = new RandomIds()
    const first = Array.from({ length: 4096 }, () => ids.next())
    const second = Array.from({ length: 4096 }, () => ids.next())
    expect(second).not.toEqual(first)
    const same = first.filter((id, i) => second[i] === id).length
    expect(same).toBeLessThan(20)
  })

  it('gives different sequences to different instances', () => {
    const a = new RandomIds()
    const b = new RandomIds()
    const fromA = Array.from({ length: 64 }, () => a.next())
    const fromB = Array.from({ length: 64 }, () => b.next())
    expect(fromA).not.toEqual(fromB)
  })
})

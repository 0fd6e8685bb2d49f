// The in-process bucket store alone: exact refills, waits in seconds, LRU bound.

import { describe, expect, it } from 'vitest'
import { memoryBucketStore } from './bucket-store.ts'

const limits = { rate: 3, perMs: 1000, burst: 3, maxBuckets: 10 }

describe('memoryBucketStore', () => {
  it('refills exactly on boundaries that are not whole ms', () => {
    const store = memoryBucketStore('r', limits)
    const at = (now: number, n: number) => Array.from({ length: n }, () => store.take('k', now))
    expect(at(5000, 3)).toEqual([0, 0, 0])
    expect(store.take('k', 5000)).toBeCloseTo(1 / 3, 9)
    expect(at(6000, 4).map((w) => (w > 0 ? 'wait' : 'ok'))).toEqual(['ok', 'ok', 'ok', 'wait'])
    for (let t = 6000; t < 60_000; t += 1000) expect(at(t + 1000, 3)).toEqual([0, 0, 0])
  })

  it('returns the seconds until the next token, taking nothing meanwhile', () => {
    const store = memoryBucketStore('r', { rate: 1, perMs: 4000, burst: 1, maxBuckets: 10 })
    expect(store.take('k', 0)).toBe(0)
    expect(store.take('k', 1000)).toBe(3)
    expect(store.take('k', 3999.5)).toBeCloseTo(0.0005, 9)
    expect(store.take('k', 4000)).toBe(0)
  })

  it('works with fractional clocks far from zero', () => {
    const store = memoryBucketStore('r', { rate: 10, perMs: 1000, burst: 1, maxBuckets: 10 })
    const start = 1.7e12 + 0.123
    let allowed = 0
    for (let i = 0; i < 1000; i++) if (store.take('k', start + i * 50.0001) === 0) allowed++
    expect(allowed).toBe(500)
  })

  it('keeps at most maxBuckets, dropping the least recently used', () => {
    const store = memoryBucketStore('r', { rate: 1, perMs: 1000, burst: 1, maxBuckets: 3 })
    for (const k of ['a', 'b', 'c']) store.take(k, 0)
    expect(store.take('a', 0)).toBe(1) // limited, and now the most recent: b, c, a
    expect(store.take('d', 0)).toBe(0) // drops b: c, a, d
    expect(store.take('b', 0)).toBe(0) // forgotten, so full again; drops c: a, d, b
    expect(store.take('a', 0)).toBe(1) // still remembered: d, b, a
    expect(store.take('c', 0)).toBe(0) // drops d: b, a, c
    expect(store.take('d', 0)).toBe(0)
  })
})

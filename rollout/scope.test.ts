// choosePath: the percentage and the servable flag decide, the bucket only in between.

import { describe, expect, it } from 'vitest'
import { bucketOf } from './bucket.ts'
import { choosePath, newStats, type Scope } from './scope.ts'
import { createScope } from './scopes.ts'

function scope(basisPoints: number, servable = true): Scope {
  return createScope(
    {
      id: 'dns:example.test',
      protocol: 'dns',
      basisPoints,
      stickiness: 'client-ip',
      salt: undefined,
      servable,
    },
    { v4: 24, v6: 56 },
  )
}

/** A key hash that counts its calls and returns `h`. */
function keyHash(h: number) {
  const calls: unknown[][] = []
  const fn = (_s: Scope, a: string, b: number, c: boolean) => {
    calls.push([a, b, c])
    return h
  }
  return { fn, calls }
}

describe('choosePath', () => {
  it('sends everything to the legacy at 0%, without hashing', () => {
    const k = keyHash(0)
    for (let h = 0; h < 1000; h++) expect(choosePath(scope(0), k.fn, 'a', h, true)).toBe('legacy')
    expect(k.calls).toEqual([])
  })

  it('sends everything to the new path at 100%, without hashing', () => {
    const k = keyHash(0)
    for (let h = 0; h < 1000; h++) expect(choosePath(scope(10_000), k.fn, 'a', h, true)).toBe('new')
    expect(k.calls).toEqual([])
  })

  it('sends everything to the legacy when the scope is not servable, even at 100%', () => {
    const k = keyHash(0)
    for (const bp of [0, 1, 5000, 9999, 10_000])
      expect(choosePath(scope(bp, false), k.fn, 'a', 1, true)).toBe('legacy')
    expect(k.calls).toEqual([])
  })

  it('compares the bucket of the key with the percentage in between', () => {
    const h = 0x5eed
    const b = bucketOf(h)
    const s = scope(b)
    const k = keyHash(h)
    expect(choosePath(s, k.fn, 'client', 7, false)).toBe('legacy')
    expect(k.calls).toEqual([['client', 7, false]])
    s.basisPoints = b + 1
    expect(choosePath(s, k.fn, 'client', 7, false)).toBe('new')
  })

  it('reads the live percentage of the scope', () => {
    const s = scope(0)
    const k = keyHash(1)
    expect(choosePath(s, k.fn, 'a', 0, true)).toBe('legacy')
    s.basisPoints = 10_000
    expect(choosePath(s, k.fn, 'a', 0, true)).toBe('new')
  })

  it('gives the percentage of buckets below it to the new path', () => {
    const s = scope(1)
    let n = 0
    for (let h = 0; h < 200_000; h++)
      if (choosePath(s, (_s, x: number) => x, h, 0, 0) === 'new') n++
    // 1 bucket in 10,000: 20 of 200,000 keys, give or take.
    expect(n).toBeGreaterThan(5)
    expect(n).toBeLessThan(45)
  })
})

describe('newStats', () => {
  it('starts every counter at zero, with one latency count per bucket plus overflow', () => {
    const s = newStats()
    expect(s.newRequests + s.newErrors + s.fallbacks + s.legacyRequests).toBe(0)
    expect(s.shadowed + s.mismatches).toBe(0)
    expect(s.newLatency.length).toBe(16)
    expect(s.legacyLatency.length).toBe(16)
    expect([...s.newLatency, ...s.legacyLatency].every((v) => v === 0)).toBe(true)
  })
})

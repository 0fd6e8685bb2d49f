// Sticky bucketing: an even spread of clients over the buckets, monotone moves
// when the percentage changes, the same decision in every process, strict
// percentages, and independent assignments for independent salts.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { BUCKETS, bucketOf, hashString, saltSeed, toBasisPoints } from './bucket.ts'
import { choosePath, type Scope } from './scope.ts'
import { createScope } from './scopes.ts'
import { httpKeyHash } from './stickiness.ts'

const N = 100_000
const subnet = { v4: 24, v6: 56 }

function scope(id: string, stickiness: string, basisPoints: number, salt?: string): Scope {
  return createScope(
    { id, protocol: 'http', basisPoints, stickiness, salt, servable: true },
    subnet,
  )
}

/** A small seeded generator (mulberry32), so the "random" strings are the same every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** 100,000 distinct IPv4 addresses, consecutive (the worst case for a weak hash). */
const addresses = Array.from(
  { length: N },
  (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
)
/** One address in each of 100,000 distinct /24 subnets. */
const subnets = Array.from(
  { length: N },
  (_, i) => `${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.7`,
)
/** 100,000 random strings (user ids, say), 4 to 19 characters. */
const strings = (() => {
  const random = prng(42)
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_'
  const seen = new Set<string>()
  while (seen.size < N) {
    let s = ''
    const length = 4 + Math.floor(random() * 16)
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(random() * alphabet.length)]
    seen.add(s)
  }
  return [...seen]
})()

function shareOnNew(s: Scope, clients: string[], headerName?: string): number {
  let n = 0
  for (const c of clients) {
    const headers = headerName ? [headerName, c] : []
    if (choosePath(s, httpKeyHash, 'x.test', headers, c) === 'new') n++
  }
  return n / clients.length
}

describe('the spread of clients over buckets', () => {
  it('puts 25% ± 1% of 100,000 distinct IPv4 clients on the new path at 25%', () => {
    expect(new Set(addresses).size).toBe(N)
    const share = shareOnNew(scope('http:x.test', 'client-ip', 2500), addresses)
    expect(share).toBeGreaterThanOrEqual(0.24)
    expect(share).toBeLessThanOrEqual(0.26)
  })

  it('puts 25% ± 1% of 100,000 distinct /24 subnets on the new path at 25%', () => {
    expect(new Set(subnets.map((a) => a.slice(0, a.lastIndexOf('.')))).size).toBe(N)
    const share = shareOnNew(scope('http:x.test', 'client-subnet', 2500), subnets)
    expect(share).toBeGreaterThanOrEqual(0.24)
    expect(share).toBeLessThanOrEqual(0.26)
  })

  it('puts 25% ± 1% of 100,000 random strings on the new path at 25%', () => {
    const share = shareOnNew(scope('http:x.test', 'header:x-user', 2500), strings, 'x-user')
    expect(share).toBeGreaterThanOrEqual(0.24)
    expect(share).toBeLessThanOrEqual(0.26)
    const seed = saltSeed('dns:example.test')
    const low = strings.filter((s) => bucketOf(hashString(seed, s)) < 2500).length / N
    expect(low).toBeGreaterThanOrEqual(0.24)
    expect(low).toBeLessThanOrEqual(0.26)
  })

  it('fills every bucket roughly evenly', () => {
    const counts = new Uint32Array(BUCKETS)
    const seed = saltSeed('spread')
    for (const s of strings) counts[bucketOf(hashString(seed, s))]++
    for (const a of addresses) counts[bucketOf(hashString(seed, a))]++
    // 20 per bucket on average: a tenth of a percent is 10 buckets, holding 200 ± 45 (3 sigma).
    for (let from = 0; from < BUCKETS; from += 10) {
      let n = 0
      for (let b = from; b < from + 10; b++) n += counts[b]
      expect(n).toBeGreaterThan(200 - 60)
      expect(n).toBeLessThan(200 + 60)
    }
  })

  it('always gives a bucket from 0 to 9999', () => {
    for (const h of [0, 1, -1, 0x7fffffff, -0x80000000, 0xffffffff, 123456789]) {
      const b = bucketOf(h)
      expect(Number.isInteger(b)).toBe(true)
      expect(b).toBeGreaterThanOrEqual(0)
      expect(b).toBeLessThan(BUCKETS)
    }
  })
})

describe('changing the percentage', () => {
  it('moves no client from new back to legacy when raised from 25% to 50%', () => {
    const s = scope('http:x.test', 'client-ip', 2500)
    const at25 = addresses.map((a) => choosePath(s, httpKeyHash, 'x.test', [], a))
    s.basisPoints = 5000
    const at50 = addresses.map((a) => choosePath(s, httpKeyHash, 'x.test', [], a))
    let moved = 0
    for (let i = 0; i < N; i++) {
      if (at25[i] === 'new') expect(at50[i]).toBe('new')
      if (at25[i] === 'legacy' && at50[i] === 'new') moved++
    }
    // About a quarter of all clients (a third of those on legacy) moved to new.
    expect(moved / N).toBeGreaterThan(0.24)
    expect(moved / N).toBeLessThan(0.26)
  })

  it('moves no client from legacy to new when lowered from 50% to 25%', () => {
    const s = scope('http:x.test', 'client-ip', 5000)
    const at50 = addresses.map((a) => choosePath(s, httpKeyHash, 'x.test', [], a))
    s.basisPoints = 2500
    const at25 = addresses.map((a) => choosePath(s, httpKeyHash, 'x.test', [], a))
    for (let i = 0; i < N; i++) if (at50[i] === 'legacy') expect(at25[i]).toBe('legacy')
    expect(at25.filter((p) => p === 'new').length).toBeLessThan(
      at50.filter((p) => p === 'new').length,
    )
  })
})

describe('two processes', () => {
  it('put every key in the same bucket', () => {
    const keys = [
      ...addresses.slice(0, 200),
      ...strings.slice(0, 200),
      '2001:db8::1',
      '::ffff:192.0.2.1',
      '',
    ]
    const here = bucketsOf(keys)
    const dir = mkdtempSync(join(tmpdir(), 'cutover-bucket-'))
    try {
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n')
      const script = join(dir, 'buckets.ts')
      const url = (f: string) => pathToFileURL(join(import.meta.dirname, f)).href
      writeFileSync(
        script,
        `import { bucketOf, hashString, saltSeed } from '${url('bucket.ts')}'
import { httpKeyHash } from '${url('stickiness.ts')}'
const keys: string[] = JSON.parse(process.argv[2])
const scope = (kind: string, seed: number) => ({
  id: 's', protocol: 'http', seed, servable: true, initialBasisPoints: 0, basisPoints: 0,
  stickiness: kind === 'client-subnet' ? { kind, v4: 24, v6: 56 } : kind === 'header' ? { kind, name: 'x-user' } : { kind },
})
const seed = saltSeed('dns:example.test')
const out = keys.map((k) => [
  bucketOf(hashString(seed, k)),
  bucketOf(httpKeyHash(scope('client-ip', seed) as never, 'x.test', [], k)),
  bucketOf(httpKeyHash(scope('client-subnet', seed) as never, 'x.test', [], k)),
  bucketOf(httpKeyHash(scope('header', seed) as never, 'x.test', ['X-User', k], '192.0.2.1')),
  bucketOf(httpKeyHash(scope('host', seed) as never, k, [], '192.0.2.1')),
])
process.stdout.write(JSON.stringify(out))
`,
      )
      const child = execFileSync(process.execPath, [script, JSON.stringify(keys)], {
        encoding: 'utf8',
      })
      expect(JSON.parse(child)).toEqual(here)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

function bucketsOf(keys: string[]): number[][] {
  const seed = saltSeed('dns:example.test')
  const ip = scope('s', 'client-ip', 0, 'dns:example.test')
  const net = scope('s', 'client-subnet', 0, 'dns:example.test')
  const header = scope('s', 'header:x-user', 0, 'dns:example.test')
  const host = scope('s', 'host', 0, 'dns:example.test')
  return keys.map((k) => [
    bucketOf(hashString(seed, k)),
    bucketOf(httpKeyHash(ip, 'x.test', [], k)),
    bucketOf(httpKeyHash(net, 'x.test', [], k)),
    bucketOf(httpKeyHash(header, 'x.test', ['X-User', k], '192.0.2.1')),
    bucketOf(httpKeyHash(host, k, [], '192.0.2.1')),
  ])
}

describe('toBasisPoints', () => {
  it('accepts every percentage from 0 to 100 in steps of 0.01', () => {
    for (let bp = 0; bp <= BUCKETS; bp++) expect(toBasisPoints(bp / 100)).toBe(bp)
    expect(toBasisPoints(0.01)).toBe(1)
    expect(toBasisPoints(0.07)).toBe(7)
    expect(toBasisPoints(12.34)).toBe(1234)
    expect(toBasisPoints(33.33)).toBe(3333)
    expect(toBasisPoints(100)).toBe(10_000)
  })

  it('rejects finer steps, negatives, more than 100 and what is not a number', () => {
    for (const p of [
      0.001,
      0.005,
      12.345,
      99.999,
      -1,
      -0.01,
      101,
      100.01,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]) {
      expect(toBasisPoints(p), `${p}`).toBeUndefined()
    }
  })
})

describe('salts', () => {
  it('give independent assignments: at 50% and 50% about a quarter of clients is new in both', () => {
    for (const [a, b] of [
      ['dns:example.test', 'dns:example.org'],
      ['http:shop.example.test', 'http:shop.example.test/api/'],
      ['salt-1', 'salt-2'],
    ]) {
      const one = scope(a, 'client-ip', 5000)
      const two = scope(b, 'client-ip', 5000)
      let both = 0
      let first = 0
      let second = 0
      for (const c of addresses) {
        const x = choosePath(one, httpKeyHash, 'x.test', [], c) === 'new'
        const y = choosePath(two, httpKeyHash, 'x.test', [], c) === 'new'
        if (x) first++
        if (y) second++
        if (x && y) both++
      }
      expect(both / N, `${a} and ${b}`).toBeGreaterThan(0.24)
      expect(both / N, `${a} and ${b}`).toBeLessThan(0.26)
      // Phi coefficient of the two assignments: near zero.
      const p1 = first / N
      const p2 = second / N
      const phi = (both / N - p1 * p2) / Math.sqrt(p1 * (1 - p1) * p2 * (1 - p2))
      expect(Math.abs(phi)).toBeLessThan(0.02)
    }
  })

  it('use the scope id as the salt by default, and an explicit salt when given', () => {
    expect(scope('dns:a.test', 'client-ip', 0).seed).toBe(saltSeed('dns:a.test'))
    expect(scope('dns:a.test', 'client-ip', 0, 'shared').seed).toBe(saltSeed('shared'))
    expect(scope('dns:b.test', 'client-ip', 0, 'shared').seed).toBe(
      scope('dns:a.test', 'client-ip', 0, 'shared').seed,
    )
    expect(saltSeed('a')).not.toBe(saltSeed('b'))
  })
})

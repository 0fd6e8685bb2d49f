// The ratelimit module through its contract: hand-made requests against a site's
// phases, with an injected clock (ms) instead of sleeps.

import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { headerGet } from '../../common/header-list.ts'
import type { ModuleEnv } from '../env.ts'
import type { HttpRequest, HttpSiteModule, Rule } from '../http-module.ts'
import { context } from '../shared/http-test-support.ts'
import { ANSWER, NEXT } from '../verdict.ts'
import type { BucketLimits, BucketStoreFactory } from './bucket-store.ts'
import { createRatelimit, ratelimitModule } from './index.ts'

const silent = { info() {}, warn() {}, error() {} }

interface Site {
  phases: HttpSiteModule
  clock: { now: number }
  registry: Registry
}

function site(rules: Partial<Rule>[], store?: BucketStoreFactory): Site {
  const clock = { now: 1_000_000 }
  const env: ModuleEnv = { log: silent, registry: new Registry() }
  const module = createRatelimit({ now: () => clock.now, store })
  const full = rules.map((r) => ({ type: 'ratelimit', ...r }))
  const where = full.map((_, i) => `http.sites[0].rules[${i}]`)
  return { phases: module.site(full, where, env, 0), clock, registry: env.registry }
}

const ctx = (request: Partial<HttpRequest> = {}) => context({ protocol: 'http', ...request })

/** Sends one request; the Retry-After seconds when limited, 0 when passed on. */
function send(s: Site, request: Partial<HttpRequest> = {}): number {
  const c = ctx(request)
  const verdict = s.phases.request!(c)
  if (verdict === NEXT) return 0
  expect(verdict).toBe(ANSWER)
  return Number(headerGet(c.reply!.headers, 'retry-after'))
}

function sendMany(s: Site, n: number, request: Partial<HttpRequest> = {}): number[] {
  return Array.from({ length: n }, () => send(s, request))
}

describe('token bucket', () => {
  it('allows `rate` requests at once by default, then limits', () => {
    const s = site([{ key: 'client-ip', rate: 3, per: '1s' }])
    expect(sendMany(s, 4)).toEqual([0, 0, 0, 1])
  })

  it('refills one token every per/rate', () => {
    const s = site([{ key: 'client-ip', rate: 4, per: '1s' }])
    expect(sendMany(s, 5)).toEqual([0, 0, 0, 0, 1])
    s.clock.now += 249
    expect(send(s)).toBe(1)
    s.clock.now += 1
    expect(sendMany(s, 2)).toEqual([0, 1])
    s.clock.now += 500
    expect(sendMany(s, 3)).toEqual([0, 0, 1])
  })

  it('never holds more than `burst` tokens however long it rests', () => {
    const s = site([{ key: 'client-ip', rate: 1, per: '1s', burst: 5 }])
    expect(sendMany(s, 6)).toEqual([0, 0, 0, 0, 0, 1])
    s.clock.now += 3600_000
    expect(sendMany(s, 6)).toEqual([0, 0, 0, 0, 0, 1])
  })

  it('keeps a steady rate below the limit unlimited', () => {
    const s = site([{ key: 'client-ip', rate: 10, per: '1s', burst: 1 }])
    for (let i = 0; i < 50; i++) {
      expect(send(s)).toBe(0)
      s.clock.now += 100
    }
  })

  it('counts each key in its own bucket', () => {
    const s = site([{ key: 'client-ip', rate: 1, per: '1m' }])
    expect(send(s, { clientIp: '192.0.2.1' })).toBe(0)
    expect(send(s, { clientIp: '192.0.2.1' })).toBe(60)
    expect(send(s, { clientIp: '192.0.2.2' })).toBe(0)
    expect(send(s, { clientIp: '2001:db8::1' })).toBe(0)
  })
})

describe('reply', () => {
  it('is a 429 with Retry-After, text/plain and a short body', () => {
    const s = site([{ key: 'client-ip', rate: 1, per: '1s' }])
    send(s)
    const c = ctx()
    expect(s.phases.request!(c)).toBe(ANSWER)
    expect(c.reply).toEqual({
      status: 429,
      headers: ['retry-after', '1', 'content-type', 'text/plain'],
      body: Buffer.from('rate limit exceeded\n'),
    })
  })

  it('uses the configured status', () => {
    const s = site([{ key: 'client-ip', rate: 1, per: '1s', status: 503 }])
    send(s)
    const c = ctx()
    s.phases.request!(c)
    expect(c.reply!.status).toBe(503)
  })

  it('gives Retry-After in whole seconds, rounded up, at least 1', () => {
    const s = site([{ key: 'client-ip', rate: 1, per: '1m' }])
    send(s)
    expect(send(s)).toBe(60)
    s.clock.now += 30_000
    expect(send(s)).toBe(30)
    s.clock.now += 29_500
    expect(send(s)).toBe(1)
    s.clock.now += 499
    expect(send(s)).toBe(1)
    s.clock.now += 1
    expect(send(s)).toBe(0)

    const fast = site([{ key: 'client-ip', rate: 100, per: '1s', burst: 1 }])
    send(fast)
    expect(send(fast)).toBe(1)
  })

  it('takes nothing from the bucket while limited', () => {
    const s = site([{ key: 'client-ip', rate: 1, per: '10s' }])
    send(s)
    s.clock.now += 5000
    expect(sendMany(s, 10)).toEqual(Array(10).fill(5))
    s.clock.now += 5000
    expect(send(s)).toBe(0)
  })
})

describe('keys', () => {
  it('counts by a header, case-insensitively named; requests without it pass', () => {
    const s = site([{ key: 'header:X-Api-Key', rate: 1, per: '1m' }])
    expect(send(s, { headers: ['x-api-key', 'alpha'] })).toBe(0)
    expect(send(s, { headers: ['X-API-KEY', 'alpha'], clientIp: '192.0.2.9' })).toBe(60)
    expect(send(s, { headers: ['X-Api-Key', 'beta'] })).toBe(0)
    expect(sendMany(s, 5, { headers: ['other', 'alpha'] })).toEqual([0, 0, 0, 0, 0])
    expect(sendMany(s, 3, { headers: ['x-api-key', ''] })).toEqual([0, 0, 0])
  })

  it('counts by path', () => {
    const s = site([{ key: 'path', rate: 1, per: '1m' }])
    expect(send(s, { path: '/a', clientIp: '192.0.2.1' })).toBe(0)
    expect(send(s, { path: '/a', clientIp: '192.0.2.2' })).toBe(60)
    expect(send(s, { path: '/b', clientIp: '192.0.2.1' })).toBe(0)
    expect(send(s, { path: '/a', query: 'x=1' })).toBe(60)
  })

  it('stores long values by their hash, still apart', () => {
    const keys: string[] = []
    const spy: BucketStoreFactory = () => ({
      take(key) {
        keys.push(key)
        return 0
      },
    })
    const s = site([{ key: 'header:x-token', rate: 1, per: '1s' }], spy)
    const long = 'x'.repeat(5000)
    send(s, { headers: ['x-token', `${long}1`] })
    send(s, { headers: ['x-token', `${long}2`] })
    send(s, { headers: ['x-token', 'short'] })
    expect(keys[0].length).toBeLessThanOrEqual(64)
    expect(keys[0]).not.toBe(keys[1])
    expect(keys[2]).toBe('short')
  })
})

describe('bounded memory', () => {
  it('forgets the least recently used bucket beyond maxBuckets', () => {
    const s = site([{ key: 'client-ip', rate: 1, per: '1h', maxBuckets: 2 }])
    send(s, { clientIp: 'a' })
    send(s, { clientIp: 'b' })
    expect(send(s, { clientIp: 'a' })).toBe(3600) // a used again: b is now the oldest
    expect(send(s, { clientIp: 'c' })).toBe(0) // drops b
    expect(send(s, { clientIp: 'a' })).toBe(3600)
    expect(send(s, { clientIp: 'b' })).toBe(0) // b was forgotten: a full bucket again; drops c
    expect(send(s, { clientIp: 'a' })).toBe(3600)
    expect(send(s, { clientIp: 'c' })).toBe(0)
  })

  it('defaults to 100,000 buckets', () => {
    let limits: BucketLimits | undefined
    site([{ key: 'client-ip', rate: 5, per: '2s' }], (_id, l) => {
      limits = l
      return { take: () => 0 }
    })
    expect(limits).toEqual({ rate: 5, perMs: 2000, burst: 5, maxBuckets: 100_000 })
  })
})

describe('scoping', () => {
  it('limits only paths its match selects', () => {
    const s = site([{ key: 'client-ip', rate: 1, per: '1m', match: { prefix: '/api/' } }])
    expect(sendMany(s, 2, { path: '/api/x' })).toEqual([0, 60])
    expect(sendMany(s, 3, { path: '/static/x' })).toEqual([0, 0, 0])
  })

  it('applies every matching rule, the first empty bucket answering', () => {
    const s = site([
      { key: 'client-ip', rate: 3, per: '1m' },
      { key: 'path', rate: 1, per: '1s', status: 503, match: { exact: '/login' } },
    ])
    expect(send(s, { path: '/login', clientIp: '1' })).toBe(0)
    const c = ctx({ path: '/login', clientIp: '2' })
    expect(s.phases.request!(c)).toBe(ANSWER)
    expect(c.reply!.status).toBe(503)
    expect(sendMany(s, 2, { path: '/', clientIp: '1' })).toEqual([0, 0])
    const d = ctx({ path: '/', clientIp: '1' })
    expect(s.phases.request!(d)).toBe(ANSWER)
    expect(d.reply!.status).toBe(429)
  })
})

describe('bucket store', () => {
  it('gets one store per rule, named by the rule, with its limits', () => {
    const made: [string, BucketLimits][] = []
    const s = site(
      [
        { key: 'client-ip', rate: 10, per: '500ms', burst: 20 },
        { key: 'path', rate: 2, per: 60, maxBuckets: 7 },
      ],
      (id, limits) => {
        made.push([id, limits])
        return { take: (key) => (key === '/slow' ? 2.5 : 0) }
      },
    )
    expect(made).toEqual([
      ['http.sites[0].rules[0]', { rate: 10, perMs: 500, burst: 20, maxBuckets: 100_000 }],
      ['http.sites[0].rules[1]', { rate: 2, perMs: 60_000, burst: 2, maxBuckets: 7 }],
    ])
    expect(send(s, { path: '/slow' })).toBe(3)
    expect(send(s, { path: '/fast' })).toBe(0)
  })

  it('is given the clock in ms', () => {
    const seen: number[] = []
    const s = site([{ key: 'client-ip', rate: 1, per: '1s' }], () => ({
      take(_key, now) {
        seen.push(now)
        return 0
      },
    }))
    send(s)
    s.clock.now += 250
    send(s)
    expect(seen).toEqual([1_000_000, 1_000_250])
  })

  it('uses a clock that agrees across processes by default', () => {
    const seen: number[] = []
    const module = createRatelimit({
      store: () => ({
        take(_key, now) {
          seen.push(now)
          return 0
        },
      }),
    })
    const phases = module.site(
      [{ type: 'ratelimit', key: 'client-ip', rate: 1, per: '1s' }],
      ['http.sites[0].rules[0]'],
      { log: silent, registry: new Registry() },
      0,
    )
    const before = Date.now()
    phases.request!(ctx())
    expect(Math.abs(seen[0] - before)).toBeLessThan(1000)
  })
})

describe('metrics', () => {
  it('counts allowed and limited requests the rules applied to', async () => {
    const s = site([{ key: 'header:x-key', rate: 1, per: '1s' }])
    send(s, { headers: ['x-key', 'k'] })
    send(s, { headers: ['x-key', 'k'] })
    send(s, { headers: ['x-key', 'k'] })
    send(s)
    const text = await s.registry.metrics()
    expect(text).toContain('cutover_ratelimit_requests_total{result="allowed"} 1')
    expect(text).toContain('cutover_ratelimit_requests_total{result="limited"} 2')
  })

  it('shares one counter between the sites of a registry', () => {
    const env: ModuleEnv = { log: silent, registry: new Registry() }
    const rule = { type: 'ratelimit', key: 'client-ip', rate: 1, per: '1s' }
    ratelimitModule.site([rule], ['http.sites[0].rules[0]'], env, 0)
    expect(() => ratelimitModule.site([rule], ['http.sites[1].rules[0]'], env, 0)).not.toThrow()
  })
})

describe('config errors', () => {
  const check = (rule: Record<string, unknown>, message: string | RegExp): void => {
    expect(() =>
      ratelimitModule.site(
        [
          { type: 'ratelimit', key: 'client-ip', rate: 1, per: '1s' },
          { type: 'ratelimit', ...rule },
        ],
        ['http.sites[0].rules[0]', 'http.sites[0].rules[1]'],
        { log: silent, registry: new Registry() },
        0,
      ),
    ).toThrow(message)
  }

  it('names the key and what was expected', () => {
    check({ key: 'client-ip', rate: 0, per: '1s' }, 'http.sites[0].rules[1].rate: ')
    check({ key: 'client-ip', rate: 1.5, per: '1s' }, 'http.sites[0].rules[1].rate: ')
    check({ key: 'client-ip', per: '1s' }, 'http.sites[0].rules[1].rate: expected number (missing)')
    check(
      { key: 'ip', rate: 1, per: '1s' },
      'http.sites[0].rules[1].key: expected "client-ip", "path" or "header:<Name>", got "ip"',
    )
    check({ key: 'header:', rate: 1, per: '1s' }, 'http.sites[0].rules[1].key: ')
    check({ key: 'header:bad name', rate: 1, per: '1s' }, 'http.sites[0].rules[1].key: ')
    check(
      { key: 'path', rate: 1, per: '1 fortnight' },
      'http.sites[0].rules[1].per: expected a duration like "500ms", "2s" or "1m", got "1 fortnight"',
    )
    check(
      { key: 'path', rate: 1, per: '0s' },
      'http.sites[0].rules[1].per: expected a duration above zero',
    )
    check({ key: 'path', rate: 1, per: '1s', burst: 0 }, 'http.sites[0].rules[1].burst: ')
    check({ key: 'path', rate: 1, per: '1s', status: 200 }, 'http.sites[0].rules[1].status: ')
    check({ key: 'path', rate: 1, per: '1s', status: 600 }, 'http.sites[0].rules[1].status: ')
    check(
      { key: 'path', rate: 1, per: '1s', maxBuckets: -1 },
      'http.sites[0].rules[1].maxBuckets: ',
    )
    check({ key: 'path', rate: 1, per: '1s', match: { glob: '*' } }, 'http.sites[0].rules[1].match')
    check(
      { key: 'path', rate: 1, per: '1s', limit: 3 },
      /http\.sites\[0\]\.rules\[1\]: unknown key\(s\) "limit"/,
    )
  })

  it('throws CUTOVER_ERR_CONFIG_INVALID', () => {
    try {
      ratelimitModule.site(
        [{ type: 'ratelimit', key: 'path' }],
        ['http.sites[2].rules[0]'],
        { log: silent, registry: new Registry() },
        0,
      )
      expect.unreachable()
    } catch (err) {
      expect((err as { code: string }).code).toBe('CUTOVER_ERR_CONFIG_INVALID')
    }
  })
})

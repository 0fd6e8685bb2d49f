// The cache through its phases, driven as the engine drives it (test-site.ts):
// what is stored, how it is served and aged, keys and variants, bodies, bounds,
// metrics and config errors. Revalidation and conditionals: revalidation.test.ts.

import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { type HeaderList, headerAll, headerGet } from '../../common/header-list.ts'
import { context } from '../shared/http-test-support.ts'
import { ANSWER, NEXT } from '../verdict.ts'
import { cacheModule } from './index.ts'
import { httpDate, type OriginReply, originResponse, T0, testSite } from './test-site.ts'

/** A 200 that may be stored for `maxAge` seconds, dated now. */
function fresh(maxAge = 60, headers: HeaderList = [], body = 'hello'): OriginReply {
  return {
    status: 200,
    headers: ['Date', httpDate(T0), 'Cache-Control', `max-age=${maxAge}`, ...headers],
    body,
  }
}

/** Fetches twice; where the second answer came from. */
function storedAfterOne(reply: OriginReply, request = {}): 'cache' | 'origin' {
  const s = testSite()
  s.fetch(request, reply)
  return s.fetch(request, { status: 500 }).from
}

describe('hits', () => {
  it('serves a stored response as a local reply, with Age', () => {
    const s = testSite()
    const first = s.fetch({}, fresh(60, ['Content-Type', 'text/plain']))
    expect(first).toMatchObject({ from: 'origin', status: 200, body: 'hello' })
    s.clock.now += 5000
    const ctx = context({ clientIp: '192.0.2.7' })
    expect(s.phases.request!(ctx)).toBe(ANSWER)
    expect(ctx.reply).toEqual({
      status: 200,
      headers: [
        'Date',
        httpDate(T0),
        'Cache-Control',
        'max-age=60',
        'Content-Type',
        'text/plain',
        'age',
        '5',
      ],
      body: Buffer.from('hello'),
    })
  })

  it('counts Age from the Age and Date the origin sent (RFC 9111 4.2.3)', () => {
    const s = testSite()
    s.fetch({}, fresh(60, ['Age', '10']))
    expect(headerGet(s.fetch({}, { status: 500 }).headers, 'age')).toBe('10')
    s.clock.now += 2500
    expect(headerAll(s.fetch({}, { status: 500 }).headers, 'age')).toEqual(['12'])

    const dated = testSite()
    dated.fetch(
      {},
      { status: 200, headers: ['Date', httpDate(T0 - 7000), 'Cache-Control', 'max-age=60'] },
    )
    expect(headerGet(dated.fetch({}, { status: 500 }).headers, 'age')).toBe('7')
  })

  it('is stale once its age reaches the lifetime', () => {
    const s = testSite()
    s.fetch({}, fresh(10, ['Age', '3']))
    s.clock.now += 6999
    expect(s.fetch({}, { status: 500 }).from).toBe('cache')
    s.clock.now += 1
    expect(s.fetch({}, fresh(10, [], 'new'))).toMatchObject({ from: 'origin', body: 'new' })
    expect(s.fetch({}, { status: 500 })).toMatchObject({ from: 'cache', body: 'new' })
  })

  it('serves HEAD from a GET entry', () => {
    const s = testSite()
    s.fetch({}, fresh())
    const head = s.fetch({ method: 'HEAD' }, { status: 500 })
    expect(head).toMatchObject({ from: 'cache', status: 200 })
    expect(headerGet(head.headers, 'cache-control')).toBe('max-age=60')
  })

  it('does not store a HEAD response', () => {
    const s = testSite()
    s.fetch({ method: 'HEAD' }, fresh())
    expect(s.fetch({ method: 'HEAD' }, { status: 204 }).from).toBe('origin')
    expect(s.fetch({}, { status: 204 }).from).toBe('origin')
  })

  it('keeps neither connection fields, Content-Length nor the old Age', () => {
    const s = testSite()
    s.fetch(
      {},
      fresh(60, [
        'Connection',
        'keep-alive, X-Hop',
        'Keep-Alive',
        'timeout=5',
        'Transfer-Encoding',
        'chunked',
        'X-Hop',
        'secret',
        'Content-Length',
        '5',
        'Age',
        '1',
        'X-Kept',
        'yes',
      ]),
    )
    const hit = s.fetch({}, { status: 500 })
    const names = hit.headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())
    expect(names).toEqual(['date', 'cache-control', 'x-kept', 'age'])
  })
})

describe('freshness', () => {
  it('takes s-maxage over max-age over Expires', () => {
    const s = testSite()
    s.fetch(
      {},
      {
        status: 200,
        headers: [
          'Date',
          httpDate(T0),
          'Expires',
          httpDate(T0 + 10_000),
          'Cache-Control',
          'max-age=20, s-maxage=30',
        ],
      },
    )
    s.clock.now += 29_000
    expect(s.fetch({}, { status: 500 }).from).toBe('cache')
    s.clock.now += 1000
    expect(s.fetch({}, { status: 500 }).from).toBe('origin')

    const m = testSite()
    m.fetch(
      {},
      { status: 200, headers: ['Expires', httpDate(T0 + 10_000), 'Cache-Control', 'max-age=20'] },
    )
    m.clock.now += 19_000
    expect(m.fetch({}, { status: 500 }).from).toBe('cache')
    m.clock.now += 1000
    expect(m.fetch({}, { status: 500 }).from).toBe('origin')
  })

  it('takes Expires minus Date, whatever the local clock says', () => {
    const s = testSite()
    // The origin's clock is an hour behind ours: the lifetime is still 10 s.
    s.fetch(
      {},
      {
        status: 200,
        headers: ['Date', httpDate(T0 - 3600_000), 'Expires', httpDate(T0 - 3590_000)],
      },
    )
    expect(s.fetch({}, { status: 500 }).from).toBe('origin')
    const t = testSite()
    t.fetch({}, { status: 200, headers: ['Date', httpDate(T0), 'Expires', httpDate(T0 + 10_000)] })
    t.clock.now += 9000
    expect(t.fetch({}, { status: 500 }).from).toBe('cache')
    t.clock.now += 1000
    expect(t.fetch({}, { status: 500 }).from).toBe('origin')
  })

  it('uses the arrival time when Expires comes without Date', () => {
    const s = testSite()
    s.fetch({}, { status: 200, headers: ['Expires', httpDate(T0 + 5000)] })
    s.clock.now += 4000
    expect(s.fetch({}, { status: 500 }).from).toBe('cache')
  })

  it('takes an invalid Expires as already expired', () => {
    expect(storedAfterOne({ status: 200, headers: ['Date', httpDate(T0), 'Expires', '0'] })).toBe(
      'origin',
    )
  })

  it('takes the first of repeated directives and an invalid max-age as stale', () => {
    const s = testSite()
    s.fetch(
      {},
      { status: 200, headers: ['Cache-Control', 'max-age=10', 'Cache-Control', 'max-age=100'] },
    )
    s.clock.now += 10_000
    expect(s.fetch({}, { status: 500 }).from).toBe('origin')
    expect(storedAfterOne({ status: 200, headers: ['Cache-Control', 'max-age=ten'] })).toBe(
      'origin',
    )
  })
})

describe('what is stored', () => {
  it.each([200, 203, 204, 300, 301, 308, 404, 410])('status %i', (status) => {
    const s = testSite()
    s.fetch({}, { ...fresh(), status })
    expect(s.fetch({}, { status: 500 })).toMatchObject({ from: 'cache', status })
  })

  it.each([201, 206, 302, 307, 400, 403, 500, 503])('not status %i', (status) => {
    expect(storedAfterOne({ ...fresh(), status })).toBe('origin')
  })

  it('needs explicit freshness', () => {
    expect(storedAfterOne({ status: 200, headers: ['Date', httpDate(T0)] })).toBe('origin')
    expect(
      storedAfterOne({ status: 200, headers: ['Last-Modified', httpDate(T0 - 86_400_000)] }),
    ).toBe('origin')
    expect(storedAfterOne({ status: 200, headers: ['Cache-Control', 'public'] })).toBe('origin')
  })

  it.each([
    ['no-store', ['Cache-Control', 'max-age=60, no-store']],
    ['private', ['Cache-Control', 'private, max-age=60']],
    ['qualified private', ['Cache-Control', 'max-age=60, private="x-user"']],
    ['Set-Cookie', ['Cache-Control', 'max-age=60', 'Set-Cookie', 'id=1']],
    ['Vary: *', ['Cache-Control', 'max-age=60', 'Vary', 'Accept, *']],
  ])('not with %s', (_name, headers) => {
    expect(storedAfterOne({ status: 200, headers })).toBe('origin')
  })

  it('not for a request with Authorization, unless s-maxage, public or must-revalidate', () => {
    const auth = { headers: ['Authorization', 'Bearer x'] }
    expect(storedAfterOne(fresh(), auth)).toBe('origin')
    for (const cc of ['s-maxage=60', 'public, max-age=60', 'must-revalidate, max-age=60']) {
      expect(storedAfterOne({ status: 200, headers: ['Cache-Control', cc] }, auth)).toBe('cache')
    }
  })

  it('not when the request said no-store, though a stored response is still served', () => {
    expect(storedAfterOne(fresh(), { headers: ['Cache-Control', 'no-store'] })).toBe('origin')
    const s = testSite()
    s.fetch({}, fresh())
    expect(s.fetch({ headers: ['cache-control', 'no-store'] }, { status: 500 }).from).toBe('cache')
  })

  it('not a local reply of a later module', () => {
    expect(storedAfterOne({ ...fresh(), source: 'local' })).toBe('origin')
  })

  it('a body a later module set, when it fits', () => {
    const s = testSite({ maxObjectSize: 10 })
    s.fetch({ path: '/a' }, { ...fresh(), presetBody: 'replaced' })
    expect(s.fetch({ path: '/a' }, { status: 500 }).body).toBe('replaced')
    s.fetch({ path: '/b' }, { ...fresh(), presetBody: 'far too long' })
    expect(s.fetch({ path: '/b' }, { status: 500 }).from).toBe('origin')
  })
})

describe('bodies', () => {
  it('stores the body once it has arrived whole', () => {
    const s = testSite()
    const ctx = context()
    expect(s.phases.request!(ctx)).toBe(NEXT)
    const response = originResponse(200, fresh().headers!)
    s.phases.response!(ctx, response)
    expect(response.taps).toHaveLength(1)
    const [tap] = response.taps
    tap.chunk(Buffer.from('hel'))
    expect(s.fetch({}, fresh(60, [], 'other')).from).toBe('origin') // not stored before end()
    tap.chunk(Buffer.from('lo'))
    tap.end()
    expect(s.fetch({}, { status: 500 }).body).toBe('hello')
  })

  it('discards a body cut short', () => {
    const s = testSite()
    s.fetch({ finish: 'abort' }, fresh())
    expect(s.fetch({}, { status: 500 }).from).toBe('origin')
  })

  it('keeps objects to 1 MiB, or maxBytes if less, by default', () => {
    const s = testSite({ maxBytes: 4096 })
    s.fetch({ path: '/a' }, fresh(60, [], 'x'.repeat(3000)))
    s.fetch({ path: '/b' }, fresh(60, [], 'x'.repeat(4097)))
    expect(s.fetch({ path: '/a' }, { status: 500 }).from).toBe('cache')
    expect(s.fetch({ path: '/b' }, { status: 500 }).from).toBe('origin')
  })

  it('discards a body larger than maxObjectSize', () => {
    const s = testSite({ maxObjectSize: 8 })
    s.fetch({ path: '/8' }, fresh(60, [], '12345678'))
    s.fetch({ path: '/9' }, fresh(60, [], '123456789'))
    expect(s.fetch({ path: '/8' }, { status: 500 })).toMatchObject({
      from: 'cache',
      body: '12345678',
    })
    expect(s.fetch({ path: '/9' }, { status: 500 }).from).toBe('origin')
  })

  it('does not tap a body whose Content-Length is over maxObjectSize', () => {
    const s = testSite({ maxObjectSize: '1KiB' })
    const ctx = context()
    s.phases.request!(ctx)
    const response = originResponse(200, ['Cache-Control', 'max-age=60', 'Content-Length', '1025'])
    s.phases.response!(ctx, response)
    expect(response.taps).toHaveLength(0)
  })
})

describe('keys', () => {
  it('are scheme, host, path and query', () => {
    const s = testSite()
    s.fetch({ path: '/p', query: 'a=1' }, fresh(60, [], 'base'))
    expect(s.fetch({ path: '/p', query: 'a=1' }, { status: 500 }).body).toBe('base')
    for (const other of [
      { path: '/p', query: 'a=2' },
      { path: '/p' },
      { path: '/q', query: 'a=1' },
      { path: '/p', query: 'a=1', host: 'other.test' },
      { path: '/p', query: 'a=1', protocol: 'http' as const },
    ]) {
      expect(s.fetch(other, { status: 500 }).from).toBe('origin')
    }
  })

  it('hold variants per the request headers Vary names', () => {
    const s = testSite()
    const varying = (body: string): OriginReply =>
      fresh(60, ['Vary', 'Accept-Encoding, Accept-Language'], body)
    s.fetch({ headers: ['Accept-Encoding', 'gzip'] }, varying('gzip'))
    s.fetch({ headers: ['Accept-Encoding', 'br'] }, varying('br'))
    s.fetch({}, varying('none'))
    s.fetch({ headers: ['Accept-Encoding', 'br', 'Accept-Language', 'fr'] }, varying('br-fr'))
    const get = (headers: HeaderList) => s.fetch({ headers }, { status: 500 })
    expect(get(['accept-encoding', 'gzip']).body).toBe('gzip')
    expect(get(['ACCEPT-ENCODING', 'br']).body).toBe('br')
    expect(get([]).body).toBe('none')
    expect(get(['accept-language', 'fr', 'accept-encoding', 'br']).body).toBe('br-fr')
    expect(get(['accept-encoding', 'deflate']).from).toBe('origin')
    expect(get(['accept-encoding', '']).from).toBe('origin')
  })

  it('replace the variant the storing request selects', () => {
    const s = testSite()
    s.fetch({ headers: ['accept', 'a'] }, fresh(1, ['Vary', 'Accept'], 'a1'))
    s.fetch({ headers: ['accept', 'b'] }, fresh(60, ['Vary', 'Accept'], 'b'))
    s.clock.now += 1000
    s.fetch({ headers: ['accept', 'a'] }, fresh(60, ['Vary', 'Accept'], 'a2'))
    expect(s.fetch({ headers: ['accept', 'a'] }, { status: 500 }).body).toBe('a2')
    expect(s.fetch({ headers: ['accept', 'b'] }, { status: 500 }).body).toBe('b')
  })

  it('keep at most 16 variants, dropping the oldest', () => {
    const s = testSite()
    for (let i = 0; i < 17; i++)
      s.fetch({ headers: ['x-v', String(i)] }, fresh(60, ['Vary', 'X-V'], String(i)))
    expect(s.fetch({ headers: ['x-v', '0'] }, { status: 500 }).from).toBe('origin')
    expect(s.fetch({ headers: ['x-v', '1'] }, { status: 500 }).from).toBe('cache')
    expect(s.fetch({ headers: ['x-v', '16'] }, { status: 500 }).from).toBe('cache')
  })
})

describe('scope', () => {
  it('caches only what its match selects', () => {
    const s = testSite({ match: { prefix: '/assets/' } })
    s.fetch({ path: '/assets/a.css' }, fresh())
    s.fetch({ path: '/api' }, fresh())
    expect(s.fetch({ path: '/assets/a.css' }, { status: 500 }).from).toBe('cache')
    expect(s.fetch({ path: '/api' }, { status: 500 }).from).toBe('origin')
  })

  it('passes other methods on, and a successful unsafe one makes the URI a miss', () => {
    const s = testSite()
    s.fetch({ path: '/doc' }, fresh())
    expect(s.fetch({ path: '/doc', method: 'POST' }, { status: 500 }).from).toBe('origin')
    expect(s.fetch({ path: '/doc' }, { status: 500 }).from).toBe('cache') // the POST failed
    expect(s.fetch({ path: '/doc', method: 'OPTIONS' }, { status: 200 }).from).toBe('origin')
    expect(s.fetch({ path: '/doc' }, { status: 500 }).from).toBe('cache')
    s.fetch({ path: '/doc', method: 'PUT' }, { status: 204 })
    expect(s.fetch({ path: '/doc' }, { status: 500 }).from).toBe('origin')
  })

  it('serves several rules, the first that matches with its own store', () => {
    const s = testSite([{ match: { prefix: '/small/' }, maxObjectSize: 4 }, {}])
    s.fetch({ path: '/small/a' }, fresh(60, [], 'hello'))
    s.fetch({ path: '/big/a' }, fresh(60, [], 'hello'))
    expect(s.fetch({ path: '/small/a' }, { status: 500 }).from).toBe('origin')
    expect(s.fetch({ path: '/big/a' }, { status: 500 }).from).toBe('cache')
  })
})

describe('bounds', () => {
  it('keeps maxBytes, least recently used out first, and reports its bytes', async () => {
    const s = testSite({ maxBytes: 1000, maxObjectSize: 500 })
    // An entry costs its body, its header text and about 300 bytes more: two fit.
    const body = 'x'.repeat(150)
    s.fetch({ path: '/a' }, fresh(60, [], body))
    s.fetch({ path: '/b' }, fresh(60, [], body))
    const two = await s.metric('cutover_cache_bytes')
    expect(two).toBeGreaterThan(600)
    expect(two).toBeLessThanOrEqual(1000)
    s.fetch({ path: '/a' }, { status: 500 }) // a is now the most recent
    s.fetch({ path: '/c' }, fresh(60, [], body)) // drops b
    expect(s.fetch({ path: '/b' }, { status: 500 }).from).toBe('origin')
    expect(s.fetch({ path: '/a' }, { status: 500 }).from).toBe('cache')
    expect(s.fetch({ path: '/c' }, { status: 500 }).from).toBe('cache')
    expect(await s.metric('cutover_cache_bytes')).toBe(two)
    s.fetch({ path: '/c', method: 'DELETE' }, { status: 200 })
    expect(await s.metric('cutover_cache_bytes')).toBe(two / 2)
  })

  it('shares its metrics between the sites of a registry', async () => {
    const registry = new Registry()
    const env = { log: { info() {}, warn() {}, error() {} }, registry }
    cacheModule.site([{ type: 'cache' }], ['http.sites[0].rules[0]'], env, 0)
    expect(() =>
      cacheModule.site([{ type: 'cache' }], ['http.sites[1].rules[0]'], env, 0),
    ).not.toThrow()
  })
})

describe('metrics', () => {
  it('counts hits, misses and bypasses', async () => {
    const s = testSite({ match: { prefix: '/c' } })
    s.fetch({ path: '/c' }, fresh())
    s.fetch({ path: '/c' }, { status: 500 })
    s.fetch({ path: '/c', method: 'HEAD' }, { status: 500 })
    s.fetch({ path: '/c', method: 'POST' }, { status: 500 })
    s.fetch({ path: '/elsewhere' }, { status: 500 })
    expect(await s.metric('cutover_cache_lookups_total{result="hit"}')).toBe(2)
    expect(await s.metric('cutover_cache_lookups_total{result="miss"}')).toBe(1)
    expect(await s.metric('cutover_cache_lookups_total{result="bypass"}')).toBe(1)
  })
})

describe('only-if-cached', () => {
  it('answers 504 when nothing usable is stored', () => {
    const s = testSite()
    const miss = s.fetch({ headers: ['cache-control', 'only-if-cached'] }, { status: 200 })
    expect(miss).toMatchObject({ from: 'cache', status: 504 })
    s.fetch({}, fresh())
    expect(
      s.fetch({ headers: ['cache-control', 'only-if-cached'] }, { status: 500 }),
    ).toMatchObject({
      from: 'cache',
      status: 200,
    })
  })
})

describe('config', () => {
  const site = (rule: Record<string, unknown>) => () =>
    cacheModule.site(
      [{ type: 'cache' }, { type: 'cache', ...rule }],
      ['http.sites[0].rules[0]', 'http.sites[0].rules[1]'],
      { log: { info() {}, warn() {}, error() {} }, registry: new Registry() },
      0,
    )

  it('takes sizes with units or in bytes', () => {
    expect(site({ maxBytes: '64MiB', maxObjectSize: '512KiB' })).not.toThrow()
    expect(site({ maxBytes: 1_000_000, maxObjectSize: 1000 })).not.toThrow()
    expect(site({ maxBytes: '100KiB' })).not.toThrow()
  })

  it('names the key and what was expected', () => {
    expect(site({ maxBytes: 'lots' })).toThrow(
      'http.sites[0].rules[1].maxBytes: expected a size like "64MiB" or a number of bytes, got "lots"',
    )
    expect(site({ maxBytes: 0 })).toThrow(
      'http.sites[0].rules[1].maxBytes: expected a size above zero',
    )
    expect(site({ maxBytes: '1MiB', maxObjectSize: '2MiB' })).toThrow(
      'http.sites[0].rules[1].maxObjectSize: expected at most maxBytes',
    )
    expect(site({ match: { prefix: 'x' } })).toThrow('http.sites[0].rules[1].match')
    expect(site({ ttl: '1m' })).toThrow('http.sites[0].rules[1]: unknown key(s) "ttl"')
  })
})

describe('time', () => {
  it('defaults to the wall clock, as Date and Expires are', () => {
    const registry = new Registry()
    const phases = cacheModule.site(
      [{ type: 'cache' }],
      ['http.sites[0].rules[0]'],
      { log: { info() {}, warn() {}, error() {} }, registry },
      0,
    )
    const c = context()
    phases.request!(c)
    const now = Date.now()
    const response = originResponse(200, [
      'Date',
      httpDate(now),
      'Expires',
      httpDate(now + 3600_000),
    ])
    response.body = Buffer.from('x')
    phases.response!(c, response)
    expect(phases.request!(context())).toBe(ANSWER)
  })
})

// Revalidation with the origin (RFC 9111 4.3) and clients' conditional requests
// (RFC 9110 13), through the cache's phases with an injected clock.

import { describe, expect, it } from 'vitest'
import { type HeaderList, headerAll, headerGet } from '../../common/header-list.ts'
import { httpDate, type OriginReply, T0, type TestSite, testSite } from './test-site.ts'

const LAST_MODIFIED = httpDate(T0 - 86_400_000)

function stored(cacheControl: string, validators: HeaderList, body = 'cached'): OriginReply {
  return {
    status: 200,
    headers: [
      'Date',
      httpDate(T0),
      'Cache-Control',
      cacheControl,
      'Content-Type',
      'text/html',
      ...validators,
    ],
    body,
  }
}

const notModified = (headers: HeaderList = []): OriginReply => ({ status: 304, headers })

/** A site holding "cached" (ETag "v1", max-age=10) that has just gone stale. */
function staleSite(): TestSite {
  const s = testSite()
  s.fetch({}, stored('max-age=10', ['ETag', '"v1"']))
  s.clock.now += 10_000
  return s
}

/** How many lookups ended in `result` (hit, miss, revalidated, ...). */
const lookups = (s: TestSite, result: string) =>
  s.metric(`cutover_cache_lookups_total{result="${result}"}`)

/** An origin that must not be asked. */
const unreachable = (): OriginReply => {
  throw new Error('the origin was asked')
}

describe('revalidating a stale entry', () => {
  it('asks with If-None-Match and serves the stored body on a 304', async () => {
    const s = staleSite()
    const r = s.fetch({}, (sent) => {
      expect(headerAll(sent, 'if-none-match')).toEqual(['"v1"'])
      expect(headerGet(sent, 'if-modified-since')).toBeUndefined()
      return notModified([
        'Date',
        httpDate(s.clock.now),
        'Cache-Control',
        'max-age=30',
        'ETag',
        '"v1"',
      ])
    })
    expect(r).toMatchObject({ from: 'origin', status: 200, body: 'cached' })
    expect(headerGet(r.headers, 'cache-control')).toBe('max-age=30')
    expect(headerGet(r.headers, 'content-type')).toBe('text/html')
    expect(headerAll(r.headers, 'age')).toEqual(['0'])
    expect(await lookups(s, 'revalidated')).toBe(1)
    expect(await lookups(s, 'miss')).toBe(1)
  })

  it('is fresh again for the lifetime the 304 gave', () => {
    const s = staleSite()
    s.fetch(
      {},
      notModified(['Date', httpDate(s.clock.now), 'Cache-Control', 'max-age=30', 'Age', '4']),
    )
    s.clock.now += 25_999
    const hit = s.fetch({}, unreachable)
    expect(hit).toMatchObject({ from: 'cache', status: 200, body: 'cached' })
    expect(headerGet(hit.headers, 'age')).toBe('29')
    s.clock.now += 1
    expect(s.fetch({}, notModified()).from).toBe('origin')
  })

  it('asks with If-Modified-Since when Last-Modified is the only validator', () => {
    const s = testSite()
    s.fetch({}, stored('max-age=0', ['Last-Modified', LAST_MODIFIED]))
    const r = s.fetch({}, (sent) => {
      expect(headerAll(sent, 'if-modified-since')).toEqual([LAST_MODIFIED])
      expect(headerGet(sent, 'if-none-match')).toBeUndefined()
      return notModified()
    })
    expect(r).toMatchObject({ status: 200, body: 'cached' })
  })

  it('sends both validators when it has both', () => {
    const s = testSite()
    s.fetch({}, stored('max-age=0', ['ETag', 'W/"w"', 'Last-Modified', LAST_MODIFIED]))
    s.fetch({}, (sent) => {
      expect(headerGet(sent, 'if-none-match')).toBe('W/"w"')
      expect(headerGet(sent, 'if-modified-since')).toBe(LAST_MODIFIED)
      return notModified()
    })
  })

  it('stores the new response when the origin sends one', async () => {
    const s = staleSite()
    const r = s.fetch(
      {},
      { status: 200, headers: ['Cache-Control', 'max-age=60', 'ETag', '"v2"'], body: 'new' },
    )
    expect(r).toMatchObject({ from: 'origin', status: 200, body: 'new' })
    expect(s.fetch({}, unreachable)).toMatchObject({ from: 'cache', body: 'new' })
    expect(await lookups(s, 'miss')).toBe(2)
    expect(await lookups(s, 'revalidated')).toBe(0)
  })

  it('passes an origin error on, keeping the entry', () => {
    const s = staleSite()
    expect(s.fetch({}, { status: 502, body: 'bad gateway' })).toMatchObject({
      status: 502,
      body: 'bad gateway',
    })
    expect(s.fetch({}, notModified())).toMatchObject({ status: 200, body: 'cached' })
  })

  it('is a plain miss without validators', () => {
    const s = testSite()
    s.fetch({ headers: ['If-None-Match', '"client"'] }, stored('max-age=10', []))
    s.clock.now += 10_000
    const r = s.fetch({ headers: ['If-None-Match', '"client"'] }, (sent) => {
      expect(headerAll(sent, 'if-none-match')).toEqual(['"client"'])
      return notModified()
    })
    expect(r).toMatchObject({ status: 304, body: '' })
  })

  it('is a plain miss for HEAD', () => {
    const s = staleSite()
    const r = s.fetch({ method: 'HEAD' }, (sent) => {
      expect(headerGet(sent, 'if-none-match')).toBeUndefined()
      return { status: 200, headers: ['Cache-Control', 'max-age=60'] }
    })
    expect(r.from).toBe('origin')
    expect(s.fetch({}, notModified()).body).toBe('cached')
  })

  it('keeps the stored body description, and never a 304 Content-Length', () => {
    const s = testSite()
    s.fetch({}, stored('max-age=0', ['ETag', '"v1"', 'X-Version', '1']))
    const r = s.fetch(
      {},
      notModified([
        'Content-Type',
        'text/plain',
        'Content-Length',
        '0',
        'X-Version',
        '2',
        'Connection',
        'close',
      ]),
    )
    expect(headerGet(r.headers, 'content-type')).toBe('text/html')
    expect(headerGet(r.headers, 'content-length')).toBeUndefined()
    expect(headerGet(r.headers, 'connection')).toBeUndefined()
    expect(headerAll(r.headers, 'x-version')).toEqual(['2'])
  })

  it('serves once and forgets an entry the 304 forbids storing', () => {
    const s = testSite()
    s.fetch({}, stored('max-age=0', ['ETag', '"v1"']))
    expect(s.fetch({}, notModified(['Cache-Control', 'no-store'])).body).toBe('cached')
    const next = s.fetch({}, (sent) => {
      expect(headerGet(sent, 'if-none-match')).toBeUndefined()
      return { status: 200, body: 'fresh' }
    })
    expect(next.body).toBe('fresh')
  })

  it('passes a Set-Cookie in the 304 to this client only', () => {
    const s = testSite()
    s.fetch({}, stored('max-age=0', ['ETag', '"v1"']))
    const r = s.fetch({}, notModified(['Set-Cookie', 'session=1', 'Age', '3']))
    expect(r).toMatchObject({ status: 200, body: 'cached' })
    expect(headerGet(r.headers, 'set-cookie')).toBe('session=1')
    expect(headerAll(r.headers, 'age')).toEqual(['0'])
    expect(s.fetch({}, { status: 200, body: 'fresh' }).body).toBe('fresh')
  })

  it('ignores a 304 that a later module made locally', () => {
    const s = testSite()
    s.fetch({}, stored('max-age=0', ['ETag', '"v1"']))
    const r = s.fetch({}, { status: 304, source: 'local' })
    expect(r.status).toBe(304)
  })
})

describe('no-cache', () => {
  it('in the response: stored, but revalidated before every use', () => {
    const s = testSite()
    s.fetch({}, stored('no-cache, max-age=3600', ['ETag', '"v1"']))
    for (let i = 0; i < 3; i++) {
      let asked = false
      const r = s.fetch({}, (sent) => {
        asked = headerGet(sent, 'if-none-match') === '"v1"'
        return notModified()
      })
      expect(asked).toBe(true)
      expect(r.body).toBe('cached')
    }
  })

  it('in the request: a fresh entry is revalidated', () => {
    const s = testSite()
    s.fetch({}, stored('max-age=3600', ['ETag', '"v1"']))
    const r = s.fetch({ headers: ['Cache-Control', 'no-cache'] }, (sent) => {
      expect(headerGet(sent, 'if-none-match')).toBe('"v1"')
      return notModified()
    })
    expect(r).toMatchObject({ from: 'origin', status: 200, body: 'cached' })
  })
})

describe('request limits on freshness', () => {
  it('max-age: an older entry is revalidated', () => {
    const s = testSite()
    s.fetch({}, stored('max-age=3600', ['ETag', '"v1"']))
    s.clock.now += 5000
    expect(s.fetch({ headers: ['cache-control', 'max-age=5'] }, unreachable).from).toBe('cache')
    expect(s.fetch({ headers: ['cache-control', 'max-age=4'] }, notModified()).from).toBe('origin')
    expect(s.fetch({ headers: ['cache-control', 'max-age=0'] }, notModified()).from).toBe('origin')
  })

  it('min-fresh: an entry that will be stale too soon is revalidated', () => {
    const s = testSite()
    s.fetch({}, stored('max-age=60', ['ETag', '"v1"']))
    s.clock.now += 30_000
    expect(s.fetch({ headers: ['cache-control', 'min-fresh=30'] }, unreachable).from).toBe('cache')
    expect(s.fetch({ headers: ['cache-control', 'min-fresh=31'] }, notModified()).from).toBe(
      'origin',
    )
  })

  it('max-stale: a stale entry is served if the response allows it', () => {
    const s = testSite()
    s.fetch({ path: '/a' }, stored('max-age=10', ['ETag', '"v1"']))
    s.fetch({ path: '/b' }, stored('max-age=10, must-revalidate', ['ETag', '"v1"']))
    s.fetch({ path: '/c' }, stored('s-maxage=10', ['ETag', '"v1"']))
    s.clock.now += 15_000
    const stale = (path: string, cc: string) =>
      s.fetch({ path, headers: ['cache-control', cc] }, notModified()).from
    expect(stale('/a', 'max-stale=5')).toBe('cache')
    expect(stale('/a', 'max-stale')).toBe('cache')
    expect(stale('/a', 'max-stale=4')).toBe('origin')
    expect(stale('/b', 'max-stale')).toBe('origin')
    expect(stale('/c', 'max-stale')).toBe('origin')
  })
})

describe('client conditionals on a fresh entry', () => {
  /** The entry's fields that a 304 sends on (RFC 9110 15.4.5): validators, Expires and Vary. */
  const for304 = [
    'ETag',
    '"abc"',
    'Last-Modified',
    LAST_MODIFIED,
    'Expires',
    httpDate(T0 + 60_000),
    'Vary',
    'Accept',
  ]
  const site = () => {
    const s = testSite()
    s.fetch({}, stored('max-age=60', for304))
    s.clock.now += 2000
    return s
  }
  const ask = (headers: HeaderList) => site().fetch({ headers }, unreachable)

  it('answers 304 to a matching If-None-Match, with validators and no body', () => {
    const r = ask(['If-None-Match', '"abc"'])
    expect(r).toMatchObject({ from: 'cache', status: 304, body: '' })
    expect(r.headers).toEqual([
      'Date',
      httpDate(T0),
      'Cache-Control',
      'max-age=60',
      ...for304,
      'age',
      '2',
    ])
  })

  it('compares entity-tags weakly and reads lists and *', () => {
    expect(ask(['If-None-Match', 'W/"abc"']).status).toBe(304)
    expect(ask(['If-None-Match', '"x", W/"abc"']).status).toBe(304)
    expect(ask(['If-None-Match', '"x"', 'If-None-Match', '"abc"']).status).toBe(304)
    expect(ask(['If-None-Match', '"a,bc", "ab"']).status).toBe(200)
    expect(ask(['If-None-Match', '*']).status).toBe(304)
    expect(ask(['If-None-Match', '"abcd"'])).toMatchObject({ status: 200, body: 'cached' })
  })

  it('answers 304 when If-Modified-Since is not before Last-Modified', () => {
    expect(ask(['If-Modified-Since', LAST_MODIFIED]).status).toBe(304)
    expect(ask(['If-Modified-Since', httpDate(T0)]).status).toBe(304)
    expect(ask(['If-Modified-Since', httpDate(T0 - 86_401_000)]).status).toBe(200)
    expect(ask(['If-Modified-Since', 'yesterday']).status).toBe(200)
  })

  it('ignores If-Modified-Since when If-None-Match is there', () => {
    expect(ask(['If-None-Match', '"other"', 'If-Modified-Since', httpDate(T0)]).status).toBe(200)
  })

  it('compares If-Modified-Since with Date when there is no Last-Modified', () => {
    const s = testSite()
    s.fetch({}, stored('max-age=60', []))
    expect(s.fetch({ headers: ['If-Modified-Since', httpDate(T0)] }, unreachable).status).toBe(304)
    expect(
      s.fetch({ headers: ['If-Modified-Since', httpDate(T0 - 1000)] }, unreachable).status,
    ).toBe(200)
  })

  it('does not answer 304 for a stored error', () => {
    const s = testSite()
    s.fetch(
      {},
      { status: 404, headers: ['Cache-Control', 'max-age=60', 'ETag', '"gone"'], body: 'no' },
    )
    expect(s.fetch({ headers: ['If-None-Match', '"gone"'] }, unreachable)).toMatchObject({
      status: 404,
      body: 'no',
    })
  })
})

describe('client conditionals while revalidating', () => {
  it('sends the cache’s validators, not the client’s, and answers the client after the 304', () => {
    const s = testSite()
    s.fetch({}, stored('max-age=0', ['ETag', '"v2"', 'Last-Modified', LAST_MODIFIED]))
    const origin = (sent: HeaderList): OriginReply => {
      expect(headerAll(sent, 'if-none-match')).toEqual(['"v2"'])
      expect(headerAll(sent, 'if-modified-since')).toEqual([LAST_MODIFIED])
      return notModified()
    }
    const has = s.fetch(
      { headers: ['If-None-Match', '"v2"', 'If-Modified-Since', httpDate(T0)] },
      origin,
    )
    expect(has).toMatchObject({ status: 304, body: '' })
    expect(headerGet(has.headers, 'etag')).toBe('"v2"')
    const old = s.fetch({ headers: ['If-None-Match', '"v1"'] }, origin)
    expect(old).toMatchObject({ status: 200, body: 'cached' })
  })
})

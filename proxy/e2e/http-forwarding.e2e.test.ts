// End to end: what the HTTP forwarder does to a request and its response on the
// way through, on both paths (a new-path site's origin, and the legacy upstream
// for hosts of no site): hop-by-hop fields, X-Forwarded-*, Via, Host, cookies,
// bodiless responses, Expect: 100-continue, clients that go away, and upstreams
// that are down or silent. Upstreams are node:http servers the test controls.

import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { request } from 'undici'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { freePort } from './support/free-port.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { parseResponses, RawConnection } from './support/raw-http.ts'
import { startUpstream, type TestUpstream, unexpected, within } from './support/upstream.ts'

const SITE = 'www.fwd.test'
const PATHS = [
  { path: 'new', host: SITE },
  { path: 'legacy', host: 'nosite.fwd.test' },
] as const

/** The new-path site: a headers rule around its origin, so modules run on the way. */
function site(origin: string) {
  return {
    host: SITE,
    origin,
    percent: 100,
    rules: [
      {
        type: 'headers',
        request: { set: { 'X-Site': 'new' } },
        response: { set: { 'X-Served-By': 'cutover' } },
      },
    ],
  }
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function open(port: number): Promise<RawConnection> {
  const conn = await RawConnection.open(port)
  cleanups.push(() => conn.destroy())
  return conn
}

/** Lowercased names of a raw header list, and the values of one name. */
function names(raw: readonly string[]): string[] {
  return raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())
}
function values(raw: readonly string[], name: string): string[] {
  return raw.filter((_, i) => i % 2 === 1 && raw[i - 1].toLowerCase() === name)
}

describe('forwarding through a live proxy', () => {
  let origin: TestUpstream
  let legacy: TestUpstream
  let proxy: TestProxy

  beforeAll(async () => {
    origin = await startUpstream()
    legacy = await startUpstream()
    proxy = await startTestProxy({
      http: {
        listen: '127.0.0.1:0',
        legacy: { url: legacy.url },
        doh: false,
        sites: [site(origin.url)],
      },
    })
  })

  afterAll(async () => {
    await proxy?.stop()
    await origin?.stop()
    await legacy?.stop()
  })

  beforeEach(() => {
    origin.handler = unexpected
    legacy.handler = unexpected
  })

  describe.each(PATHS)('on the $path path', ({ path, host }) => {
    const upstream = () => (path === 'new' ? origin : legacy)

    it('counts the request on its path and asks only its upstream', async () => {
      upstream().handler = (_req, res) => res.end('ok')
      const before = await proxy.metric('cutover_requests_total', { protocol: 'http', path })
      const asked = [origin.requests, legacy.requests]
      const res = await request(`http://127.0.0.1:${proxy.httpPort}/count`, { headers: { host } })
      expect(res.statusCode).toBe(200)
      expect(await res.body.text()).toBe('ok')
      expect(await proxy.metric('cutover_requests_total', { protocol: 'http', path })).toBe(
        before + 1,
      )
      expect([origin.requests - asked[0], legacy.requests - asked[1]]).toEqual(
        path === 'new' ? [1, 0] : [0, 1],
      )
    })

    it('drops hop-by-hop request fields, appends X-Forwarded-For and Via, sets X-Forwarded-Proto, keeps Host', async () => {
      let seen: string[] = []
      upstream().handler = (req, res) => {
        seen = req.rawHeaders
        req.resume()
        res.end('seen')
      }
      const conn = await open(proxy.httpPort)
      await conn.write(
        [
          'GET /headers?q=1 HTTP/1.1',
          `Host: ${host}:8443`,
          'Connection: close, X-Custom',
          'Keep-Alive: timeout=5, max=100',
          'TE: trailers',
          'Trailer: X-Checksum',
          'Upgrade: h2c',
          'Proxy-Authorization: Basic Zm9vOmJhcg==',
          'Proxy-Connection: keep-alive',
          'X-Custom: hop-only',
          'X-End-To-End: kept',
          'X-Forwarded-For: 203.0.113.7',
          'X-Forwarded-Proto: https',
          'Via: 1.0 fred',
          '',
          '',
        ].join('\r\n'),
      )
      const { responses } = parseResponses(await conn.readToClose(), ['GET'])
      expect(responses[0].status).toBe(200)
      expect(responses[0].body.toString()).toBe('seen')

      const got = names(seen)
      for (const hop of [
        'keep-alive',
        'te',
        'trailer',
        'upgrade',
        'proxy-authorization',
        'proxy-connection',
        'x-custom',
      ])
        expect(got, `${hop} forwarded`).not.toContain(hop)
      // The upstream hop has its own Connection field (the pool's keep-alive), never the client's.
      for (const v of values(seen, 'connection'))
        expect(v.toLowerCase()).not.toMatch(/x-custom|close/)
      expect(values(seen, 'x-end-to-end')).toEqual(['kept'])
      expect(values(seen, 'host')).toEqual([`${host}:8443`])
      expect(values(seen, 'x-forwarded-for')).toEqual(['203.0.113.7, 127.0.0.1'])
      expect(values(seen, 'x-forwarded-proto')).toEqual(['http'])
      expect(values(seen, 'via')).toEqual(['1.0 fred, 1.1 cutover'])
      expect(values(seen, 'x-site')).toEqual(path === 'new' ? ['new'] : [])
    })

    it('drops hop-by-hop response fields, appends Via, keeps Set-Cookie fields apart', async () => {
      upstream().handler = (req, res) => {
        req.resume()
        // Chunked, so that a Trailer field is allowed.
        res.writeHead(200, [
          'Content-Type',
          'text/plain',
          'Connection',
          'keep-alive, X-Resp-Secret',
          'Keep-Alive',
          'timeout=99, max=7',
          'Trailer',
          'X-Checksum',
          'Upgrade',
          'h2c',
          'Proxy-Authenticate',
          'Basic realm="origin"',
          'X-Resp-Secret',
          'hop-only',
          'X-End-To-End',
          'kept',
          'Set-Cookie',
          'a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT',
          'Set-Cookie',
          'b=2; Path=/; HttpOnly',
          'Via',
          '1.1 origin',
        ])
        res.write('part one, ')
        res.addTrailers({ 'X-Checksum': 'abc' })
        res.end('part two')
      }
      const conn = await open(proxy.httpPort)
      await conn.write(`GET /cookies HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
      const [res] = parseResponses(await conn.readToClose(), ['GET']).responses
      expect(res.status).toBe(200)
      expect(res.body.toString()).toBe('part one, part two')
      const got = res.headers.map(([n]) => n)
      for (const hop of ['keep-alive', 'trailer', 'upgrade', 'proxy-authenticate', 'x-resp-secret'])
        expect(got, `${hop} forwarded`).not.toContain(hop)
      expect(res.all('connection')).toEqual(['close'])
      expect(res.all('x-end-to-end')).toEqual(['kept'])
      expect(res.all('set-cookie')).toEqual([
        'a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT',
        'b=2; Path=/; HttpOnly',
      ])
      expect(res.all('via')).toEqual(['1.1 origin, 1.1 cutover'])
      expect(res.all('x-served-by')).toEqual(path === 'new' ? ['cutover'] : [])
    })

    it('answers HEAD without a body, keeping the Content-Length of the GET', async () => {
      let method = ''
      upstream().handler = (req, res) => {
        method = req.method ?? ''
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1234' })
        res.end()
      }
      const conn = await open(proxy.httpPort)
      // A second request on the same connection shows no body bytes were sent after the head.
      await conn.write(
        `HEAD /big HTTP/1.1\r\nHost: ${host}\r\n\r\nHEAD /big HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      )
      const { responses, rest } = parseResponses(await conn.readToClose(), ['HEAD', 'HEAD'])
      expect(method).toBe('HEAD')
      expect(rest.length).toBe(0)
      for (const res of responses) {
        expect(res.status).toBe(200)
        expect(res.one('content-length')).toBe('1234')
        expect(res.one('transfer-encoding')).toBeUndefined()
      }
    })

    it('relays 204 and 304 without bodies, and the connection stays usable', async () => {
      upstream().handler = (req, res) => {
        req.resume()
        if (req.url === '/no-content') {
          res.writeHead(204, { 'x-kind': 'no-content' })
        } else {
          res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=60' })
        }
        res.end()
      }
      const conn = await open(proxy.httpPort)
      await conn.write(
        `GET /no-content HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
          `GET /cached HTTP/1.1\r\nHost: ${host}\r\nIf-None-Match: "v1"\r\nConnection: close\r\n\r\n`,
      )
      const bytes = await conn.readToClose()
      const { responses, rest } = parseResponses(bytes, ['GET', 'GET'])
      expect(rest.toString()).toBe('')
      const [noContent, notModified] = responses
      expect(noContent.status).toBe(204)
      expect(noContent.one('x-kind')).toBe('no-content')
      expect(notModified.status).toBe(304)
      expect(notModified.one('etag')).toBe('"v1"')
      for (const res of responses) {
        expect(res.one('transfer-encoding')).toBeUndefined()
        expect(res.body.length).toBe(0)
      }
    })

    it('sends 100 Continue to a client that waits for it, then completes the request', async () => {
      let expectForwarded: string | undefined = 'not asked'
      upstream().handler = (req, res) => {
        expectForwarded = req.headers.expect
        const hash = createHash('sha256')
        let bytes = 0
        req.on('data', (d: Buffer) => {
          hash.update(d)
          bytes += d.length
        })
        req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })))
      }
      const body = Buffer.alloc(300_000, 'x')
      const conn = await open(proxy.httpPort)
      await conn.write(
        `POST /upload HTTP/1.1\r\nHost: ${host}\r\nExpect: 100-continue\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      )
      await conn.until((r) => r.includes('\r\n\r\n'), 3000, '100 Continue')
      expect(conn.received.toString('latin1')).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/)
      await conn.write(body)
      const { responses } = parseResponses(await conn.readToClose(), ['POST'])
      expect(responses.map((r) => r.status)).toEqual([100, 200])
      expect(JSON.parse(responses[1].body.toString())).toEqual({
        bytes: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      })
      expect(expectForwarded).toBeUndefined()
    })

    it('aborts the upstream request when the client goes away mid-upload', async () => {
      const receiving = Promise.withResolvers<void>()
      const gone = Promise.withResolvers<{ ended: boolean; complete: boolean; bytes: number }>()
      upstream().handler = (req: IncomingMessage, res) => {
        let bytes = 0
        let ended = false
        req.on('data', (d: Buffer) => {
          bytes += d.length
          if (bytes >= 256 * 1024) receiving.resolve()
        })
        req.on('end', () => {
          ended = true
          res.end()
        })
        req.on('close', () => gone.resolve({ ended, complete: req.complete, bytes }))
      }
      const conn = await open(proxy.httpPort)
      const total = 64 * 1024 * 1024
      await conn.write(`POST /upload HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${total}\r\n\r\n`)
      await conn.write(Buffer.alloc(1024 * 1024, 'u'))
      await within(receiving.promise, 5000, 'the upstream receiving the body')
      conn.destroy()
      const seen = await within(gone.promise, 5000, 'the upstream request closing')
      expect(seen.ended).toBe(false)
      expect(seen.complete).toBe(false)
      expect(seen.bytes).toBeLessThan(total)
    })

    it('tears down the upstream response when the client goes away mid-download', async () => {
      const torn = Promise.withResolvers<{ finished: boolean; sent: number }>()
      upstream().handler = (req, res) => {
        req.resume()
        const chunk = Buffer.alloc(64 * 1024, 'd')
        let sent = 0
        res.writeHead(200, { 'content-type': 'application/octet-stream' })
        const pump = () => {
          while (!res.destroyed) {
            sent += chunk.length
            if (!res.write(chunk)) {
              res.once('drain', pump)
              return
            }
          }
        }
        res.on('close', () => torn.resolve({ finished: res.writableFinished, sent }))
        pump()
      }
      const conn = await open(proxy.httpPort)
      await conn.write(`GET /endless HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
      await conn.until((_, n) => n > 512 * 1024, 5000, 'half a MiB of the download')
      conn.destroy()
      const seen = await within(torn.promise, 5000, 'the upstream response closing')
      expect(seen.finished).toBe(false)
    })
  })
})

/** The counter of what the upstream on `path` failed to answer: the legacy's or a site's origin's. */
function failuresOf(path: string): string {
  return path === 'new' ? 'cutover_origin_failures_total' : 'cutover_legacy_failures_total'
}

describe('upstreams that are down or silent', () => {
  it.each(PATHS)(
    'answers 502 quickly when the $path upstream refuses connections',
    async ({ path, host }) => {
      // Ports nothing listens on: the connection is refused at once.
      const [deadLegacy, deadOrigin] = [await freePort(), await freePort()]
      const proxy = await startTestProxy({
        http: {
          listen: '127.0.0.1:0',
          legacy: { url: `http://127.0.0.1:${deadLegacy}` },
          doh: false,
          sites: [site(`http://127.0.0.1:${deadOrigin}`)],
        },
      })
      cleanups.push(() => proxy.stop())
      const start = performance.now()
      const res = await request(`http://127.0.0.1:${proxy.httpPort}/x`, { headers: { host } })
      const body = await res.body.text()
      const elapsed = performance.now() - start
      expect(res.statusCode).toBe(502)
      expect(res.headers['content-type']).toMatch(/^text\/plain/)
      expect(body).toBe('Bad Gateway\n')
      expect(elapsed).toBeLessThan(1000)
      expect(
        await proxy.metric(failuresOf(path), {
          protocol: 'http',
          failure: 'unreachable',
        }),
      ).toBe(1)
    },
  )

  it.each(PATHS)(
    'answers 504 after http.upstream.headersTimeout when the $path upstream never answers, and lets go of it',
    async ({ path, host }) => {
      const held = Promise.withResolvers<IncomingMessage>()
      const released = Promise.withResolvers<void>()
      const silent = await startUpstream((req) => {
        req.resume()
        req.socket.once('close', () => released.resolve())
        held.resolve(req)
      })
      cleanups.push(() => silent.stop())
      const other = await startUpstream()
      cleanups.push(() => other.stop())
      const proxy = await startTestProxy({
        http: {
          listen: '127.0.0.1:0',
          legacy: { url: path === 'legacy' ? silent.url : other.url },
          upstream: { headersTimeout: '300ms' },
          doh: false,
          sites: [site(path === 'new' ? silent.url : other.url)],
        },
      })
      cleanups.push(() => proxy.stop())
      const start = performance.now()
      const res = await within(
        request(`http://127.0.0.1:${proxy.httpPort}/slow`, { headers: { host } }),
        5000,
        'the 504',
      )
      const body = await res.body.text()
      const elapsed = performance.now() - start
      await within(held.promise, 1000, 'the upstream being asked')
      expect(res.statusCode).toBe(504)
      expect(body).toBe('Gateway Timeout\n')
      expect(elapsed).toBeGreaterThanOrEqual(290)
      expect(elapsed).toBeLessThan(1500)
      // The proxy does not keep the silent upstream's connection waiting.
      await within(released.promise, 3000, 'the proxy closing the upstream connection')
      expect(other.requests).toBe(0)
      expect(
        await proxy.metric(failuresOf(path), {
          protocol: 'http',
          failure: 'timeout',
        }),
      ).toBe(1)
    },
  )
})

// End to end: WebSockets through a live proxy on both paths (a new-path site's
// origin, behind its modules, and the legacy for hosts of no site): echo both
// ways, large and many messages, an access deny that refuses the handshake,
// the hop's headers, the open-connections gauge, closes from either side,
// upstreams that refuse the upgrade or are down, and wss:// through the HTTPS
// listener. Upstreams are `ws` servers.

import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type RawData, WebSocket } from 'ws'
import { makeTestCa } from './support/certs.ts'
import { freePort } from './support/free-port.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { until } from './support/until.ts'
import { within } from './support/upstream.ts'
import { type EchoServer, startEcho } from './support/ws-echo.ts'

const SITE = 'www.ws.test'
const PATHS = [
  { path: 'new', host: SITE },
  { path: 'legacy', host: 'nosite.ws.test' },
] as const

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/**
 * A `ws` client through the proxy to `host` (over TLS with `caPem`); resolves
 * once open, or rejects with the status that refused it.
 */
function connect(port: number, host: string, path = '/chat', caPem?: string): Promise<WebSocket> {
  const ws = new WebSocket(`${caPem ? 'wss' : 'ws'}://127.0.0.1:${port}${path}`, {
    headers: { host },
    maxPayload: 64 * 1024 * 1024,
    ...(caPem ? { ca: caPem, servername: host } : {}),
  })
  cleanups.push(() => ws.terminate())
  return within(
    new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws))
      ws.once('unexpected-response', (_req, res) =>
        reject(new Refused(res.statusCode ?? 0, res.headers)),
      )
      ws.once('error', reject)
    }),
    5000,
    `the WebSocket to ${host}`,
  )
}

class Refused extends Error {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  constructor(status: number, headers: IncomingHttpHeaders) {
    super(`refused with ${status}`)
    this.status = status
    this.headers = headers
  }
}

/** The next `count` messages on `ws`. */
function messages(ws: WebSocket, count: number): Promise<RawData[]> {
  const got: RawData[] = []
  return within(
    new Promise((resolve) => {
      const on = (data: RawData) => {
        got.push(data)
        if (got.length === count) {
          ws.off('message', on)
          resolve(got)
        }
      }
      ws.on('message', on)
    }),
    10_000,
    `${count} messages`,
  )
}

const closed = (ws: WebSocket) =>
  within(new Promise<number>((resolve) => ws.once('close', resolve)), 5000, 'the close')

describe('WebSockets through a live proxy', () => {
  let origin: EchoServer
  let legacy: EchoServer
  let proxy: TestProxy
  const upstreamOf = (path: string) => (path === 'new' ? origin : legacy)

  beforeAll(async () => {
    origin = await startEcho()
    legacy = await startEcho()
    proxy = await startTestProxy({
      http: {
        listen: '127.0.0.1:0',
        legacy: { url: legacy.url },
        doh: false,
        sites: [
          {
            host: SITE,
            origin: origin.url,
            percent: 100,
            rules: [
              { type: 'access', action: 'deny', ip: ['127.0.0.1/32'], path: { prefix: '/admin/' } },
              { type: 'headers', request: { set: { 'X-Site': 'new' } } },
            ],
          },
        ],
      },
    })
  })

  afterAll(async () => {
    await proxy?.stop()
    await origin?.stop()
    await legacy?.stop()
  })

  describe.each(PATHS)('$path path', ({ path, host }) => {
    it('echoes messages both ways, to the right upstream, counted as a request', async () => {
      const before = await proxy.metric('cutover_requests_total', { protocol: 'http', path })
      const asked = [origin.handshakes.length, legacy.handshakes.length]
      const ws = await connect(proxy.httpPort, host)
      const replies = messages(ws, 2)
      ws.send('hello')
      ws.send(Buffer.from([0, 1, 2, 255]))
      const [text, binary] = await replies
      expect(text.toString()).toBe('hello')
      expect([...(binary as Buffer)]).toEqual([0, 1, 2, 255])
      expect([origin.handshakes.length - asked[0], legacy.handshakes.length - asked[1]]).toEqual(
        path === 'new' ? [1, 0] : [0, 1],
      )
      expect(await proxy.metric('cutover_requests_total', { protocol: 'http', path })).toBe(
        before + 1,
      )
    })

    it('sends the hop headers on (X-Forwarded-For, -Proto, Via), and the modules run on the new path', async () => {
      await connect(proxy.httpPort, host)
      const seen = upstreamOf(path).handshakes.at(-1)!
      expect(seen['x-forwarded-for']).toBe('127.0.0.1')
      expect(seen['x-forwarded-proto']).toBe('http')
      expect(seen.via).toBe('1.1 cutover')
      expect(seen.upgrade).toBe('websocket')
      expect(seen['x-site']).toBe(path === 'new' ? 'new' : undefined)
    })

    it('carries a large message and many small ones, in order, with backpressure', async () => {
      const ws = await connect(proxy.httpPort, host)
      const large = Buffer.alloc(16 * 1024 * 1024, 7)
      large.writeUInt32BE(0xdeadbeef, large.length - 4)
      const back = messages(ws, 1)
      ws.send(large)
      const [echoed] = await back
      expect((echoed as Buffer).equals(large)).toBe(true)

      const count = 2000
      const many = messages(ws, count)
      for (let i = 0; i < count; i++) ws.send(`m${i}`)
      const got = (await many).map((d) => d.toString())
      expect(got).toEqual(Array.from({ length: count }, (_, i) => `m${i}`))
    })

    it('counts the connection in the open-connections gauge while it is open', async () => {
      const open = () => proxy.metric('cutover_open_connections', { protocol: 'websocket' })
      // Earlier tests' clients were cut as they ended; the proxy sees those closes soon after.
      await until(async () => (await open()) === 0, 'earlier connections gone')
      const ws = await connect(proxy.httpPort, host)
      expect(await open()).toBe(1)
      ws.close()
      await closed(ws)
      await until(async () => (await open()) === 0, 'the gauge to drop back')
    })

    it('closes the upstream side when the client closes, and the client side when the upstream does', async () => {
      const ws = await connect(proxy.httpPort, host)
      const upstream = upstreamOf(path)
      await until(() => upstream.sockets.size > 0, 'the upstream socket')
      const [server] = [...upstream.sockets].slice(-1)
      const serverClosed = closed(server)
      ws.close(1000, 'bye')
      expect(await serverClosed).toBe(1000)

      const other = await connect(proxy.httpPort, host)
      await until(() => upstream.sockets.size > 0, 'the second upstream socket')
      const [second] = [...upstream.sockets].slice(-1)
      const clientClosed = closed(other)
      second.terminate()
      // A cut without a close frame: the client sees 1006 (abnormal closure).
      expect(await clientClosed).toBe(1006)
    })
  })

  it('refuses the handshake an access rule denies, with its 403, and no upstream is asked', async () => {
    const asked = [origin.handshakes.length, legacy.handshakes.length]
    const refused = await connect(proxy.httpPort, SITE, '/admin/socket').catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(Refused)
    expect((refused as Refused).status).toBe(403)
    expect((refused as Refused).headers.connection).toBe('close')
    expect([origin.handshakes.length, legacy.handshakes.length]).toEqual(asked)
  })
})

describe('upstreams that do not switch protocols', () => {
  it.each(PATHS)(
    '$path path: the upstream refusing the upgrade gives the client its status',
    async ({ host }) => {
      const refusing = createServer((req, res) => {
        req.resume()
        res.writeHead(400, { 'content-type': 'text/plain' }).end('no upgrades here\n')
      })
      await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve))
      cleanups.push(() => new Promise<void>((resolve) => refusing.close(() => resolve())))
      const url = `http://127.0.0.1:${(refusing.address() as { port: number }).port}`
      const proxy = await startTestProxy({
        http: {
          listen: '127.0.0.1:0',
          legacy: { url },
          doh: false,
          sites: [{ host: SITE, origin: url, percent: 100, rules: [] }],
        },
      })
      cleanups.push(() => proxy.stop())
      const refused = await connect(proxy.httpPort, host).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(Refused)
      expect((refused as Refused).status).toBe(400)
    },
  )

  it.each(PATHS)('$path path: an upstream that is down gives a 502', async ({ path, host }) => {
    const dead = `http://127.0.0.1:${await freePort()}`
    const echo = await startEcho()
    cleanups.push(() => echo.stop())
    const proxy = await startTestProxy({
      http: {
        listen: '127.0.0.1:0',
        legacy: { url: path === 'legacy' ? dead : echo.url },
        doh: false,
        sites: [{ host: SITE, origin: path === 'new' ? dead : echo.url, percent: 100, rules: [] }],
      },
    })
    cleanups.push(() => proxy.stop())
    const refused = await connect(proxy.httpPort, host).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(Refused)
    expect((refused as Refused).status).toBe(502)
    expect(echo.handshakes).toEqual([])
  })
})

it('carries wss:// through the HTTPS listener, telling the origin X-Forwarded-Proto: https', async () => {
  const ca = makeTestCa()
  cleanups.push(() => ca.remove())
  const origin = await startEcho()
  cleanups.push(() => origin.stop())
  const proxy = await startTestProxy({
    tls: { certificates: [ca.issue('site', [SITE])] },
    http: {
      listen: '127.0.0.1:0',
      tls: { listen: '127.0.0.1:0' },
      legacy: { url: `http://127.0.0.1:${await freePort()}` },
      doh: false,
      sites: [{ host: SITE, origin: origin.url, percent: 100, rules: [] }],
    },
  })
  cleanups.push(() => proxy.stop())
  const ws = await connect(proxy.httpsPort, SITE, '/chat', readFileSync(ca.caCert, 'utf8'))
  const reply = messages(ws, 1)
  ws.send('over tls')
  expect((await reply)[0].toString()).toBe('over tls')
  expect(origin.handshakes[0]['x-forwarded-proto']).toBe('https')
  expect(origin.handshakes[0].via).toBe('1.1 cutover')
})

// End to end: request shapes that let a client smuggle a second request past a
// proxy (RFC 9112 sections 6.1, 6.3, 5.2, 2.2) are refused with 400 and the
// connection closed, on both paths, and never reach an upstream; header and
// body limits answer 431 and 413. Sent byte by byte on raw sockets.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { parseResponses, RawConnection, rawExchange } from './support/raw-http.ts'
import { startUpstream, type TestUpstream, unexpected, within } from './support/upstream.ts'

const SITE = 'www.smuggle.test'
const PATHS = [
  { path: 'new', host: SITE },
  { path: 'legacy', host: 'nosite.smuggle.test' },
] as const
const MAX_BODY = 64 * 1024
const MAX_HEADER = 8 * 1024

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
      limits: { maxBodySize: MAX_BODY, maxHeaderSize: MAX_HEADER },
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

beforeEach(() => {
  origin.handler = unexpected
  legacy.handler = unexpected
})

/** Each shape: a name, and the request bytes for a Host. */
const SMUGGLING: [string, (host: string) => string][] = [
  [
    'Content-Length with Transfer-Encoding',
    (h) =>
      `POST / HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX`,
  ],
  [
    'two different Content-Lengths',
    (h) => `POST / HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde`,
  ],
  [
    'Transfer-Encoding in an HTTP/1.0 request',
    (h) =>
      `POST / HTTP/1.0\r\nHost: ${h}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
  ],
  ['two Host headers', (h) => `GET / HTTP/1.1\r\nHost: ${h}\r\nHost: evil.test\r\n\r\n`],
  [
    'a header folded onto a second line (obs-fold)',
    (h) => `GET / HTTP/1.1\r\nHost: ${h}\r\nX-Folded: a\r\n b\r\n\r\n`,
  ],
  [
    'a space before the colon',
    (h) =>
      `POST / HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello`,
  ],
  ['bare LF line ends', (h) => `GET / HTTP/1.1\nHost: ${h}\n\n`],
  // RFC 9112 section 3.2: a Host field with an invalid value gets a 400.
  [
    'a Host value with a path',
    (h) => `GET / HTTP/1.1\r\nHost: ${h}/other\r\nConnection: close\r\n\r\n`,
  ],
  ['a bare LF inside the head', (h) => `GET / HTTP/1.1\r\nHost: ${h}\nX-After: lf\r\n\r\n`],
]

describe.each(PATHS)('on the $path path', ({ path, host }) => {
  it.each(SMUGGLING)('refuses %s with 400 and closes the connection', async (_, shape) => {
    const asked = origin.requests + legacy.requests
    const { response, bytes } = await rawExchange(proxy.httpPort, shape(host))
    expect(response.status, bytes.toString('latin1')).toBe(400)
    expect(parseResponses(bytes, ['GET']).rest.length).toBe(0)
    expect(origin.requests + legacy.requests).toBe(asked)
  })

  it('answers 501 to a transfer coding it does not know (gzip), rather than dropping it', async () => {
    const asked = origin.requests + legacy.requests
    const { response, bytes } = await rawExchange(
      proxy.httpPort,
      `POST / HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
      'POST',
    )
    expect(response.status, bytes.toString('latin1')).toBe(501)
    expect(origin.requests + legacy.requests).toBe(asked)
  })

  it('answers 431 to a header block over http.limits.maxHeaderSize', async () => {
    const { response } = await rawExchange(
      proxy.httpPort,
      `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(2 * MAX_HEADER)}\r\n\r\n`,
    )
    expect(response.status).toBe(431)
  })

  it('answers 413 at once to a Content-Length over http.limits.maxBodySize', async () => {
    const asked = origin.requests + legacy.requests
    const conn = await RawConnection.open(proxy.httpPort)
    try {
      // Only the head: the answer must not wait for a body.
      await conn.write(
        `POST /upload HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${MAX_BODY + 1}\r\n\r\n`,
      )
      const [response] = parseResponses(await conn.readToClose(3000), ['POST']).responses
      expect(response.status).toBe(413)
      expect(origin.requests + legacy.requests).toBe(asked)
    } finally {
      conn.destroy()
    }
  })

  it('refuses a chunked body that passes http.limits.maxBodySize with 413, and the upstream never gets it whole', async () => {
    const upstream = path === 'new' ? origin : legacy
    const closed = Promise.withResolvers<{ ended: boolean; bytes: number }>()
    // The upstream answers only after the whole body, so the head is not sent when the limit passes.
    upstream.handler = (req, res) => {
      let bytes = 0
      let ended = false
      req.on('data', (d: Buffer) => {
        bytes += d.length
      })
      req.on('end', () => {
        ended = true
        res.end(`got ${bytes}`)
      })
      req.on('close', () => closed.resolve({ ended, bytes }))
    }
    // Every kind of failure of the upstream asked, summed.
    const failures = () =>
      proxy.metric(
        path === 'new' ? 'cutover_origin_failures_total' : 'cutover_legacy_failures_total',
      )
    const failedBefore = await failures()
    const conn = await RawConnection.open(proxy.httpPort)
    try {
      await conn.write(
        `POST /upload HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
      )
      const chunk = Buffer.alloc(16 * 1024, 'c')
      // Twice the limit, chunk by chunk, until the proxy answers or stops reading.
      for (let sent = 0; sent < 2 * MAX_BODY && conn.receivedLength === 0; sent += chunk.length) {
        if (!(await conn.write(`${chunk.length.toString(16)}\r\n`))) break
        if (!(await conn.write(chunk))) break
        await conn.write('\r\n')
      }
      await conn.write('0\r\n\r\n')
      const bytes = await conn.readToClose(5000)
      const [response] = parseResponses(bytes, ['POST']).responses
      // Soft, so that what the upstream saw is checked whatever the status.
      expect.soft(response.status, bytes.toString('latin1')).toBe(413)
      const seen = await within(closed.promise, 5000, 'the upstream request closing')
      expect(seen.ended).toBe(false)
      expect(seen.bytes).toBeLessThanOrEqual(MAX_BODY)
      // The client's body was too large: no upstream failed.
      expect(await failures()).toBe(failedBefore)
    } finally {
      conn.destroy()
    }
  })
})

describe('request targets that name a path differently than the rules see it', () => {
  // The site denies /admin/ to loopback clients; nginx (the legacy) matches its
  // locations on the absolute-form's path, decoded and with dot segments merged.
  const denied = async (request: string) => {
    const asked = origin.requests + legacy.requests
    const { response, bytes } = await rawExchange(proxy.httpPort, request)
    expect(response.status, bytes.toString('latin1')).toBe(403)
    expect(origin.requests + legacy.requests).toBe(asked)
  }

  it('denies the origin-form request (the baseline)', () =>
    denied(`GET /admin/x HTTP/1.1\r\nHost: ${SITE}\r\nConnection: close\r\n\r\n`))

  it('applies the rules to an absolute-form target (RFC 9112 section 3.2.2)', () =>
    denied(`GET http://${SITE}/admin/x HTTP/1.1\r\nHost: ${SITE}\r\nConnection: close\r\n\r\n`))

  it('routes an absolute-form target by its own authority, not the Host field', () =>
    denied(
      `GET http://${SITE}/admin/x HTTP/1.1\r\nHost: nosite.smuggle.test\r\nConnection: close\r\n\r\n`,
    ))

  it('applies the rules to a percent-encoded path', () =>
    denied(`GET /%61dmin/x HTTP/1.1\r\nHost: ${SITE}\r\nConnection: close\r\n\r\n`))

  it('applies the rules to a path with dot segments', () =>
    denied(`GET /public/../admin/x HTTP/1.1\r\nHost: ${SITE}\r\nConnection: close\r\n\r\n`))
})

// End to end: HTTPS at the edge. Real curl over HTTP/1.1 and HTTP/2 through
// both paths (a new-path site and the legacy), the certificate chosen by SNI,
// the TLS versions offered, what the upstream is told (X-Forwarded-Proto, Via),
// request bodies over HTTP/2, and bad HTTP/2 input refused and counted: fields
// HTTP/2 forbids, the rapid-reset and CONTINUATION-flood shapes.

import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect as http2Connect } from 'node:http2'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import { makeTestCa, type TestCa } from './support/certs.ts'
import { ROOT } from './support/cli.ts'
import { freePort } from './support/free-port.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { Flag, FrameType, frame, headerBlock, rawH2, rstStream } from './support/raw-h2.ts'
import { findTool } from './support/tools.ts'
import { startUpstream, type TestUpstream, within } from './support/upstream.ts'

const run = promisify(execFile)
const SITE = 'www.tls.test'
const LEGACY_HOST = 'old.legacy.test'

let ca: TestCa
let caPem: string
let origin: TestUpstream
let legacy: TestUpstream
let proxy: TestProxy
/** What each upstream was last sent. */
const seen: Record<
  string,
  { headers: Record<string, string | string[] | undefined>; body: string }
> = {}

beforeAll(async () => {
  ca = makeTestCa()
  caPem = readFileSync(ca.caCert, 'utf8')
  const echo =
    (name: string) =>
    (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (d: string) => {
        body += d
      })
      req.on('end', () => {
        seen[name] = { headers: req.headers, body }
        res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name })
        res.end(`${name} ${req.method} ${req.url}`)
      })
    }
  origin = await startUpstream(echo('origin'))
  legacy = await startUpstream(echo('legacy'))
  proxy = await startTestProxy({
    tls: {
      certificates: [ca.issue('site', [SITE]), ca.issue('legacy', ['*.legacy.test'])],
    },
    http: {
      listen: '127.0.0.1:0',
      tls: { listen: '127.0.0.1:0', maxConcurrentStreams: 8 },
      legacy: { url: legacy.url },
      doh: false,
      sites: [{ host: SITE, origin: origin.url, percent: 100 }],
    },
  })
}, 30_000)

afterAll(async () => {
  await proxy?.stop()
  await origin?.stop()
  await legacy?.stop()
  ca?.remove()
})

/** curl against the HTTPS listener as `host`; resolves with status, HTTP version, headers and body. */
async function curl(host: string, path: string, extra: string[]) {
  const curlBin = findTool('curl')
  if (!curlBin) throw new Error('curl is not installed: apt-get install -y curl')
  const port = proxy.httpsPort
  const { stdout } = await run(
    curlBin,
    [
      '-sS',
      '--max-time',
      '10',
      '--cacert',
      ca.caCert,
      '--resolve',
      `${host}:${port}:127.0.0.1`,
      '-D',
      '-',
      '-w',
      '\n%{http_version}',
      ...extra,
      `https://${host}:${port}${path}`,
    ],
    { encoding: 'utf8' },
  )
  const [head, ...rest] = stdout.split(/\r?\n\r?\n/)
  const tail = rest.join('\n\n')
  const cut = tail.lastIndexOf('\n')
  const lines = head.split(/\r?\n/)
  return {
    status: Number(lines[0].split(' ')[1]),
    version: tail.slice(cut + 1),
    headers: Object.fromEntries(
      lines
        .slice(1)
        .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    ),
    body: tail.slice(0, cut),
  }
}

describe.each([
  { version: '1.1', flag: '--http1.1', via: '1.1 cutover' },
  { version: '2', flag: '--http2', via: '2 cutover' },
])('HTTPS over HTTP/$version with curl', ({ version, flag, via }) => {
  it.each([
    { path: 'new', host: SITE, upstream: 'origin' },
    { path: 'legacy', host: LEGACY_HOST, upstream: 'legacy' },
  ])(
    '$path path: the $upstream answers, told the client came over https and through which version',
    async ({ host, upstream }) => {
      const r = await curl(host, '/a?b=1', [flag])
      expect(r.version).toBe(version)
      expect(r.status).toBe(200)
      expect(r.body).toBe(`${upstream} GET /a?b=1`)
      expect(seen[upstream].headers['x-forwarded-proto']).toBe('https')
      expect(seen[upstream].headers.via).toBe(via)
      expect(seen[upstream].headers.host).toBe(`${host}:${proxy.httpsPort}`)
      expect(r.headers.via).toBe('1.1 cutover')
    },
  )

  it('a request body reaches the upstream whole', async () => {
    const r = await curl(SITE, '/upload', [flag, '--data-binary', 'x'.repeat(100_000)])
    expect(r.status).toBe(200)
    expect(seen.origin.body).toBe('x'.repeat(100_000))
  })
})

describe('the TLS handshake', () => {
  /** The certificate's CN, and the protocol, a client asking for `servername` gets. */
  const handshake = (
    servername: string | undefined,
    options: { maxVersion?: 'TLSv1.1' | 'TLSv1.2' } = {},
  ) =>
    new Promise<{ cn: string; protocol: string | null; alpn: string | false | null }>(
      (resolve, reject) => {
        const socket = tlsConnect({
          host: '127.0.0.1',
          port: proxy.httpsPort,
          servername,
          ca: caPem,
          ALPNProtocols: ['h2', 'http/1.1'],
          checkServerIdentity: () => undefined,
          ...options,
          ...(options.maxVersion === 'TLSv1.1' ? { minVersion: 'TLSv1' as const } : {}),
        })
        socket.once('secureConnect', () => {
          resolve({
            cn: String(socket.getPeerCertificate().subject.CN),
            protocol: socket.getProtocol(),
            alpn: socket.alpnProtocol,
          })
          socket.destroy()
        })
        socket.once('error', reject)
      },
    )

  it('picks the certificate by SNI: exact, wildcard, and the first for an unknown name or none', async () => {
    expect((await handshake(SITE)).cn).toBe(SITE)
    expect((await handshake('any.legacy.test')).cn).toBe('*.legacy.test')
    expect((await handshake('unknown.test')).cn).toBe(SITE)
    expect((await handshake(undefined)).cn).toBe(SITE)
  })

  it('speaks TLS 1.3 and 1.2, offers h2 by ALPN, and refuses TLS 1.1', async () => {
    expect(await handshake(SITE)).toMatchObject({ protocol: 'TLSv1.3', alpn: 'h2' })
    expect((await handshake(SITE, { maxVersion: 'TLSv1.2' })).protocol).toBe('TLSv1.2')
    await expect(handshake(SITE, { maxVersion: 'TLSv1.1' })).rejects.toThrow()
  })

  it('shows how long each certificate has left', async () => {
    const left = await proxy.metric('cutover_tls_certificate_expiry_seconds', { name: SITE })
    expect(left).toBeGreaterThan(360 * 86_400)
    expect(left).toBeLessThanOrEqual(365 * 86_400)
  })
})

describe('HTTP/2 input the best servers refuse', () => {
  const request = (fields: [string, string][]) =>
    [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':authority', SITE],
      [':path', '/bad'],
      ...fields,
    ] as [string, string][]

  it.each([
    ['Connection', ['connection', 'keep-alive']],
    ['Transfer-Encoding', ['transfer-encoding', 'chunked']],
    ['Upgrade', ['upgrade', 'websocket']],
    ['TE other than trailers', ['te', 'gzip']],
  ] as const)('a request with %s: a stream error, the upstream never asked', async (_, field) => {
    const asked = origin.requests
    const h2 = await rawH2(proxy.httpsPort, SITE, caPem)
    try {
      h2.send(
        frame(
          FrameType.HEADERS,
          Flag.END_HEADERS | Flag.END_STREAM,
          1,
          headerBlock(request([[...field]])),
        ),
      )
      const reset = await h2.until(
        (f) => (f.type === FrameType.RST_STREAM && f.stream === 1) || f.type === FrameType.GOAWAY,
        5000,
        'a stream error',
      )
      // PROTOCOL_ERROR (1), as RFC 9113 section 8.2.2 says.
      expect(reset.type).toBe(FrameType.RST_STREAM)
      expect(reset.payload.readUInt32BE(0)).toBe(1)
    } finally {
      h2.close()
    }
    expect(origin.requests).toBe(asked)
  })

  it('TE: trailers is allowed', async () => {
    const h2 = await rawH2(proxy.httpsPort, SITE, caPem)
    try {
      h2.send(
        frame(
          FrameType.HEADERS,
          Flag.END_HEADERS | Flag.END_STREAM,
          1,
          headerBlock(request([['te', 'trailers']])),
        ),
      )
      const answer = await h2.until(
        (f) => f.stream === 1 && f.type !== 0 && f.type !== 8,
        5000,
        'an answer',
      )
      expect(answer.type).toBe(FrameType.HEADERS)
    } finally {
      h2.close()
    }
  })

  it('rapid reset (CVE-2023-44487): the connection is ended with GOAWAY and counted', async () => {
    const before = await proxy.metric('cutover_http2_session_errors_total')
    const h2 = await rawH2(proxy.httpsPort, SITE, caPem)
    try {
      const burst: Buffer[] = []
      for (let id = 1; id < 2 * 5000; id += 2)
        burst.push(
          frame(
            FrameType.HEADERS,
            Flag.END_HEADERS | Flag.END_STREAM,
            id,
            headerBlock(request([])),
          ),
          rstStream(id),
        )
      h2.send(...burst)
      await h2.until((f) => f.type === FrameType.GOAWAY, 10_000, 'GOAWAY')
      await h2.closed(10_000)
    } finally {
      h2.close()
    }
    expect(await proxy.metric('cutover_http2_session_errors_total')).toBeGreaterThan(before)
  })

  it('CONTINUATION flood (CVE-2024-27316): an endless header block is cut off and counted', async () => {
    const before = await proxy.metric('cutover_http2_session_errors_total')
    const h2 = await rawH2(proxy.httpsPort, SITE, caPem)
    try {
      h2.send(frame(FrameType.HEADERS, 0, 1, headerBlock(request([]))))
      const filler = frame(
        FrameType.CONTINUATION,
        0,
        1,
        headerBlock([['x-filler', 'y'.repeat(100)]]),
      )
      for (let i = 0; i < 2000 && !h2.socket.destroyed; i++) h2.send(filler)
      // Long before 2000 frames: nghttp2 allows a header block a few CONTINUATION frames.
      await h2.closed(10_000)
      expect(h2.frames.some((f) => f.stream === 1)).toBe(false)
    } finally {
      h2.close()
    }
    expect(await proxy.metric('cutover_http2_session_errors_total')).toBe(before + 1)
    expect(
      await proxy.metric('cutover_http2_session_errors_total', {
        reason: 'Too many CONTINUATION frames following a HEADER frame',
      }),
    ).toBe(1)
  })

  it('at most maxConcurrentStreams at once: the server says so in its SETTINGS', async () => {
    const session = http2Connect(`https://127.0.0.1:${proxy.httpsPort}`, {
      ca: caPem,
      servername: SITE,
    })
    try {
      const settings = await within(
        new Promise<{ maxConcurrentStreams?: number }>((resolve) =>
          session.once('remoteSettings', resolve),
        ),
        5000,
        'the server SETTINGS',
      )
      expect(settings.maxConcurrentStreams).toBe(8)
    } finally {
      session.close()
    }
  })
})

describe('DNS over HTTPS over HTTP/2', () => {
  it('answers GET /dns-query on an HTTP/2 stream from the zone, as over UDP', async () => {
    const doh = await startTestProxy({
      tls: { certificates: [ca.issue('doh', ['doh.tls.test'])] },
      dns: {
        listen: '127.0.0.1:0',
        zones: [
          {
            name: 'e2e.test',
            file: join(ROOT, 'proxy', 'e2e', 'zones', 'e2e.test.zone'),
            percent: 100,
          },
        ],
        legacy: { servers: [`127.0.0.1:${await freePort()}`] },
      },
      http: {
        listen: '127.0.0.1:0',
        tls: { listen: '127.0.0.1:0' },
        legacy: { url: legacy.url },
      },
    })
    const session = http2Connect(`https://127.0.0.1:${doh.httpsPort}`, {
      ca: caPem,
      servername: 'doh.tls.test',
    })
    try {
      const query = buildQuery({ name: 'www.e2e.test', type: Type.A, rd: false })
      const stream = session.request({
        ':path': `/dns-query?dns=${query.toString('base64url')}`,
        accept: 'application/dns-message',
      })
      const head = new Promise<Record<string, unknown>>((resolve) =>
        stream.once('response', resolve),
      )
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      await within(new Promise((resolve) => stream.once('end', resolve)), 5000, 'the DoH answer')
      expect((await head)[':status']).toBe(200)
      expect((await head)['content-type']).toBe('application/dns-message')
      const answer = decodeMessage(Buffer.concat(chunks))
      expect(answer.answer.map((r) => [r.name, r.data])).toEqual([
        ['www.e2e.test.', '192.0.2.10'],
        ['www.e2e.test.', '192.0.2.11'],
      ])
      expect(await doh.metric('cutover_requests_total', { protocol: 'dns', path: 'new' })).toBe(1)
    } finally {
      session.close()
      await doh.stop()
    }
  })
})

// End to end, the real client behind load balancers: a real HAProxy
// (send-proxy-v2) and a real nginx (stream, proxy_protocol on) in front of the
// HTTP listener, the PROXY protocol before TLS on the HTTPS one, and
// X-Forwarded-For from a trusted peer. The client's own loopback address (127.0.0.2,
// 127.0.0.3) must be what the origin sees in X-Forwarded-For, what an access
// rule matches, what the sticky bucket is drawn from and what the access log
// names; a forged header from
// an untrusted address changes nothing.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { connect as http2Connect } from 'node:http2'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signHttp } from '../../rollout/control.ts'
import { makeTestCa, type TestCa } from './support/certs.ts'
import { freePort } from './support/free-port.ts'
import { type HaproxyServer, startHaproxy } from './support/haproxy.ts'
import { logLines } from './support/log-lines.ts'
import { type NginxServer, startNginx } from './support/nginx.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { until } from './support/until.ts'
import { startUpstream, type TestUpstream, within } from './support/upstream.ts'

const SITE = 'www.e2e.test'
const dir = mkdtempSync(join(tmpdir(), 'cutover-client-address-'))
const accessLog = join(dir, 'access.log')

let ca: TestCa
let origin: TestUpstream
let legacy: TestUpstream
let proxy: TestProxy
let haproxy: HaproxyServer
let nginx: NginxServer
let haproxyPort: number
let nginxPort: number

beforeAll(async () => {
  ca = makeTestCa()
  // The origin says what it was told about the client.
  origin = await startUpstream((req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        xff: req.headers['x-forwarded-for'],
        proto: req.headers['x-forwarded-proto'],
      }),
    )
  })
  legacy = await startUpstream()
  proxy = await startTestProxy({
    trustedProxies: ['127.0.0.1', '::1'],
    log: { level: 'info', access: { percent: 100, file: accessLog } },
    tls: { certificates: [ca.issue('site', [SITE])] },
    http: {
      listen: '127.0.0.1:0',
      proxyProtocol: true,
      tls: { listen: '127.0.0.1:0', proxyProtocol: true },
      limits: { headersTimeout: '1s' },
      doh: false,
      legacy: legacy.url,
      sites: [
        {
          host: SITE,
          origin: origin.url,
          percent: 100,
          rules: [{ type: 'access', action: 'deny', ip: ['127.0.0.2'] }],
        },
      ],
    },
  })
  haproxyPort = await freePort()
  nginxPort = await freePort()
  haproxy = await startHaproxy(
    `frontend web
  bind 127.0.0.1:${haproxyPort}
  default_backend cutover
backend cutover
  server edge 127.0.0.1:${proxy.httpPort} send-proxy-v2
`,
    [haproxyPort],
  )
  nginx = await startNginx(
    '',
    [nginxPort],
    undefined,
    `  server {
    listen 127.0.0.1:${nginxPort};
    proxy_pass 127.0.0.1:${proxy.httpPort};
    proxy_protocol on;
  }`,
  )
})

afterAll(async () => {
  await Promise.all([haproxy?.stop(), nginx?.stop()])
  await proxy?.stop()
  await Promise.all([origin?.stop(), legacy?.stop()])
  ca?.remove()
  rmSync(dir, { recursive: true, force: true })
})

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** GET `path` on `port` from the loopback address `from`, with `headers`. */
function get(
  port: number,
  from: string,
  headers: Record<string, string> = {},
  path = '/',
): Promise<Reply> {
  return within(
    new Promise<Reply>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path,
          localAddress: from,
          agent: false,
          headers: { host: SITE, ...headers },
        },
        (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => {
            body += d
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        },
      )
      req.on('error', reject)
      req.end()
    }),
    5000,
    `GET via ${port} from ${from}`,
  )
}

/** What the origin was told: X-Forwarded-For and X-Forwarded-Proto. */
const told = (reply: Reply) => JSON.parse(reply.body) as { xff?: string; proto?: string }

/** The sticky bucket a traced request from `from` through `port` was drawn from. */
async function bucket(port: number, from: string, headers: Record<string, string> = {}) {
  const ts = Math.floor(Date.now() / 1000)
  const reply = await get(port, from, {
    ...headers,
    'x-cutover-trace': '1',
    'x-cutover-auth': signHttp(proxy.token, ts, 'GET', SITE, '/', '', '1'),
  })
  const trace = String(reply.headers['x-cutover-trace'])
  const match = /bucket=(\d+)/.exec(trace)
  if (!match) throw new Error(`no bucket in the trace: ${trace}`)
  return Number(match[1])
}

/** What a raw connection from `from` gets for `bytes`: everything it received, once closed. */
function raw(from: string, bytes: string | Buffer): Promise<string> {
  return within(
    new Promise<string>((resolve) => {
      const socket: Socket = connect({
        host: '127.0.0.1',
        port: proxy.httpPort,
        localAddress: from,
      })
      let received = ''
      socket.setEncoding('utf8')
      socket.on('data', (d: string) => {
        received += d
      })
      socket.on('error', () => {})
      socket.once('close', () => resolve(received))
      if (bytes.length > 0) socket.write(bytes)
    }),
    5000,
    `a raw connection from ${from}`,
  )
}

const refused = (listener: string) =>
  proxy.metric('cutover_proxy_protocol_refused_total', { listener })

describe('through HAProxy (PROXY protocol version 2)', () => {
  it('the origin sees the client in X-Forwarded-For', async () => {
    const reply = await get(haproxyPort, '127.0.0.3')
    expect(reply.status).toBe(200)
    expect(told(reply)).toEqual({ xff: '127.0.0.3', proto: 'http' })
  })

  it('an access rule matches the client, not HAProxy', async () => {
    expect((await get(haproxyPort, '127.0.0.2')).status).toBe(403)
    expect((await get(haproxyPort, '127.0.0.3')).status).toBe(200)
  })

  it('the sticky bucket is the client’s: one per client, the same each time', async () => {
    const two = await bucket(haproxyPort, '127.0.0.2')
    const three = await bucket(haproxyPort, '127.0.0.3')
    expect(two).not.toBe(three)
    expect(await bucket(haproxyPort, '127.0.0.2')).toBe(two)
    expect(await bucket(haproxyPort, '127.0.0.3')).toBe(three)
  })
})

/** The clients the access log names for requests to `target`, so far. */
function loggedClients(target: string): string[] {
  return logLines<{ client: string; target: string }>(accessLog)
    .filter((l) => l.target === target)
    .map((l) => l.client)
}

describe('through HAProxy, the access log', () => {
  it('names the client, not HAProxy', async () => {
    expect((await get(haproxyPort, '127.0.0.3', {}, '/logged')).status).toBe(200)
    await until(() => loggedClients('/logged').length > 0, 'the line for the request')
    expect(loggedClients('/logged')).toEqual(['127.0.0.3'])
  })
})

describe('through nginx (stream, proxy_protocol on: version 1)', () => {
  it('the origin sees the client, and the access rule matches it', async () => {
    const reply = await get(nginxPort, '127.0.0.3')
    expect(told(reply)).toEqual({ xff: '127.0.0.3', proto: 'http' })
    expect((await get(nginxPort, '127.0.0.2')).status).toBe(403)
    expect(await bucket(nginxPort, '127.0.0.3')).toBe(await bucket(haproxyPort, '127.0.0.3'))
  })
})

describe('X-Forwarded-For and X-Forwarded-Proto', () => {
  it('from a trusted peer, name the client for the bucket, the rules and the origin', async () => {
    // HAProxy's PROXY header names 127.0.0.1, which is trusted: its X-Forwarded-For is believed.
    const viaLb = { 'x-forwarded-for': '127.0.0.2', 'x-forwarded-proto': 'https' }
    expect((await get(haproxyPort, '127.0.0.1', viaLb)).status).toBe(403)
    const three = { 'x-forwarded-for': '127.0.0.3', 'x-forwarded-proto': 'https' }
    expect(await bucket(haproxyPort, '127.0.0.1', three)).toBe(
      await bucket(haproxyPort, '127.0.0.3'),
    )
    expect(told(await get(haproxyPort, '127.0.0.1', three))).toEqual({
      xff: '127.0.0.3, 127.0.0.1',
      proto: 'https',
    })
  })

  it('from an untrusted client, change nothing', async () => {
    const forged = { 'x-forwarded-for': '127.0.0.2', 'x-forwarded-proto': 'https' }
    const reply = await get(haproxyPort, '127.0.0.3', forged)
    expect(reply.status).toBe(200)
    expect(told(reply)).toEqual({ xff: '127.0.0.2, 127.0.0.3', proto: 'http' })
    expect(await bucket(haproxyPort, '127.0.0.3', forged)).toBe(
      await bucket(haproxyPort, '127.0.0.3'),
    )
  })
})

describe('the PROXY protocol listener refuses', () => {
  const request = `GET / HTTP/1.1\r\nHost: ${SITE}\r\n\r\n`

  it('a header from an untrusted address, unanswered and counted', async () => {
    const before = await refused('http')
    const asked = origin.requests
    const forged = `PROXY TCP4 127.0.0.3 127.0.0.1 5000 80\r\n${request}`
    expect(await raw('127.0.0.2', forged)).toBe('')
    expect(await refused('http')).toBe(before + 1)
    expect(origin.requests).toBe(asked)
  })

  it('a trusted peer without a header, or with a garbled one', async () => {
    const before = await refused('http')
    expect(await raw('127.0.0.1', request)).toBe('')
    expect(await raw('127.0.0.1', `PROXY TCP4 127.0.0.3 nonsense\r\n${request}`)).toBe('')
    expect(await refused('http')).toBe(before + 2)
  })

  it('a trusted peer that sends nothing, at the header timeout', async () => {
    const before = await refused('http')
    expect(await raw('127.0.0.1', '')).toBe('')
    expect(await refused('http')).toBe(before + 1)
  })
})

describe('HTTPS with the PROXY protocol (the header before the handshake)', () => {
  /** A TLS connection from 127.0.0.1 to the HTTPS listener, after a version 1 header naming `client`. */
  function proxiedTls(client: string, alpn: string) {
    const socket = connect({ host: '127.0.0.1', port: proxy.httpsPort })
    socket.write(`PROXY TCP4 ${client} 127.0.0.1 40000 443\r\n`)
    return tlsConnect({
      socket,
      servername: SITE,
      ca: readFileSync(ca.caCert, 'utf8'),
      ALPNProtocols: [alpn],
    })
  }

  it('HTTP/1.1: the origin sees the client and https', async () => {
    const tls = proxiedTls('127.0.0.3', 'http/1.1')
    const reply = await within(
      new Promise<Reply>((resolve, reject) => {
        const req = httpRequest(
          { createConnection: () => tls, path: '/', headers: { host: SITE } },
          (res) => {
            let body = ''
            res.setEncoding('utf8')
            res.on('data', (d: string) => {
              body += d
            })
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
            )
          },
        )
        req.on('error', reject)
        req.end()
      }),
      5000,
      'HTTPS over PROXY',
    )
    tls.destroy()
    expect(told(reply)).toEqual({ xff: '127.0.0.3', proto: 'https' })
  })

  it('HTTP/2: the access rule matches the client the header named', async () => {
    const status = (client: string) =>
      within(
        new Promise<number>((resolve, reject) => {
          const session = http2Connect(`https://${SITE}`, {
            createConnection: () => proxiedTls(client, 'h2'),
          })
          session.on('error', reject)
          const stream = session.request({ ':path': '/', ':authority': SITE })
          stream.on('response', (h) => {
            stream.resume()
            stream.on('end', () => {
              session.close()
              resolve(Number(h[':status']))
            })
          })
          stream.end()
        }),
        5000,
        `HTTP/2 over PROXY as ${client}`,
      )
    expect(await status('127.0.0.2')).toBe(403)
    expect(await status('127.0.0.3')).toBe(200)
  })
})

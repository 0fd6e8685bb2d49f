// End to end, the real client behind DNS load balancers: a real HAProxy
// (send-proxy-v2) in front of the DNS-over-TCP listener, version 2 headers in
// front of UDP datagrams as dnsdist sends them, and a header before TLS on the
// DoT listener. The sticky bucket (read from the decision trace) must be drawn
// from the client the header names; a header from an untrusted address, or
// none from a trusted one, is refused and counted.

import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import { signDns } from '../../rollout/control.ts'
import { makeTestCa, type TestCa } from './support/certs.ts'
import { freePort } from './support/free-port.ts'
import { type HaproxyServer, startHaproxy } from './support/haproxy.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { within } from './support/upstream.ts'

const ZONE = join(dirname(fileURLToPath(import.meta.url)), 'zones', 'e2e.test.zone')
const OPTION = 65430
const SITE = 'dot.e2e.test'

let ca: TestCa
let proxy: TestProxy
let haproxy: HaproxyServer
let haproxyPort: number

beforeAll(async () => {
  ca = makeTestCa()
  proxy = await startTestProxy({
    trustedProxies: ['127.0.0.1'],
    tls: { certificates: [ca.issue('dot', [SITE])] },
    dns: {
      listen: '127.0.0.1:0',
      proxyProtocol: true,
      tls: { listen: '127.0.0.1:0', proxyProtocol: true },
      tcp: { idleTimeout: '1s' },
      zones: [{ name: 'e2e.test', file: ZONE, percent: 100, stickiness: 'client-ip' }],
      // Never asked: the zone is answered on the new path.
      legacy: { servers: [`127.0.0.1:${await freePort()}`] },
      packetcache: { enabled: false },
    },
  })
  haproxyPort = await freePort()
  haproxy = await startHaproxy(
    `frontend dns
  bind 127.0.0.1:${haproxyPort}
  default_backend cutover
backend cutover
  server edge 127.0.0.1:${proxy.dnsPort} send-proxy-v2
`,
    [haproxyPort],
  )
})

afterAll(async () => {
  await haproxy?.stop()
  await proxy?.stop()
  ca?.remove()
})

/** A traced query for www.e2e.test (the trace names the sticky bucket). */
function traced(id: number): Buffer {
  const data = signDns(
    proxy.token,
    Math.floor(Date.now() / 1000),
    { force: undefined, trace: true },
    id,
    Buffer.from([3, 0x77, 0x77, 0x77, 3, 0x65, 0x32, 0x65, 4, 0x74, 0x65, 0x73, 0x74, 0]),
    Type.A,
  )
  return buildQuery({
    id,
    name: 'www.e2e.test',
    type: Type.A,
    edns: { udpSize: 1232, options: [{ code: OPTION, data }] },
  })
}

/** The bucket a reply's trace names. */
function bucketOf(reply: Buffer): number {
  const trace = decodeMessage(reply)
    .edns?.options.find((o) => o.code === OPTION)
    ?.data.toString()
  const match = /bucket=(\d+)/.exec(trace ?? '')
  if (!match) throw new Error(`no bucket in the trace: ${trace}`)
  return Number(match[1])
}

/** A PROXY protocol version 2 header naming IPv4 `source` (STREAM or DGRAM). */
function v2Header(source: string, transport: 'stream' | 'dgram'): Buffer {
  const b = Buffer.alloc(28)
  Buffer.from('0d0a0d0a000d0a515549540a', 'hex').copy(b)
  b[12] = 0x21
  b[13] = transport === 'stream' ? 0x11 : 0x12
  b.writeUInt16BE(12, 14)
  source.split('.').forEach((o, i) => {
    b[16 + i] = Number(o)
  })
  b.set([127, 0, 0, 1], 20)
  b.writeUInt16BE(40000, 24)
  b.writeUInt16BE(53, 26)
  return b
}

const framed = (q: Buffer) => Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q])

/** One query over `socket` (TCP or TLS, already carrying any header); resolves with the reply, or '' if it closes. */
function overStream(socket: Socket, query: Buffer): Promise<Buffer | undefined> {
  return within(
    new Promise<Buffer | undefined>((resolve) => {
      let got = Buffer.alloc(0)
      socket.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d])
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
          resolve(got.subarray(2, 2 + got.readUInt16BE(0)))
          socket.destroy()
        }
      })
      socket.on('error', () => {})
      socket.once('close', () => resolve(undefined))
      socket.write(framed(query))
    }),
    5000,
    'a DNS query over a stream',
  )
}

/** A TCP query to `port` from loopback address `from`, after `header` (if any). */
function tcpFrom(port: number, from: string, id: number, header?: Buffer) {
  const socket = connect({ host: '127.0.0.1', port, localAddress: from })
  if (header) socket.write(header)
  return overStream(socket, traced(id))
}

/** Datagrams from `from` to the UDP listener; resolves with the reply whose ID is `id`. */
async function udpFrom(from: string, datagrams: Buffer[], id: number): Promise<Buffer> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, from, resolve))
  try {
    return await within(
      new Promise<Buffer>((resolve) => {
        socket.on('message', (msg) => {
          if (msg.readUInt16BE(0) === id) resolve(msg)
        })
        for (const d of datagrams) socket.send(d, proxy.dnsPort, '127.0.0.1')
      }),
      5000,
      `UDP from ${from}`,
    )
  } finally {
    socket.close()
  }
}

const refused = (listener: string) =>
  proxy.metric('cutover_proxy_protocol_refused_total', { listener })

describe('DNS over TCP through HAProxy (send-proxy-v2)', () => {
  it('draws the sticky bucket from the client HAProxy names', async () => {
    const two = bucketOf((await tcpFrom(haproxyPort, '127.0.0.2', 1))!)
    const three = bucketOf((await tcpFrom(haproxyPort, '127.0.0.3', 2))!)
    expect(two).not.toBe(three)
    expect(bucketOf((await tcpFrom(haproxyPort, '127.0.0.2', 3))!)).toBe(two)
    // The same client by a version 2 header over UDP, as dnsdist sends it.
    const udp = await udpFrom(
      '127.0.0.1',
      [Buffer.concat([v2Header('127.0.0.3', 'dgram'), traced(4)])],
      4,
    )
    expect(bucketOf(udp)).toBe(three)
  })

  it('refuses a header from an untrusted address, and a trusted peer without one', async () => {
    const before = await refused('dns-tcp')
    expect(await tcpFrom(proxy.dnsPort, '127.0.0.2', 5, v2Header('127.0.0.3', 'stream'))).toBe(
      undefined,
    )
    expect(await tcpFrom(proxy.dnsPort, '127.0.0.1', 6)).toBe(undefined)
    expect(await refused('dns-tcp')).toBe(before + 2)
  })
})

describe('DNS over UDP with version 2 headers', () => {
  it('drops a datagram from an untrusted address or without a header, counted', async () => {
    const before = await refused('dns-udp')
    const good = Buffer.concat([v2Header('127.0.0.2', 'dgram'), traced(9)])
    // Answered in order on one socket: once the good one is answered, the bad ones were read.
    const forged = Buffer.concat([v2Header('127.0.0.3', 'dgram'), traced(7)])
    const reply = await udpFrom('127.0.0.1', [traced(8), good], 9)
    expect(bucketOf(reply)).toBe(bucketOf((await tcpFrom(haproxyPort, '127.0.0.2', 10))!))
    expect(await refused('dns-udp')).toBe(before + 1)
    const untrusted = createSocket('udp4')
    await new Promise<void>((resolve) => untrusted.bind(0, '127.0.0.2', resolve))
    untrusted.send(forged, proxy.dnsPort, '127.0.0.1')
    await udpFrom('127.0.0.1', [Buffer.concat([v2Header('127.0.0.2', 'dgram'), traced(11)])], 11)
    untrusted.close()
    expect(await refused('dns-udp')).toBe(before + 2)
  })
})

describe('DNS over TLS with the PROXY protocol (the header before the handshake)', () => {
  it('draws the sticky bucket from the client the header names', async () => {
    const socket = connect({ host: '127.0.0.1', port: proxy.dotPort })
    socket.write(v2Header('127.0.0.3', 'stream'))
    const tls = tlsConnect({
      socket,
      servername: SITE,
      ca: readFileSync(ca.caCert, 'utf8'),
      ALPNProtocols: ['dot'],
    })
    await within(
      new Promise((resolve) => tls.once('secureConnect', resolve)),
      5000,
      'DoT handshake',
    )
    const reply = await overStream(tls as unknown as Socket, traced(12))
    expect(bucketOf(reply!)).toBe(bucketOf((await tcpFrom(haproxyPort, '127.0.0.3', 13))!))
  })
})

// The listener's drain with upgraded connections, with a stand-in engine that
// switches every upgrade to an echo: they outlive the drain deadline up to the
// upgrade drain deadline, over plain HTTP/1.1 and over TLS.

import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { connect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { Counter } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { makeTestCa, type TestCa } from '../e2e/support/certs.ts'
import { within } from '../e2e/support/upstream.ts'
import { listenSockets } from '../net/listen-sockets.ts'
import { localSource } from '../net/socket-source.ts'
import { loadCertificates } from '../tls/certificates.ts'
import type { HttpEngine } from './engine.ts'
import { HttpListener, type HttpsOptions } from './listener.ts'

const limits = {
  maxHeaderSize: 16384,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 5000,
  keepAliveTimeoutMs: 5000,
  maxConnections: 100,
}

const UPGRADE = 'GET /chat HTTP/1.1\r\nHost: a.test\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n'
const SWITCHED = 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n'

const listeners: HttpListener[] = []
const sockets: Socket[] = []
let ca: TestCa | undefined

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await Promise.all(listeners.splice(0).map((l) => l.close()))
  ca?.remove()
  ca = undefined
})

/** Upgrades every upgrade request to an echo of what the client sends after it; answers others "ok". */
const echoEngine = {
  handle(_req: IncomingMessage, res: { end(body: string): void }) {
    res.end('ok')
  },
  handleUpgrade(_req: IncomingMessage, socket: Socket, head: Buffer) {
    socket.write(SWITCHED)
    if (head.length > 0) socket.write(head)
    socket.pipe(socket)
  },
} as unknown as HttpEngine

async function listen(https?: HttpsOptions): Promise<HttpListener> {
  const listener = new HttpListener(echoEngine, limits, { n: 0 }, https)
  listeners.push(listener)
  await listener.listen({ host: '127.0.0.1', port: 0 }, localSource(listenSockets()), 'http')
  return listener
}

function tlsOptions(): { https: HttpsOptions; caPem: string } {
  ca = makeTestCa()
  const certificates = loadCertificates({
    certificates: [ca.issue('ws', ['ws.test'])],
    default: 0,
    minVersion: 'TLSv1.2',
    ticketRotation: 3600_000,
    handshakeTimeout: 5000,
  })
  const https: HttpsOptions = {
    certificates: () => certificates,
    minVersion: 'TLSv1.2',
    handshakeTimeoutMs: 5000,
    ticketKeys: undefined,
    http2: false,
    maxConcurrentStreams: 10,
    http2SessionErrors: new Counter({
      name: 'h2_errors',
      help: 'test',
      labelNames: ['reason'],
      registers: [],
    }),
  }
  return { https, caPem: readFileSync(ca.caCert, 'utf8') }
}

/** A connection that keeps what it receives; `tls` for the HTTPS listener. */
async function client(port: number, caPem?: string) {
  const socket: Socket =
    caPem === undefined
      ? connect({ port, host: '127.0.0.1' })
      : tlsConnect({ port, host: '127.0.0.1', ca: caPem, servername: 'ws.test' })
  sockets.push(socket)
  await new Promise((resolve) =>
    socket.once(caPem === undefined ? 'connect' : 'secureConnect', resolve),
  )
  let received = ''
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => {
    received += d
  })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  /** Resolves once what was received ends with `text`. */
  const receivedEnd = (text: string) =>
    within(
      new Promise<void>((resolve) => {
        const check = () => (received.endsWith(text) ? resolve() : undefined)
        socket.on('data', check)
        check()
      }),
      5000,
      `receiving ${JSON.stringify(text)}`,
    )
  return { socket, received: () => received, closed, receivedEnd }
}

async function upgraded(port: number, caPem?: string) {
  const c = await client(port, caPem)
  c.socket.write(UPGRADE)
  await c.receivedEnd(SWITCHED)
  return c
}

describe.each([
  { over: 'HTTP/1.1', tls: false },
  { over: 'TLS', tls: true },
])('drain with upgraded connections over $over', ({ tls }) => {
  it('cuts other connections at the drain deadline, keeps upgraded ones until the upgrade deadline, and counts both', async () => {
    const { https, caPem } = tls ? tlsOptions() : { https: undefined, caPem: undefined }
    const listener = await listen(https)
    const idle = await client(listener.port, caPem)
    const up = await upgraded(listener.port, caPem)
    expect(listener.upgraded).toBe(1)

    const drained = listener.drain(50, 60_000 * 5)
    await within(idle.closed, 5000, 'the idle connection cut at the drain deadline')
    // Past the drain deadline, the upgraded connection still carries data both ways.
    up.socket.write('still here')
    await up.receivedEnd('still here')
    // No new connection is accepted.
    const refused = connect({ port: listener.port, host: '127.0.0.1' })
    sockets.push(refused)
    await within(
      new Promise((resolve) => refused.once('error', resolve)),
      5000,
      'a new connection refused',
    )
    up.socket.end()
    await within(up.closed, 5000, 'the upgraded connection closing')
    expect(await within(drained, 5000, 'the drain')).toBe(1)
    expect(listener.upgraded).toBe(0)
  })

  it('cuts an upgraded connection still open at the upgrade deadline, and counts it', async () => {
    const { https, caPem } = tls ? tlsOptions() : { https: undefined, caPem: undefined }
    const listener = await listen(https)
    const up = await upgraded(listener.port, caPem)
    const drained = listener.drain(20, 200)
    expect(await within(drained, 5000, 'the drain')).toBe(1)
    await within(up.closed, 5000, 'the upgraded connection cut')
  })
})

it('answers an upgrade asked for on a kept-alive connection while draining with a 503, and closes', async () => {
  const listener = await listen()
  const c = await client(listener.port)
  c.socket.write('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n')
  await c.receivedEnd('ok')
  const drained = listener.drain(10_000, 10_000)
  c.socket.write(UPGRADE)
  await within(c.closed, 5000, 'the connection closing')
  expect(c.received()).toMatch(/\r\n\r\nokHTTP\/1\.1 503 /)
  expect(await within(drained, 5000, 'the drain')).toBe(0)
})

it('serves an upgrade that is the first request of a connection accepted before the drain', async () => {
  const listener = await listen()
  const c = await client(listener.port)
  const drained = listener.drain(10_000, 10_000)
  c.socket.write(UPGRADE)
  await c.receivedEnd(SWITCHED)
  c.socket.write('still here')
  await c.receivedEnd('still here')
  c.socket.end()
  expect(await within(drained, 5000, 'the drain')).toBe(0)
})

// The listener's drain, with a stand-in engine: what a client on a keep-alive
// connection sees while the listener drains, over HTTP/1.1 and over HTTP/2.

import { readFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { connect as http2Connect } from 'node:http2'
import { connect, type Socket } from 'node:net'
import { Counter } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { makeTestCa, type TestCa } from '../e2e/support/certs.ts'
import { within } from '../e2e/support/upstream.ts'
import { listenSockets } from '../net/listen-sockets.ts'
import { localSource } from '../net/socket-source.ts'
import { loadCertificates } from '../tls/certificates.ts'
import type { HttpEngine } from './engine.ts'
import { HttpListener } from './listener.ts'

const limits = {
  maxHeaderSize: 16384,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 5000,
  keepAliveTimeoutMs: 5000,
  maxConnections: 100,
}

const listeners: HttpListener[] = []

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()))
})

async function listen(): Promise<{ listener: HttpListener; served: () => number }> {
  let served = 0
  const engine = {
    handle(_req: unknown, res: { end(body: string): void }) {
      served++
      res.end('ok')
    },
  } as unknown as HttpEngine
  const listener = new HttpListener(engine, limits, { n: 0 })
  listeners.push(listener)
  await listener.listen({ host: '127.0.0.1', port: 0 }, localSource(listenSockets()), 'http')
  return { listener, served: () => served }
}

/** A client connection that keeps what it receives and every event it sees. */
async function client(port: number) {
  const socket: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  await new Promise((resolve) => socket.once('connect', resolve))
  let received = ''
  const errors: string[] = []
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => {
    received += d
  })
  socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message))
  const ended = new Promise<void>((resolve) => socket.once('end', resolve))
  const closed = new Promise<boolean>((resolve) => socket.once('close', resolve))
  return { socket, received: () => received, errors, ended, closed }
}

const GET = 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n'

describe('drain', () => {
  it('answers a keep-alive request with Connection: close and closes; a request sent after the close is not served', async () => {
    const { listener, served } = await listen()
    const c = await client(listener.port)
    const drained = listener.drain(10_000)
    c.socket.write(GET)
    await c.ended
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(c.received().toLowerCase()).toContain('connection: close')
    // What a client that ignores Connection: close does (autocannon does): send again at once.
    c.socket.write(GET)
    c.socket.end()
    const hadError = await c.closed
    expect({ hadError, errors: c.errors }).toEqual({ hadError: false, errors: [] })
    // Its client saw the close and must ask again elsewhere.

    expect(served()).toBe(1)
    expect(await drained).toBe(0)
  })

  it('closes an idle keep-alive connection at its deadline and counts it as cut', async () => {
    const { listener } = await listen()
    const c = await client(listener.port)
    c.socket.write(GET)
    await new Promise<void>((resolve) => {
      const check = () => (c.received().endsWith('ok') ? resolve() : undefined)
      c.socket.on('data', check)
      check()
    })
    expect(c.received().toLowerCase()).toContain('connection: keep-alive')
    expect(await listener.drain(50)).toBe(1)
    await c.ended
  })
})

describe('drain of HTTP/2 over TLS', () => {
  let ca: TestCa | undefined
  afterEach(() => ca?.remove())

  it('sends GOAWAY at once, lets the open stream finish, then closes the connection', async () => {
    ca = makeTestCa()
    const certificates = loadCertificates({
      certificates: [ca.issue('h2', ['h2.test'])],
      default: 0,
      minVersion: 'TLSv1.2',
      ticketRotation: 3600_000,
      handshakeTimeout: 5000,
    })
    const held: ServerResponse[] = []
    const arrived = Promise.withResolvers<void>()
    const engine = {
      handle(_req: unknown, res: ServerResponse) {
        held.push(res)
        arrived.resolve()
      },
    } as unknown as HttpEngine
    const listener = new HttpListener(
      engine,
      limits,
      { n: 0 },
      {
        certificates: () => certificates,
        minVersion: 'TLSv1.2',
        handshakeTimeoutMs: 5000,
        ticketKeys: undefined,
        http2: true,
        maxConcurrentStreams: 10,
        http2SessionErrors: new Counter({
          name: 'h2_errors',
          help: 'test',
          labelNames: ['reason'],
          registers: [],
        }),
      },
    )
    listeners.push(listener)
    await listener.listen({ host: '127.0.0.1', port: 0 }, localSource(listenSockets()), 'http')
    const session = http2Connect(`https://127.0.0.1:${listener.port}`, {
      ca: readFileSync(ca.caCert, 'utf8'),
      servername: 'h2.test',
    })
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()))
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()))
    const stream = session.request({ ':path': '/slow' })
    let body = ''
    stream.setEncoding('utf8')
    stream.on('data', (d: string) => {
      body += d
    })
    const ended = new Promise<void>((resolve) => stream.once('end', () => resolve()))
    stream.end()
    await within(arrived.promise, 5000, 'the request reaching the engine')

    const drained = listener.drain(10_000)
    await within(goaway, 5000, 'GOAWAY')
    expect(stream.closed).toBe(false)
    held[0].writeHead(200, ['content-type', 'text/plain'])
    held[0].end('finished')
    await within(ended, 5000, 'the open stream ending')
    expect(body).toBe('finished')
    await within(closed, 5000, 'the connection closing')
    expect(await drained).toBe(0)
  })
})

// End to end: the proxy's DNS-over-TCP listener (RFC 7766), started in-process
// with a fake legacy resolver the tests steer (and once with a real BIND 9):
// pipelined queries answered in any order on one connection, messages split
// across writes, the idle timeout, the bounds on connections and on queries in
// flight, clients that go away mid-query, and stopping with queries in flight.

import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Class, Flag, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { startBind } from './support/bind.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { until } from './support/until.ts'

const EXAMPLE_ZONE = join(import.meta.dirname, '..', '..', 'examples', 'zones', 'example.test.zone')
const E2E_ZONES = join(import.meta.dirname, 'zones')

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

const nameOf = (msg: Buffer) => decodeMessage(msg).questions[0].name
const idOf = (msg: Buffer) => msg.readUInt16BE(0)
const dataOf = (msg: Buffer) => decodeMessage(msg).answer.map((r) => r.data)

function frame(msg: Buffer): Buffer {
  const out = Buffer.alloc(msg.length + 2)
  out.writeUInt16BE(msg.length, 0)
  msg.copy(out, 2)
  return out
}

/** The A record the fake legacy gives a name: 198.51.100.N for a first label ending in N. */
function legacyAddress(name: string): string {
  return `198.51.100.${Number(/^[a-z]*(\d+)\./.exec(name)?.[1] ?? 0)}`
}

/**
 * A legacy DNS server over UDP and TCP on one port of 127.0.0.1: answers the
 * names `answerAtOnce` accepts straight away, and holds the others until the
 * test releases them. (Queries from TCP clients reach it over TCP.)
 */
class FakeLegacy {
  readonly received: { msg: Buffer; port: number; name: string; send: (reply: Buffer) => void }[] =
    []
  readonly released = new Set<string>()
  answerAtOnce: (name: string) => boolean = () => false
  /** The most held queries outstanding at once, as seen when each arrived. */
  maxHeld = 0
  readonly #socket: UdpSocket
  readonly #tcp: Server
  readonly #connections = new Set<Socket>()

  private constructor(socket: UdpSocket, tcp: Server) {
    this.#socket = socket
    this.#tcp = tcp
    socket.on('message', (msg, from) =>
      this.#take(msg, from.port, (reply) => socket.send(reply, from.port, from.address)),
    )
    tcp.on('connection', (conn) => {
      this.#connections.add(conn)
      conn.on('close', () => this.#connections.delete(conn))
      conn.on('error', () => {})
      let buf = Buffer.alloc(0)
      conn.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk])
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0)))
          buf = buf.subarray(2 + msg.length)
          this.#take(msg, conn.remotePort ?? 0, (reply) => conn.write(frame(reply)))
        }
      })
    })
  }

  #take(msg: Buffer, port: number, send: (reply: Buffer) => void): void {
    const name = nameOf(msg)
    this.received.push({ msg, port, name, send })
    if (this.answerAtOnce(name)) {
      send(this.#answer(msg))
    } else {
      const held = this.received.filter(
        (q) => !this.answerAtOnce(q.name) && !this.released.has(q.name),
      ).length
      this.maxHeld = Math.max(this.maxHeld, held)
    }
  }

  static async start(): Promise<FakeLegacy> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const socket = createSocket('udp4')
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
      const tcp = createServer()
      const listening = await new Promise<boolean>((resolve) => {
        tcp.once('error', () => resolve(false))
        tcp.listen(socket.address().port, '127.0.0.1', () => resolve(true))
      })
      if (!listening) {
        socket.close()
        continue
      }
      const legacy = new FakeLegacy(socket, tcp)
      cleanups.push(() => legacy.stop())
      return legacy
    }
    throw new Error('no loopback port free for both UDP and TCP')
  }

  get port(): number {
    return this.#socket.address().port
  }

  has(name: string): boolean {
    return this.received.some((q) => q.name === name)
  }

  /** Answers the held query for `name` (with its FQDN's trailing dot). */
  release(name: string): void {
    const q = this.received.find((r) => r.name === name)
    if (!q) throw new Error(`the legacy has no query for ${name}`)
    this.released.add(name)
    q.send(this.#answer(q.msg))
  }

  #answer(query: Buffer): Buffer {
    // The question ends 4 octets after its name's root label (names here are plain ASCII).
    const end = query.indexOf(0, 12) + 5
    const out = Buffer.alloc(end + 16)
    query.copy(out, 0, 0, end)
    out.writeUInt16BE(Flag.QR | Flag.AA | (query.readUInt16BE(2) & Flag.RD), 2)
    out.writeUInt16BE(1, 6)
    out.writeUInt16BE(0, 10)
    out.writeUInt16BE(0xc00c, end)
    out.writeUInt16BE(Type.A, end + 2)
    out.writeUInt16BE(Class.IN, end + 4)
    out.writeUInt32BE(300, end + 6)
    out.writeUInt16BE(4, end + 10)
    for (const [i, octet] of legacyAddress(nameOf(query)).split('.').entries())
      out[end + 12 + i] = Number(octet)
    return out
  }

  async stop(): Promise<void> {
    for (const conn of this.#connections) conn.destroy()
    await new Promise<void>((resolve) => this.#tcp.close(() => resolve()))
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()))
  }
}

/** A DNS-over-TCP client that records every reply and when the connection closes. */
class TcpClient {
  readonly replies: Buffer[] = []
  closed = false
  ended = false
  readonly closedAt: Promise<number>
  readonly #socket: Socket
  #buf = Buffer.alloc(0)

  private constructor(socket: Socket) {
    this.#socket = socket
    socket.setNoDelay(true)
    socket.on('error', () => {})
    socket.on('end', () => {
      this.ended = true
    })
    this.closedAt = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true
        resolve(performance.now())
      }),
    )
    socket.on('data', (chunk) => {
      this.#buf = Buffer.concat([this.#buf, chunk])
      while (this.#buf.length >= 2 && this.#buf.length >= 2 + this.#buf.readUInt16BE(0)) {
        const length = this.#buf.readUInt16BE(0)
        this.replies.push(Buffer.from(this.#buf.subarray(2, 2 + length)))
        this.#buf = this.#buf.subarray(2 + length)
      }
    })
  }

  static async connect(port: number): Promise<TcpClient> {
    const socket = connect({ host: '127.0.0.1', port })
    const client = new TcpClient(socket)
    cleanups.push(() => client.destroy())
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve)
        socket.once('error', reject)
      }),
      3000,
      'TCP connection',
    )
    return client
  }

  /** Writes the queries, length-prefixed, in one write. */
  send(...queries: Buffer[]): Promise<void> {
    return this.write(Buffer.concat(queries.map(frame)))
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => this.#socket.write(bytes, () => resolve()))
  }

  async waitReplies(n: number, ms = 3000): Promise<Buffer[]> {
    await until(() => this.replies.length >= n || this.closed, `${n} replies`, ms)
    if (this.replies.length < n)
      throw new Error(`connection closed after ${this.replies.length} of ${n} replies`)
    return this.replies
  }

  reply(id: number): Buffer | undefined {
    return this.replies.find((r) => idOf(r) === id)
  }

  waitClosed(ms = 3000): Promise<number> {
    return within(this.closedAt, ms, 'close of the connection')
  }

  destroy(): void {
    this.#socket.destroy()
  }
}

interface Limits {
  idleTimeout?: string
  maxConnections?: number
  maxInFlight?: number
}

/** A proxy serving example.test on the new path, everything else from `legacy`. */
async function startProxy(
  legacy: { port: number },
  tcp: Limits = {},
  legacyOptions: Record<string, unknown> = {},
): Promise<TestProxy> {
  const proxy = await startTestProxy({
    dns: {
      listen: '127.0.0.1:0',
      tcp,
      zones: [{ name: 'example.test', file: EXAMPLE_ZONE, percent: 100 }],
      legacy: {
        servers: [`127.0.0.1:${legacy.port}`],
        timeout: '10s',
        attempts: 1,
        ...legacyOptions,
      },
      // Every legacy-bound query must reach the fake legacy, repeats included.
      packetcache: { enabled: false },
    },
  })
  cleanups.push(() => proxy.stop())
  return proxy
}

const q = (id: number, name: string) => buildQuery({ id, name, type: Type.A, rd: false })

/** The new path's answer for www.example.test, checked. */
function expectWww(reply: Buffer | undefined): void {
  expect(reply).toBeDefined()
  const msg = decodeMessage(reply!)
  expect(msg.flags & Flag.AA).toBe(Flag.AA)
  expect(msg.questions[0].name).toBe('www.example.test.')
  expect(dataOf(reply!)).toEqual(['192.0.2.10'])
}

describe('pipelining (RFC 7766 §6.2.1.1)', () => {
  it('answers queries written at once on one connection, new-path ones without waiting for the legacy', async () => {
    const legacy = await FakeLegacy.start()
    const proxy = await startProxy(legacy)
    const client = await TcpClient.connect(proxy.dnsPort)
    await client.send(
      q(0x0101, 'www.example.test'),
      q(0x0202, 'l1.legacy.test'),
      q(0x0303, 'mail.example.test'),
      q(0x0404, 'l2.legacy.test'),
      q(0x0505, 'shop.example.test'),
      q(0x0606, 'l3.legacy.test'),
    )

    // The legacy holds its three; the new path's three come back meanwhile.
    await until(() => legacy.received.length === 3, 'three queries at the legacy')
    const early = await client.waitReplies(3)
    expect(early.map(idOf).sort((a, b) => a - b)).toEqual([0x0101, 0x0303, 0x0505])
    expectWww(client.reply(0x0101))
    expect(dataOf(client.reply(0x0303)!)).toEqual(['192.0.2.20'])
    expect(dataOf(client.reply(0x0505)!)).toEqual(['www.example.test.', '192.0.2.10'])

    // The legacy answers last first; each reply goes out as soon as it is in.
    for (const [i, [name, id]] of (
      [
        ['l3.legacy.test.', 0x0606],
        ['l1.legacy.test.', 0x0202],
        ['l2.legacy.test.', 0x0404],
      ] as const
    ).entries()) {
      legacy.release(name)
      const replies = await client.waitReplies(4 + i)
      const reply = replies[3 + i]
      expect(idOf(reply)).toBe(id)
      expect(nameOf(reply)).toBe(name)
      expect(dataOf(reply)).toEqual([legacyAddress(name)])
    }
    expect(client.replies).toHaveLength(6)
    expect(client.closed).toBe(false)
  })

  it('answers messages written one byte at a time', async () => {
    const legacy = await FakeLegacy.start()
    legacy.answerAtOnce = () => true
    const proxy = await startProxy(legacy)
    const client = await TcpClient.connect(proxy.dnsPort)
    const bytes = Buffer.concat(
      [q(0x0a0a, 'www.example.test'), q(0x0b0b, 'l7.legacy.test')].map(frame),
    )
    for (const byte of bytes) {
      await client.write(Buffer.from([byte]))
      // Let the proxy read this byte before the next one is written.
      await new Promise((resolve) => setImmediate(resolve))
    }
    await client.waitReplies(2)
    expectWww(client.reply(0x0a0a))
    expect(dataOf(client.reply(0x0b0b)!)).toEqual(['198.51.100.7'])
  })

  it('answers pipelined queries for a real BIND legacy and the new path alike', async () => {
    const bind = await startBind(
      [{ name: 'other.test', file: join(E2E_ZONES, 'other.test.zone') }],
      E2E_ZONES,
    )
    cleanups.push(() => bind.stop())
    const proxy = await startProxy(bind)
    const client = await TcpClient.connect(proxy.dnsPort)
    const names = ['www.other.test', 'www.example.test', 'short.other.test', 'mail.example.test']
    const queries = Array.from({ length: 24 }, (_, i) => q(0x1000 + i, names[i % names.length]))
    await client.send(...queries)
    await client.waitReplies(24)
    const newPath: Record<string, string[]> = {
      'www.example.test.': ['192.0.2.10'],
      'mail.example.test.': ['192.0.2.20'],
    }
    for (const query of queries) {
      const name = nameOf(query)
      const reply = client.reply(idOf(query))
      expect(reply, name).toBeDefined()
      expect(nameOf(reply!)).toBe(name)
      const expected = newPath[name] ?? dataOf(await exchange(bind, query, 'tcp'))
      expect(dataOf(reply!), name).toEqual(expected)
    }
  })
})

describe('idle timeout (RFC 7766 §6.2.3)', () => {
  it('closes a connection idle for dns.tcp.idleTimeout', async () => {
    const legacy = await FakeLegacy.start()
    const proxy = await startProxy(legacy, { idleTimeout: '200ms' })
    const client = await TcpClient.connect(proxy.dnsPort)
    await client.send(q(1, 'www.example.test'))
    await client.waitReplies(1)
    const answered = performance.now()
    const closed = await client.waitClosed(2000)
    expect(client.ended).toBe(true)
    expect(closed - answered).toBeGreaterThanOrEqual(180)
    expect(closed - answered).toBeLessThan(200 + 600)
  })

  it('closes a connection that never sends a query', async () => {
    const legacy = await FakeLegacy.start()
    const proxy = await startProxy(legacy, { idleTimeout: '200ms' })
    const opened = performance.now()
    const client = await TcpClient.connect(proxy.dnsPort)
    const closed = await client.waitClosed(2000)
    expect(closed - opened).toBeGreaterThanOrEqual(180)
    expect(closed - opened).toBeLessThan(200 + 600)
  })

  it('keeps a connection open while a query is in flight, then closes it once idle', async () => {
    const legacy = await FakeLegacy.start()
    const proxy = await startProxy(legacy, { idleTimeout: '200ms' })
    const client = await TcpClient.connect(proxy.dnsPort)
    const sent = performance.now()
    await client.send(q(1, 'l1.legacy.test'))
    await until(() => legacy.has('l1.legacy.test.'), 'the query at the legacy')
    // A slow legacy: it answers after twice the idle timeout.
    const timer = setTimeout(() => legacy.release('l1.legacy.test.'), 400)
    cleanups.push(() => clearTimeout(timer))
    await client.waitReplies(1)
    const answered = performance.now()
    expect(answered - sent).toBeGreaterThanOrEqual(390)
    expect(dataOf(client.replies[0])).toEqual(['198.51.100.1'])
    const closed = await client.waitClosed(2000)
    expect(closed - answered).toBeGreaterThanOrEqual(180)
  })
})

describe('bounds', () => {
  it('closes connections beyond dns.tcp.maxConnections without an answer', async () => {
    const legacy = await FakeLegacy.start()
    const proxy = await startProxy(legacy, { maxConnections: 2 })
    const served = async (client: TcpClient, id: number) => {
      await client.send(q(id, 'www.example.test'))
      await client.waitReplies(1)
      expectWww(client.reply(id))
    }
    const first = await TcpClient.connect(proxy.dnsPort)
    const second = await TcpClient.connect(proxy.dnsPort)
    await served(first, 1)
    await served(second, 2)

    const third = await TcpClient.connect(proxy.dnsPort)
    await third.send(q(3, 'www.example.test'))
    await third.waitClosed(2000)
    expect(third.replies).toEqual([])

    // The two admitted connections keep working; once one goes, a new one is admitted.
    await second.send(q(4, 'www.example.test'))
    await second.waitReplies(2)
    first.destroy()
    await first.waitClosed()
    let admitted = false
    for (let attempt = 0; attempt < 50 && !admitted; attempt++) {
      const next = await TcpClient.connect(proxy.dnsPort)
      await next.send(q(5, 'www.example.test'))
      await until(() => next.replies.length > 0 || next.closed, 'a reply or a close')
      admitted = next.replies.length > 0
    }
    expect(admitted).toBe(true)
  })

  it('with dns.tcp.maxInFlight 2, reads the next pipelined query only when one finishes', async () => {
    const legacy = await FakeLegacy.start()
    legacy.answerAtOnce = (name) => name.startsWith('sentinel')
    const proxy = await startProxy(legacy, { maxInFlight: 2 })
    const client = await TcpClient.connect(proxy.dnsPort)
    await client.send(
      q(1, 'l1.legacy.test'),
      q(2, 'l2.legacy.test'),
      q(3, 'l3.legacy.test'),
      q(4, 'www.example.test'),
    )
    const fromClient = () =>
      legacy.received.filter((r) => !r.name.startsWith('sentinel')).map((r) => r.name)
    /**
     * A UDP query through the proxy to the legacy, answered at once. Once its reply
     * is back, anything the proxy had sent to the legacy before it has arrived there.
     */
    let sentinels = 0
    const barrier = async () => {
      const query = q(0x7000 + sentinels, `sentinel${++sentinels}.legacy.test`)
      await exchange({ host: '127.0.0.1', port: proxy.dnsPort }, query, 'udp', 3000)
    }

    await until(() => fromClient().length === 2, 'two queries at the legacy')
    await barrier()
    expect(fromClient()).toEqual(['l1.legacy.test.', 'l2.legacy.test.'])
    expect(client.replies).toEqual([])

    // One finishes: the third query is read and forwarded; the fourth waits behind it.
    legacy.release('l1.legacy.test.')
    await client.waitReplies(1)
    await until(() => fromClient().length === 3, 'the third query at the legacy')
    await barrier()
    expect(fromClient()).toEqual(['l1.legacy.test.', 'l2.legacy.test.', 'l3.legacy.test.'])
    expect(client.replies.map(idOf)).toEqual([1])

    // Another finishes: the fourth, a new-path query, is read and answered at once.
    legacy.release('l2.legacy.test.')
    await client.waitReplies(3)
    expect(client.replies.map(idOf)).toEqual([1, 2, 4])
    expectWww(client.reply(4))
    legacy.release('l3.legacy.test.')
    await client.waitReplies(4)
    expect(dataOf(client.reply(3)!)).toEqual(['198.51.100.3'])
    expect(legacy.maxHeld).toBeLessThanOrEqual(2)
    expect(client.closed).toBe(false)
  })
})

describe('clients that go away', () => {
  it('keeps serving after a client disconnects with queries in flight', async () => {
    const legacy = await FakeLegacy.start()
    legacy.answerAtOnce = (name) => name.startsWith('after')
    // One socket to the legacy: its replies reach the proxy in the order they were sent.
    const proxy = await startProxy(legacy, {}, { sockets: 1 })
    const legacyRequests = () =>
      proxy.metric('cutover_requests_total', { protocol: 'dns', path: 'legacy' })
    const gone = await TcpClient.connect(proxy.dnsPort)
    await gone.send(q(1, 'l1.legacy.test'), q(2, 'l2.legacy.test'), q(3, 'l3.legacy.test'))
    // A query cut short in its middle, too.
    await gone.write(frame(q(4, 'www.example.test')).subarray(0, 9))
    await until(() => legacy.received.length === 3, 'three queries at the legacy')
    gone.destroy()
    await gone.waitClosed()

    // The proxy has seen the close once it has answered on another connection.
    const other = await TcpClient.connect(proxy.dnsPort)
    await other.send(q(5, 'www.example.test'))
    await other.waitReplies(1)

    for (const name of ['l1.legacy.test.', 'l2.legacy.test.', 'l3.legacy.test.'])
      legacy.release(name)
    await other.send(q(6, 'after1.legacy.test'))
    await other.waitReplies(2)
    expect(dataOf(other.reply(6)!)).toEqual(['198.51.100.1'])
    // The three answers for the client that left were handled before this one.
    expect(await legacyRequests()).toBe(4)

    const udp = await exchange(
      { host: '127.0.0.1', port: proxy.dnsPort },
      q(7, 'www.example.test'),
      'udp',
    )
    expectWww(udp)
    const fresh = await TcpClient.connect(proxy.dnsPort)
    await fresh.send(q(8, 'after2.legacy.test'), q(9, 'www.example.test'))
    await fresh.waitReplies(2)
    expect(dataOf(fresh.reply(8)!)).toEqual(['198.51.100.2'])
  })

  it('stops cleanly with queries from UDP and TCP clients still waiting for the legacy', async () => {
    const legacy = await FakeLegacy.start()
    const proxy = await startProxy(legacy)
    const tcp = await TcpClient.connect(proxy.dnsPort)
    await tcp.send(q(1, 'l1.legacy.test'))
    await until(() => legacy.received.length === 1, 'the TCP client query at the legacy')
    const udp = createSocket('udp4')
    cleanups.push(() => new Promise<void>((resolve) => udp.close(() => resolve())))
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve))
    udp.send(q(2, 'l2.legacy.test'), proxy.dnsPort, '127.0.0.1')
    await until(() => legacy.received.length === 2, 'the UDP client query at the legacy')

    await within(proxy.stop(), 3000, 'proxy stop')
    await tcp.waitClosed()
    // Stopped means the forwarder let go of its source ports too.
    for (const { port } of legacy.received) {
      const probe = createSocket('udp4')
      const bound = await new Promise<boolean>((resolve) => {
        probe.once('error', () => resolve(false))
        probe.bind(port, '127.0.0.1', () => resolve(true))
      })
      probe.close()
      expect(bound, `forwarder source port ${port} released`).toBe(true)
    }
  })
})

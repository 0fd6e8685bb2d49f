// The legacy DNS forwarder against small fake DNS servers on loopback that each
// test controls: what goes on the wire, which replies it accepts (spoofing),
// timeouts and retries, server health, the TCP fallback, and its limits.

import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram'
import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Class, Flag, Rcode, Type } from '../dns/constants.ts'
import { buildQuery, decodeMessage } from '../dns/message.ts'
import {
  DnsForwarder,
  type DnsForwarderOptions,
  type ForwardFailure,
  type LegacyExchange,
} from './dns-forwarder.ts'

const CLIENT_ID = 0x1234
const PROBE = buildQuery({ id: 0, name: '.', type: Type.NS, rd: false })

interface Outcome {
  reply: Buffer | undefined
  failure: ForwardFailure | undefined
  at: number
}

/** A client's query; records every call of `finish`. */
class TestExchange implements LegacyExchange {
  readonly query: Buffer
  readonly original: Buffer
  readonly questionEnd: number
  readonly largeReplies: boolean
  readonly stream: boolean
  readonly outcomes: Outcome[] = []
  readonly started = performance.now()
  readonly #done = Promise.withResolvers<Outcome>()

  constructor(name: string, largeReplies = false, stream = false) {
    this.query = buildQuery({ id: CLIENT_ID, name, type: Type.A, rd: false })
    this.original = Buffer.from(this.query)
    this.questionEnd = this.query.length
    this.largeReplies = largeReplies
    this.stream = stream
  }

  finish(reply: Buffer | undefined, failure: ForwardFailure | undefined): void {
    const outcome = { reply: reply && Buffer.from(reply), failure, at: performance.now() }
    this.outcomes.push(outcome)
    this.#done.resolve(outcome)
  }

  /** The first outcome, failing the test if none comes within `ms`. */
  done(ms = 3000): Promise<Outcome> {
    return within(this.#done.promise, ms, `finish() for ${this.original.toString('hex')}`)
  }

  get elapsed(): number {
    return (this.outcomes[0]?.at ?? Number.NaN) - this.started
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Waits until `check()` holds, looking again every few milliseconds; fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = performance.now() + ms
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A reply to `query` (no OPT record): its header and question, QR and AA set, A records. */
function answer(
  query: Buffer,
  opts: { addresses?: string[]; tc?: boolean; rcode?: number; id?: number } = {},
): Buffer {
  const addresses = opts.addresses ?? []
  const out = Buffer.alloc(query.length + addresses.length * 16)
  query.copy(out)
  if (opts.id !== undefined) out.writeUInt16BE(opts.id, 0)
  out.writeUInt16BE(
    Flag.QR |
      Flag.AA |
      (opts.tc ? Flag.TC : 0) |
      (out.readUInt16BE(2) & Flag.RD) |
      (opts.rcode ?? 0),
    2,
  )
  out.writeUInt16BE(addresses.length, 6)
  let at = query.length
  for (const address of addresses) {
    out.writeUInt16BE(0xc00c, at)
    out.writeUInt16BE(Type.A, at + 2)
    out.writeUInt16BE(Class.IN, at + 4)
    out.writeUInt32BE(300, at + 6)
    out.writeUInt16BE(4, at + 10)
    address.split('.').forEach((octet, i) => {
      out[at + 12 + i] = Number(octet)
    })
    at += 16
  }
  return out
}

const addressesOf = (reply: Buffer | undefined) =>
  reply === undefined ? undefined : decodeMessage(reply).answer.map((r) => r.data)
const nameOf = (msg: Buffer) => decodeMessage(msg).questions[0].name
const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

function frame(msg: Buffer): Buffer {
  const out = Buffer.alloc(msg.length + 2)
  out.writeUInt16BE(msg.length, 0)
  msg.copy(out, 2)
  return out
}

/** A DNS server on 127.0.0.1 that a test steers: UDP, and TCP on the same port if asked. */
class FakeServer {
  readonly udpQueries: { msg: Buffer; from: RemoteInfo }[] = []
  readonly tcpQueries: { msg: Buffer; conn: Socket }[] = []
  readonly connections: Socket[] = []
  closedConnections = 0
  /** The reply to a UDP query; undefined stays silent. Silent by default. */
  onUdp: (msg: Buffer, from: RemoteInfo) => Buffer | undefined = () => undefined
  /** The reply to a TCP query; undefined stays silent. Silent by default. */
  onTcp: (msg: Buffer, conn: Socket) => Buffer | undefined = () => undefined
  readonly #udp: UdpSocket
  readonly #tcp: Server | undefined

  private constructor(udp: UdpSocket, tcp: Server | undefined) {
    this.#udp = udp
    this.#tcp = tcp
    udp.on('message', (msg, from) => {
      this.udpQueries.push({ msg, from })
      const reply = this.onUdp(msg, from)
      if (reply) udp.send(reply, from.port, from.address)
    })
    tcp?.on('connection', (conn) => this.#serve(conn))
  }

  static async start(withTcp: boolean): Promise<FakeServer> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const udp = createSocket('udp4')
      await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve))
      if (!withTcp) return new FakeServer(udp, undefined)
      const tcp = createServer()
      const listening = await new Promise<boolean>((resolve) => {
        tcp.once('error', () => resolve(false))
        tcp.listen(udp.address().port, '127.0.0.1', () => resolve(true))
      })
      if (listening) return new FakeServer(udp, tcp)
      udp.close()
    }
    throw new Error('no loopback port free for both UDP and TCP')
  }

  get port(): number {
    return this.#udp.address().port
  }

  get server() {
    return { host: '127.0.0.1', port: this.port }
  }

  /** Sends `msg` from the server's own UDP socket. */
  send(msg: Buffer, port: number, address = '127.0.0.1'): Promise<void> {
    return new Promise((resolve) => this.#udp.send(msg, port, address, () => resolve()))
  }

  queriesFor(name: string) {
    return this.udpQueries.filter((q) => nameOf(q.msg) === name)
  }

  #serve(conn: Socket): void {
    this.connections.push(conn)
    conn.on('close', () => this.closedConnections++)
    conn.on('error', () => {})
    let buf = Buffer.alloc(0)
    conn.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0))
        buf = buf.subarray(2 + msg.length)
        this.tcpQueries.push({ msg, conn })
        const reply = this.onTcp(msg, conn)
        if (reply) conn.write(frame(reply))
      }
    })
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.destroy()
    await new Promise<void>((resolve) => this.#udp.close(() => resolve()))
    if (this.#tcp) await new Promise<void>((resolve) => this.#tcp?.close(() => resolve()))
  }
}

const cleanups: (() => unknown)[] = []
const closedByTest = new WeakSet<DnsForwarder>()

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function fakeServer(withTcp = false): Promise<FakeServer> {
  const server = await FakeServer.start(withTcp)
  cleanups.push(() => server.stop())
  return server
}

async function forwarder(
  servers: FakeServer[],
  opts: Partial<DnsForwarderOptions> = {},
): Promise<DnsForwarder> {
  const fwd = new DnsForwarder({
    servers: servers.map((s) => s.server),
    timeoutMs: 2000,
    attempts: 1,
    sockets: 2,
    maxInFlight: 1000,
    failuresBeforeDown: 3,
    healthIntervalMs: 60_000,
    tcpIdleMs: 5000,
    probe: PROBE,
    ...opts,
  })
  await fwd.start()
  cleanups.push(() => {
    if (!closedByTest.has(fwd)) fwd.close()
  })
  return fwd
}

describe('query IDs', () => {
  it('sends each query under its own fresh ID and gives the client its own ID back', async () => {
    const server = await fakeServer()
    const fwd = await forwarder([server], { sockets: 4 })
    const names = many('q', 8).map((n) => `${n}.legacy.test`)
    const exchanges = names.map((name) => new TestExchange(name))
    for (const ex of exchanges) fwd.forward(ex)
    await until(() => server.udpQueries.length === 8, 'the 8 queries at the server')

    const wireIds = server.udpQueries.map((q) => q.msg.readUInt16BE(0))
    expect(new Set(wireIds).size).toBe(8)
    // Every client used the same ID; at most one wire ID can equal it by chance.
    expect(wireIds.filter((id) => id === CLIENT_ID).length).toBeLessThanOrEqual(1)
    for (const [i, ex] of exchanges.entries()) {
      const [sent] = server.queriesFor(`${names[i]}.`)
      // The rest of the query goes out untouched; the query buffer holds the wire ID meanwhile.
      expect(sent.msg.subarray(2)).toEqual(ex.original.subarray(2))
      expect(ex.query.readUInt16BE(0)).toBe(sent.msg.readUInt16BE(0))
      await server.send(answer(sent.msg, { addresses: [`192.0.2.${i + 1}`] }), sent.from.port)
    }

    for (const [i, ex] of exchanges.entries()) {
      const { reply, failure } = await ex.done()
      expect(failure).toBeUndefined()
      expect(reply?.readUInt16BE(0)).toBe(CLIENT_ID)
      expect(addressesOf(reply)).toEqual([`192.0.2.${i + 1}`])
      expect(ex.query).toEqual(ex.original)
    }
    expect(fwd.inFlight).toBe(0)
  })

  it('finishes a query once when the server answers it twice', async () => {
    const server = await fakeServer()
    server.onUdp = (msg, from) => {
      void server.send(answer(msg, { addresses: ['192.0.2.1'] }), from.port)
      void server.send(answer(msg, { addresses: ['192.0.2.9'] }), from.port)
      return undefined
    }
    // One socket: the duplicate is read before the next query's reply.
    const fwd = await forwarder([server], { sockets: 1 })
    const first = new TestExchange('dup.legacy.test')
    fwd.forward(first)
    expect(addressesOf((await first.done()).reply)).toEqual(['192.0.2.1'])
    const second = new TestExchange('next.legacy.test')
    fwd.forward(second)
    await second.done()
    expect(first.outcomes).toHaveLength(1)
    expect(second.outcomes).toHaveLength(1)
  })
})

describe('spoofed replies are ignored', () => {
  /** Sends one query to `server` and waits for it to arrive there. */
  async function oneQuery(server: FakeServer, opts: Partial<DnsForwarderOptions> = {}) {
    const fwd = await forwarder([server], opts)
    const ex = new TestExchange('www.legacy.test')
    fwd.forward(ex)
    await until(() => server.udpQueries.length === 1, 'the query at the server')
    return { fwd, ex, sent: server.udpQueries[0] }
  }

  it('from the right address but another port', async () => {
    const server = await fakeServer()
    const { ex, sent } = await oneQuery(server)
    const spoofer = await fakeServer()
    await spoofer.send(answer(sent.msg, { addresses: ['203.0.113.66'] }), sent.from.port)
    await server.send(answer(sent.msg, { addresses: ['192.0.2.1'] }), sent.from.port)
    expect(addressesOf((await ex.done()).reply)).toEqual(['192.0.2.1'])
    expect(ex.outcomes).toHaveLength(1)
  })

  it('from the right port but another address', async () => {
    const server = await fakeServer()
    const { ex, sent } = await oneQuery(server)
    const spoofer = createSocket('udp4')
    cleanups.push(() => new Promise<void>((resolve) => spoofer.close(() => resolve())))
    await new Promise<void>((resolve) => spoofer.bind(server.port, '127.0.0.2', resolve))
    const forged = answer(sent.msg, { addresses: ['203.0.113.66'] })
    await new Promise<void>((resolve) =>
      spoofer.send(forged, sent.from.port, '127.0.0.1', () => resolve()),
    )
    await server.send(answer(sent.msg, { addresses: ['192.0.2.1'] }), sent.from.port)
    expect(addressesOf((await ex.done()).reply)).toEqual(['192.0.2.1'])
  })

  it('with an ID that is not in flight', async () => {
    const server = await fakeServer()
    const { ex, sent } = await oneQuery(server)
    const wrongId = sent.msg.readUInt16BE(0) ^ 0x8001
    await server.send(
      answer(sent.msg, { id: wrongId, addresses: ['203.0.113.66'] }),
      sent.from.port,
    )
    // The client's own ID is no better: it never went on the wire (unless drawn by chance).
    if (sent.msg.readUInt16BE(0) !== CLIENT_ID)
      await server.send(
        answer(sent.msg, { id: CLIENT_ID, addresses: ['203.0.113.67'] }),
        sent.from.port,
      )
    await server.send(answer(sent.msg, { addresses: ['192.0.2.1'] }), sent.from.port)
    expect(addressesOf((await ex.done()).reply)).toEqual(['192.0.2.1'])
  })

  it('with another question (name, type or class), none at all, or cut short', async () => {
    const server = await fakeServer()
    const { ex, sent } = await oneQuery(server)
    const id = sent.msg.readUInt16BE(0)
    const forged = [
      buildQuery({ id, name: 'www.legacy.tesu', type: Type.A, rd: false }),
      buildQuery({ id, name: 'www.legacy.test', type: Type.AAAA, rd: false }),
      buildQuery({ id, name: 'www.legacy.test', type: Type.A, class: Class.CH, rd: false }),
    ].map((q) => answer(q, { addresses: ['203.0.113.66'] }))
    const noQuestion = Buffer.from(answer(sent.msg).subarray(0, 12))
    noQuestion.writeUInt16BE(0, 4)
    forged.push(
      noQuestion,
      answer(sent.msg).subarray(0, sent.msg.length - 1),
      sent.msg.subarray(0, 11),
    )
    for (const f of forged) await server.send(f, sent.from.port)
    await server.send(answer(sent.msg, { addresses: ['192.0.2.1'] }), sent.from.port)
    expect(addressesOf((await ex.done()).reply)).toEqual(['192.0.2.1'])
  })

  it('but the question may come back in another letter case (0x20)', async () => {
    const server = await fakeServer()
    const { ex, sent } = await oneQuery(server)
    const upper = buildQuery({
      id: sent.msg.readUInt16BE(0),
      name: 'WWW.Legacy.TEST',
      type: Type.A,
      rd: false,
    })
    await server.send(answer(upper, { addresses: ['192.0.2.1'] }), sent.from.port)
    const { reply, failure } = await ex.done()
    expect(failure).toBeUndefined()
    expect(addressesOf(reply)).toEqual(['192.0.2.1'])
  })

  it('arriving on another of its sockets than the query left from', async () => {
    const server = await fakeServer()
    const fwd = await forwarder([server], { sockets: 4 })
    const exchanges = many('q', 16).map((n) => new TestExchange(`${n}.legacy.test`))
    for (const ex of exchanges) fwd.forward(ex)
    await until(() => server.udpQueries.length === 16, 'the 16 queries at the server')
    const ports = [...new Set(server.udpQueries.map((q) => q.from.port))]
    expect(ports.length).toBeGreaterThan(1)
    const target = server.udpQueries[0]
    const other = server.udpQueries.find((q) => q.from.port !== target.from.port)!
    const targetEx = exchanges.find((ex) => nameOf(ex.original) === nameOf(target.msg))!
    const otherEx = exchanges.find((ex) => nameOf(ex.original) === nameOf(other.msg))!

    // Right server, ID and question, but sent to a port the query did not leave from.
    await server.send(answer(target.msg, { addresses: ['203.0.113.66'] }), other.from.port)
    // A reply on that same socket, read after the forged one: once it is in, so is the forgery.
    await server.send(answer(other.msg, { addresses: ['192.0.2.2'] }), other.from.port)
    await otherEx.done()
    expect(targetEx.outcomes.map((o) => addressesOf(o.reply))).toEqual([])

    await server.send(answer(target.msg, { addresses: ['192.0.2.1'] }), target.from.port)
    expect(addressesOf((await targetEx.done()).reply)).toEqual(['192.0.2.1'])
  })
})

describe('timeouts and retries', () => {
  it('gives up on a silent server with timeout, after timeoutMs and not much later', async () => {
    const server = await fakeServer()
    const fwd = await forwarder([server], { timeoutMs: 300, attempts: 1 })
    const ex = new TestExchange('www.legacy.test')
    fwd.forward(ex)
    const { reply, failure } = await ex.done()
    expect(reply).toBeUndefined()
    expect(failure).toBe('timeout')
    expect(ex.elapsed).toBeGreaterThanOrEqual(295)
    expect(ex.elapsed).toBeLessThan(300 + 250)
    expect(ex.query).toEqual(ex.original)
    expect(server.udpQueries).toHaveLength(1)
    expect(fwd.inFlight).toBe(0)
  })

  it('splits the timeout over its attempts, all to the only server, under one ID', async () => {
    const server = await fakeServer()
    const fwd = await forwarder([server], { timeoutMs: 450, attempts: 3 })
    const ex = new TestExchange('www.legacy.test')
    fwd.forward(ex)
    expect((await ex.done()).failure).toBe('timeout')
    expect(ex.elapsed).toBeGreaterThanOrEqual(445)
    expect(ex.elapsed).toBeLessThan(450 + 250)
    expect(server.udpQueries).toHaveLength(3)
    expect(new Set(server.udpQueries.map((q) => q.msg.readUInt16BE(0))).size).toBe(1)
  })

  it('retries on the next server when the first stays silent', async () => {
    const silent = await fakeServer()
    const good = await fakeServer()
    good.onUdp = (msg) => answer(msg, { addresses: ['192.0.2.2'] })
    const fwd = await forwarder([silent, good], { timeoutMs: 600, attempts: 2 })
    const ex = new TestExchange('www.legacy.test')
    fwd.forward(ex)
    const { reply, failure } = await ex.done()
    expect(failure).toBeUndefined()
    expect(addressesOf(reply)).toEqual(['192.0.2.2'])
    expect(reply?.readUInt16BE(0)).toBe(CLIENT_ID)
    expect(silent.udpQueries).toHaveLength(1)
    expect(good.udpQueries).toHaveLength(1)
    expect(good.udpQueries[0].msg).toEqual(silent.udpQueries[0].msg)
    // The retry waits for the first attempt's share of the timeout, no more.
    expect(ex.elapsed).toBeGreaterThanOrEqual(295)
    expect(ex.elapsed).toBeLessThan(600)
  })
})

describe('server health', () => {
  it('skips a server after failuresBeforeDown timeouts in a row; a probe brings it back', async () => {
    const a = await fakeServer()
    const b = await fakeServer()
    b.onUdp = (msg) => answer(msg, { addresses: ['192.0.2.2'] })
    const fwd = await forwarder([a, b], {
      timeoutMs: 200,
      attempts: 2,
      failuresBeforeDown: 2,
      healthIntervalMs: 50,
    })
    const ask = async (name: string) => {
      const ex = new TestExchange(name)
      fwd.forward(ex)
      const { reply, failure } = await ex.done()
      expect(failure).toBeUndefined()
      return { ex, addresses: addressesOf(reply) }
    }
    const toA = () => a.udpQueries.filter((q) => nameOf(q.msg) !== '.')

    // Two queries try A first, time out there, and are answered by B on the retry.
    expect((await ask('q1.legacy.test')).addresses).toEqual(['192.0.2.2'])
    expect(fwd.serversUp).toBe(2)
    expect((await ask('q2.legacy.test')).addresses).toEqual(['192.0.2.2'])
    expect(toA()).toHaveLength(2)
    expect(fwd.serversUp).toBe(1)

    // A is down: queries go straight to B, with no wait for A.
    for (const name of ['q3.legacy.test', 'q4.legacy.test', 'q5.legacy.test']) {
      const { ex, addresses } = await ask(name)
      expect(addresses).toEqual(['192.0.2.2'])
      expect(ex.elapsed).toBeLessThan(90)
    }
    expect(toA()).toHaveLength(2)

    // Probes (the configured query) reach A while it is down; any reply, even REFUSED, revives it.
    await until(() => a.udpQueries.some((q) => nameOf(q.msg) === '.'), 'a probe at A')
    const probe = a.udpQueries.find((q) => nameOf(q.msg) === '.')!
    expect(probe.msg.subarray(2)).toEqual(PROBE.subarray(2))
    a.onUdp = (msg) =>
      nameOf(msg) === '.'
        ? answer(msg, { rcode: Rcode.REFUSED })
        : answer(msg, { addresses: ['192.0.2.1'] })
    await until(() => fwd.serversUp === 2, 'A to be up again')

    const back = [await ask('q6.legacy.test'), await ask('q7.legacy.test')]
    expect(back.map((r) => r.addresses)).toContainEqual(['192.0.2.1'])
    expect(toA().length).toBeGreaterThan(2)
  })

  it('retries on the only healthy server rather than on one that is down', async () => {
    // A answers, except the first send of "lossy" (a lost datagram); B never answers.
    const a = await fakeServer()
    let dropped = false
    a.onUdp = (msg) => {
      if (nameOf(msg) === 'lossy.legacy.test.' && !dropped) {
        dropped = true
        return undefined
      }
      return answer(msg, { addresses: ['192.0.2.1'] })
    }
    const b = await fakeServer()
    const fwd = await forwarder([a, b], { timeoutMs: 200, attempts: 2, failuresBeforeDown: 2 })
    for (const name of ['q1.legacy.test', 'q2.legacy.test', 'q3.legacy.test']) {
      const ex = new TestExchange(name)
      fwd.forward(ex)
      expect((await ex.done()).failure).toBeUndefined()
    }
    // B timed out twice (q2, q3 tried it first): it is down, A is up.
    expect(b.udpQueries).toHaveLength(2)
    expect(fwd.serversUp).toBe(1)

    const lossy = new TestExchange('lossy.legacy.test')
    fwd.forward(lossy)
    const { reply, failure } = await lossy.done()
    // The retry belongs on A, the one server up, not on B, which is down.
    expect(failure).toBeUndefined()
    expect(addressesOf(reply)).toEqual(['192.0.2.1'])
    expect(b.udpQueries).toHaveLength(2)
  })
})

describe('truncated replies and TCP', () => {
  const bigAnswer = (msg: Buffer, prefix: string) => answer(msg, { addresses: many(prefix, 60) })

  it('retries a TC reply over TCP on the same server when the client takes large replies', async () => {
    const a = await fakeServer(true)
    const b = await fakeServer(true)
    for (const [s, prefix] of [
      [a, '198.51.100.'],
      [b, '203.0.113.'],
    ] as const) {
      s.onUdp = (msg) => answer(msg, { tc: true })
      s.onTcp = (msg) => bigAnswer(msg, prefix)
    }
    const fwd = await forwarder([a, b])
    const ex = new TestExchange('big.legacy.test', true)
    fwd.forward(ex)
    const { reply, failure } = await ex.done()
    expect(failure).toBeUndefined()
    expect(reply?.readUInt16BE(0)).toBe(CLIENT_ID)
    expect(reply!.readUInt16BE(2) & Flag.TC).toBe(0)
    expect(addressesOf(reply)).toEqual(many('198.51.100.', 60))
    // Over TCP to the server that sent TC, under the same wire ID and question.
    expect(a.tcpQueries).toHaveLength(1)
    expect(a.tcpQueries[0].msg).toEqual(a.udpQueries[0].msg)
    expect(b.udpQueries).toHaveLength(0)
    expect(b.tcpQueries).toHaveLength(0)
    expect(ex.query).toEqual(ex.original)
  })

  it('returns a TC reply as it is when the client cannot take large replies', async () => {
    const server = await fakeServer(true)
    server.onUdp = (msg) => answer(msg, { tc: true, addresses: ['192.0.2.1'] })
    server.onTcp = (msg) => bigAnswer(msg, '198.51.100.')
    const fwd = await forwarder([server])
    const ex = new TestExchange('big.legacy.test', false)
    fwd.forward(ex)
    const { reply, failure } = await ex.done()
    expect(failure).toBeUndefined()
    const expected = answer(server.udpQueries[0].msg, { tc: true, addresses: ['192.0.2.1'] })
    expected.writeUInt16BE(CLIENT_ID, 0)
    expect(reply).toEqual(expected)
    expect(server.connections).toHaveLength(0)
  })

  it('pipelines queries over one reused TCP connection and matches replies in any order', async () => {
    const server = await fakeServer(true)
    server.onUdp = (msg) => answer(msg, { tc: true })
    const held: Buffer[] = []
    server.onTcp = (msg, conn) => {
      held.push(msg)
      if (held.length === 3) {
        // All three replies, last first, in a single write.
        conn.write(
          Buffer.concat(held.reverse().map((m) => frame(bigAnswer(m, `10.${nameOf(m)[1]}.0.`)))),
        )
      }
      return undefined
    }
    const fwd = await forwarder([server])
    const exchanges = [1, 2, 3].map((i) => new TestExchange(`q${i}.legacy.test`, true))
    for (const ex of exchanges) fwd.forward(ex)
    for (const [i, ex] of exchanges.entries()) {
      const { reply, failure } = await ex.done()
      expect(failure).toBeUndefined()
      expect(reply?.readUInt16BE(0)).toBe(CLIENT_ID)
      expect(addressesOf(reply)).toEqual(many(`10.${i + 1}.0.`, 60))
    }
    expect(server.connections).toHaveLength(1)
    expect(server.tcpQueries).toHaveLength(3)

    // The connection stays open for the next truncated query.
    server.onTcp = (msg) => bigAnswer(msg, '10.4.0.')
    const fourth = new TestExchange('q4.legacy.test', true)
    fwd.forward(fourth)
    expect(addressesOf((await fourth.done()).reply)).toEqual(many('10.4.0.', 60))
    expect(server.connections).toHaveLength(1)
  })

  it('reads a TCP reply that arrives in pieces', async () => {
    const server = await fakeServer(true)
    server.onUdp = (msg) => answer(msg, { tc: true })
    server.onTcp = (msg, conn) => {
      const bytes = frame(bigAnswer(msg, '198.51.100.'))
      void (async () => {
        for (const piece of [bytes.subarray(0, 1), bytes.subarray(1, 7), bytes.subarray(7)]) {
          await new Promise<void>((resolve) => conn.write(piece, () => resolve()))
          await new Promise((resolve) => setImmediate(resolve))
        }
      })()
      return undefined
    }
    const fwd = await forwarder([server])
    const ex = new TestExchange('big.legacy.test', true)
    fwd.forward(ex)
    expect(addressesOf((await ex.done()).reply)).toEqual(many('198.51.100.', 60))
  })

  it('asks over TCP from the start for a query that came over a stream', async () => {
    const server = await fakeServer(true)
    server.onUdp = (msg) => answer(msg, { addresses: ['192.0.2.1'] })
    server.onTcp = (msg) => bigAnswer(msg, '198.51.100.')
    const fwd = await forwarder([server])
    const ex = new TestExchange('big.legacy.test', true, true)
    fwd.forward(ex)
    const { reply, failure } = await ex.done()
    expect(failure).toBeUndefined()
    expect(reply?.readUInt16BE(0)).toBe(CLIENT_ID)
    expect(addressesOf(reply)).toEqual(many('198.51.100.', 60))
    expect([server.udpQueries.length, server.tcpQueries.length]).toEqual([0, 1])
    expect(ex.query).toEqual(ex.original)
  })

  it('asks the next server over TCP when a stream query finds the first refusing connections', async () => {
    const refusing = await fakeServer(false)
    const serving = await fakeServer(true)
    serving.onTcp = (msg) => answer(msg, { addresses: ['192.0.2.7'] })
    const fwd = await forwarder([refusing, serving], { attempts: 2 })
    const ex = new TestExchange('www.legacy.test', true, true)
    fwd.forward(ex)
    const { reply, failure } = await ex.done()
    expect(failure).toBeUndefined()
    expect(addressesOf(reply)).toEqual(['192.0.2.7'])
    expect(refusing.udpQueries).toHaveLength(0)
    expect(serving.tcpQueries).toHaveLength(1)
  })

  it('gives unreachable when every attempt of a stream query finds connections refused', async () => {
    const fwd = await forwarder([await fakeServer(false)], { attempts: 2, timeoutMs: 2000 })
    const ex = new TestExchange('www.legacy.test', true, true)
    fwd.forward(ex)
    const { failure } = await ex.done()
    expect(failure).toBe('unreachable')
    expect(ex.outcomes).toHaveLength(1)
    expect(ex.elapsed).toBeLessThan(1000)
  })

  it('gives timeout when the TCP retry gets no reply by the query deadline', async () => {
    const server = await fakeServer(true)
    server.onUdp = (msg) => answer(msg, { tc: true })
    const fwd = await forwarder([server], { timeoutMs: 300, attempts: 1 })
    const ex = new TestExchange('big.legacy.test', true)
    fwd.forward(ex)
    const { reply, failure } = await ex.done()
    expect(reply).toBeUndefined()
    expect(failure).toBe('timeout')
    expect(server.tcpQueries).toHaveLength(1)
    expect(ex.elapsed).toBeGreaterThanOrEqual(295)
    expect(ex.elapsed).toBeLessThan(300 + 250)
    expect(ex.query).toEqual(ex.original)
  })

  it('gives unreachable when the server refuses the TCP connection', async () => {
    const server = await fakeServer(false)
    server.onUdp = (msg) => answer(msg, { tc: true })
    const fwd = await forwarder([server], { timeoutMs: 2000 })
    const ex = new TestExchange('big.legacy.test', true)
    fwd.forward(ex)
    const { reply, failure } = await ex.done()
    expect(reply).toBeUndefined()
    expect(failure).toBe('unreachable')
    expect(ex.elapsed).toBeLessThan(1000)
  })

  it('closes an idle TCP connection after tcpIdleMs and opens a new one when needed', async () => {
    const server = await fakeServer(true)
    server.onUdp = (msg) => answer(msg, { tc: true })
    server.onTcp = (msg) => bigAnswer(msg, '198.51.100.')
    const fwd = await forwarder([server], { tcpIdleMs: 150 })
    const first = new TestExchange('q1.legacy.test', true)
    fwd.forward(first)
    expect((await first.done()).failure).toBeUndefined()
    const answered = performance.now()
    await until(() => server.closedConnections === 1, 'the idle connection to close')
    expect(performance.now() - answered).toBeGreaterThanOrEqual(140)

    const second = new TestExchange('q2.legacy.test', true)
    fwd.forward(second)
    expect((await second.done()).failure).toBeUndefined()
    expect(server.connections).toHaveLength(2)
  })

  it('closes the TCP connection once idle after a reply slower than tcpIdleMs', async () => {
    const server = await fakeServer(true)
    server.onUdp = (msg) => answer(msg, { tc: true })
    // A slow server: the reply comes after 2.5 times the idle period.
    const timers: NodeJS.Timeout[] = []
    cleanups.push(() => timers.forEach(clearTimeout))
    server.onTcp = (msg, conn) => {
      timers.push(setTimeout(() => conn.write(frame(bigAnswer(msg, '198.51.100.'))), 250))
      return undefined
    }
    const fwd = await forwarder([server], { tcpIdleMs: 100 })
    const ex = new TestExchange('slow.legacy.test', true)
    fwd.forward(ex)
    expect((await ex.done()).failure).toBeUndefined()
    expect(ex.elapsed).toBeGreaterThanOrEqual(245)
    await until(() => server.closedConnections === 1, 'the idle connection to close', 1500)
  })
})

describe('limits and shutdown', () => {
  it('refuses a query beyond maxInFlight at once with overload', async () => {
    const server = await fakeServer()
    const fwd = await forwarder([server], { maxInFlight: 2 })
    const [a, b, c] = [1, 2, 3].map((i) => new TestExchange(`q${i}.legacy.test`))
    fwd.forward(a)
    fwd.forward(b)
    fwd.forward(c)
    // Synchronously, before any I/O: refused, not queued.
    expect(c.outcomes).toEqual([{ reply: undefined, failure: 'overload', at: expect.any(Number) }])
    expect(c.query).toEqual(c.original)
    expect(a.outcomes).toEqual([])
    expect(fwd.inFlight).toBe(2)
    await until(() => server.udpQueries.length === 2, 'the two queries at the server')
    expect(server.queriesFor('q3.legacy.test.')).toEqual([])
  })

  it('close() finishes every query in flight, over UDP and TCP, exactly once', async () => {
    const server = await fakeServer(true)
    server.onUdp = (msg) => (nameOf(msg).startsWith('big') ? answer(msg, { tc: true }) : undefined)
    const fwd = await forwarder([server])
    const exchanges = [
      new TestExchange('q1.legacy.test'),
      new TestExchange('q2.legacy.test'),
      new TestExchange('big.legacy.test', true),
    ]
    for (const ex of exchanges) fwd.forward(ex)
    await until(() => server.tcpQueries.length === 1, 'the TCP query at the server')
    expect(fwd.inFlight).toBe(3)

    closedByTest.add(fwd)
    fwd.close()
    for (const ex of exchanges) {
      expect(ex.outcomes).toHaveLength(1)
      expect(ex.outcomes[0].reply).toBeUndefined()
      expect(ex.outcomes[0].failure).toBe('unreachable')
      expect(ex.query).toEqual(ex.original)
    }
    expect(fwd.inFlight).toBe(0)
    // The TCP connection's close reaches the forwarder too; nothing finishes twice.
    await until(() => server.closedConnections === 1, 'the TCP connection to close')
    await new Promise((resolve) => setImmediate(resolve))
    for (const ex of exchanges) expect(ex.outcomes).toHaveLength(1)
  })
})

// Forwards DNS queries to the legacy resolvers. Over UDP from a pool of sockets on
// random ports, with each query's ID remapped; a reply is accepted only if it
// comes from the server asked, with the ID and question sent. Retries on timeout
// (next healthy server), falls back to TCP when a reply is truncated and the
// client can take a large one, and gives up with a clear outcome by a deadline.
// A query that came over a stream (TCP, DoT) goes over TCP from the start, as
// dnsdist and CoreDNS forward it: BIND shapes UDP answers (minimal at 512
// octets, additional records dropped to fit) and a stream client gets its TCP one.

import type { Socket } from 'node:dgram'
import { Flag, HEADER_LENGTH } from '../dns/constants.ts'
import { LOWER } from '../dns/name.ts'
import { type TcpReplyHandler, TcpUpstream } from './dns-tcp-upstream.ts'
import { RandomIds } from './random-ids.ts'
import { type DnsServer, ServerHealth } from './server-health.ts'
import { createUdpSocket } from './udp-socket.ts'

/** A query on its way to the legacy; `finish` is called exactly once. */
export interface LegacyExchange {
  /** The query as the client sent it; the forwarder may rewrite its ID and restores it. */
  readonly query: Buffer
  /** Offset just past the question in `query`. */
  readonly questionEnd: number
  /** Whether the client can take a reply larger than its UDP limit (TCP, DoH). */
  readonly largeReplies: boolean
  /** Whether it came over a stream (TCP, DoT): the legacy is asked over TCP too. */
  readonly stream: boolean
  /** The reply with the client's ID, or undefined and why the legacy gave none. */
  finish(reply: Buffer | undefined, failure: ForwardFailure | undefined): void
}

export type ForwardFailure = 'timeout' | 'overload' | 'unreachable'

export interface DnsForwarderOptions {
  servers: readonly DnsServer[]
  /** Time from the first send to giving up (the client then gets SERVFAIL). */
  timeoutMs: number
  /** Sends per query within the timeout, each to the next healthy server (timeout split evenly). */
  attempts: number
  /** UDP sockets (source ports) to spread queries over. */
  sockets: number
  /** Queries in flight at once; more are refused at once (SERVFAIL), never queued. */
  maxInFlight: number
  /** Consecutive timeouts after which a server is skipped until a health probe succeeds. */
  failuresBeforeDown: number
  healthIntervalMs: number
  tcpIdleMs: number
  /** The query sent to a server that is down, to see whether it is back (e.g. `. NS`). */
  probe: Buffer
}

interface Pending {
  exchange: LegacyExchange
  clientId: number
  id: number
  server: number
  /** The UDP socket it was last sent from, or -1 when it went over TCP. */
  socket: number
  attemptsLeft: number
  attemptDeadline: number
  /** Only for a query retried over TCP, which waits out its own deadline. */
  tcpTimer: NodeJS.Timeout | undefined
  prev: Pending | undefined
  next: Pending | undefined
}

export class DnsForwarder implements TcpReplyHandler {
  readonly #opts: DnsForwarderOptions
  readonly #sockets: Socket[] = []
  readonly #tcp: TcpUpstream[]
  readonly #health: ServerHealth
  readonly #pending = new Map<number, Pending>()
  readonly #ids = new RandomIds()
  readonly #attemptMs: number
  // UDP attempts in flight in send order: all wait the same time, so the head expires first.
  #head: Pending | undefined
  #tail: Pending | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(opts: DnsForwarderOptions) {
    this.#opts = opts
    this.#attemptMs = opts.timeoutMs / opts.attempts
    this.#health = new ServerHealth(
      opts.servers.length,
      opts.failuresBeforeDown,
      opts.healthIntervalMs,
      (server) => this.#forwardTo(new ProbeExchange(opts.probe), server),
    )
    this.#tcp = opts.servers.map((s) => new TcpUpstream(s.host, s.port, opts.tcpIdleMs, this))
  }

  /** Opens the UDP sockets on random ports and starts health probes. */
  async start(): Promise<void> {
    for (let i = 0; i < this.#opts.sockets; i++) {
      const socket = createUdpSocket(this.#opts.servers[0].host.includes(':'))
      socket.on('message', (msg, rinfo) => this.#onUdpReply(i, msg, rinfo.address, rinfo.port))
      socket.on('error', () => {})
      // Exclusive: in a cluster worker a plain bind would share one socket among
      // all workers, and a reply would reach whichever worker read it first.
      await new Promise<void>((resolve) => socket.bind({ port: 0, exclusive: true }, resolve))

      this.#sockets.push(socket)
    }
    this.#health.start()
  }

  get inFlight(): number {
    return this.#pending.size
  }

  get serversUp(): number {
    return this.#health.upCount
  }

  forward(exchange: LegacyExchange): void {
    this.#forwardTo(exchange, this.#health.pick(-1))
  }

  #forwardTo(exchange: LegacyExchange, server: number): void {
    if (this.#pending.size >= this.#opts.maxInFlight) {
      exchange.finish(undefined, 'overload')
      return
    }
    let id = this.#ids.next()
    while (this.#pending.has(id)) id = (id + 1) & 0xffff
    const p: Pending = {
      exchange,
      clientId: exchange.query.readUInt16BE(0),
      id,
      server,
      socket: 0,
      attemptsLeft: this.#opts.attempts,
      attemptDeadline: 0,
      tcpTimer: undefined,
      prev: undefined,
      next: undefined,
    }
    this.#pending.set(id, p)
    exchange.query.writeUInt16BE(id, 0)
    if (exchange.stream) this.#nextTcpAttempt(p)
    else this.#sendUdp(p, performance.now())
  }

  /** Sends `p` over TCP as its next attempt, with the time left to it and the attempts after it. */
  #nextTcpAttempt(p: Pending): void {
    p.attemptsLeft--
    p.attemptDeadline = performance.now() + this.#attemptMs
    this.#sendTcp(p)
  }

  /** Answers everything in flight with its failure and closes sockets. */
  close(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    for (const p of [...this.#pending.values()]) this.#complete(p, undefined, 'unreachable')
    for (const s of this.#sockets) s.close()
    for (const t of this.#tcp) t.close()
    this.#health.stop()
  }

  #sendUdp(p: Pending, now: number): void {
    const server = this.#opts.servers[p.server]
    // The ID is random, so it picks the source port at random too.
    p.socket = this.#ids.next() % this.#sockets.length
    p.attemptsLeft--
    p.attemptDeadline = now + this.#attemptMs
    this.#enqueue(p)
    const q = p.exchange.query
    this.#sockets[p.socket].send(q, 0, q.length, server.port, server.host)
  }

  #sendTcp(p: Pending): void {
    p.socket = -1
    // What is left of the query's time: the current attempt's and those not yet made.
    const left = p.attemptDeadline - performance.now() + p.attemptsLeft * this.#attemptMs
    p.tcpTimer = setTimeout(() => this.#complete(p, undefined, 'timeout'), Math.max(left, 1))
    this.#tcp[p.server].send(p.id, p.exchange.query)
  }

  /** A datagram on socket `socket`: a reply only if it answers the query sent from that socket (RFC 5452). */
  #onUdpReply(socket: number, msg: Buffer, address: string, port: number): void {
    if (msg.length < HEADER_LENGTH || (msg[2] & 0x80) === 0) return
    const p = this.#pending.get(msg.readUInt16BE(0))
    if (p === undefined || p.socket !== socket) return
    const server = this.#opts.servers[p.server]
    if (server.port !== port || server.host !== address || !sameQuestion(p.exchange, msg)) return

    this.#health.succeeded(p.server)
    if ((msg[2] << 8) & Flag.TC && p.exchange.largeReplies) {
      this.#dequeue(p)
      this.#sendTcp(p)
      return
    }
    this.#complete(p, msg, undefined)
  }

  onTcpReply(id: number, reply: Buffer | undefined): void {
    const p = this.#pending.get(id)
    if (p === undefined || p.socket >= 0) return
    if (reply === undefined && p.attemptsLeft > 0) {
      // The connection failed: the next healthy server, over TCP still.
      this.#health.failed(p.server)
      clearTimeout(p.tcpTimer)
      p.server = this.#health.pick(p.server)
      this.#nextTcpAttempt(p)
      return
    }
    if (reply === undefined || !sameQuestion(p.exchange, reply)) {
      this.#complete(p, undefined, 'unreachable')
      return
    }
    this.#health.succeeded(p.server)
    this.#complete(p, reply, undefined)
  }

  #complete(p: Pending, reply: Buffer | undefined, failure: ForwardFailure | undefined): void {
    this.#pending.delete(p.id)
    if (p.socket < 0) {
      clearTimeout(p.tcpTimer)
      this.#tcp[p.server].forget(p.id)
    } else {
      this.#dequeue(p)
    }
    p.exchange.query.writeUInt16BE(p.clientId, 0)
    if (reply) reply.writeUInt16BE(p.clientId, 0)
    p.exchange.finish(reply, failure)
  }

  #enqueue(p: Pending): void {
    p.prev = this.#tail
    p.next = undefined
    if (this.#tail) this.#tail.next = p
    else this.#head = p
    this.#tail = p
    this.#timer ??= setInterval(() => this.#expire(), 20)
  }

  #dequeue(p: Pending): void {
    if (p.prev) p.prev.next = p.next
    else if (this.#head === p) this.#head = p.next
    if (p.next) p.next.prev = p.prev
    else if (this.#tail === p) this.#tail = p.prev
    p.prev = p.next = undefined
  }

  #expire(): void {
    const now = performance.now()
    while (this.#head !== undefined && this.#head.attemptDeadline <= now) {
      const p = this.#head
      this.#health.failed(p.server)
      if (p.attemptsLeft === 0) {
        this.#complete(p, undefined, 'timeout')
      } else {
        this.#dequeue(p)
        p.server = this.#health.pick(p.server)
        this.#sendUdp(p, now)
      }
    }
    if (this.#head === undefined) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }
}

/** A health probe: its reply (any rcode) is what marks the server up again. */
class ProbeExchange implements LegacyExchange {
  readonly query: Buffer
  readonly questionEnd: number
  readonly largeReplies = false
  readonly stream = false

  constructor(probe: Buffer) {
    this.query = Buffer.from(probe)
    this.questionEnd = probe.length
  }

  finish(): void {}
}

/** Does the reply carry the question we sent (name case-insensitively, type, class)? */
function sameQuestion(ex: LegacyExchange, reply: Buffer): boolean {
  const q = ex.query
  const end = ex.questionEnd
  if (reply.length < end || reply[4] !== 0 || reply[5] !== 1) return false
  for (let i = HEADER_LENGTH; i < end; i++) if (LOWER[q[i]] !== LOWER[reply[i]]) return false
  return true
}

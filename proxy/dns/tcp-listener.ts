// The DNS-over-TCP listener (RFC 7766): length-prefixed messages, several queries
// in flight per connection answered in any order, an idle timeout, and bounds on
// connections and on queries in flight (reading pauses at the bound). With the
// PROXY protocol on, each connection's header is read first (before TLS), from
// trusted peers only, and the client it names is the query's.

import { createServer, type Server, type Socket } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { createServer as createTlsServer, Server as TlsServer } from 'node:tls'

import type { Path } from '../../rollout/scope.ts'
import type { HostPort } from '../config/units.ts'
import { type HandOver, stopReading, takeUnread, whenWritten } from '../net/connection-handover.ts'
import type { ListenRole } from '../net/listen-sockets.ts'
import {
  claimTls,
  clientOf,
  nameClient,
  type ProxyProtocolIntake,
  proxiedServer,
} from '../net/proxy-protocol-intake.ts'
import type { SocketSource } from '../net/socket-source.ts'
import {
  followCertificates,
  type TlsListenerOptions,
  tlsServerOptions,
} from '../tls/server-options.ts'
import type { DnsEngine, DnsReplier } from './engine.ts'

export interface DnsTcpLimits {
  idleTimeoutMs: number
  maxConnections: number
  maxInFlight: number
}

class Connection {
  readonly socket: Socket
  /** Who the queries are from: the socket's peer, or the client its PROXY header named. */
  readonly client: string
  inFlight = 0
  buffered: Buffer | undefined
  /** Set while #pump runs, so replies sent from inside it do not start another. */
  pumping = false
  closed = false
  /** To be handed to another worker: it reads no more, answers what it has, then goes. */
  leaving = false
  /** On its way: its replies being written out before the descriptor goes. */
  handing = false
  /** A query came after our FIN (counted once). */
  crossed = false

  constructor(socket: Socket) {
    this.socket = socket
    this.client = clientOf(socket)
  }
}

export class DnsTcpListener implements DnsReplier<Connection> {
  /** The listening server: the TCP or TLS one, or the PROXY protocol one in front of it. */
  readonly #server: Server
  /** The server connections go into once any PROXY header is read. */
  readonly #inner: Server
  /** The engine queries go to; replaced whole on reload. */
  engine: DnsEngine
  #stopping = false
  #port = 0
  /** While draining for a restart: passes idle connections to the new generation. */
  #handOver: HandOver | undefined
  /** Queries that came after this listener closed their connection: the client's to ask again. */
  #crossed = 0
  readonly #limits: DnsTcpLimits
  readonly #connections = new Set<Connection>()

  readonly #force: Path | undefined

  /**
   * `force`: the candidate listener's path for every query (the diff harness's
   * view of the new path). `tls`: DNS over TLS (RFC 7858), the same protocol
   * inside TLS with ALPN `dot`. `proxyProtocol`: every connection starts with
   * a PROXY protocol header, from a trusted peer.
   */
  constructor(
    engine: DnsEngine,
    limits: DnsTcpLimits,
    force?: Path,
    tls?: TlsListenerOptions,
    proxyProtocol?: ProxyProtocolIntake,
  ) {
    this.#force = force
    this.engine = engine
    this.#limits = limits
    this.#inner = tls
      ? createTlsServer(tlsServerOptions(tls, ['dot']), (socket) => {
          claimTls(socket)
          this.#accept(socket)
        })
      : createServer({ noDelay: true }, (socket) => this.#accept(socket))
    if (tls) {
      followCertificates(this.#inner as TlsServer, tls)
      this.#inner.on('tlsClientError', (_err, socket: Socket) => socket.destroy())
    }
    this.#server = proxyProtocol ? proxiedServer(this.#inner, proxyProtocol) : this.#inner
    this.#server.maxConnections = limits.maxConnections
  }

  /** Session ticket keys for new tickets (DNS over TLS only). */
  setTicketKeys(keys: Buffer): void {
    if (this.#inner instanceof TlsServer) this.#inner.setTicketKeys(keys)
  }

  async listen(at: HostPort, sockets: SocketSource, role: ListenRole): Promise<void> {
    this.#port = await sockets.listen(this.#server, role, at)
  }

  get port(): number {
    return this.#port
  }

  get connections(): number {
    return this.#connections.size
  }

  #accept(socket: Socket): Connection {
    const conn = new Connection(socket)
    this.#connections.add(conn)
    // A listener of its own, not setTimeout's callback (that one is called once).
    socket.setTimeout(this.#limits.idleTimeoutMs)
    socket.on('timeout', () => {
      if (conn.inFlight === 0) socket.end()
      else socket.setTimeout(this.#limits.idleTimeoutMs)
    })

    socket.on('data', (chunk) => this.#read(conn, chunk))
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      conn.closed = true
      this.#connections.delete(conn)
    })
    return conn
  }

  /**
   * A connection another worker handed over (a restart): served as if accepted
   * here, for the client it spoke for, from the bytes it had read.
   */
  adopt(socket: Socket, client: string, data: Buffer): void {
    nameClient(socket, client)
    const conn = this.#accept(socket)
    if (data.length > 0) this.#read(conn, data)
  }

  #read(conn: Connection, chunk: Buffer): void {
    // Closing while draining: a query that crossed our FIN is the client's to
    // ask again on a new connection (RFC 7766 §6.2.4); answering it here would
    // go nowhere. Counted, as a drain's loss.
    if (conn.socket.writableEnded) {
      if (!conn.crossed) this.#crossed++
      conn.crossed = true
      return
    }
    conn.buffered = conn.buffered === undefined ? chunk : Buffer.concat([conn.buffered, chunk])
    if (!conn.leaving) this.#pump(conn)
  }

  /** Handles buffered messages while under the in-flight bound; pauses reading at it. */
  #pump(conn: Connection): void {
    conn.pumping = true
    let buf = conn.buffered
    while (
      buf !== undefined &&
      buf.length >= 2 &&
      conn.inFlight < this.#limits.maxInFlight &&
      !conn.closed &&
      !conn.leaving
    ) {
      const length = buf.readUInt16BE(0)
      if (buf.length < 2 + length) break
      const message = buf.subarray(2, 2 + length)
      buf = buf.subarray(2 + length)
      conn.inFlight++
      this.engine.handle(message, 'tcp', conn.client, conn, this, this.#force)
    }
    conn.buffered = buf !== undefined && buf.length > 0 ? buf : undefined
    conn.pumping = false
    if (conn.inFlight >= this.#limits.maxInFlight) conn.socket.pause()
    else if (conn.socket.isPaused() && !conn.leaving) conn.socket.resume()
  }

  sendReply(conn: Connection, buf: Buffer, length: number): void {
    conn.inFlight--
    if (conn.closed) return
    const frame = Buffer.allocUnsafe(length + 2)
    frame.writeUInt16BE(length, 0)
    buf.copy(frame, 2, 0, length)
    conn.socket.write(frame)
    if (!conn.pumping && conn.socket.isPaused()) this.#pump(conn)
    this.#endIfDone(conn)
  }

  dropped(conn: Connection): void {
    conn.inFlight--
    if (!conn.pumping && conn.socket.isPaused()) this.#pump(conn)
    this.#endIfDone(conn)
  }

  /**
   * While stopping, a connection with nothing in flight: handed over to the
   * new generation (a restart), or with nothing half read, closed (its client
   * retries elsewhere).
   */
  #endIfDone(conn: Connection): void {
    if (!this.#stopping || conn.inFlight > 0 || conn.closed || conn.handing) return
    if (this.#handOver) this.#handOff(conn, this.#handOver)
    else if (conn.buffered === undefined) conn.socket.end()
  }

  /** Stops `conn` taking queries: those it sent already are answered here, the rest in the next generation. */
  #leave(conn: Connection): void {
    conn.leaving = true
    stopReading(conn.socket)
  }

  /** Passes `conn` on once its replies are written, with what it read of the queries after them. */
  #handOff(conn: Connection, handOver: HandOver): void {
    conn.handing = true
    whenWritten(conn.socket, () => {
      if (conn.closed) return
      const data = Buffer.concat([
        ...(conn.buffered ? [conn.buffered] : []),
        ...takeUnread(conn.socket),
      ])
      this.#connections.delete(conn)
      handOver(conn.socket, conn.client, data)
    })
  }

  /**
   * Stops accepting; every connection finishes the queries it sent, then is
   * handed to the new generation through `handOver` (a restart) or closed.
   * Resolves with what was lost: connections cut at the deadline, and
   * connections a query reached after this listener closed them.
   */
  async drain(deadlineMs: number, handOver?: HandOver): Promise<number> {
    this.#stopping = true
    this.#handOver = handOver
    this.#server.close()
    for (const conn of this.#connections) {
      if (handOver) this.#leave(conn)
      this.#endIfDone(conn)
    }
    const deadline = Date.now() + deadlineMs
    while (this.#connections.size > 0 && Date.now() < deadline) await delay(20)
    const cut = this.#connections.size
    for (const conn of this.#connections) conn.socket.destroy()
    return cut + this.#crossed
  }

  close(): Promise<void> {
    for (const conn of this.#connections) conn.socket.destroy()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}

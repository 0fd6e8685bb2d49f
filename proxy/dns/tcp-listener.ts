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
import {
  claimTls,
  clientOf,
  type ProxyProtocolIntake,
  proxiedServer,
} from '../net/proxy-protocol-intake.ts'
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

  listen(at: HostPort): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen({ port: at.port, host: at.host }, () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
  }

  get port(): number {
    const a = this.#server.address()
    return typeof a === 'object' && a ? a.port : 0
  }

  get connections(): number {
    return this.#connections.size
  }

  #accept(socket: Socket): void {
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
  }

  #read(conn: Connection, chunk: Buffer): void {
    // Closing while draining: a query that crossed our FIN is the client's to
    // ask again on a new connection (RFC 7766 §6.2.4); answering it here would go nowhere.
    if (conn.socket.writableEnded) return
    conn.buffered = conn.buffered === undefined ? chunk : Buffer.concat([conn.buffered, chunk])
    this.#pump(conn)
  }

  /** Handles buffered messages while under the in-flight bound; pauses reading at it. */
  #pump(conn: Connection): void {
    conn.pumping = true
    let buf = conn.buffered
    while (
      buf !== undefined &&
      buf.length >= 2 &&
      conn.inFlight < this.#limits.maxInFlight &&
      !conn.closed
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
    else if (conn.socket.isPaused()) conn.socket.resume()
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

  /** While stopping, a connection with nothing in flight or waiting is closed (its client retries elsewhere). */
  #endIfDone(conn: Connection): void {
    if (this.#stopping && conn.inFlight === 0 && conn.buffered === undefined && !conn.closed)
      conn.socket.end()
  }

  /**
   * Stops accepting; every connection finishes the queries it sent, then is
   * closed. Resolves with the number of connections cut at the deadline.
   */
  async drain(deadlineMs: number): Promise<number> {
    this.#stopping = true
    this.#server.close()
    for (const conn of this.#connections) this.#endIfDone(conn)
    const deadline = Date.now() + deadlineMs
    while (this.#connections.size > 0 && Date.now() < deadline) await delay(20)
    const cut = this.#connections.size
    for (const conn of this.#connections) conn.socket.destroy()
    return cut
  }

  close(): Promise<void> {
    for (const conn of this.#connections) conn.socket.destroy()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}

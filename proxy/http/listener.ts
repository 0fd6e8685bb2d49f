// The HTTP listeners: Node's own HTTP/1.1 server (fastify's routing costs more
// than this proxy can spare; see bench), with limits on header size, request
// time, idle keep-alive and connections; over TLS, the handshake picks the
// certificate by SNI and the protocol by ALPN, and each connection goes to that
// same HTTP/1.1 server or to an HTTP/2 one (served from its stream API: see
// http2-stream.ts), both into the one engine. Requests Node's parser refuses
// get a 400 (431 for oversized headers, 408 for too slow) and the connection
// closes. With the PROXY protocol on, a server in front
// reads each connection's header first (before TLS), from trusted peers only.
// HTTP/1.1 upgrades (WebSocket) go to the engine too, and outlive a drain up to
// a deadline of their own. HTTP/2's extended CONNECT (RFC 8441) is not offered.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import {
  createServer as createHttp2Server,
  type Http2Server,
  type ServerHttp2Session,
} from 'node:http2'
import { Server as NetServer, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import type { Counter } from 'prom-client'
import type { HostPort } from '../config/units.ts'
import type { ListenRole } from '../net/listen-sockets.ts'
import { claimTls, type ProxyProtocolIntake, proxiedServer } from '../net/proxy-protocol-intake.ts'
import type { SocketSource } from '../net/socket-source.ts'
import type { HotCount } from '../telemetry/hot-metrics.ts'
import {
  followCertificates,
  type TlsListenerOptions,
  tlsServerOptions,
} from '../tls/server-options.ts'
import type { HttpEngine } from './engine.ts'
import { rawErrorResponse } from './error-reply.ts'
import { Http2Reply, Http2Request } from './http2-stream.ts'

export interface HttpLimits {
  maxHeaderSize: number
  headersTimeoutMs: number
  requestTimeoutMs: number
  keepAliveTimeoutMs: number
  maxConnections: number
}

/** What the HTTPS listener adds to TLS: whether it offers HTTP/2, and its limits. */
export interface HttpsOptions extends TlsListenerOptions {
  http2: boolean
  maxConcurrentStreams: number
  /** HTTP/2 sessions ended for what the client sent (rapid reset, CONTINUATION flood, bad frames). */
  http2SessionErrors: Counter<'reason'>
}

const CLIENT_ERRORS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
}

export class HttpListener {
  /** The server that owns the socket: the HTTP/1.1 server, the TLS one in front of both, or the PROXY protocol one in front of that. */
  readonly #outer: NetServer
  /** The server connections go into once any PROXY header is read. */
  readonly #inner: NetServer
  readonly #http1: Server
  readonly #http2: Http2Server | undefined
  /** The engine requests go to; replaced whole on reload. */
  engine: HttpEngine
  readonly #connections = new Set<Socket>()
  readonly #sessions = new Set<ServerHttp2Session>()
  /** Connections handed to the engine as upgrades (over TLS, the TLS sockets). */
  readonly #upgraded = new Set<Socket>()
  /**
   * Open connections that carried a request: an upgrade on one during a drain
   * is refused, and a drain makes the response on each close its connection.
   * Kept per connection, not per response: a long-lived collection that takes
   * in and lets go of every response keeps each alive through garbage
   * collections (about 6 µs a request of extra collection here).
   */
  readonly #served = new Set<Socket>()
  #draining = false
  #port = 0

  /** `proxyProtocol`: every connection starts with a PROXY protocol header, from a trusted peer. */
  constructor(
    engine: HttpEngine,
    limits: HttpLimits,
    malformed: HotCount,
    https?: HttpsOptions,
    proxyProtocol?: ProxyProtocolIntake,
  ) {
    this.engine = engine
    const served = this.#served
    /** One listener for every connection (its `this`), not a closure each. */
    const forget = function (this: Socket) {
      served.delete(this)
    }
    this.#http1 = createServer(
      {
        maxHeaderSize: limits.maxHeaderSize,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        requireHostHeader: true,
        noDelay: true,
      },
      (req, res) => {
        // While draining, every response says Connection: close and ends its connection.
        if (this.#draining) res.shouldKeepAlive = false
        if (!served.has(req.socket)) {
          served.add(req.socket)
          req.socket.once('close', forget)
        }
        this.engine.handle(req, res)
      },
    )
    this.#http1.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // A socket error (a reset) comes here too; it is not a malformed request.
      if (err.code?.startsWith('HPE_') || err.code === 'ERR_HTTP_REQUEST_TIMEOUT') malformed.n++
      if (!socket.writable || (err as { bytesParsed?: number }).bytesParsed === undefined) {
        socket.destroy()
        return
      }
      socket.end(rawErrorResponse(CLIENT_ERRORS[err.code ?? ''] ?? 400))
    })
    this.#http1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#upgrade(req, socket as Socket, head),
    )
    this.#http2 = https?.http2 ? this.#http2Server(limits, https) : undefined
    this.#inner = https ? this.#tlsServer(https) : this.#http1
    this.#outer = proxyProtocol ? proxiedServer(this.#inner, proxyProtocol) : this.#inner
    this.#outer.on('connection', (socket: Socket) => {
      this.#connections.add(socket)
      socket.once('close', () => this.#connections.delete(socket))
    })
    this.#outer.maxConnections = limits.maxConnections
  }

  /**
   * While draining, an upgrade asked on a kept-alive connection is refused: it
   * would hold the drain. One that is its connection's first request (accepted
   * just before the drain) is served, as a plain request would be.
   */
  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (this.#draining && this.#served.has(socket)) {
      socket.end(rawErrorResponse(503))
      return
    }
    this.#upgraded.add(socket)
    socket.once('close', () => this.#upgraded.delete(socket))
    // Node's own handler left with its parser: a reset is the end of this connection, and 'close' follows.
    socket.on('error', () => {})
    this.engine.handleUpgrade(req, socket, head)
  }

  #http2Server(limits: HttpLimits, https: HttpsOptions): Http2Server {
    const server = createHttp2Server({
      settings: {
        maxConcurrentStreams: https.maxConcurrentStreams,
        maxHeaderListSize: limits.maxHeaderSize,
      },
      maxSessionInvalidFrames: 100,
      maxSessionRejectedStreams: 100,
    })
    server.on('stream', (stream, headers, _flags, raw) => {
      // A reset stream ends in 'error' as well as 'close'; the exchange acts on 'close'.
      stream.on('error', ignore)
      this.engine.handle(new Http2Request(stream, headers, raw), new Http2Reply(stream))
    })
    server.setTimeout(limits.keepAliveTimeoutMs)
    server.on('session', (session: ServerHttp2Session) => {
      this.#sessions.add(session)
      session.once('close', () => this.#sessions.delete(session))
      // nghttp2 ends a session that resets streams too fast or floods CONTINUATION frames.
      // nghttp2's own words: "Too many CONTINUATION frames following a HEADER frame", ...
      session.on('error', (err: Error) => https.http2SessionErrors.inc({ reason: err.message }))
      if (this.#draining) session.close()
    })
    return server
  }

  #tlsServer(https: HttpsOptions): NetServer {
    const server = createTlsServer(
      tlsServerOptions(https, https.http2 ? ['h2', 'http/1.1'] : ['http/1.1']),
    )
    followCertificates(server, https)
    server.on('secureConnection', (socket: TLSSocket) => {
      claimTls(socket)
      if (socket.alpnProtocol === 'h2' && this.#http2) this.#http2.emit('connection', socket)
      else this.#http1.emit('connection', socket)
    })
    // A failed handshake (wrong version, no shared cipher, a scanner) closes that connection only.
    server.on('tlsClientError', (_err, socket) => socket.destroy())
    return server
  }

  /** Session ticket keys for new tickets (the supervisor rotates them). */
  setTicketKeys(keys: Buffer): void {
    ;(this.#inner as NetServer & { setTicketKeys?: (k: Buffer) => void }).setTicketKeys?.(keys)
  }

  async listen(at: HostPort, sockets: SocketSource, role: ListenRole): Promise<void> {
    this.#port = await sockets.listen(this.#outer, role, at)
  }

  get connections(): number {
    return this.#connections.size
  }

  /** Open connections that are upgrades (counted in `connections` too). */
  get upgraded(): number {
    return this.#upgraded.size
  }

  get port(): number {
    return this.#port
  }

  /**
   * Stops accepting and lets every connection finish: one with a request on it
   * closes after that response (which says Connection: close); an idle one at its
   * keep-alive timeout, which its client was told; an HTTP/2 one gets GOAWAY and
   * closes once its open streams are done. Never under a request on the wire.
   * An upgraded connection (a WebSocket) is let run until `upgradeDeadlineMs`
   * (from the same start; never before `deadlineMs`): it ends when its ends say so.
   * Resolves with the number of connections cut at either deadline.
   */
  async drain(deadlineMs: number, upgradeDeadlineMs = deadlineMs): Promise<number> {
    this.#draining = true
    // The response being written on each connection (Node's own reference to it).
    for (const socket of this.#served) {
      const res = (socket as { _httpMessage?: ServerResponse | null })._httpMessage
      if (res && !res.headersSent) res.shouldKeepAlive = false
    }
    for (const session of this.#sessions) session.close()
    // net.Server's close stops accepting; http's own would also close idle connections under a next request.
    NetServer.prototype.close.call(this.#outer)
    const start = Date.now()
    while (this.#connections.size > this.#upgraded.size && Date.now() < start + deadlineMs)
      await delay(20)
    const carrying = new Set<Socket>()
    for (const socket of this.#upgraded) carrying.add(connectionOf(socket))
    let cut = 0
    for (const socket of this.#connections) {
      if (carrying.has(socket)) continue
      socket.destroy()
      cut++
    }
    const last = start + Math.max(deadlineMs, upgradeDeadlineMs)
    while (this.#upgraded.size > 0 && Date.now() < last) await delay(20)
    cut += this.#upgraded.size
    for (const socket of this.#upgraded) connectionOf(socket).destroy()
    return cut
  }

  close(): Promise<void> {
    this.#http1.closeAllConnections()
    for (const socket of this.#connections) socket.destroy()
    return new Promise((resolve) => this.#outer.close(() => resolve()))
  }
}

/**
 * The accepted connection under `socket`: over TLS, the TCP socket the TLS one
 * wraps (Node keeps it as `_parent`, unlisted in its types); otherwise itself.
 */
function connectionOf(socket: Socket): Socket {
  return (socket as Socket & { _parent?: Socket })._parent ?? socket
}

function ignore(): void {}

// The HTTP/1.1 listener: Node's own server (fastify's routing costs more than
// this proxy can spare; see bench), with limits on header size, request time,
// idle keep-alive and connections. Requests Node's parser refuses get a 400
// (431 for oversized headers, 408 for too slow) and the connection closes.

import { createServer, type Server, type ServerResponse } from 'node:http'
import { Server as NetServer, type Socket } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import type { HostPort } from '../config/units.ts'
import type { HotCount } from '../telemetry/hot-metrics.ts'
import type { HttpEngine } from './engine.ts'
import { rawErrorResponse } from './error-reply.ts'

export interface HttpLimits {
  maxHeaderSize: number
  headersTimeoutMs: number
  requestTimeoutMs: number
  keepAliveTimeoutMs: number
  maxConnections: number
}

const CLIENT_ERRORS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
}

export class HttpListener {
  readonly #server: Server
  /** The engine requests go to; replaced whole on reload. */
  engine: HttpEngine
  readonly #connections = new Set<Socket>()
  /** Responses not yet finished, so a drain can still make them close their connection. */
  readonly #open = new Set<ServerResponse>()
  #draining = false

  constructor(engine: HttpEngine, limits: HttpLimits, malformed: HotCount) {
    this.engine = engine
    this.#server = createServer(
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
        this.#open.add(res)
        res.once('close', () => this.#open.delete(res))
        this.engine.handle(req, res)
      },
    )
    this.#server.on('connection', (socket: Socket) => {
      this.#connections.add(socket)
      socket.once('close', () => this.#connections.delete(socket))
    })
    this.#server.maxConnections = limits.maxConnections
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // A socket error (a reset) comes here too; it is not a malformed request.
      if (err.code?.startsWith('HPE_') || err.code === 'ERR_HTTP_REQUEST_TIMEOUT') malformed.n++
      if (!socket.writable || (err as { bytesParsed?: number }).bytesParsed === undefined) {
        socket.destroy()
        return
      }
      socket.end(rawErrorResponse(CLIENT_ERRORS[err.code ?? ''] ?? 400))
    })
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

  get connections(): number {
    return this.#connections.size
  }

  get port(): number {
    const a = this.#server.address()
    return typeof a === 'object' && a ? a.port : 0
  }

  /**
   * Stops accepting and lets every connection finish: one with a request on it
   * closes after that response (which says Connection: close); an idle one at its
   * keep-alive timeout, which its client was told. Never under a request on the
   * wire. Resolves with the number of connections cut at the deadline.
   */
  async drain(deadlineMs: number): Promise<number> {
    this.#draining = true
    for (const res of this.#open) if (!res.headersSent) res.shouldKeepAlive = false
    // net.Server's close stops accepting; http's own would also close idle connections under a next request.
    NetServer.prototype.close.call(this.#server)
    const deadline = Date.now() + deadlineMs
    while (this.#connections.size > 0 && Date.now() < deadline) await delay(20)
    const cut = this.#connections.size
    for (const socket of this.#connections) socket.destroy()
    return cut
  }

  close(): Promise<void> {
    this.#server.closeAllConnections()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}

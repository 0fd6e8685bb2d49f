// The HTTP/1.1 listener: Node's own server (fastify's routing costs more than
// this proxy can spare; see bench), with limits on header size, request time,
// idle keep-alive and connections. Requests Node's parser refuses get a 400
// (431 for oversized headers, 408 for too slow) and the connection closes.

import { createServer, type Server } from 'node:http'
import type { Socket } from 'node:net'
import type { HostPort } from './config-units.ts'
import type { HotCount } from './hot-metrics.ts'
import type { HttpEngine } from './http-engine.ts'

export interface HttpLimits {
  maxHeaderSize: number
  headersTimeoutMs: number
  requestTimeoutMs: number
  keepAliveTimeoutMs: number
  maxConnections: number
}

const CLIENT_ERRORS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
}

export class HttpListener {
  readonly #server: Server

  constructor(engine: HttpEngine, limits: HttpLimits, malformed: HotCount) {
    this.#server = createServer(
      {
        maxHeaderSize: limits.maxHeaderSize,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        requireHostHeader: true,
        noDelay: true,
      },
      (req, res) => engine.handle(req, res),
    )
    this.#server.maxConnections = limits.maxConnections
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      malformed.n++
      if (!socket.writable || (err as { bytesParsed?: number }).bytesParsed === undefined) {
        socket.destroy()
        return
      }
      const status = CLIENT_ERRORS[err.code ?? ''] ?? '400 Bad Request'
      socket.end(
        `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${status.length - 3}\r\n\r\n${status.slice(4)}\n`,
      )
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

  get port(): number {
    const a = this.#server.address()
    return typeof a === 'object' && a ? a.port : 0
  }

  close(): Promise<void> {
    this.#server.closeAllConnections()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}

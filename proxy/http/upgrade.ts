// Upgrades (WebSocket, or any HTTP/1.1 `Upgrade`): the handshake is a request
// like any other (path, request phases, legacy fallback); once the upstream
// answers 101 the two sockets are spliced both ways, with backpressure. A local
// reply or any other answer goes back as a plain response and the connection closes.

import { type IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { type Duplex, pipeline } from 'node:stream'
import type { CutoverError } from '../../common/cutover-error.ts'
import { forwardUpgradeHeaders } from '../../legacy-adapter/http-headers.ts'
import type {
  HttpUpstream,
  UpgradeHandler,
  UpstreamCall,
} from '../../legacy-adapter/http-upstream.ts'
import type { ExchangeEngine, HttpExchange } from './exchange.ts'
import type { ServerRequest } from './http2-stream.ts'

/**
 * A response on an upgrade request's socket, for what refuses the upgrade (a
 * module's reply, the upstream's non-101 answer, a 502): it says Connection:
 * close, and the socket ends once it is written.
 */
export function upgradeResponse(req: IncomingMessage, socket: Socket): ServerResponse {
  const res = new ServerResponse(req)
  res.shouldKeepAlive = false
  res.assignSocket(socket)
  res.once('finish', () => {
    res.detachSocket(socket)
    socket.destroySoon()
  })
  return res
}

/** Whether `req` came by Node's 'upgrade' event: Node sets its parser's flag on it, though its types omit it. */
export function isUpgrade(req: ServerRequest): req is IncomingMessage {
  return (req as { upgrade?: boolean }).upgrade === true
}

/** The terminal step for an upgrade: the handshake to `upstream`, with `headers` for the next hop. */
export function forwardUpgrade(
  x: HttpExchange,
  req: IncomingMessage,
  upstream: HttpUpstream,
  headers: string[],
  engine: ExchangeEngine,
): UpstreamCall {
  return upstream.upgrade(
    {
      method: x.method,
      target: x.target,
      headers,
      body: null,
      protocol: req.headers.upgrade ?? '',
    },
    // An upgrade comes only by HTTP/1.1's 'upgrade' event, with the response upgradeResponse made.
    new UpgradeRelay(x, x.res as ServerResponse, engine),
  )
}

/** A response other than 101 goes to the exchange, as for any request; a 101 splices the sockets. */
class UpgradeRelay implements UpgradeHandler {
  readonly #x: HttpExchange
  readonly #res: ServerResponse
  readonly #engine: ExchangeEngine

  constructor(x: HttpExchange, res: ServerResponse, engine: ExchangeEngine) {
    this.#x = x
    this.#res = res
    this.#engine = engine
  }

  onHead(status: number, headers: string[]): void {
    this.#x.onHead(status, headers)
  }

  onData(chunk: Buffer): boolean {
    return this.#x.onData(chunk)
  }

  onEnd(): void {
    this.#x.onEnd()
  }

  onError(err: CutoverError): void {
    this.#x.onError(err)
  }

  /** Response phases do not run on a 101: its head is the upstream's, hop-by-hop fields set for this hop. */
  onUpgrade(status: number, headers: string[], upstream: Duplex): void {
    const x = this.#x
    const client = this.#res.socket
    if (client === null || client.destroyed) {
      upstream.destroy()
      return
    }
    // The socket is no longer the response's: its close is not a client leaving mid-response.
    this.#res.detachSocket(client)
    x.headAt = performance.now()
    client.write(switchingHead(status, forwardUpgradeHeaders(headers)))
    splice(client, upstream)
    this.#engine.observe(x.servedBy, x.scope, x.start, status)
    this.#engine.accessLog?.request(x, status)
  }
}

/** The 101 response head, as the client gets it. */
function switchingHead(status: number, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${status} Switching Protocols\r\n`
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`
  return `${head}\r\n`
}

/**
 * Both ways, with backpressure: each side's end is passed on (a half-close),
 * and an error or a close before its end on either side destroys the other.
 */
function splice(client: Duplex, upstream: Duplex): void {
  pipeline(client, upstream, ignore)
  pipeline(upstream, client, ignore)
}

/** A reset on either side is the end of that connection, not a fault of the proxy. */
function ignore(): void {}

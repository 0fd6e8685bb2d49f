// HTTP/2 requests served from Node's stream API, not its (req, res)
// compatibility layer: that layer makes a Readable, a Stream and a dozen
// listeners for every stream, and alone cost 29% of a bare server's throughput
// (bench/tls.ts). What the engine reads of a request and writes of a response is
// small; these two give just that over the stream, with Node's HTTP/1.1
// IncomingMessage and ServerResponse as the other kind of each.

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2'
import type { Readable } from 'node:stream'
import { isField } from '../../common/header-list.ts'
import { clientOf } from '../net/proxy-protocol-intake.ts'

/** A request as the engine reads it: HTTP/1.1's, or an HTTP/2 stream's. */
export type ServerRequest = IncomingMessage | Http2Request

/** A response as the engine writes it: HTTP/1.1's, or an HTTP/2 stream's. */
export type ServerReply = ServerResponse | Http2Reply

/** An HTTP/2 request: its head, as an IncomingMessage names it, and its stream, which carries the body. */
export class Http2Request {
  readonly method: string | undefined
  readonly url: string | undefined
  /** As received: pseudo-header fields first, names lowercase (RFC 9113 section 8.2.1). */
  readonly rawHeaders: string[]
  readonly httpVersionMajor = 2
  readonly httpVersionMinor = 0
  readonly socket: Http2Peer
  readonly stream: ServerHttp2Stream

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[]) {
    this.method = headers[':method']
    this.url = headers[':path']
    this.rawHeaders = raw
    this.stream = stream
    this.socket = peerOf(stream.session as ServerHttp2Session)
  }

  /**
   * Throws the body away. A stream whose HEADERS ended it has none: reading its
   * end would close it under the response still being written, and every
   * write queued then fails with an error made and thrown away (14% of CPU).
   */
  resume(): void {
    if (!this.stream.endAfterHeaders) this.stream.resume()
  }
}

/** What an HTTP/2 request shows of its connection, as the engine reads a socket: the client it speaks for, and TLS. */
export interface Http2Peer {
  readonly remoteAddress: string
  readonly encrypted: boolean
}

const PEER = Symbol('cutover.http2Peer')

/**
 * Worked out once per session: read on every stream, it went through Node's
 * guard Proxy around the session's socket each time (1% of CPU under h2load).
 */
function peerOf(session: ServerHttp2Session & { [PEER]?: Http2Peer }): Http2Peer {
  session[PEER] ??= {
    remoteAddress: clientOf(session.socket),
    encrypted: (session.socket as { encrypted?: boolean }).encrypted === true,
  }
  return session[PEER]
}

/** An HTTP/2 response: the head as one HEADERS frame, the body as DATA on the same stream. */
export class Http2Reply {
  readonly #stream: ServerHttp2Stream
  /**
   * Asked false to close the connection after a response (a malformed request,
   * a shed one with a body); an HTTP/2 connection carries other streams, so it
   * is ended only by GOAWAY (a drain) or its client.
   */
  shouldKeepAlive = true

  constructor(stream: ServerHttp2Stream) {
    this.#stream = stream
  }

  get headersSent(): boolean {
    return this.#stream.headersSent
  }

  /** `headers` is a flat name, value list, as the engine keeps them; connection-specific fields are left off (RFC 9113 section 8.2.2). */
  writeHead(status: number, headers: readonly string[]): void {
    const head = [':status', String(status)]
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]
      if (!isConnectionSpecific(name)) head.push(name, headers[i + 1])
    }
    this.#stream.respond(head)
  }

  /**
   * Whether to go on writing: false asks for 'drain'. A HEAD response's body is
   * not sent: Node ends its stream with the head.
   */
  write(chunk: Buffer): boolean {
    return this.#stream.writableEnded || this.#stream.write(chunk)
  }

  end(body?: Buffer | string): void {
    if (!this.#stream.writableEnded) this.#stream.end(body)
  }

  once(event: 'drain' | 'close', listener: () => void): void {
    this.#stream.once(event, listener)
  }

  on(event: 'close', listener: () => void): void {
    this.#stream.on(event, listener)
  }

  /**
   * Resets the stream with INTERNAL_ERROR, as nginx does when its upstream
   * fails mid-body: destroyed with no error, or closed with a code while a
   * write is queued, it would say NO_ERROR, as if the response were whole.
   */
  destroy(): void {
    this.#stream.destroy(new Error('the response could not be finished'))
  }
}

/** What carries a request's body: the IncomingMessage itself, or the HTTP/2 stream. */
export function bodyOf(req: ServerRequest): Readable {
  return req instanceof Http2Request ? req.stream : req
}

/** Fields Node refuses in an HTTP/2 head (TE is allowed only as "trailers", which means nothing in a response). */
const CONNECTION_SPECIFIC = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'te',
]
function isConnectionSpecific(name: string): boolean {
  for (const field of CONNECTION_SPECIFIC) if (isField(name, field)) return true
  return false
}

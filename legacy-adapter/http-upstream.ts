// The one file that knows undici: a keep-alive connection pool to an HTTP
// upstream (the legacy proxy or a site's origin), requests dispatched with
// streaming both ways and backpressure, failures turned into coded errors
// (connection refused: unreachable; connect or header timeout: timeout).

import type { Readable } from 'node:stream'
import { type Dispatcher, Pool } from 'undici'
import { CutoverError } from '../common/cutover-error.ts'

export interface UpstreamOptions {
  /** e.g. `http://127.0.0.1:8081` */
  url: string
  connections: number
  connectTimeoutMs: number
  /** From sending the request to the response head. */
  headersTimeoutMs: number
  /** Longest silence between two body chunks. */
  bodyTimeoutMs: number
  keepAliveTimeoutMs: number
}

export interface UpstreamRequest {
  method: string
  /** Path and query, as sent by the client. */
  target: string
  /** Flat name/value list, ready for the next hop. */
  headers: string[]
  /** The request body stream, or null when the request has none. */
  body: Readable | null
}

/** Receives the response; called in order: head, data*, end | error. */
export interface UpstreamHandler {
  onHead(status: number, headers: string[]): void
  /** Returns false to pause the upstream until `resume()`. */
  onData(chunk: Buffer): boolean
  onEnd(): void
  /** The request failed: before the head (send a 502/504) or after it (cut the client off). */
  onError(err: CutoverError): void
}

export interface UpstreamCall {
  abort(): void
  resume(): void
}

export class HttpUpstream {
  readonly #pool: Pool
  readonly #url: string

  constructor(options: UpstreamOptions) {
    this.#url = options.url
    this.#pool = new Pool(options.url, {
      connections: options.connections,
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
    })
  }

  request(req: UpstreamRequest, handler: UpstreamHandler): UpstreamCall {
    const call = new Call(handler, this.#url)
    this.#pool.dispatch(
      {
        path: req.target,
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers,
        body: req.body,
        upgrade: null,
      },
      call,
    )
    return call
  }

  close(): Promise<void> {
    return this.#pool.close()
  }
}

/** The undici handler for one request; the UpstreamCall its caller holds. */
class Call implements Dispatcher.DispatchHandler, UpstreamCall {
  readonly #handler: UpstreamHandler
  readonly #url: string
  #controller: Dispatcher.DispatchController | undefined
  #aborted = false
  #headSent = false

  constructor(handler: UpstreamHandler, url: string) {
    this.#handler = handler
    this.#url = url
  }

  abort(): void {
    this.#aborted = true
    this.#controller?.abort(new CutoverError('CLIENT_GONE', 'the client went away'))
  }

  resume(): void {
    this.#controller?.resume()
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#aborted) controller.abort(new CutoverError('CLIENT_GONE', 'the client went away'))
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number): void {
    // Interim responses (100 Continue, 103) are this hop's business.
    if (status < 200) return
    const raw = controller.rawHeaders as Buffer[]
    const headers: string[] = new Array(raw.length)
    for (let i = 0; i < raw.length; i++) headers[i] = raw[i].toString('latin1')
    this.#headSent = true
    this.#handler.onHead(status, headers)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#handler.onData(chunk)) controller.pause()
  }

  onResponseEnd(): void {
    this.#handler.onEnd()
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.#aborted) return
    this.#handler.onError(upstreamError(err, this.#url, this.#headSent))
  }
}

function upstreamError(err: Error, url: string, afterHead: boolean): CutoverError {
  // Ours already (the request body went over its limit): it says whose fault it is.
  if (err instanceof CutoverError) return err
  const code = (err as { code?: string }).code ?? ''
  const where = afterHead ? 'while sending the body' : 'before the response head'
  if (
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return new CutoverError('UPSTREAM_TIMEOUT', `${url} timed out ${where} (${code})`, {
      cause: err,
    })
  }
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'EHOSTUNREACH' ||
    code === 'ECONNRESET' ||
    code === 'UND_ERR_SOCKET'
  ) {
    return new CutoverError('UPSTREAM_UNREACHABLE', `${url} unreachable ${where} (${code})`, {
      cause: err,
    })
  }
  return new CutoverError('UPSTREAM_BAD_REPLY', `${url} failed ${where}: ${err.message}`, {
    cause: err,
  })
}

// The one file that knows undici: a keep-alive connection pool to an HTTP
// upstream (the legacy proxy or a site's origin), over https:// with its own
// TLS name, requests dispatched with streaming both ways and backpressure,
// failures turned into coded errors (connection refused: unreachable; connect
// or header timeout: timeout; a certificate not trusted: tls); and upgrades,
// whose 101 hands over the connection's socket.

import { isIP } from 'node:net'
import type { Duplex, Readable } from 'node:stream'
import { buildConnector, type Dispatcher, Pool } from 'undici'
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
  /** For an https:// upstream: how its certificate is checked, and cutover's own (mutual TLS). */
  tls?: UpstreamTlsOptions
  /** Speak HTTP/2 to it (ALPN h2); otherwise HTTP/1.1. */
  http2?: boolean
}

export interface UpstreamTlsOptions {
  /** SNI and the name its certificate must hold (default: the URL's host). */
  servername?: string
  /** PEM CA certificates to trust instead of the system's. */
  ca?: string
  /** false only when the config says `insecure: true`. */
  rejectUnauthorized: boolean
  /** PEM client certificate and key. */
  cert?: string
  key?: string
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

/** An upgrade's handshake: a request, and the protocol it asks to switch to (its Upgrade field). */
export interface UpstreamUpgrade extends UpstreamRequest {
  protocol: string
}

/** Receives an upgrade's answer: a 101 with its socket, or any other response as for a request. */
export interface UpgradeHandler extends UpstreamHandler {
  /** The upstream switched protocols; `socket` now carries them both ways, anything sent after the 101 unread on it. */
  onUpgrade(status: number, headers: string[], socket: Duplex): void
}

export interface UpstreamCall {
  abort(): void
  resume(): void
}

export class HttpUpstream {
  readonly #pool: Pool
  readonly #url: string
  readonly #servername: string

  constructor(options: UpstreamOptions) {
    this.#url = options.url
    // undici names the TLS server after each request's Host field, and closes
    // the connection whenever that name changes. A proxy's upstream has one
    // name: every request carries the same one (the connector sends the real
    // SNI), so connections are kept across hosts and the client's Host never
    // decides which certificate is accepted.
    this.#servername = new URL(options.url).host
    const sni = tlsName(options)
    const connect = buildConnector({
      timeout: options.connectTimeoutMs,
      allowH2: options.http2 === true,
      ...options.tls,
    })
    this.#pool = new Pool(options.url, {
      connections: options.connections,
      connect: (opts, callback) => connect({ ...opts, servername: sni }, callback),
      allowH2: options.http2 === true,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
    })
  }

  request(req: UpstreamRequest, handler: UpstreamHandler): UpstreamCall {
    return this.#dispatch(req, null, handler)
  }

  /**
   * Sends `req` as an upgrade: undici writes Connection: upgrade and its
   * Upgrade itself (and refuses them in `req.headers`); the connection leaves
   * the pool once switched. Failures before the head come as for a request.
   */
  upgrade(req: UpstreamUpgrade, handler: UpgradeHandler): UpstreamCall {
    return this.#dispatch(req, req.protocol, handler)
  }

  #dispatch(req: UpstreamRequest, upgrade: string | null, handler: Handler): UpstreamCall {
    const call = new Call(handler, this.#url)
    // `servername` is read by undici's Request, though its types omit it.
    const dispatch: Dispatcher.DispatchOptions & { servername: string } = {
      path: req.target,
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers,
      body: req.body,
      upgrade,
      servername: this.#servername,
    }
    this.#pool.dispatch(dispatch, call as unknown as Dispatcher.DispatchHandler)
    return call
  }

  close(): Promise<void> {
    return this.#pool.close()
  }
}

/**
 * The name sent as SNI and checked against the upstream's certificate: the
 * configured one, else the URL's host; none for an IP address (RFC 6066 has
 * no SNI for one), whose certificate is then checked for that address.
 */
function tlsName(options: UpstreamOptions): string | undefined {
  if (options.tls?.servername) return options.tls.servername
  const host = new URL(options.url).hostname
  // URL writes an IPv6 address in brackets, which isIP does not take.
  return isIP(host) || host.startsWith('[') ? undefined : host
}

/** A request's handler, or an upgrade's. */
type Handler = UpstreamHandler & Partial<Pick<UpgradeHandler, 'onUpgrade'>>

/** undici's raw header list as strings. */
function headerStrings(raw: Buffer[]): string[] {
  const headers: string[] = new Array(raw.length)
  for (let i = 0; i < raw.length; i++) headers[i] = raw[i].toString('latin1')
  return headers
}

/**
 * The undici handler for one request; the UpstreamCall its caller holds. It
 * speaks the handler interface undici's core calls (onConnect, onHeaders,
 * onData, onComplete, onError): one with the newer onRequestStart... methods is
 * wrapped in an adapter that also parses every response head into an object,
 * a cost per request for a proxy that sends the raw fields on.
 */
class Call implements UpstreamCall {
  readonly #handler: Handler
  readonly #url: string
  #abort: ((reason: Error) => void) | undefined
  #resume: (() => void) | undefined
  #aborted = false
  #headSent = false

  constructor(handler: Handler, url: string) {
    this.#handler = handler
    this.#url = url
  }

  abort(): void {
    this.#aborted = true
    this.#abort?.(new CutoverError('CLIENT_GONE', 'the client went away'))
  }

  resume(): void {
    this.#resume?.()
  }

  onConnect(abort: (reason: Error) => void): void {
    this.#abort = abort
    if (this.#aborted) abort(new CutoverError('CLIENT_GONE', 'the client went away'))
  }

  /** False pauses the body until `resume()`. */
  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    // Interim responses (100 Continue, 103) are this hop's business.
    if (status < 200) return true
    this.#headSent = true
    this.#resume = resume
    this.#handler.onHead(status, headerStrings(raw))
    return true
  }

  onUpgrade(status: number, raw: Buffer[], socket: Duplex): void {
    this.#headSent = true
    this.#handler.onUpgrade?.(status, headerStrings(raw), socket)
  }

  onData(chunk: Buffer): boolean {
    return this.#handler.onData(chunk)
  }

  onComplete(): void {
    this.#handler.onEnd()
  }

  onError(err: Error): void {
    if (this.#aborted) return
    this.#handler.onError(upstreamError(err, this.#url, this.#headSent))
  }
}

const UNTRUSTED =
  "its certificate is not signed by a CA cutover trusts: give that CA's certificate (PEM) as tls.ca"
const WRONG_NAME =
  "its certificate does not hold the name cutover checks: set tls.servername to a name it holds (without one, the URL's host is checked, an IP address too)"
const OUT_OF_DATE =
  "its certificate is outside its validity dates: renew it on the upstream, or check this machine's clock"
const REFUSED = 'its certificate is not valid: replace it on the upstream'

/** OpenSSL's verification failures (as Node names them), and what fixes each. */
const TLS_FIXES = new Map([
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', UNTRUSTED],
  ['UNABLE_TO_GET_ISSUER_CERT', UNTRUSTED],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', UNTRUSTED],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', UNTRUSTED],
  ['SELF_SIGNED_CERT_IN_CHAIN', UNTRUSTED],
  ['CERT_UNTRUSTED', UNTRUSTED],
  ['ERR_TLS_CERT_ALTNAME_INVALID', WRONG_NAME],
  ['HOSTNAME_MISMATCH', WRONG_NAME],
  ['CERT_HAS_EXPIRED', OUT_OF_DATE],
  ['CERT_NOT_YET_VALID', OUT_OF_DATE],
  ['CERT_REVOKED', REFUSED],
  ['CERT_SIGNATURE_FAILURE', REFUSED],
])

/** For the other TLS errors (ERR_SSL_*, ERR_TLS_*): the handshake itself failed. */
const HANDSHAKE_FAILED =
  "the handshake failed: check that the upstream speaks TLS on that port, and that it accepts cutover's client certificate (tls.cert, tls.key) if it asks for one"

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
  const fix =
    TLS_FIXES.get(code) ??
    (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') ? HANDSHAKE_FAILED : undefined)
  if (fix) {
    return new CutoverError(
      'UPSTREAM_TLS',
      `${url}: TLS with the upstream failed ${where}: ${err.message} (${code}); ${fix}`,
      { cause: err },
    )
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

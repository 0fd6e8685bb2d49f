// One HTTP request from its decision to its last byte: the per-request context,
// as Pingora keeps one. Modules see it as their HttpContext (the request, a
// local reply, their state slots); the upstream streams its response into it;
// it writes the response head (with the decision trace, kept as data and
// rendered once, there, when asked for) and counts the request when it ends.

import type { CutoverError } from '../../common/cutover-error.ts'
import { headerGet } from '../../common/header-list.ts'
import { forwardResponseHeaders } from '../../legacy-adapter/http-headers.ts'
import type { UpstreamCall, UpstreamHandler } from '../../legacy-adapter/http-upstream.ts'
import type {
  BodyTap,
  HttpContext,
  HttpRequest,
  HttpResponse,
  HttpSiteModule,
  LocalReply,
} from '../../modules/http-module.ts'
import { HTTP_TRACE, traceText } from '../../rollout/control.ts'
import type { Scope } from '../../rollout/scope.ts'
import type { ClientAddress } from '../net/forwarded-client.ts'
import type { ShadowCapture } from '../shadow/http-shadow.ts'
import type { HttpAccessLog } from '../telemetry/access-log.ts'
import type { PathLabel } from '../telemetry/metrics.ts'
import { sendError, statusOf } from './error-reply.ts'
import type { ServerReply, ServerRequest } from './http2-stream.ts'
import type { Target } from './target.ts'

/** A site's modules in chain order, each with its name. */
export type SiteModules = readonly { name: string; phases: HttpSiteModule }[]

/** What an exchange reports to the engine that made it. */
export interface ExchangeEngine {
  /** Counts a finished request: metrics, and the scope's counters the plan gates read. */
  observe(path: PathLabel, scope: Scope, start: number, status: number): void
  upstreamFailed(err: CutoverError, path: PathLabel, upstreamMs: number): void
  /** Response phases of `modules[0..end)`, last first; one that throws is logged and skipped. */
  responsePhases(modules: SiteModules, end: number, ctx: HttpContext, response: HttpResponse): void
  /** log.access, which writes a line for a sampled share of finished requests. */
  readonly accessLog: HttpAccessLog | undefined
}

/** The decision trace a holder of the admin token asked for; the path and reason come at the end. */
export interface TraceRequest {
  bucket: number
  forced: boolean
}

const NO_MODULES: SiteModules = []

export class HttpExchange implements HttpContext, HttpRequest, UpstreamHandler {
  // HttpRequest, as the modules see it.
  readonly method: string
  readonly host: string
  readonly path: string
  readonly target: string
  readonly query: string
  /** Received headers, then the modules' copy to change and send on (new path, everywhere rules). */
  headers: string[]
  readonly clientIp: string
  /** The client and the peer this hop heard it from (they differ behind a trusted proxy). */
  readonly client: ClientAddress
  readonly protocol = 'http' as const
  // HttpContext.
  reply: LocalReply | undefined = undefined
  readonly slots: unknown[] = []

  readonly req: ServerRequest
  readonly res: ServerReply
  readonly scope: Scope
  /** The headers as received (control headers taken off, Host from an absolute target): what the legacy gets, but for everywhere rules' edits. */
  readonly received: readonly string[]
  /** Which path serves it: new, legacy, or fallback once the new path handed it over. */
  servedBy: PathLabel = 'legacy'
  /** Why the new path handed it over, for a fallback. */
  reason: string | undefined = undefined
  readonly trace: TraceRequest | undefined
  /** Collects the response for a live shadow comparison, when this request was sampled. */
  capture: ShadowCapture | undefined = undefined
  /** The chain it runs through (the new path's, or the everywhere rules' in front of the legacy), and how many of them it passed. */
  modules: SiteModules = NO_MODULES
  passed = 0
  /** The site's rules marked `everywhere: true`, which run in front of the legacy too. */
  everywhere: SiteModules = NO_MODULES
  /** When it arrived, when its upstream was asked and when its head came (performance.now() ms). */
  readonly start: number
  upstreamAt = 0
  headAt = 0
  /** Body bytes sent to the client, for the access log. */
  bytes = 0
  call: UpstreamCall | undefined = undefined
  readonly #engine: ExchangeEngine
  #taps: BodyTap[] = []
  #status = 0
  #done = false
  /** A response phase supplied the body: the upstream's is not needed. */
  #replaced = false

  constructor(
    engine: ExchangeEngine,
    req: ServerRequest,
    res: ServerReply,
    target: Target,
    received: string[],
    scope: Scope,
    trace: TraceRequest | undefined,
    start: number,
    client: ClientAddress,
  ) {
    this.#engine = engine
    this.req = req
    this.res = res
    this.method = req.method ?? 'GET'
    this.host = target.host
    this.path = target.path
    this.target = req.url ?? '/'
    this.query = target.query
    this.clientIp = client.ip
    this.client = client
    this.headers = received
    this.received = received
    this.scope = scope
    this.trace = trace
    this.start = start
  }

  get request(): HttpRequest {
    return this
  }

  /** The new path takes it: the modules, when there are some, get their own copy of the headers to change. */
  enterNewPath(modules: SiteModules): void {
    this.servedBy = 'new'
    this.modules = modules
    this.passed = modules.length
    if (modules.length > 0) this.headers = this.received.slice()
  }

  /** The new path hands it to the legacy: the headers as received, and none of its response phases. */
  leaveNewPath(reason: string): void {
    this.reason = reason
    this.modules = NO_MODULES
    this.passed = 0
    this.headers = this.received.slice()
  }

  /** In front of the legacy: the everywhere rules get their own copy of the headers as received to change. */
  enterEverywhere(): void {
    this.modules = this.everywhere
    this.passed = this.everywhere.length
    this.headers = this.received.slice()
  }

  /** A module answered itself: response phases of those before it, then the reply. */
  answerLocally(): void {
    const reply = this.reply!
    const response: HttpResponse = {
      status: reply.status,
      headers: reply.headers,
      source: 'local',
      body: reply.body,
      taps: this.#taps,
    }
    this.#engine.responsePhases(this.modules, this.passed, this, response)
    // Written before the body is let go: a head Node refuses throws here, with
    // the request still whole for the legacy.
    this.#writeWhole(response)
    this.req.resume()
    this.capture?.chunk(response.body ?? EMPTY)
    this.#finish()
  }

  onHead(status: number, raw: string[]): void {
    this.headAt = performance.now()
    this.#status = status
    const response: HttpResponse = {
      status,
      headers: forwardResponseHeaders(raw),
      source: 'origin',
      body: undefined,
      taps: this.#taps,
    }
    if (this.modules.length > 0)
      this.#engine.responsePhases(this.modules, this.passed, this, response)
    if (response.body !== undefined) {
      this.#replaced = true
      this.call?.abort()
      this.#writeWhole(response)
      this.capture?.chunk(response.body)
      this.#finish()
      return
    }
    this.#status = response.status
    this.res.writeHead(response.status, this.#traced(response.headers))
    this.#captureHead(response)
  }

  onData(chunk: Buffer): boolean {
    if (this.#replaced) return true
    this.bytes += chunk.length
    for (const tap of this.#taps) tap.chunk(chunk)
    if (this.res.write(chunk)) return true
    this.res.once('drain', () => this.call?.resume())
    return false
  }

  onEnd(): void {
    if (this.#replaced) return
    this.res.end()
    this.#finish()
  }

  onError(err: CutoverError): void {
    if (this.#done) return
    this.#done = true
    for (const tap of this.#taps) tap.abort()
    if (err.code === 'CUTOVER_ERR_CLIENT_GONE') {
      this.#engine.accessLog?.request(this, CLIENT_CLOSED)
      return
    }
    const status = statusOf(err)
    if (err.source === 'upstream')
      this.#engine.upstreamFailed(err, this.servedBy, performance.now() - this.upstreamAt)
    if (this.res.headersSent) {
      this.res.destroy()
    } else {
      this.res.shouldKeepAlive = status !== 413
      sendError(this.res, status, undefined, this.#traced([]))
    }
    this.#engine.observe(this.servedBy, this.scope, this.start, status)
    this.#engine.accessLog?.request(this, status)
  }

  /** The client connection closed: if the response was not finished, stop the upstream. */
  clientClosed(): void {
    if (this.#done) return
    this.#done = true
    this.call?.abort()
    for (const tap of this.#taps) tap.abort()
    this.#engine.accessLog?.request(this, CLIENT_CLOSED)
  }

  /** Writes a response whose whole body is known, with its length. */
  #writeWhole(response: HttpResponse): void {
    const body = response.body ?? EMPTY
    const headers = response.headers
    if (
      headerGet(headers, 'content-length') === undefined &&
      response.status !== 204 &&
      response.status !== 304
    ) {
      headers.push('content-length', String(body.length))
    }
    this.res.writeHead(response.status, this.#traced(headers))
    this.#status = response.status
    this.#captureHead(response)
    this.bytes = body.length
    this.res.end(body)
  }

  #captureHead(response: HttpResponse): void {
    const capture = this.capture
    if (capture === undefined) return
    capture.head(response.status, response.headers)
    this.#taps.push(capture)
  }

  /** `headers` with the decision trace added (a copy), when it was asked for: rendered here, once. */
  #traced(headers: string[]): string[] {
    if (this.trace === undefined) return headers
    const { scope, trace } = this
    return [
      ...headers,
      HTTP_TRACE,
      traceText(
        scope.id,
        trace.bucket,
        scope.basisPoints,
        this.servedBy,
        trace.forced,
        this.reason,
      ),
    ]
  }

  #finish(): void {
    if (this.#done) return
    this.#done = true
    for (const tap of this.#taps) tap.end()
    this.#engine.observe(this.servedBy, this.scope, this.start, this.#status)
    this.#engine.accessLog?.request(this, this.#status)
  }
}

const EMPTY = Buffer.alloc(0)
/** What the access log says for a request whose client left before its response ended (nginx's 499). */
const CLIENT_CLOSED = 499

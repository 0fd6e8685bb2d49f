// The per-request flow for HTTP: framing checks Node's parser leaves to us, the
// site by Host, then either the new path (the site's modules in chain order,
// then its origin) or the legacy upstream, untouched. Errors become a 400, 413,
// 502 or 504 here and nowhere else.

import type { IncomingMessage, ServerResponse } from 'node:http'
import { Transform, type TransformCallback } from 'node:stream'
import { CutoverError } from '../../common/cutover-error.ts'
import { headerGet } from '../../common/header-list.ts'
import { forwardRequestHeaders, forwardResponseHeaders } from '../../legacy-adapter/http-headers.ts'
import type {
  HttpUpstream,
  UpstreamCall,
  UpstreamHandler,
} from '../../legacy-adapter/http-upstream.ts'
import type {
  BodyTap,
  HttpContext,
  HttpResponse,
  HttpSiteModule,
} from '../../modules/http-module.ts'
import { legacy, type Verdict } from '../../modules/verdict.ts'
import { BUCKETS, bucketOf } from '../../rollout/bucket.ts'
import { HTTP_AUTH, HTTP_FORCE, HTTP_TRACE, httpControl, traceText } from '../../rollout/control.ts'
import { type HttpRouter, scopeForPath } from '../../rollout/http-router.ts'
import { recordLatency } from '../../rollout/latency.ts'
import { choosePath, type Scope } from '../../rollout/scope.ts'
import { httpKeyHash } from '../../rollout/stickiness.ts'
import { type HttpShadow, SHADOW_HEADER, type ShadowCapture } from '../shadow/http-shadow.ts'
import type { Recorder } from '../shadow/traffic-recorder.ts'
import type { HotCount, HotObserver } from '../telemetry/hot-metrics.ts'
import type { Logger } from '../telemetry/log.ts'
import type { Metrics, PathLabel } from '../telemetry/metrics.ts'
import { parseTarget } from './target.ts'

/** A site on the new path: its modules (those with rules for it) and its origin. */
export interface HttpSite {
  modules: readonly { name: string; phases: HttpSiteModule }[]
  origin: HttpUpstream
}

export interface HttpEngineParts {
  router: HttpRouter<HttpSite>
  legacy: HttpUpstream
  metrics: Metrics
  log: Logger
  maxBodySize: number
  moduleBudgetMs: number
  /** The admin token, for forced paths and traces. */
  token: string
  /** Live shadow comparison, when configured. */
  shadow: HttpShadow | undefined
  /** Samples live requests into a suite, when configured. */
  recorder: Recorder | undefined
  /** Requests for this path go to DNS over HTTPS instead of a site. */
  dohPath: string | undefined
  doh: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
}

const MODULE_ERROR = legacy('module-error')
const MODULE_BUDGET = legacy('module-budget')

interface PathMetrics {
  requests: HotCount
  duration: HotObserver
}

export class HttpEngine {
  readonly #parts: HttpEngineParts
  readonly #byPath: Record<PathLabel, PathMetrics>
  readonly #malformed: HotCount
  readonly #fallbacks = new Map<string, HotCount>()
  #lastErrorLog = 0

  constructor(parts: HttpEngineParts) {
    this.#parts = parts
    const bind = (path: PathLabel): PathMetrics => ({
      requests: parts.metrics.requests.child({ protocol: 'http', path }),
      duration: parts.metrics.duration.child({ protocol: 'http', path }),
    })
    this.#byPath = { new: bind('new'), legacy: bind('legacy'), fallback: bind('fallback') }
    this.#malformed = parts.metrics.malformed.child({ protocol: 'http' })
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const start = performance.now()
    const raw = req.rawHeaders
    const framing = framingError(req, raw, this.#parts.maxBodySize)
    if (framing !== undefined) {
      this.#malformed.n++
      res.shouldKeepAlive = false
      sendError(res, framing.status, framing.message)
      return
    }
    const t = parseTarget(req.url ?? '/', headerGet(raw, 'host'))
    if (typeof t === 'string') {
      this.#malformed.n++
      res.shouldKeepAlive = false
      sendError(res, 400, `Bad Request: ${t}`)
      return
    }
    if (t.path === this.#parts.dohPath && this.#parts.doh) {
      this.#parts.doh(req, res)
      return
    }
    // An absolute-form target names the host; the Host field is replaced with it (RFC 9112 section 3.2.2).
    let headers = t.authority === undefined ? raw : withHost(raw, t.authority)
    const route = this.#parts.router(t.host)
    const scope = scopeForPath(route, t.path)
    const clientIp = req.socket.remoteAddress ?? ''
    let path = choosePath(scope, httpKeyHash, t.host, headers, clientIp)
    const auth = headerGet(headers, HTTP_AUTH)
    if (auth !== undefined) {
      const method = req.method ?? 'GET'
      const control = httpControl(
        this.#parts.token,
        Math.floor(Date.now() / 1000),
        method,
        t.host,
        req.url ?? '/',
        headerGet(headers, HTTP_FORCE),
        headerGet(headers, HTTP_TRACE),
        auth,
      )
      // The proof is for this hop only.
      headers = withoutControlHeaders(headers)
      if (control?.force) path = control.force
      if (control?.trace) {
        const bucket = bucketOf(httpKeyHash(scope, t.host, headers, clientIp))
        res.setHeader(
          HTTP_TRACE,
          traceText(
            scope.id,
            bucket,
            scope.basisPoints,
            path,
            control.force !== undefined,
            undefined,
          ),
        )
      }
    }
    const method = req.method ?? 'GET'
    this.#parts.recorder?.http(method, t.host, req.url ?? '/', headers)
    const flow: Flow = { req, res, target: t.forward, headers, scope, start, capture: undefined }
    if (
      scope.shadowBasisPoints > 0 &&
      this.#parts.shadow &&
      Math.random() * BUCKETS < scope.shadowBasisPoints &&
      headerGet(raw, SHADOW_HEADER) === undefined
    ) {
      flow.capture = this.#parts.shadow.capture(
        scope,
        { method, host: t.host, target: req.url ?? '/', headers },
        route.site !== undefined && path === 'new' ? 'new' : 'legacy',
      )
    }
    if (route.site !== undefined && path === 'new') {
      const ctx: HttpContext = {
        request: {
          method,
          host: t.host,
          path: t.path,
          query: t.query,
          headers: headers.slice(),
          clientIp,
          protocol: 'http',
        },
        reply: undefined,
      }
      void this.#runNew(route.site, ctx, flow)
      return
    }
    this.#forward(this.#parts.legacy, flow, 'legacy', flow.headers, undefined, undefined)
  }

  async #runNew(site: HttpSite, ctx: HttpContext, flow: Flow): Promise<void> {
    const { req, res, scope, start } = flow
    const modules = site.modules
    let answeredBy = modules.length
    let verdict: Verdict | undefined
    try {
      for (let i = 0; i < modules.length; i++) {
        const phase = modules[i].phases.request
        if (phase === undefined) continue
        let v = phase(ctx)
        if (v instanceof Promise) v = await this.#withinBudget(v)
        if (v.kind === 'next') continue
        verdict = v
        answeredBy = i
        break
      }
    } catch (err) {
      this.#logError(err)
      verdict = MODULE_ERROR
    }
    if (verdict?.kind === 'legacy') {
      this.#fallback(verdict.reason).n++
      const trace = res.getHeader(HTTP_TRACE)
      if (typeof trace === 'string')
        res.setHeader(
          HTTP_TRACE,
          trace.replace(/path=new(.*)reason=-$/, `path=fallback$1reason=${verdict.reason}`),
        )
      scope.stats.fallbacks++
      if (verdict === MODULE_ERROR) scope.stats.newErrors++
      this.#forward(this.#parts.legacy, flow, 'fallback', flow.headers, undefined, undefined)
      return
    }
    if (verdict?.kind === 'answer' && ctx.reply !== undefined) {
      const reply = ctx.reply
      const response: HttpResponse = {
        status: reply.status,
        headers: reply.headers,
        source: 'local',
        body: reply.body,
        taps: [],
      }
      this.#responsePhases(modules, answeredBy, ctx, response)
      req.resume()
      writeLocal(res, response)
      for (const tap of response.taps) tap.end()
      if (flow.capture) {
        flow.capture.head(response.status, response.headers)
        if (response.body) flow.capture.chunk(response.body)
        flow.capture.end()
      }
      this.observe('new', scope, start, response.status)
      return
    }
    this.#forward(site.origin, flow, 'new', ctx.request.headers, ctx, modules)
  }

  #withinBudget(p: Promise<Verdict>): Promise<Verdict> {
    let timer: NodeJS.Timeout | undefined
    const budget = new Promise<Verdict>((resolve) => {
      timer = setTimeout(() => resolve(MODULE_BUDGET), this.#parts.moduleBudgetMs)
    })
    return Promise.race([p, budget]).finally(() => clearTimeout(timer))
  }

  /** Response phases of the modules before `end`, last first; one that throws is logged and skipped. */
  #responsePhases(
    modules: HttpSite['modules'],
    end: number,
    ctx: HttpContext,
    response: HttpResponse,
  ): void {
    for (let i = end - 1; i >= 0; i--) {
      const phase = modules[i].phases.response
      if (phase === undefined) continue
      try {
        phase(ctx, response)
      } catch (err) {
        this.#logError(err)
      }
    }
  }

  /** Sends the request on: to an origin (`ctx` and `modules` set: the new path) or to the legacy. */
  #forward(
    upstream: HttpUpstream,
    flow: Flow,
    path: PathLabel,
    headers: readonly string[],
    ctx: HttpContext | undefined,
    modules: HttpSite['modules'] | undefined,
  ): void {
    const { req, res } = flow
    const exchange = new Exchange(this, flow, path, ctx, modules)
    const hasBody =
      req.headers['content-length'] !== undefined
        ? req.headers['content-length'] !== '0'
        : req.headers['transfer-encoding'] !== undefined
    const body = !hasBody
      ? null
      : req.headers['content-length'] !== undefined
        ? req
        : req.pipe(new BodyLimit(this.#parts.maxBodySize))
    exchange.call = upstream.request(
      {
        method: req.method ?? 'GET',
        target: flow.target,
        headers: forwardRequestHeaders(headers, req.socket.remoteAddress ?? '', 'http'),
        body,
      },
      exchange,
    )
    res.once('close', () => exchange.clientClosed())
  }

  runResponsePhases(ctx: HttpContext, modules: HttpSite['modules'], response: HttpResponse): void {
    this.#responsePhases(modules, modules.length, ctx, response)
  }

  /** Counts a finished request: instance metrics, and the scope's counters the plan gates read. */
  observe(path: PathLabel, scope: Scope, start: number, status: number): void {
    const m = this.#byPath[path]
    const seconds = (performance.now() - start) / 1000
    m.requests.n++
    m.duration.observe(seconds)
    const stats = scope.stats
    if (path === 'new') {
      stats.newRequests++
      if (status >= 500) stats.newErrors++
      recordLatency(stats.newLatency, seconds)
    } else if (path === 'legacy') {
      stats.legacyRequests++
      recordLatency(stats.legacyLatency, seconds)
    }
  }

  upstreamFailed(err: CutoverError): void {
    this.#parts.metrics.legacyFailures.inc({
      protocol: 'http',
      failure: err.code === 'CUTOVER_ERR_UPSTREAM_TIMEOUT' ? 'timeout' : 'unreachable',
    })
    this.#parts.log.warn({ err: err.message }, 'HTTP upstream failed')
  }

  #fallback(reason: string): HotCount {
    let count = this.#fallbacks.get(reason)
    if (count === undefined) {
      count = this.#parts.metrics.fallbacks.child({ protocol: 'http', reason })
      this.#fallbacks.set(reason, count)
    }
    return count
  }

  #logError(err: unknown): void {
    const now = performance.now()
    if (now - this.#lastErrorLog < 1000) return
    this.#lastErrorLog = now
    this.#parts.log.error({ err }, 'HTTP module threw; the request falls back to the legacy path')
  }
}

/** One forwarded request: relays the upstream response to the client with backpressure. */
class Exchange implements UpstreamHandler {
  call: UpstreamCall | undefined
  readonly #engine: HttpEngine
  readonly #res: ServerResponse
  readonly #flow: Flow
  readonly #path: PathLabel
  readonly #ctx: HttpContext | undefined
  readonly #modules: HttpSite['modules'] | undefined
  #taps: BodyTap[] = []
  #status = 0
  #done = false
  #replaced = false

  constructor(
    engine: HttpEngine,
    flow: Flow,
    path: PathLabel,
    ctx: HttpContext | undefined,
    modules: HttpSite['modules'] | undefined,
  ) {
    this.#engine = engine
    this.#res = flow.res
    this.#flow = flow
    this.#path = path
    this.#ctx = ctx
    this.#modules = modules
  }

  onHead(status: number, raw: string[]): void {
    this.#status = status
    const response: HttpResponse = {
      status,
      headers: forwardResponseHeaders(raw),
      source: 'origin',
      body: undefined,
      taps: this.#taps,
    }
    if (this.#ctx !== undefined && this.#modules !== undefined)
      this.#engine.runResponsePhases(this.#ctx, this.#modules, response)
    const capture = this.#flow.capture
    if (capture) {
      capture.head(response.status, response.headers)
      this.#taps.push(capture)
    }
    if (response.body !== undefined) {
      // A module supplied the body (a revalidated cache entry): the upstream's is not needed.
      this.#replaced = true
      this.call?.abort()
      writeLocal(this.#res, response)
      capture?.chunk(response.body)
      this.#finish()
      return
    }
    this.#res.writeHead(response.status, response.headers)
  }

  onData(chunk: Buffer): boolean {
    if (this.#replaced) return true
    for (const tap of this.#taps) tap.chunk(chunk)
    if (this.#res.write(chunk)) return true
    this.#res.once('drain', () => this.call?.resume())
    return false
  }

  onEnd(): void {
    if (this.#replaced) return
    this.#res.end()
    this.#finish()
  }

  onError(err: CutoverError): void {
    if (this.#done) return
    this.#done = true
    for (const tap of this.#taps) tap.abort()
    if (err.code === 'CUTOVER_ERR_CLIENT_GONE') return
    const status = errorStatus(err)
    if (err.source === 'upstream') this.#engine.upstreamFailed(err)
    if (this.#res.headersSent) {
      this.#res.destroy()
    } else {
      this.#res.shouldKeepAlive = status !== 413
      sendError(this.#res, status, ERROR_TEXT[status])
    }
    this.#engine.observe(this.#path, this.#flow.scope, this.#flow.start, status)
  }

  /** The client connection closed: if the response was not finished, stop the upstream. */
  clientClosed(): void {
    if (this.#done) return
    this.#done = true
    this.call?.abort()
    for (const tap of this.#taps) tap.abort()
  }

  #finish(): void {
    if (this.#done) return
    this.#done = true
    for (const tap of this.#taps) tap.end()
    this.#engine.observe(this.#path, this.#flow.scope, this.#flow.start, this.#status)
  }
}

const ERROR_TEXT: Record<number, string> = {
  413: 'Content Too Large',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
}

/** The one place a failed exchange becomes a status: the client's fault, a slow upstream, or a broken one. */
function errorStatus(err: CutoverError): number {
  if (err.code === 'CUTOVER_ERR_BODY_TOO_LARGE') return 413
  return err.code === 'CUTOVER_ERR_UPSTREAM_TIMEOUT' ? 504 : 502
}

/** One request's way through the engine, from the decision to the response. */
interface Flow {
  req: IncomingMessage
  res: ServerResponse
  /** The target to forward: the path and query as sent. */
  target: string
  /** The request headers to forward (control headers removed, Host from an absolute target). */
  headers: readonly string[]
  scope: Scope
  start: number
  /** Collects the response for a live shadow comparison, when this request was sampled. */
  capture: ShadowCapture | undefined
}

/** Writes a response whose whole body is known, with its length. */
function writeLocal(res: ServerResponse, response: HttpResponse): void {
  const body = response.body ?? Buffer.alloc(0)
  const headers = response.headers
  if (
    headerGet(headers, 'content-length') === undefined &&
    response.status !== 204 &&
    response.status !== 304
  ) {
    headers.push('content-length', String(body.length))
  }
  res.writeHead(response.status, headers)
  res.end(body)
}

function sendError(res: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}

/** `raw` without the X-Cutover-* fields that ask for a forced path or a trace. */
function withoutControlHeaders(raw: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2)
    if (!raw[i].toLowerCase().startsWith('x-cutover-')) out.push(raw[i], raw[i + 1])
  return out
}

/** `raw` with its Host field(s) replaced by `authority`. */
function withHost(raw: readonly string[], authority: string): string[] {
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].toLowerCase() !== 'host') out.push(raw[i], raw[i + 1])
  out.push('Host', authority)
  return out
}

/** Request shapes Node's parser accepts but a proxy must refuse (request smuggling, RFC 9112). */
function framingError(
  req: IncomingMessage,
  raw: readonly string[],
  maxBody: number,
): { status: number; message: string } | undefined {
  let hosts = 0
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') hosts++
  if (hosts > 1) return { status: 400, message: 'Bad Request: more than one Host header' }
  const te = req.headers['transfer-encoding']
  if (te !== undefined && req.httpVersionMinor === 0) {
    return { status: 400, message: 'Bad Request: Transfer-Encoding in an HTTP/1.0 request' }
  }
  // Node takes the chunking off and would pass the rest (gzip...) on as if it were plain (RFC 9112 section 6.1).
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked') {
    return { status: 501, message: `Not Implemented: transfer coding ${JSON.stringify(te)}` }
  }
  if (req.url === '*')
    return { status: 501, message: 'Not Implemented: OPTIONS * is not forwarded' }
  const length = req.headers['content-length']
  if (length !== undefined && Number(length) > maxBody) {
    return { status: 413, message: `Content Too Large: the limit is ${maxBody} bytes` }
  }
  return undefined
}

/** Passes a chunked request body through, failing it once it passes the size limit. */
class BodyLimit extends Transform {
  readonly #max: number
  #seen = 0

  constructor(max: number) {
    super()
    this.#max = max
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length
    if (this.#seen > this.#max)
      done(new CutoverError('BODY_TOO_LARGE', `request body over the ${this.#max}-byte limit`))
    else done(null, chunk)
  }
}

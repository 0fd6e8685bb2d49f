// The per-request flow for HTTP: framing checks Node's parser leaves to us, the
// site by Host, the path (sticky bucket, or forced by a holder of the admin
// token), then one exchange per request through the site's modules in chain
// order to its terminal step, the forwarder: to the site's origin, or to the
// legacy untouched. A module that throws, overruns its budget or says
// legacy(reason) hands the request to the legacy, counted by reason. An
// upgrade's handshake takes the same way; its terminal step is in upgrade.ts.

import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { CutoverError } from '../../common/cutover-error.ts'
import { headerGet } from '../../common/header-list.ts'
import { forwardRequestHeaders, viaOf } from '../../legacy-adapter/http-headers.ts'
import type { HttpUpstream } from '../../legacy-adapter/http-upstream.ts'
import type { HttpContext, HttpResponse } from '../../modules/http-module.ts'
import { legacy, type Verdict } from '../../modules/verdict.ts'
import { BUCKETS, bucketOf } from '../../rollout/bucket.ts'
import {
  HTTP_AUTH,
  HTTP_FORCE,
  HTTP_TRACE,
  httpControl,
  withoutControlHeaders,
} from '../../rollout/control.ts'
import { type HttpRouter, scopeForPath } from '../../rollout/http-router.ts'
import { choosePath, type Path, type Scope } from '../../rollout/scope.ts'
import { httpKeyHash } from '../../rollout/stickiness.ts'
import { clientAddress } from '../net/forwarded-client.ts'
import { clientOf } from '../net/proxy-protocol-intake.ts'
import { NOBODY, type TrustedProxies } from '../net/trusted-proxies.ts'
import { type HttpShadow, SHADOW_HEADER } from '../shadow/http-shadow.ts'
import type { TrafficRecorder } from '../shadow/traffic-recorder.ts'
import type { HttpAccessLog } from '../telemetry/access-log.ts'
import type { HotCount } from '../telemetry/hot-metrics.ts'
import type { Logger } from '../telemetry/log.ts'
import type { Metrics, PathLabel } from '../telemetry/metrics.ts'
import type { Overload } from '../telemetry/overload.ts'
import { type RequestObserver, requestObserver } from '../telemetry/request-observer.ts'
import { sendError } from './error-reply.ts'
import {
  type ExchangeEngine,
  HttpExchange,
  type SiteModules,
  type TraceRequest,
} from './exchange.ts'
import { framingError, hasBody, http1Fields, requestBody } from './framing.ts'
import type { ServerReply, ServerRequest } from './http2-stream.ts'
import { parseTarget, withHost } from './target.ts'
import { forwardUpgrade, isUpgrade, upgradeResponse } from './upgrade.ts'

/** A configured site: its new path (modules and origin) and its rules that run everywhere. */
export interface HttpSite {
  /** Its modules (those with rules for it), in chain order. */
  modules: SiteModules
  /** Its origin; undefined when the new path cannot serve it (unsupported rules, no origin). */
  origin: HttpUpstream | undefined
  /** Its rules marked `everywhere: true`, set up apart: run in front of the legacy (legacy path, fallbacks). */
  everywhere?: SiteModules
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
  recorder: TrafficRecorder | undefined
  /** Requests for this path go to DNS over HTTPS instead of a site. */
  dohPath: string | undefined
  /** DNS over HTTPS, for the client address the HTTP side resolved (PROXY protocol, trusted proxies). */
  doh: ((req: ServerRequest, res: ServerReply, clientIp: string) => void) | undefined
  /** Whose X-Forwarded-For, Forwarded and X-Forwarded-Proto are believed (default: no one's). */
  trustedProxies?: TrustedProxies
  /** log.access: a line for a sampled share of requests. */
  accessLog?: HttpAccessLog
  /** Load shedding: a request turned away gets 503 with Retry-After. */
  overload?: Overload
}

type LegacyVerdict = Extract<Verdict, { kind: 'legacy' }>

const MODULE_ERROR = legacy('module-error') as LegacyVerdict
const MODULE_BUDGET = legacy('module-budget')
/** Forced to the new path, on a site the new path cannot serve (unsupported rules, no origin, no site). */
const UNSERVABLE = legacy('unservable') as LegacyVerdict

export class HttpEngine implements ExchangeEngine {
  readonly #parts: HttpEngineParts
  readonly #observe: RequestObserver
  readonly #malformed: HotCount
  readonly #shed: HotCount
  #lastErrorLog = 0
  readonly accessLog: HttpAccessLog | undefined

  constructor(parts: HttpEngineParts) {
    this.#parts = parts
    this.accessLog = parts.accessLog
    this.#observe = requestObserver(parts.metrics, 'http')
    this.#malformed = parts.metrics.malformed.child({ protocol: 'http' })
    this.#shed = parts.metrics.shed.child({ protocol: 'http' })
  }

  /**
   * An HTTP/1.1 upgrade request (Node's 'upgrade' event): served as a request
   * on a response of its own, which refuses it; `head`, what the client sent
   * after it, goes back on the socket for the upstream to read first.
   */
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (head.length > 0) socket.unshift(head)
    this.handle(req, upgradeResponse(req, socket))
  }

  handle(req: ServerRequest, res: ServerReply): void {
    const start = performance.now()
    const parts = this.#parts
    const raw = req.httpVersionMajor === 2 ? http1Fields(req.rawHeaders) : req.rawHeaders
    const framing = framingError(req, raw, parts.maxBodySize)
    if (framing !== undefined) {
      this.#refuse(res, framing.status, framing.detail)
      return
    }
    const target = parseTarget(req.url ?? '/', headerGet(raw, 'host'))
    if (typeof target === 'string') {
      this.#refuse(res, 400, target)
      return
    }
    const client = clientAddress(raw, clientOf(req.socket), parts.trustedProxies ?? NOBODY)
    const clientIp = client.ip
    // DoH is shed, if it is, by the DNS engine: with SERVFAIL, as over TCP.
    if (target.path === parts.dohPath && parts.doh && !isUpgrade(req)) {
      parts.doh(req, res, clientIp)
      return
    }
    if (parts.overload?.shed()) {
      this.#turnAway(req, raw, res, parts.overload.settings.retryAfter)
      return
    }
    // An absolute-form target names the host; the Host field is replaced with it (RFC 9112 section 3.2.2).
    let headers = target.authority === undefined ? raw : withHost(raw, target.authority)
    const route = parts.router(target.host)
    const scope = scopeForPath(route, target.path)
    let path: Path = choosePath(scope, httpKeyHash, target.host, headers, clientIp)
    let trace: TraceRequest | undefined
    const auth = headerGet(headers, HTTP_AUTH)
    if (auth !== undefined) {
      const control = httpControl(
        parts.token,
        Math.floor(Date.now() / 1000),
        req.method ?? 'GET',
        target.host,
        req.url ?? '/',
        headerGet(headers, HTTP_FORCE),
        headerGet(headers, HTTP_TRACE),
        auth,
      )
      // The proof is for this hop only.
      headers = withoutControlHeaders(headers)
      if (control?.force) path = control.force
      if (control?.trace)
        trace = {
          bucket: bucketOf(httpKeyHash(scope, target.host, headers, clientIp)),
          forced: control.force !== undefined,
        }
    }
    const x = new HttpExchange(this, req, res, target, headers, scope, trace, start, client)
    if (route.site?.everywhere) x.everywhere = route.site.everywhere
    // An upgrade is neither recorded nor shadowed: neither could replay what follows the handshake.
    const upgrade = isUpgrade(req)
    if (!upgrade) parts.recorder?.http(x.method, target.host, x.target, headers)
    if (
      !upgrade &&
      scope.shadowBasisPoints > 0 &&
      parts.shadow &&
      Math.random() * BUCKETS < scope.shadowBasisPoints &&
      headerGet(raw, SHADOW_HEADER) === undefined
    ) {
      x.capture = parts.shadow.capture(
        scope,
        { method: x.method, host: target.host, target: x.target, headers },
        route.site?.origin !== undefined && path === 'new' ? 'new' : 'legacy',
      )
    }
    const site = route.site
    if (path === 'legacy') this.#toLegacy(x, 'legacy')
    else if (site?.origin === undefined) this.#fallBack(x, UNSERVABLE)
    else this.#runNew(x, site.modules, site.origin)
  }

  /** Turned away for overload: a 503 before routing; closing, not reading, a body it would throw away. */
  #turnAway(req: ServerRequest, raw: readonly string[], res: ServerReply, retryMs: number): void {
    this.#shed.n++
    if (hasBody(req, raw)) res.shouldKeepAlive = false
    sendError(res, 503, 'overloaded, try again later', [
      'retry-after',
      String(Math.max(1, Math.round(retryMs / 1000))),
    ])
  }

  /** A request whose framing or target is malformed: refused, and its connection closed. */
  #refuse(res: ServerReply, status: number, detail: string): void {
    this.#malformed.n++
    res.shouldKeepAlive = false
    sendError(res, status, detail)
  }

  /** The site's request phases in chain order, then the terminal step: its origin. */
  #runNew(x: HttpExchange, modules: SiteModules, origin: HttpUpstream): void {
    x.enterNewPath(modules)
    const verdict = this.#requestPhases(x, modules, 0)
    if (verdict instanceof Promise) void verdict.then((v) => this.#afterNew(x, v, origin))
    else this.#afterNew(x, verdict, origin)
  }

  #afterNew(x: HttpExchange, verdict: Verdict | undefined, origin: HttpUpstream): void {
    if (verdict?.kind === 'legacy') this.#fallBack(x, verdict)
    else if (verdict?.kind === 'answer') {
      if (!this.#answer(x)) this.#fallBack(x, MODULE_ERROR)
    } else this.#forward(x, origin, 'new')
  }

  /**
   * The terminal step to the legacy, behind the site's everywhere rules when it
   * has some: one of them may answer; anything else they say (a legacy verdict,
   * a throw, over budget) sends the request on to the legacy, next anyway.
   */
  #toLegacy(x: HttpExchange, path: 'legacy' | 'fallback'): void {
    if (x.everywhere.length === 0) this.#forward(x, this.#parts.legacy, path)
    else void this.#runEverywhere(x, path)
  }

  async #runEverywhere(x: HttpExchange, path: 'legacy' | 'fallback'): Promise<void> {
    x.enterEverywhere()
    const verdict = await this.#requestPhases(x, x.everywhere, 0)
    if (verdict?.kind === 'answer' && this.#answer(x)) return
    this.#forward(x, this.#parts.legacy, path)
  }

  /**
   * `modules`' request phases in chain order from `from` until one does not
   * say NEXT: its verdict (a throw: module-error). Synchronous while the
   * phases are: a promise only from the first phase that returns one, so a
   * request no module waits on takes no microtask turn on its way out.
   */
  #requestPhases(
    x: HttpExchange,
    modules: SiteModules,
    from: number,
  ): Verdict | undefined | Promise<Verdict | undefined> {
    try {
      for (let i = from; i < modules.length; i++) {
        const phase = modules[i].phases.request
        if (phase === undefined) continue
        const v = phase(x)
        if (v instanceof Promise) return this.#awaitPhase(x, modules, i, v)
        if (v.kind === 'next') continue
        x.passed = i
        return v
      }
    } catch (err) {
      this.#logError(err)
      return MODULE_ERROR
    }
    return undefined
  }

  /** Phase `i`'s verdict once it comes (within the module budget), then the phases after it. */
  async #awaitPhase(
    x: HttpExchange,
    modules: SiteModules,
    i: number,
    pending: Promise<Verdict>,
  ): Promise<Verdict | undefined> {
    try {
      const v = await this.#withinBudget(pending)
      if (v.kind !== 'next') {
        x.passed = i
        return v
      }
    } catch (err) {
      this.#logError(err)
      return MODULE_ERROR
    }
    return this.#requestPhases(x, modules, i + 1)
  }

  /** A module's own reply; false when it could not be given (none set, or a head Node refuses) and the legacy is to have the request. */
  #answer(x: HttpExchange): boolean {
    try {
      if (x.reply === undefined) throw new Error('a module answered without setting ctx.reply')
      x.answerLocally()
    } catch (err) {
      this.#logError(err)
      if (!x.res.headersSent) return false
      x.res.destroy()
    }
    return true
  }

  #withinBudget(p: Promise<Verdict>): Promise<Verdict> {
    let timer: NodeJS.Timeout | undefined
    const budget = new Promise<Verdict>((resolve) => {
      timer = setTimeout(() => resolve(MODULE_BUDGET), this.#parts.moduleBudgetMs)
    })
    return Promise.race([p, budget]).finally(() => clearTimeout(timer))
  }

  /** The new path hands the request to the legacy, as it was received (but for everywhere rules); counted by reason. */
  #fallBack(x: HttpExchange, verdict: LegacyVerdict): void {
    x.leaveNewPath(verdict.reason)
    this.#observe.fellBack(x.scope, verdict.reason)
    if (verdict === MODULE_ERROR) x.scope.stats.newErrors++
    this.#toLegacy(x, 'fallback')
  }

  /** The terminal step: sends the request on, to an origin (new path) or to the legacy. */
  #forward(x: HttpExchange, upstream: HttpUpstream, path: PathLabel): void {
    x.servedBy = path
    const req = x.req
    x.upstreamAt = performance.now()
    const headers = forwardRequestHeaders(
      x.headers,
      x.client.peer,
      x.client.proto ?? ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'),
      viaOf(req.httpVersionMajor, req.httpVersionMinor),
    )
    x.call = isUpgrade(req)
      ? forwardUpgrade(x, req, upstream, headers, this)
      : upstream.request(
          {
            method: x.method,
            target: x.target,
            headers,
            body: requestBody(req, x.received, this.#parts.maxBodySize),
          },
          x,
        )
    // `on`, not `once`: a response closes once, and once's wrapper and removal cost on every request.
    x.res.on('close', () => x.clientClosed())
  }

  responsePhases(
    modules: SiteModules,
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

  observe(path: PathLabel, scope: Scope, start: number, status: number): void {
    this.#observe.done(path, scope, start, status >= 500)
  }

  /** Counted as the legacy's failure or the origin's, whichever was asked. */
  upstreamFailed(err: CutoverError, path: PathLabel, upstreamMs: number): void {
    const { metrics, log } = this.#parts
    const counter = path === 'new' ? metrics.originFailures : metrics.legacyFailures
    counter.inc({ protocol: 'http', failure: FAILURE_OF[err.code] ?? 'unreachable' })
    log.warn(
      {
        err: err.message,
        upstream: path === 'new' ? 'origin' : 'legacy',
        upstreamMs: Math.round(upstreamMs),
      },
      'HTTP upstream failed',
    )
  }

  #logError(err: unknown): void {
    const now = performance.now()
    if (now - this.#lastErrorLog < 1000) return
    this.#lastErrorLog = now
    this.#parts.log.error({ err }, 'HTTP module threw; the request falls back to the legacy path')
  }
}

const FAILURE_OF: Record<string, string> = {
  CUTOVER_ERR_UPSTREAM_TIMEOUT: 'timeout',
  CUTOVER_ERR_UPSTREAM_UNREACHABLE: 'unreachable',
  CUTOVER_ERR_UPSTREAM_BAD_REPLY: 'bad-reply',
  CUTOVER_ERR_UPSTREAM_TLS: 'tls',
}

// The per-query flow for DNS, the same for UDP, TCP and DoH: parse in place,
// route by scope, run the new path's modules, or (legacy path, fallback) the
// legacy chain and then the forwarder. Synchronous up to the forward; no
// closure or promise per query.

import { CLASSIC_UDP_LIMIT, Rcode } from '../../dns/constants.ts'
import { appendEdnsOption } from '../../dns/edns-append.ts'
import { createQueryView, Parse, type QueryView, readQuery } from '../../dns/query-view.ts'
import { writeRcodeReply } from '../../dns/reply.ts'
import type { DnsForwarder, ForwardFailure } from '../../legacy-adapter/dns-forwarder.ts'
import type { DnsContext, DnsModule, DnsReply, DnsTransport } from '../../modules/dns-module.ts'
import { legacy, type Verdict } from '../../modules/verdict.ts'
import { BUCKETS, bucketOf } from '../../rollout/bucket.ts'
import { type Control, dnsControl, traceText } from '../../rollout/control.ts'
import type { DnsRouter } from '../../rollout/dns-router.ts'
import { choosePath, type Path, type Scope } from '../../rollout/scope.ts'
import { dnsKeyHash } from '../../rollout/stickiness.ts'
import type { DnsShadow } from '../shadow/dns-shadow.ts'
import type { TrafficRecorder } from '../shadow/traffic-recorder.ts'
import type { DnsQueryLog } from '../telemetry/access-log.ts'
import type { HotCount } from '../telemetry/hot-metrics.ts'
import type { Logger } from '../telemetry/log.ts'
import type { Metrics, PathLabel } from '../telemetry/metrics.ts'
import type { Overload } from '../telemetry/overload.ts'
import { type RequestObserver, requestObserver } from '../telemetry/request-observer.ts'
import { LegacyCall } from './legacy-call.ts'
import { type ResponseRateLimiter, writeSlip } from './response-rate-limit.ts'

/** Sends a response back the way its query came. */
export interface DnsReplier<Peer> {
  /** Sends buf[0..length) to `peer`; the caller may reuse `buf` afterwards. */
  sendReply(peer: Peer, buf: Buffer, length: number): void
  /** The query from `peer` gets no reply (malformed beyond a FORMERR). */
  dropped(peer: Peer): void
}

export interface DnsEngineParts {
  router: DnsRouter
  newChain: readonly DnsModule[]
  legacyChain: readonly DnsModule[]
  forwarder: Pick<DnsForwarder, 'forward'>

  metrics: Metrics
  log: Logger
  /** Largest UDP response we send and advertise to EDNS clients. */
  udpPayload: number
  /** A module chain that runs longer than this has its answer dropped for the legacy's. */
  moduleBudgetMs: number
  /** Samples live queries into a suite, when configured. */
  recorder: TrafficRecorder | undefined
  /** Forced paths and traces (EDNS option `option`), for holders of the admin token. */
  control: { token: string; option: number } | undefined
  /** log.queries: a line for a sampled share of queries. */
  queryLog?: DnsQueryLog
  /** dns.rateLimit, when on: the new path's UDP answers over the rate are dropped or slipped. */
  rateLimit?: ResponseRateLimiter
  /** Load shedding: a query turned away gets SERVFAIL, or over UDP is dropped (overload.dnsUdp). */
  overload?: Overload
}

/** A traced query: what the trace will say besides the final path and reason. */
export interface Trace {
  scope: Scope
  bucket: number
  forced: boolean
  reason: string | undefined
}

const MODULE_ERROR = legacy('module-error')
const MODULE_BUDGET = legacy('module-budget')
const UNSERVED = legacy('unserved')
const ANSWER_BUFFER = 65_535 + 2

export class DnsEngine {
  readonly #parts: DnsEngineParts
  readonly #ctx: DnsContext
  readonly #observe: RequestObserver
  readonly #malformed: HotCount
  readonly #rateLimited: Record<'drop' | 'slip', HotCount>
  readonly #shed: HotCount
  #lastErrorLog = 0
  /** Index of the module that answered in the last #runChain. */
  #answeredBy = 0
  /** A context of its own for shadow answers, which run between real queries. */
  readonly #shadowCtx: DnsContext
  /** Live comparison of a sampled share of each scope with the other path, when configured. */
  shadow: DnsShadow | undefined

  constructor(parts: DnsEngineParts) {
    this.#parts = parts
    const context = (): DnsContext => ({
      query: Buffer.alloc(0),
      view: createQueryView(),
      transport: 'udp',
      sizeLimit: CLASSIC_UDP_LIMIT,
      ednsPayload: parts.udpPayload,
      out: Buffer.alloc(ANSWER_BUFFER),
      response: Buffer.alloc(0),
      responseLength: 0,
    })
    this.#ctx = context()
    this.#shadowCtx = context()
    this.#observe = requestObserver(parts.metrics, 'dns')
    this.#malformed = parts.metrics.malformed.child({ protocol: 'dns' })
    this.#shed = parts.metrics.shed.child({ protocol: 'dns' })
    this.#rateLimited = {
      drop: parts.metrics.rateLimited.child({ action: 'dropped' }),
      slip: parts.metrics.rateLimited.child({ action: 'slipped' }),
    }
  }

  /** Handles one query from address `client`; the response goes to `replier` now or when the legacy answers. */
  handle<P>(
    query: Buffer,
    transport: DnsTransport,
    client: string,
    peer: P,
    replier: DnsReplier<P>,
    /** Set by the candidate listener: every query takes this path. */
    force?: Path,
  ): void {
    const start = performance.now()
    const ctx = this.#ctx
    const view = ctx.view
    const parsed = readQuery(query, query.length, view)
    if (parsed !== Parse.OK) {
      this.#malformed.n++
      if (parsed === Parse.FORMERR)
        replier.sendReply(peer, ctx.out, writeRcodeReply(query, ctx.out, Rcode.FORMERR))
      else replier.dropped(peer)
      return
    }
    // Not on the candidate listener: a diff run compares answers, not what overload did to them.
    if (force === undefined && this.#parts.overload?.shed()) {
      this.#turnAway(query, transport, peer, replier)
      return
    }
    ctx.query = query
    ctx.transport = transport
    ctx.sizeLimit =
      transport !== 'udp'
        ? 65_535
        : view.edns
          ? Math.min(Math.max(view.ednsUdpSize, CLASSIC_UDP_LIMIT), this.#parts.udpPayload)
          : CLASSIC_UDP_LIMIT

    this.#parts.recorder?.dns(query, view, transport)
    const scope = this.#parts.router(query, view)
    let path: PathLabel
    let trace: Trace | undefined
    const control = view.localOptionOffset >= 0 ? this.#control(query, view) : undefined
    if (force !== undefined) {
      path = force
    } else if (control === undefined) {
      path = choosePath(scope, dnsKeyHash, query, view, client)
    } else {
      const chosen = choosePath(scope, dnsKeyHash, query, view, client)
      path = control.force ?? chosen
      if (control.trace)
        trace = {
          scope,
          bucket: bucketOf(dnsKeyHash(scope, query, view, client)),
          forced: control.force !== undefined,
          reason: undefined,
        }
    }
    // Sampled before anything is built for its line: with the log off, a comparison.
    const logged = this.#parts.queryLog?.sample(ctx, client, scope, path, start, peer, replier)
    const out = logged ?? replier
    if (path === 'new') {
      const verdict = this.#runChain(this.#parts.newChain, ctx, start)
      if (verdict.kind === 'answer') {
        if (
          this.#parts.rateLimit &&
          transport === 'udp' &&
          this.#limited(ctx, client, scope, peer, out)
        )
          return
        this.#respond(this.#parts.newChain, ctx, peer, out, 'new', scope, start, trace)
        return
      }
      path = 'fallback'
      const reason = (verdict as { reason: string }).reason
      if (trace) trace.reason = reason
      this.#observe.fellBack(scope, reason)
      if (verdict === MODULE_ERROR) scope.stats.newErrors++
      if (logged) {
        logged.path = path
        logged.reason = reason
      }
    }
    if (this.#runChain(this.#parts.legacyChain, ctx, start).kind === 'answer') {
      this.#respond(this.#parts.legacyChain, ctx, peer, out, path, scope, start, trace)
      return
    }
    const call = new LegacyCall(this, ctx, peer, out)
    call.path = path
    call.scope = scope
    call.start = start
    call.trace = trace
    if (logged) logged.upstreamAt = performance.now()
    this.#parts.forwarder.forward(call)
  }

  /** Turned away for overload: the cheapest answer, before routing or any module. */
  #turnAway<P>(query: Buffer, transport: DnsTransport, peer: P, replier: DnsReplier<P>): void {
    this.#shed.n++
    if (transport === 'udp' && this.#parts.overload?.settings.dnsUdp === 'drop')
      replier.dropped(peer)
    else
      replier.sendReply(
        peer,
        this.#ctx.out,
        writeRcodeReply(query, this.#ctx.out, Rcode.SERVFAIL, this.#ctx.view.questionEnd),
      )
  }

  /** Over dns.rateLimit: the answer dropped, or slipped (the question alone, TC set); true when it was. */
  #limited<P>(ctx: DnsContext, client: string, scope: Scope, peer: P, out: DnsReplier<P>): boolean {
    const action = this.#parts.rateLimit!.check(
      client,
      scope.id,
      ctx.query,
      ctx.response,
      performance.now() / 1000,
    )
    if (action === 'send') return false
    this.#rateLimited[action].n++
    if (action === 'drop') out.dropped(peer)
    else out.sendReply(peer, ctx.out, writeSlip(ctx.query, ctx.out))
    return true
  }

  #control(query: Buffer, view: QueryView): Control | undefined {
    const c = this.#parts.control
    return c === undefined
      ? undefined
      : dnsControl(c.token, Math.floor(Date.now() / 1000), c.option, query, view)
  }

  /** The reply with the decision trace appended as an EDNS option (unchanged when it has no OPT to carry it). */
  traced(reply: Buffer, length: number, trace: Trace, path: PathLabel): Buffer {
    const text = traceText(
      trace.scope.id,
      trace.bucket,
      trace.scope.basisPoints,
      path,
      trace.forced,
      trace.reason,
    )
    return (
      appendEdnsOption(reply, length, this.#parts.control!.option, Buffer.from(text)) ??
      reply.subarray(0, length)
    )
  }

  #runChain(chain: readonly DnsModule[], ctx: DnsContext, start: number): Verdict {
    let verdict: Verdict = UNSERVED
    try {
      for (let i = 0; i < chain.length; i++) {
        const phase = chain[i].query
        if (phase === undefined) continue
        verdict = phase(ctx)
        if (verdict.kind !== 'next') {
          this.#answeredBy = i
          break
        }
      }
    } catch (err) {
      this.#logError(err)
      return MODULE_ERROR
    }
    if (verdict.kind === 'next') return UNSERVED
    if (verdict.kind === 'answer' && performance.now() - start > this.#parts.moduleBudgetMs)
      return MODULE_BUDGET
    return verdict
  }

  #respond<P>(
    chain: readonly DnsModule[],
    ctx: DnsContext,
    peer: P,
    replier: DnsReplier<P>,
    path: PathLabel,
    scope: Scope,
    start: number,
    trace: Trace | undefined,
  ): void {
    this.runResponsePhases(chain, this.#answeredBy, ctx)
    if (trace === undefined) {
      replier.sendReply(peer, ctx.response, ctx.responseLength)
    } else {
      const reply = this.traced(ctx.response, ctx.responseLength, trace, path)
      replier.sendReply(peer, reply, reply.length)
    }
    this.observe(path, scope, start, ctx.response[3] & 0xf)
    this.maybeShadow(scope, ctx.query, ctx.response, ctx.responseLength, path, ctx.sizeLimit)
  }

  /** Offers a sampled share of a scope's answered queries to the shadow comparison. */
  maybeShadow(
    scope: Scope,
    query: Buffer,
    response: Buffer,
    length: number,
    path: PathLabel,
    sizeLimit: number,
  ): void {
    if (scope.shadowBasisPoints === 0 || path === 'fallback' || this.shadow === undefined) return
    if (Math.random() * BUCKETS >= scope.shadowBasisPoints) return
    this.shadow.offer(scope, query, response, length, path, sizeLimit)
  }

  /** The new path's answer to `query` as a copy, or undefined when it would not serve it (for shadows). */
  answerOnNewPath(query: Buffer, sizeLimit: number): Buffer | undefined {
    const ctx = this.#shadowCtx
    if (readQuery(query, query.length, ctx.view) !== Parse.OK) return undefined
    ctx.query = query
    ctx.sizeLimit = sizeLimit
    if (this.#runChain(this.#parts.newChain, ctx, performance.now()).kind !== 'answer')
      return undefined
    return Buffer.from(ctx.response.subarray(0, ctx.responseLength))
  }

  /**
   * Response phases of the modules before `end` (those the query passed through),
   * in reverse order; one that throws is logged and skipped.
   */
  runResponsePhases(chain: readonly DnsModule[], end: number, reply: DnsReply): void {
    for (let i = end - 1; i >= 0; i--) {
      const phase = chain[i].response
      if (phase === undefined) continue
      try {
        phase(reply)
      } catch (err) {
        this.#logError(err)
      }
    }
  }

  get legacyChain(): readonly DnsModule[] {
    return this.#parts.legacyChain
  }

  /** Counts a finished query: instance metrics, and the scope's counters the plan gates read. */
  observe(path: PathLabel, scope: Scope, start: number, rcode: number): void {
    this.#observe.done(path, scope, start, rcode === Rcode.SERVFAIL)
  }

  legacyFailed(failure: ForwardFailure): void {
    this.#parts.metrics.legacyFailures.inc({ protocol: 'dns', failure })
  }

  #logError(err: unknown): void {
    // A module that throws on every query must not turn the log into the bottleneck.
    const now = performance.now()
    if (now - this.#lastErrorLog < 1000) return
    this.#lastErrorLog = now
    this.#parts.log.error({ err }, 'DNS module threw; the query falls back to the legacy path')
  }
}

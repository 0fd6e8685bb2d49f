// A DNS query on its way to the legacy resolver, and how to answer its client
// when the forwarder finishes it: the one object a forwarded query allocates.

import { Flag, HEADER_LENGTH, Rcode, Type } from '../../dns/constants.ts'
import { writeRcodeReply } from '../../dns/reply.ts'
import type { ForwardFailure, LegacyExchange } from '../../legacy-adapter/dns-forwarder.ts'
import type { DnsContext, DnsReply, DnsTransport } from '../../modules/dns-module.ts'
import type { Scope } from '../../rollout/scope.ts'
import type { PathLabel } from '../telemetry/metrics.ts'
import type { DnsEngine, DnsReplier, Trace } from './engine.ts'

const OPT_RECORD = Buffer.from([0, 0, Type.OPT, 0, 0, 0, 0, 0, 0, 0, 0])
const NO_RESPONSE = Buffer.alloc(0)

/**
 * Made from the engine's reused context (it copies what it needs, since the
 * context serves the next query before this one returns); the engine then sets
 * how the query was routed (`path`, `scope`, `start`, `trace`) before the forward.
 */
export class LegacyCall<P> implements LegacyExchange, DnsReply {
  readonly query: Buffer
  readonly transport: DnsTransport
  readonly questionEnd: number
  readonly largeReplies: boolean
  readonly stream: boolean
  response: Buffer = NO_RESPONSE
  responseLength = 0
  /** Which path this counts as: legacy, or fallback when the new path handed it over. */
  path: PathLabel = 'legacy'
  scope!: Scope
  /** performance.now() when the query arrived. */
  start = 0
  trace: Trace | undefined = undefined
  readonly #engine: DnsEngine
  readonly #edns: boolean
  readonly #sizeLimit: number
  readonly #peer: P
  readonly #replier: DnsReplier<P>

  constructor(engine: DnsEngine, ctx: DnsContext, peer: P, replier: DnsReplier<P>) {
    this.#engine = engine
    this.query = ctx.query
    this.transport = ctx.transport
    this.questionEnd = ctx.view.questionEnd
    this.largeReplies = ctx.transport !== 'udp'
    this.stream = ctx.transport === 'tcp'
    this.#edns = ctx.view.edns
    this.#sizeLimit = ctx.sizeLimit
    this.#peer = peer
    this.#replier = replier
  }

  finish(reply: Buffer | undefined, failure: ForwardFailure | undefined): void {
    if (reply === undefined) {
      this.#engine.legacyFailed(failure ?? 'unreachable')
      const out = Buffer.allocUnsafe(this.questionEnd)
      this.#replier.sendReply(
        this.#peer,
        out,
        writeRcodeReply(this.query, out, Rcode.SERVFAIL, this.questionEnd),
      )
    } else {
      this.response = reply
      this.responseLength = reply.length
      this.#engine.runResponsePhases(
        this.#engine.legacyChain,
        this.#engine.legacyChain.length,
        this,
      )
      if (reply.length <= this.#sizeLimit) {
        const out =
          this.trace === undefined
            ? reply
            : this.#engine.traced(reply, reply.length, this.trace, this.path)
        this.#replier.sendReply(this.#peer, out, out.length)
        this.#engine.maybeShadow(
          this.scope,
          this.query,
          reply,
          reply.length,
          this.path,
          this.#sizeLimit,
        )
      } else {
        this.#sendTruncated(reply)
      }
    }
    this.#engine.observe(
      this.path,
      this.scope,
      this.start,
      reply === undefined ? Rcode.SERVFAIL : reply[3] & 0xf,
    )
  }

  /** The legacy's answer (fetched over TCP) is too large for this UDP client: TC=1, retry over TCP. */
  #sendTruncated(reply: Buffer): void {
    const out = Buffer.allocUnsafe(this.questionEnd + OPT_RECORD.length)
    let length = writeRcodeReply(this.query, out, 0, this.questionEnd)
    out[2] = reply[2] | (Flag.TC >> 8)
    out[3] = reply[3]
    if (this.#edns) {
      OPT_RECORD.copy(out, length)
      out.writeUInt16BE(Math.min(this.#sizeLimit, 0xffff), length + 3)
      out[HEADER_LENGTH - 1] = 1
      length += OPT_RECORD.length
    }
    this.#replier.sendReply(this.#peer, out, length)
  }
}

// The DNS module contract: a plain object made by a factory. `setup` validates
// and precomputes; the phases do only per-query work, synchronously.

import type { QueryView } from '../dns/query-view.ts'
import type { Verdict } from './verdict.ts'

export type DnsTransport = 'udp' | 'tcp' | 'doh'

/** A query and its response, as response phases see them (possibly long after the query phase). */
export interface DnsReply {
  /** The query as received; its ID and question are echoed in any answer. */
  query: Buffer
  transport: DnsTransport
  /** The response: bytes 0..responseLength. */
  response: Buffer
  responseLength: number
}

/** One per query (reused across queries on the UDP path: phases must not keep it). */
export interface DnsContext extends DnsReply {
  view: QueryView
  /** The largest response this client takes: 512 or its EDNS size (capped) over UDP, 65535 else. */
  sizeLimit: number
  /** The UDP payload size we advertise in an OPT record. */
  ednsPayload: number
  /** Scratch space a module writes its answer into (64 KiB); it then points `response` at it. */
  out: Buffer
}

export interface DnsModule {
  readonly name: string
  /** Config time: why this module cannot serve `zone` on the new path, or undefined if it can. */
  unsupported?(zone: string): string | undefined
  /** Per query: write an answer into ctx.out and return ANSWER, or NEXT, or legacy(reason). */
  query?(ctx: DnsContext): Verdict
  /** After a response exists, in reverse chain order: observe or store it. */
  response?(reply: DnsReply): void
  /** Releases timers and files; the module is not called again. */
  close?(): void
}

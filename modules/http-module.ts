// The HTTP module contract. A module is set up once per site from that site's
// rules of the types it serves (validated and precompiled at config time) and
// returns a small object whose phases do only per-request work. Request phases
// run in chain order before the origin; response phases in reverse after it,
// on origin responses and on local replies alike. A rule marked `everywhere:
// true` also runs in front of the legacy, if its module can.

import type { HeaderList } from '../common/header-list.ts'
import type { ModuleEnv } from './env.ts'
import type { Verdict } from './verdict.ts'

/** What a request phase sees and may change before the request goes to the origin. */
export interface HttpRequest {
  readonly method: string
  /** Host without port, lowercase. */
  readonly host: string
  /**
   * The path of the request target percent-decoded, with dot segments and
   * repeated slashes removed, as nginx matches locations: what rules match, so
   * `/%61dmin` and `/x/../admin` meet the rules for `/admin`.
   */
  readonly path: string
  /** The request target as the client sent it (path and query, encoding kept): what is forwarded. */
  readonly target: string
  /** The query string without `?`, as sent; '' when there is none. */
  readonly query: string
  /** Request headers to send on; modules may change them. */
  headers: HeaderList
  readonly clientIp: string
  readonly protocol: 'http' | 'https'
}

/** A reply a module makes itself, without the origin. */
export interface LocalReply {
  status: number
  headers: HeaderList
  body: Buffer
}

/** Receives the response body as it streams to the client. */
export interface BodyTap {
  chunk(data: Buffer): void
  end(): void
  /** The body did not arrive whole (client gone, upstream failed). */
  abort(): void
}

/** The response on its way to the client, as response phases see it. */
export interface HttpResponse {
  status: number
  headers: HeaderList
  /** Where it came from: the upstream (the origin; the legacy, for rules marked everywhere), or a local reply. */
  readonly source: 'origin' | 'local'
  /** Set to send these bytes instead of the body that came with the response. */
  body: Buffer | undefined
  /** Observers of the body as it is sent. */
  taps: BodyTap[]
}

/** One per request, from the decision to the last byte of the response. */
export interface HttpContext {
  readonly request: HttpRequest
  /** Set by the module that answered (verdict ANSWER). */
  reply: LocalReply | undefined
  /**
   * Per-request state of the site's modules, from the request phase to the
   * response phase: `slots[slot]` belongs to the module set up with `slot`.
   */
  readonly slots: unknown[]
}

export interface HttpSiteModule {
  request?(ctx: HttpContext): Verdict | Promise<Verdict>
  response?(ctx: HttpContext, response: HttpResponse): void
  /** The site is retired (config reloaded): release what outlives a request. */
  close?(): void
}

/** A site's rule as written in the config: its type picks the module. */
export interface Rule {
  type: string
  [key: string]: unknown
}

export interface HttpModule {
  readonly name: string
  /** Rule types this module serves. */
  readonly ruleTypes: readonly string[]
  /**
   * Whether its rules may be marked `everywhere: true`, to run in front of the
   * legacy too (legacy path, fallbacks): `true`, or why not, for the config error.
   */
  readonly everywhere: true | { readonly refused: string }
  /**
   * Config time: validates `rules` (all of this module's types, in site order)
   * and precompiles them. Throws CONFIG_INVALID naming `where` (e.g.
   * `http.sites[0].rules[2]`) and what was expected. `slot` is this module's
   * place in each request's `ctx.slots`, for state it keeps per request.
   */
  site(
    rules: readonly Rule[],
    where: readonly string[],
    env: ModuleEnv,
    slot: number,
  ): HttpSiteModule
}

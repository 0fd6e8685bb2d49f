// Live shadow traffic for HTTP: a sampled share of a scope's safe requests (GET
// and HEAD unless configured), once answered, is sent again through this proxy
// forced to the other path (signed with the admin token, marked so it is not
// shadowed itself), plus once more to the legacy as a noise sample; the answers
// are compared with the harness's code. Bounded; shed when the bound is reached.

import type { Counter } from 'prom-client'
import { Pool } from 'undici'
import { compareHttp, describeHttp, type HttpSeen } from '../../flamingo-tests/http-compare.ts'
import { LiveJudge } from '../../flamingo-tests/live-judge.ts'
import { HTTP_AUTH, HTTP_FORCE, signHttp } from '../../rollout/control.ts'
import type { Path, Scope } from '../../rollout/scope.ts'

/** Marks a shadow request, so it is not shadowed again. */
export const SHADOW_HEADER = 'x-cutover-shadow'

export interface HttpShadowParts {
  token: string
  methods: ReadonlySet<string>
  maxBody: number
  maxInFlight: number
  examples: number
  mismatches: Counter<'protocol' | 'scope'>
  shed: { n: number }
  /** True while the process is too busy for shadow work. */
  busy: () => boolean
}

export interface ShadowRequest {
  method: string
  host: string
  /** The target as sent (what the force proof covers). */
  target: string
  headers: readonly string[]
}

/** Collects the primary response as it is sent; hands it to the shadow when complete. */
export class ShadowCapture {
  status = 0
  headers: Record<string, string> = {}
  readonly #chunks: Buffer[] = []
  #size = 0
  #dropped = false
  readonly #done: (c: ShadowCapture) => void
  readonly #maxBody: number

  constructor(maxBody: number, done: (c: ShadowCapture) => void) {
    this.#maxBody = maxBody
    this.#done = done
  }

  head(status: number, raw: readonly string[]): void {
    this.status = status
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i].toLowerCase()
      this.headers[k] =
        this.headers[k] === undefined
          ? raw[i + 1]
          : `${this.headers[k]}${k === 'set-cookie' ? ' | ' : ', '}${raw[i + 1]}`
    }
  }

  chunk(data: Buffer): void {
    this.#size += data.length
    if (this.#size > this.#maxBody) this.#dropped = true
    else this.#chunks.push(Buffer.from(data))
  }

  end(): void {
    if (!this.#dropped) this.#done(this)
  }

  abort(): void {
    this.#dropped = true
  }

  seen(): HttpSeen {
    return { status: this.status, headers: this.headers, body: Buffer.concat(this.#chunks) }
  }
}

export class HttpShadow {
  readonly #p: HttpShadowParts
  readonly #judges = new Map<string, LiveJudge>()
  #self: Pool | undefined
  #inFlight = 0

  constructor(parts: HttpShadowParts) {
    this.#p = parts
  }

  /** The proxy's own listener, where shadow requests go. */
  listening(url: string): void {
    this.#self = new Pool(url, { connections: 16 })
  }

  close(): Promise<void> {
    return this.#self?.close() ?? Promise.resolve()
  }

  judge(scope: string): LiveJudge | undefined {
    return this.#judges.get(scope)
  }

  /** For a sampled request: a capture of its response, or undefined when it is not to be shadowed. */
  capture(scope: Scope, req: ShadowRequest, primary: Path): ShadowCapture | undefined {
    if (!this.#p.methods.has(req.method)) return undefined
    if (this.#inFlight >= this.#p.maxInFlight || this.#self === undefined || this.#p.busy()) {
      this.#p.shed.n++
      return undefined
    }
    this.#inFlight++
    return new ShadowCapture(this.#p.maxBody, (c) => {
      this.#compare(scope, req, primary, c.seen()).finally(() => this.#inFlight--)
    })
  }

  async #send(req: ShadowRequest, path: Path): Promise<HttpSeen> {
    const headers: string[] = [
      ...req.headers,
      HTTP_FORCE,
      path,
      HTTP_AUTH,
      signHttp(
        this.#p.token,
        Math.floor(Date.now() / 1000),
        req.method,
        req.host,
        req.target,
        path,
        '',
      ),
      SHADOW_HEADER,
      '1',
    ]
    const res = await this.#self!.request({
      method: req.method as 'GET',
      path: req.target,
      headers,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    })
    const seen: Record<string, string> = {}
    for (const [k, v] of Object.entries(res.headers))
      if (v !== undefined)
        seen[k] = Array.isArray(v) ? v.join(k === 'set-cookie' ? ' | ' : ', ') : v
    return {
      status: res.statusCode,
      headers: seen,
      body: Buffer.from(await res.body.arrayBuffer()),
    }
  }

  async #compare(
    scope: Scope,
    req: ShadowRequest,
    primaryPath: Path,
    primary: HttpSeen,
  ): Promise<void> {
    try {
      const other: Path = primaryPath === 'new' ? 'legacy' : 'new'
      const [answer, noise] = await Promise.all([this.#send(req, other), this.#send(req, 'legacy')])
      const legacy = primaryPath === 'legacy' ? primary : answer
      const candidate = primaryPath === 'new' ? primary : answer
      let judge = this.#judges.get(scope.id)
      if (!judge) {
        judge = new LiveJudge(this.#p.examples)
        this.#judges.set(scope.id, judge)
      }
      judge.noise(compareHttp(legacy, noise))
      const real = judge.compared(
        `${req.method} ${req.host}${req.target}`,
        compareHttp(legacy, candidate),
        () => describeHttp(legacy),
        () => describeHttp(candidate),
      )
      scope.stats.shadowed++
      if (real.length > 0) {
        scope.stats.mismatches++
        this.#p.mismatches.inc({ protocol: 'http', scope: scope.id })
      }
    } catch {
      // A shadow that fails is not a comparison; the real request was served already.
    }
  }
}

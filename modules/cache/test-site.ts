// Test support: a cache site driven the way the HTTP engine drives a module
// (request phase, origin or local reply, response phase, body through the taps),
// with an injected clock and a scripted origin. Used by the cache's tests only.

import { Registry } from 'prom-client'
import type { HeaderList } from '../../common/header-list.ts'
import type { HttpRequest, HttpResponse, HttpSiteModule } from '../http-module.ts'
import { context } from '../shared/http-test-support.ts'
import { ANSWER } from '../verdict.ts'
import { createCache } from './index.ts'

/** 2025-01-01T00:00:00Z, a whole second, so HTTP dates round-trip exactly. */
export const T0 = Date.UTC(2025, 0, 1)

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString()
}

export interface OriginReply {
  status: number
  headers?: HeaderList
  body?: string
  /** What the response phase sees: 'origin', or 'local' for a later module's reply. */
  source?: 'origin' | 'local'
  /** Set when a later module replaced the body before this cache's response phase. */
  presetBody?: string
}

export interface Result {
  from: 'cache' | 'origin'
  status: number
  headers: HeaderList
  body: string
  /** The request headers the origin received (origin only). */
  sent: HeaderList | undefined
}

/** An origin response as the response phase first sees it. */
export function originResponse(status: number, headers: HeaderList): HttpResponse {
  return { status, headers, source: 'origin', body: undefined, taps: [] }
}

export interface Request extends Partial<HttpRequest> {
  /** How the body stream ends: whole, or cut short. */
  finish?: 'end' | 'abort'
}

export interface TestSite {
  clock: { now: number }
  registry: Registry
  phases: HttpSiteModule
  /** One request through the cache; `origin` answers when the cache passes it on. */
  fetch(request: Request, origin: OriginReply | ((sent: HeaderList) => OriginReply)): Result
  /** The value of a metric line, e.g. `cutover_cache_lookups_total{result="hit"}`. */
  metric(line: string): Promise<number>
}

/** A site with one cache rule, or several; `type` is filled in. */
export function testSite(
  rules: Record<string, unknown> | Record<string, unknown>[] = {},
): TestSite {
  const clock = { now: T0 }
  const registry = new Registry()
  const list = (Array.isArray(rules) ? rules : [rules]).map((r) => ({ type: 'cache', ...r }))
  const phases = createCache({ now: () => clock.now }).site(
    list,
    list.map((_, i) => `http.sites[0].rules[${i}]`),
    { log: { info() {}, warn() {}, error() {} }, registry },
    0,
  )
  return {
    clock,
    registry,
    phases,
    fetch({ finish = 'end', ...request }, origin) {
      const ctx = context(request)
      if (phases.request!(ctx) === ANSWER) {
        const reply = ctx.reply!
        const response: HttpResponse = { ...reply, source: 'local', taps: [] }
        phases.response!(ctx, response)
        return { from: 'cache', ...response, body: reply.body.toString(), sent: undefined }
      }
      const o = typeof origin === 'function' ? origin(ctx.request.headers) : origin
      const sent = [...ctx.request.headers]
      const response: HttpResponse = {
        status: o.status,
        headers: [...(o.headers ?? [])],
        source: o.source ?? 'origin',
        body: o.presetBody === undefined ? undefined : Buffer.from(o.presetBody),
        taps: [],
      }
      phases.response!(ctx, response)
      if (response.body !== undefined) {
        const { status, headers } = response
        return { from: 'origin', status, headers, body: response.body.toString(), sent }
      }
      const body = Buffer.from(o.body ?? '')
      const half = body.length >> 1
      for (const tap of response.taps) {
        tap.chunk(body.subarray(0, half))
        tap.chunk(body.subarray(half))
        if (finish === 'end') tap.end()
        else tap.abort()
      }
      const { status, headers } = response
      return { from: 'origin', status, headers, body: body.toString(), sent }
    },
    async metric(line) {
      const text = await registry.metrics()
      const found = text.split('\n').find((l) => l.startsWith(`${line} `))
      return found === undefined ? Number.NaN : Number(found.slice(line.length + 1))
    },
  }
}

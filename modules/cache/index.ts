// cache: an in-memory HTTP cache for GET and HEAD that behaves as a shared cache
// per RFC 9111: it stores responses with explicit freshness, serves them with
// Age, revalidates stale ones with the origin and answers conditional requests.

import { z } from 'zod'
import {
  type HeaderList,
  headerAdd,
  headerAll,
  headerGet,
  headerRemove,
} from '../../common/header-list.ts'
import { size } from '../../common/units.ts'
import type { HttpModule, HttpRequest, HttpResponse, LocalReply, Rule } from '../http-module.ts'
import { compilePathMatch, pathMatchSchema } from '../shared/path-match.ts'
import { parseRule } from '../shared/rule-schema.ts'
import { ANSWER, NEXT } from '../verdict.ts'
import { BodyCapture } from './body-capture.ts'
import { parseCacheControl } from './cache-control.ts'
import { notModified } from './conditional.ts'
import {
  type Entry,
  type Exchange,
  keptHeaders,
  makeEntry,
  mergeHeaders,
  withBody,
} from './entry.ts'
import { currentAge, usable } from './freshness.ts'
import { cacheMetrics } from './metrics.ts'
import { CacheStore } from './store.ts'

export const NAME = 'cache'

const MiB = 1024 ** 2

const schema = z
  .strictObject({
    type: z.literal(NAME),
    maxBytes: size.default(64 * MiB).refine((n) => n > 0, { error: 'expected a size above zero' }),
    /** Default: 1 MiB, or maxBytes if that is less. */
    maxObjectSize: size.optional(),
    match: pathMatchSchema.optional(),
  })
  .refine((r) => r.maxObjectSize === undefined || r.maxObjectSize <= r.maxBytes, {
    path: ['maxObjectSize'],
    error: 'expected at most maxBytes',
  })

export interface CacheOptions {
  /** The clock in ms since the epoch: freshness is compared with Date and Expires. */
  now?: () => number
}

interface CompiledRule {
  matches: ((path: string) => string[] | undefined) | undefined
  store: CacheStore
  maxObjectSize: number
}

/** A request whose response the response phase may store or use to revalidate. */
interface Pending {
  rule: CompiledRule
  key: string
  /** The request's headers before this cache or later modules changed them. */
  requestHeaders: HeaderList
  requestTime: number
  /** The stored response being revalidated, if any. */
  stale: Entry | undefined
}

const EMPTY = Buffer.alloc(0)
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
// RFC 9110 15.4.5: what a 304 carries of the response it stands for.
const NOT_MODIFIED_FIELDS: ReadonlySet<string> = new Set([
  'cache-control',
  'content-location',
  'date',
  'etag',
  'expires',
  'last-modified',
  'vary',
])
const NOT_CACHED_BODY = Buffer.from('not in cache\n')

/** The target URI: the same path over http and https may answer differently (a redirect). */
function keyOf(request: HttpRequest): string {
  const base = `${request.protocol}://${request.host}${request.path}`
  return request.query === '' ? base : `${base}?${request.query}`
}

/** The reply for a stored response: itself with its Age, or a 304 if the client has it. */
function storedReply(entry: Entry, request: HeaderList, now: number): LocalReply {
  const age = String(Math.floor(currentAge(entry, now) / 1000))
  if (entry.status >= 200 && entry.status < 300 && notModified(request, entry)) {
    const headers: HeaderList = []
    for (let i = 0; i < entry.headers.length; i += 2) {
      if (NOT_MODIFIED_FIELDS.has(entry.headers[i].toLowerCase()))
        headers.push(entry.headers[i], entry.headers[i + 1])
    }
    headers.push('age', age)
    return { status: 304, headers, body: EMPTY }
  }
  return { status: entry.status, headers: [...entry.headers, 'age', age], body: entry.body }
}

/** The cache module, with its clock chosen by the caller. */
export function createCache(options: CacheOptions = {}): HttpModule {
  const clock = options.now ?? Date.now
  return {
    name: NAME,
    ruleTypes: [NAME],
    everywhere: { refused: 'it answers from its store instead of the legacy' },
    site(rules: readonly Rule[], where: readonly string[], env, slot) {
      const metrics = cacheMetrics(env.registry)
      const compiled: CompiledRule[] = rules.map((rule, i) => {
        const r = parseRule(schema, rule, where[i])
        return {
          matches: r.match === undefined ? undefined : compilePathMatch(r.match),
          store: new CacheStore(r.maxBytes),
          maxObjectSize: r.maxObjectSize ?? Math.min(MiB, r.maxBytes),
        }
      })
      const readBytes = (): number => compiled.reduce((sum, c) => sum + c.store.bytes, 0)
      metrics.bytes.add(readBytes)

      const ruleFor = (path: string): CompiledRule | undefined => {
        for (const r of compiled)
          if (r.matches === undefined || r.matches(path) !== undefined) return r
        return undefined
      }

      /** A 304 confirmed the stale entry: refresh it and send it instead of the 304. */
      const revalidated = (p: Pending, x: Exchange, response: HttpResponse): void => {
        const stale = p.stale!
        const merged = mergeHeaders(stale.headers, response.headers)
        const refreshed = makeEntry(x, stale.status, merged, stale.body)
        if (refreshed !== undefined) p.rule.store.set(refreshed, p.requestHeaders)
        else p.rule.store.remove(stale)
        // Not storable any more (a Set-Cookie, no-store): this client still gets it, as updated.
        const served = refreshed ?? { ...stale, headers: keptHeaders(merged) }
        const reply = storedReply(served, p.requestHeaders, x.responseTime)
        response.status = reply.status
        response.headers = reply.headers
        response.body = reply.body
      }

      return {
        close() {
          metrics.bytes.delete(readBytes)
        },
        request(ctx) {
          const request = ctx.request
          const rule = ruleFor(request.path)
          if (rule === undefined) return NEXT
          const isGet = request.method === 'GET'
          if (!isGet && request.method !== 'HEAD') {
            metrics.bypass.inc()
            return NEXT
          }
          const cc = parseCacheControl(headerAll(request.headers, 'cache-control'))
          const key = keyOf(request)
          const now = clock()
          const entry = rule.store.find(key, request.headers)
          if (entry !== undefined && usable(entry, cc, now)) {
            metrics.hit.inc()
            ctx.reply = storedReply(entry, request.headers, now)
            return ANSWER
          }
          if (cc.onlyIfCached) {
            metrics.miss.inc()
            ctx.reply = {
              status: 504,
              headers: ['content-type', 'text/plain'],
              body: NOT_CACHED_BODY,
            }
            return ANSWER
          }
          // A HEAD response has no body to store, and no-store forbids storing.
          if (!isGet || cc.noStore) {
            metrics.miss.inc()
            return NEXT
          }
          const requestHeaders = [...request.headers]
          if (
            entry !== undefined &&
            (entry.etag !== undefined || entry.lastModified !== undefined)
          ) {
            // The client's own conditions would let the origin answer 304 for a
            // response other than ours: they go to the origin as ours, and the
            // client's (kept in requestHeaders) are checked against the refreshed entry.
            headerRemove(request.headers, 'if-none-match')
            headerRemove(request.headers, 'if-modified-since')
            if (entry.etag !== undefined) headerAdd(request.headers, 'if-none-match', entry.etag)
            if (entry.lastModified !== undefined)
              headerAdd(request.headers, 'if-modified-since', entry.lastModified)
            // Counted when the origin answers: revalidated on a 304, else a miss.
            ctx.slots[slot] = { rule, key, requestHeaders, requestTime: now, stale: entry }
            return NEXT
          }
          metrics.miss.inc()
          ctx.slots[slot] = { rule, key, requestHeaders, requestTime: now, stale: undefined }
          return NEXT
        },

        response(ctx, response) {
          // Set by the request phase when the origin's response may be stored.
          const p = ctx.slots[slot] as Pending | undefined
          if (p === undefined) {
            // RFC 9111 4.4: a successful unsafe request makes what is stored for its URI stale.
            const request = ctx.request
            if (SAFE_METHODS.has(request.method) || response.source !== 'origin') return
            if (response.status < 400) ruleFor(request.path)?.store.delete(keyOf(request))
            return
          }
          if (response.source !== 'origin') return
          const x: Exchange = {
            key: p.key,
            requestHeaders: p.requestHeaders,
            requestTime: p.requestTime,
            responseTime: clock(),
          }
          if (p.stale !== undefined) {
            if (response.status === 304) {
              metrics.revalidated.inc()
              revalidated(p, x, response)
              return
            }
            metrics.miss.inc()
          }
          const entry = makeEntry(x, response.status, response.headers, EMPTY)
          if (entry === undefined) return
          const limit = p.rule.maxObjectSize
          if (response.body !== undefined) {
            if (response.body.length <= limit)
              p.rule.store.set(withBody(entry, response.body), p.requestHeaders)
            return
          }
          const length = headerGet(response.headers, 'content-length')
          if (length !== undefined && Number(length) > limit) return
          response.taps.push(new BodyCapture(p.rule.store, entry, p.requestHeaders, limit))
        },
      }
    },
  }
}

export const cacheModule: HttpModule = createCache()

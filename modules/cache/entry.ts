// A stored response and the rules for making one (RFC 9111 3, 3.5, 4.2): which
// responses may be stored, their freshness lifetime and age, and the headers a
// stored response keeps.

import { type HeaderList, headerAll, headerGet } from '../../common/header-list.ts'
import { type CacheControl, parseCacheControl, parseDelta } from './cache-control.ts'
import { opaqueTag } from './conditional.ts'
import { fieldNames, varyValues } from './vary.ts'

export interface Entry {
  readonly key: string
  readonly status: number
  /** The response's headers less those a cache must not keep or that are per message. */
  readonly headers: HeaderList
  readonly body: Buffer
  /** Request headers the response varies on (lowercase), and their values when stored. */
  readonly varyNames: readonly string[]
  readonly varyValues: readonly (string | undefined)[]
  /** When the response arrived (ms); its corrected initial age and lifetime (ms). */
  readonly responseTime: number
  readonly initialAge: number
  readonly lifetime: number
  readonly etag: string | undefined
  readonly etagOpaque: string | undefined
  readonly lastModified: string | undefined
  /** Last-Modified, or Date, in ms (NaN if neither): what If-Modified-Since compares with. */
  readonly modified: number
  /** Response no-cache: validate before every use. */
  readonly noCache: boolean
  /** must-revalidate, proxy-revalidate or s-maxage: never served stale. */
  readonly noStale: boolean
  /** Roughly what it holds in memory, for maxBytes. */
  readonly bytes: number
}

/** Statuses a response may be stored with (a subset of RFC 9110 15.1's heuristically cacheable). */
const STORABLE_STATUS: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 308, 404, 410])

// RFC 9111 3.1 and RFC 9110 7.6.1: connection-specific fields; Age is recomputed
// and Content-Length is the length of the stored body, set when it is sent.
const NOT_KEPT: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'age',
  'content-length',
])

/** The object, its arrays and its map slot, beyond the body and header text. */
const ENTRY_OVERHEAD = 256

/** `headers` less the fields a cache does not keep, including those Connection names. */
export function keptHeaders(headers: HeaderList): HeaderList {
  const connection = headerAll(headers, 'connection')
  const named = connection.length === 0 ? undefined : new Set(fieldNames(connection))
  const out: HeaderList = []
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i].toLowerCase()
    if (NOT_KEPT.has(name) || named?.has(name)) continue
    out.push(headers[i], headers[i + 1])
  }
  return out
}

/**
 * The stored response's headers updated with a 304's (RFC 9111 3.2), to be
 * filtered again by makeEntry (which also reads the 304's Date and Age).
 */
export function mergeHeaders(stored: HeaderList, update: HeaderList): HeaderList {
  const replaced = new Set<string>()
  for (let i = 0; i < update.length; i += 2) {
    const name = update[i].toLowerCase()
    // The body is the stored one: fields describing it stay as they were.
    if (!name.startsWith('content-')) replaced.add(name)
  }
  const out: HeaderList = []
  for (let i = 0; i < stored.length; i += 2) {
    if (!replaced.has(stored[i].toLowerCase())) out.push(stored[i], stored[i + 1])
  }
  for (let i = 0; i < update.length; i += 2) {
    if (replaced.has(update[i].toLowerCase())) out.push(update[i], update[i + 1])
  }
  return out
}

/** A header's HTTP-date in ms, or `otherwise` when it is absent; NaN when it is not a date. */
function dateOf(headers: HeaderList, name: string, otherwise: number): number {
  const value = headerGet(headers, name)
  return value === undefined ? otherwise : Date.parse(value)
}

/**
 * The freshness lifetime in ms a response's sender gave it (RFC 9111 4.2.1):
 * s-maxage, else max-age, else Expires − Date; undefined when it gave none
 * (this cache does not guess one).
 */
function explicitLifetime(
  cc: CacheControl,
  headers: HeaderList,
  responseTime: number,
): number | undefined {
  if (cc.sMaxage !== undefined) return cc.sMaxage * 1000
  if (cc.maxAge !== undefined) return cc.maxAge * 1000
  const expires = headerGet(headers, 'expires')
  if (expires === undefined) return undefined
  const lifetime = Date.parse(expires) - dateOf(headers, 'date', responseTime)
  // An invalid Expires (often "0" or "-1") means already expired (RFC 9111 5.3).
  return Number.isNaN(lifetime) ? 0 : Math.max(lifetime, 0)
}

/** The response's age when it arrived, in ms (RFC 9111 4.2.3). */
function initialAge(headers: HeaderList, requestTime: number, responseTime: number): number {
  const date = dateOf(headers, 'date', responseTime)
  const apparent = Number.isNaN(date) ? 0 : Math.max(0, responseTime - date)
  const ageField = headerGet(headers, 'age')
  const age = ageField === undefined ? 0 : (parseDelta(ageField.trim()) ?? 0)
  return Math.max(apparent, age * 1000 + (responseTime - requestTime))
}

/** What storing a response depends on besides the response itself. */
export interface Exchange {
  key: string
  /** The request as the cache saw it: Vary values and Authorization come from here. */
  requestHeaders: HeaderList
  requestTime: number
  responseTime: number
}

/**
 * The entry for a response, or undefined when a shared cache must not (or this
 * one will not) store it: RFC 9111 3 and 3.5, explicit freshness only, no
 * Set-Cookie (a shared cache would hand one client's cookie to others).
 * `headers` are the response's as received; `body` may be filled in later.
 */
export function makeEntry(
  x: Exchange,
  status: number,
  headers: HeaderList,
  body: Buffer,
): Entry | undefined {
  if (!STORABLE_STATUS.has(status)) return undefined
  const cc = parseCacheControl(headerAll(headers, 'cache-control'))
  if (cc.noStore || cc.private) return undefined
  if (headerGet(headers, 'set-cookie') !== undefined) return undefined
  const vary = fieldNames(headerAll(headers, 'vary'))
  if (vary.includes('*')) return undefined
  if (
    headerGet(x.requestHeaders, 'authorization') !== undefined &&
    cc.sMaxage === undefined &&
    !cc.public &&
    !cc.mustRevalidate
  ) {
    return undefined
  }
  const lifetime = explicitLifetime(cc, headers, x.responseTime)
  const etag = headerGet(headers, 'etag')
  const lastModified = headerGet(headers, 'last-modified')
  // Stale from the start and nothing to revalidate with: it could never be used.
  if (
    lifetime === undefined ||
    (lifetime === 0 && etag === undefined && lastModified === undefined)
  )
    return undefined
  const kept = keptHeaders(headers)
  let bytes = ENTRY_OVERHEAD + x.key.length + body.length
  for (const field of kept) bytes += field.length
  return {
    key: x.key,
    status,
    headers: kept,
    body,
    varyNames: vary,
    varyValues: varyValues(x.requestHeaders, vary),
    responseTime: x.responseTime,
    initialAge: initialAge(headers, x.requestTime, x.responseTime),
    lifetime,
    etag,
    etagOpaque: etag === undefined ? undefined : opaqueTag(etag),
    lastModified,
    modified: dateOf(headers, 'last-modified', dateOf(headers, 'date', Number.NaN)),
    noCache: cc.noCache,
    noStale: cc.mustRevalidate || cc.proxyRevalidate || cc.sMaxage !== undefined,
    bytes,
  }
}

/** `entry` with `body`, once it has arrived. */
export function withBody(entry: Entry, body: Buffer): Entry {
  return { ...entry, body, bytes: entry.bytes + body.length - entry.body.length }
}

// Cache-Control directives (RFC 9111 5.2) of a request or a response, read once
// per message with a small scanner: no regex, no split.

/** The directives a shared cache acts on; absent ones are false or undefined. */
export interface CacheControl {
  noStore: boolean
  /** Qualified `no-cache="field"` is taken as plain no-cache: always revalidate. */
  noCache: boolean
  /** Qualified `private="field"` is taken as plain private: never stored. */
  private: boolean
  public: boolean
  mustRevalidate: boolean
  proxyRevalidate: boolean
  onlyIfCached: boolean
  /** Seconds. An invalid value reads as 0 (stale), the safe side of RFC 9111 4.2.1. */
  maxAge: number | undefined
  sMaxage: number | undefined
  /** Seconds; Infinity for `max-stale` without a value. */
  maxStale: number | undefined
  minFresh: number | undefined
}

/** For messages without Cache-Control: shared, never written to. */
export const NO_DIRECTIVES: Readonly<CacheControl> = Object.freeze({
  noStore: false,
  noCache: false,
  private: false,
  public: false,
  mustRevalidate: false,
  proxyRevalidate: false,
  onlyIfCached: false,
  maxAge: undefined,
  sMaxage: undefined,
  maxStale: undefined,
  minFresh: undefined,
})

// RFC 9111 1.2.2: a delta-seconds too large to hold is taken as 2^31.
const MAX_DELTA = 2147483648

/** delta-seconds (digits only), or undefined. */
export function parseDelta(value: string): number | undefined {
  if (value.length === 0) return undefined
  let n = 0
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48
    if (d < 0 || d > 9) return undefined
    n = Math.min(n * 10 + d, MAX_DELTA)
  }
  return n
}

const COMMA = 44
const EQUALS = 61
const QUOTE = 34
const BACKSLASH = 92

function isSpace(c: number): boolean {
  return c === 32 || c === 9
}

/** The directives in every Cache-Control field line of a message (first occurrence wins). */
export function parseCacheControl(lines: readonly string[]): CacheControl {
  if (lines.length === 0) return NO_DIRECTIVES
  const cc: CacheControl = { ...NO_DIRECTIVES }
  for (const line of lines) {
    let i = 0
    while (i < line.length) {
      let c = line.charCodeAt(i)
      if (c === COMMA || isSpace(c)) {
        i++
        continue
      }
      const nameStart = i
      while (i < line.length) {
        c = line.charCodeAt(i)
        if (c === COMMA || c === EQUALS || isSpace(c)) break
        i++
      }
      const name = line.slice(nameStart, i).toLowerCase()
      while (i < line.length && isSpace(line.charCodeAt(i))) i++
      let value: string | undefined
      if (line.charCodeAt(i) === EQUALS) {
        i++
        while (i < line.length && isSpace(line.charCodeAt(i))) i++
        if (line.charCodeAt(i) === QUOTE) {
          value = ''
          for (i++; i < line.length && line.charCodeAt(i) !== QUOTE; i++) {
            if (line.charCodeAt(i) === BACKSLASH) i++
            value += line[i] ?? ''
          }
          i++
        } else {
          const valueStart = i
          while (i < line.length && line.charCodeAt(i) !== COMMA && !isSpace(line.charCodeAt(i)))
            i++
          value = line.slice(valueStart, i)
        }
      }
      apply(cc, name, value)
    }
  }
  return cc
}

// Valued directives keep their first occurrence; repeating a flag changes nothing.
function apply(cc: CacheControl, name: string, value: string | undefined): void {
  switch (name) {
    case 'no-store':
      cc.noStore = true
      break
    case 'no-cache':
      cc.noCache = true
      break
    case 'private':
      cc.private = true
      break
    case 'public':
      cc.public = true
      break
    case 'must-revalidate':
      cc.mustRevalidate = true
      break
    case 'proxy-revalidate':
      cc.proxyRevalidate = true
      break
    case 'only-if-cached':
      cc.onlyIfCached = true
      break
    case 'max-age':
      if (cc.maxAge === undefined) cc.maxAge = parseDelta(value ?? '') ?? 0
      break
    case 's-maxage':
      if (cc.sMaxage === undefined) cc.sMaxage = parseDelta(value ?? '') ?? 0
      break
    case 'max-stale':
      if (cc.maxStale === undefined)
        cc.maxStale = value === undefined ? Number.POSITIVE_INFINITY : parseDelta(value)
      break
    case 'min-fresh':
      if (cc.minFresh === undefined) cc.minFresh = parseDelta(value ?? '')
      break
  }
}

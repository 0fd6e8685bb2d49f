// The request target as routing and rules see it: the host (from an
// absolute-form target's authority before the Host field, RFC 9112 section
// 3.2.2), and the path percent-decoded with dot segments and repeated slashes
// removed, as nginx matches locations, so `/%61dmin` and `/x/../admin` meet the
// rules for `/admin`. What is forwarded keeps the path as the client sent it.

export interface Target {
  /** Host without port or trailing dot, lowercase; '' when there is none (HTTP/1.0). */
  host: string
  /** The normalised path, for matching. */
  path: string
  /** The query without `?`. */
  query: string
  /** The origin-form target to send upstream: the path as sent, and the query. */
  forward: string
  /** Set when the target was in absolute form: the Host to send upstream. */
  authority: string | undefined
}

const HOST =
  /^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?\.?$|^\[[0-9a-f:.]+\]$/

/** Parses the target and Host; a string says why the request is malformed (400). */
export function parseTarget(url: string, hostHeader: string | undefined): Target | string {
  let rest = url
  let authority: string | undefined
  if (!url.startsWith('/')) {
    const m = /^https?:\/\/([^/?#]*)(.*)$/i.exec(url)
    if (!m)
      return `request target ${JSON.stringify(url.slice(0, 100))} is neither a path nor an absolute URL`
    authority = m[1]
    rest = m[2] === '' ? '/' : m[2]
    if (!rest.startsWith('/')) return 'an absolute URL target must have a path starting with /'
  }
  const hostField = authority ?? hostHeader ?? ''
  const host = hostOf(hostField)
  if (host === undefined)
    return `Host ${JSON.stringify(hostField.slice(0, 100))} is not a host name`
  const q = rest.indexOf('?')
  const rawPath = q < 0 ? rest : rest.slice(0, q)
  const path = normalizePath(rawPath)
  if (path === undefined)
    return `path ${JSON.stringify(rawPath.slice(0, 100))} has a bad percent-encoding`
  return { host, path, query: q < 0 ? '' : rest.slice(q + 1), forward: rest, authority }
}

/** Host values seen lately and the host each names: clients send the same few, and checking one is a regex. */
const seenHosts = new Map<string, string>()
const MAX_SEEN_HOSTS = 1024
/** Longer values are not kept: a name is at most 253 octets, so these are made up. */
const MAX_SEEN_LENGTH = 300

/** The host part of a Host value, lowercase, without port or final dot; undefined when it is not a host. */
function hostOf(value: string): string | undefined {
  const seen = seenHosts.get(value)
  if (seen !== undefined) return seen
  const host = checkedHost(value)
  if (host !== undefined && value.length <= MAX_SEEN_LENGTH) {
    if (seenHosts.size >= MAX_SEEN_HOSTS) seenHosts.clear()
    seenHosts.set(value, host)
  }
  return host
}

function checkedHost(value: string): string | undefined {
  if (value === '') return ''
  const colon = value.startsWith('[') ? value.indexOf(']:') + 1 : value.lastIndexOf(':')
  const name = (colon > 0 ? value.slice(0, colon) : value).toLowerCase()
  if (colon > 0 && !/^\d{1,5}$/.test(value.slice(colon + 1))) return undefined
  if (!HOST.test(name)) return undefined
  return name.endsWith('.') ? name.slice(0, -1) : name
}

/** Percent-decoded, dot segments removed (RFC 3986 section 5.2.4), repeated slashes merged. */
function normalizePath(raw: string): string | undefined {
  let decoded = raw
  if (raw.includes('%')) {
    try {
      decoded = decodeURIComponent(raw)
    } catch {
      return undefined
    }
    if (decoded.includes('\0')) return undefined
  }
  if (!decoded.includes('/.') && !decoded.includes('//')) return decoded
  const out: string[] = []
  const segments = decoded.split('/')
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]
    if (s === '..') out.pop()
    else if (s !== '.' && (s !== '' || i === segments.length - 1)) out.push(s)
  }
  const last = segments[segments.length - 1]
  if ((last === '.' || last === '..') && out[out.length - 1] !== '') out.push('')
  return `/${out.join('/')}`
}

/** `raw` with its Host field(s) replaced by `authority` (an absolute-form target's). */
export function withHost(raw: readonly string[], authority: string): string[] {
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].toLowerCase() !== 'host') out.push(raw[i], raw[i + 1])
  out.push('Host', authority)
  return out
}

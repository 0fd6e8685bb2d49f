// The client behind trusted proxies: from a trusted peer, the rightmost address
// in Forwarded (RFC 7239 for=, when present) or X-Forwarded-For that is not
// itself trusted, and the scheme the hop says the client used. From anyone
// else, the peer is the client and its headers say nothing.

import { type HeaderList, headerAll } from '../../common/header-list.ts'
import { addressInto } from '../../dns/ip.ts'
import type { TrustedProxies } from './trusted-proxies.ts'

export interface ClientAddress {
  /** The client, as far as trusted hops vouch for it: what stickiness, access rules and rate limits see. */
  readonly ip: string
  /** Who this hop heard it from (the socket's peer, or what a PROXY header named): X-Forwarded-For gets it. */
  readonly peer: string
  /** The scheme a trusted hop says the client used; undefined: this hop's own. */
  readonly proto: 'http' | 'https' | undefined
}

/** The client of a request with `headers` received from `peer`. */
export function clientAddress(
  headers: HeaderList,
  peer: string,
  trusted: TrustedProxies,
): ClientAddress {
  if (trusted.none || !trusted.has(peer)) return { ip: peer, peer, proto: undefined }
  const forwarded = headerAll(headers, 'forwarded')
  if (forwarded.length > 0) {
    const elements = forwardedElements(forwarded.join(','))
    if (elements === undefined) return { ip: peer, peer, proto: undefined }
    const fors = elements.map((e) => e.for ?? '')
    return { ip: walk(fors, peer, trusted), peer, proto: scheme(elements.at(-1)?.proto) }
  }
  const entries = headerAll(headers, 'x-forwarded-for').join(',')
  const ip = entries.length === 0 ? peer : walk(entries.split(','), peer, trusted)
  const protos = headerAll(headers, 'x-forwarded-proto')
  return { ip, peer, proto: scheme(protos.at(-1)?.split(',').at(-1)) }
}

/**
 * From the right: each trusted address hands over to the one before it; the
 * first one not trusted is the client. An entry that is not an address
 * (`unknown`, an obfuscated `_name`, garbage) ends the walk at the hop that wrote it.
 */
function walk(entries: readonly string[], peer: string, trusted: TrustedProxies): string {
  let client = peer
  for (let i = entries.length - 1; i >= 0; i--) {
    const address = nodeAddress(entries[i])
    if (address === undefined) return client
    client = address
    if (!trusted.has(address)) return client
  }
  return client
}

const scratch = new Uint8Array(16)

/** The address in a node: `192.0.2.1`, `192.0.2.1:80`, `"[2001:db8::1]:4711"`, `2001:db8::1`; undefined for anything else. */
export function nodeAddress(node: string): string | undefined {
  let text = node.trim()
  if (text.length > 1 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1)
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0 || (close + 1 < text.length && text[close + 1] !== ':')) return undefined
    text = text.slice(1, close)
  } else {
    const colon = text.indexOf(':')
    // One colon after a dotted quad is a port; several colons are IPv6.
    if (colon > 0 && text.indexOf(':', colon + 1) < 0) text = text.slice(0, colon)
  }
  return addressInto(text, scratch) === 0 ? undefined : text
}

function scheme(value: string | undefined): 'http' | 'https' | undefined {
  const v = value?.trim().toLowerCase()
  return v === 'http' || v === 'https' ? v : undefined
}

interface ForwardedElement {
  for?: string
  proto?: string
}

/**
 * The elements of a Forwarded field value (RFC 7239 section 4): `a=b;c="d", ...`
 * with quoted strings (and their backslash escapes); undefined when it does not parse.
 */
export function forwardedElements(value: string): ForwardedElement[] | undefined {
  const out: ForwardedElement[] = []
  let element: ForwardedElement = {}
  let i = 0
  const n = value.length
  for (;;) {
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++
    const eq = value.indexOf('=', i)
    if (eq < 0) return undefined
    const name = value.slice(i, eq).trim().toLowerCase()
    if (name.length === 0) return undefined
    i = eq + 1
    let pair: string
    if (value[i] === '"') {
      let text = ''
      for (i++; i < n && value[i] !== '"'; i++)
        text += value[i] === '\\' && i + 1 < n ? value[++i] : value[i]
      if (i >= n) return undefined
      i++
      pair = text
    } else {
      const start = i
      while (i < n && value[i] !== ';' && value[i] !== ',') i++
      pair = value.slice(start, i).trim()
    }
    if (name === 'for') element.for = pair
    else if (name === 'proto') element.proto = pair
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++
    if (i >= n) break
    if (value[i] === ',') {
      out.push(element)
      element = {}
    } else if (value[i] !== ';') return undefined
    i++
  }
  out.push(element)
  return out
}

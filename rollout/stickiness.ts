// Stickiness keys: what a request is hashed by. Client address, client subnet
// (prefix lengths per family), the EDNS Client Subnet a resolver sends for its
// user, the query name, the Host, or a named header; read without allocating
// on the common paths (IPv4 is parsed by hand into a reused buffer).

import type { QueryView } from '../dns/query-view.ts'
import { type HeaderList, headerGet } from '../modules/header-list.ts'
import { hashBytes, hashString } from './bucket.ts'
import type { Scope } from './scope.ts'

const address = new Uint8Array(16)

/** Parses an IPv4 dotted quad (or IPv4-mapped IPv6) into `address`; 4, or 0 when it is not one. */
function ipv4Into(text: string): number {
  let start = text.startsWith('::ffff:') ? 7 : 0
  let part = 0
  for (let octet = 0; octet < 4; octet++) {
    let v = 0
    let digits = 0
    for (; start < text.length; start++) {
      const c = text.charCodeAt(start)
      if (c === 0x2e) break
      if (c < 0x30 || c > 0x39 || ++digits > 3) return 0
      v = v * 10 + (c - 0x30)
    }
    if (digits === 0 || v > 255 || octet < 3 !== start < text.length) return 0
    address[part++] = v
    start++
  }
  return 4
}

const groups = new Uint16Array(8)

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  const l = c | 0x20
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1
}

/** Parses IPv6 text (with `::`, without a zone or dotted tail) into `address`; 16, or 0 when it is not one. */
function ipv6Into(text: string): number {
  const n = text.length
  let i = 0
  let count = 0
  let gap = -1
  if (text.startsWith('::')) {
    gap = 0
    i = 2
  }
  while (i < n) {
    let v = 0
    let digits = 0
    for (
      let d = hexDigit(text.charCodeAt(i));
      d >= 0 && i < n;
      d = hexDigit(text.charCodeAt(++i))
    ) {
      if (++digits > 4) return 0
      v = v * 16 + d
    }
    if (digits === 0 || count === 8) return 0
    groups[count++] = v
    if (i === n) break
    if (text.charCodeAt(i) !== 0x3a) return 0
    i++
    if (i < n && text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return 0
      gap = count
      i++
    } else if (i === n) {
      return 0
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return 0
  const shift = 8 - count
  for (let g = 0, out = 0; out < 8; out++) {
    const v = gap >= 0 && out >= gap && out < gap + shift ? 0 : groups[g++]
    address[out * 2] = v >> 8
    address[out * 2 + 1] = v & 0xff
  }
  return 16
}

/** The client's address masked to its subnet, hashed; the whole address string if it does not parse. */
function subnetHash(seed: number, client: string, v4: number, v6: number): number {
  let length = ipv4Into(client)
  let prefix = v4
  if (length === 0) {
    length = ipv6Into(client)
    prefix = v6
    if (length === 0) return hashString(seed, client)
  }
  return hashBytes(seed ^ length, maskInPlace(length, prefix), 0, length)
}

function maskInPlace(length: number, prefix: number): Uint8Array {
  for (let i = 0; i < length; i++) {
    const bits = prefix - i * 8
    address[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff
  }
  return address
}

/** Hash of the EDNS Client Subnet address (RFC 7871), cut to the configured prefix; -1 when absent or bad. */
function ecsHash(seed: number, query: Uint8Array, view: QueryView, v4: number, v6: number): number {
  const at = view.ecsOffset
  if (at < 0) return -1
  const len = (query[at - 2] << 8) | query[at - 1]
  if (len < 4) return -1
  const family = (query[at] << 8) | query[at + 1]
  const source = query[at + 2]
  // Source prefix 0: the resolver asks us not to use the client's network (RFC 7871 section 7.1.2).
  if (source === 0) return -1
  const size = family === 1 ? 4 : family === 2 ? 16 : 0
  if (size === 0 || len - 4 > size) return -1
  address.fill(0)
  for (let i = 0; i < len - 4; i++) address[i] = query[at + 4 + i]
  return hashBytes(seed ^ size, maskInPlace(size, Math.min(source, size === 4 ? v4 : v6)), 0, size)
}

/** A client address as one key whatever the socket family: `::ffff:192.0.2.7` is `192.0.2.7`. */
function clientHash(seed: number, client: string): number {
  return client.charCodeAt(0) === 0x3a && client.startsWith('::ffff:') && client.includes('.')
    ? hashString(seed, client.slice(7))
    : hashString(seed, client)
}

/** The stickiness hash of a DNS query from `client`. */
export function dnsKeyHash(
  scope: Scope,
  query: Uint8Array,
  view: QueryView,
  client: string,
): number {
  const s = scope.stickiness
  switch (s.kind) {
    case 'client-ip':
      return clientHash(scope.seed, client)
    case 'qname':
      return Math.imul(scope.seed ^ view.suffixHash[0], 0x01000193)
    case 'ecs': {
      const h = ecsHash(scope.seed, query, view, s.v4, s.v6)
      return h === -1 ? subnetHash(scope.seed, client, s.v4, s.v6) : h
    }
    case 'client-subnet':
      return subnetHash(scope.seed, client, s.v4, s.v6)
    default:
      // Host and header keys have no meaning in DNS; config validation keeps them out.
      return clientHash(scope.seed, client)
  }
}

/** The stickiness hash of an HTTP request for `host` from `client`. */
export function httpKeyHash(
  scope: Scope,
  host: string,
  headers: HeaderList,
  client: string,
): number {
  const s = scope.stickiness
  switch (s.kind) {
    case 'host':
      return hashString(scope.seed, host)
    case 'header': {
      const v = headerGet(headers, s.name)
      // Without the header, the request sticks by its client like any other.
      return v === undefined ? clientHash(scope.seed, client) : hashString(scope.seed ^ 1, v)
    }
    case 'client-subnet':
    case 'ecs':
      return subnetHash(scope.seed, client, s.v4, s.v6)
    default:
      return clientHash(scope.seed, client)
  }
}

// Stickiness keys: what a request is hashed by. Client address, client subnet
// (prefix lengths per family), the EDNS Client Subnet a resolver sends for its
// user, the query name, the Host, or a named header; read without allocating
// on the common paths (addresses are parsed into a reused buffer).

import { type HeaderList, headerGet } from '../common/header-list.ts'
import { addressInto } from '../dns/ip.ts'
import type { QueryView } from '../dns/query-view.ts'
import { hashBytes, hashString } from './bucket.ts'
import type { Scope } from './scope.ts'

const address = new Uint8Array(16)

/** The client's address masked to its subnet, hashed; the whole address string if it does not parse. */
function subnetHash(seed: number, client: string, v4: number, v6: number): number {
  const length = addressInto(client, address)
  if (length === 0) return hashString(seed, client)
  return hashBytes(seed ^ length, maskInPlace(length, length === 4 ? v4 : v6), 0, length)
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

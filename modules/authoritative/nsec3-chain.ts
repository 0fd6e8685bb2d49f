// A signed zone's NSEC3 chain (RFC 5155), kept beside its names: the records in
// hash order, and the hashing that finds the one matching or covering a name.
// A name is hashed as the zone's NSEC3PARAM says (SHA-1, salt, iterations).

import { hash } from 'node:crypto'
import { Type } from '../../dns/constants.ts'
import { base32hexDecode } from '../../dns/rdata-forms/base32hex.ts'
import type { RRset, Zone } from './zone.ts'

/** One NSEC3 RRset of the chain: its owner and the hash its first label spells. */
export interface Nsec3Entry {
  owner: Buffer
  hash: Buffer
  rrset: RRset
}

export interface Nsec3Chain {
  salt: Buffer
  iterations: number
  /** In hash order. */
  entries: Nsec3Entry[]
}

/** The zone's NSEC3 chain, made when first needed; undefined when it has none. */
export function nsec3Chain(zone: Zone): Nsec3Chain | undefined {
  if (zone.nsec3Chain) return zone.nsec3Chain
  const param = zone.apex.rrsets.get(Type.NSEC3PARAM)?.rdatas[0].wire
  if (param === undefined || zone.nsec3Sets === undefined || param[0] !== 1) return undefined
  const entries: Nsec3Entry[] = []
  for (const { owner, rrset } of zone.nsec3Sets.values()) {
    const decoded = base32hexDecode(owner.subarray(1, 1 + owner[0]).toString('latin1'))
    if (decoded !== undefined) entries.push({ owner, hash: decoded, rrset })
  }
  entries.sort((a, b) => Buffer.compare(a.hash, b.hash))
  zone.nsec3Chain = {
    iterations: param.readUInt16BE(2),
    salt: Buffer.from(param.subarray(5, 5 + param[4])),
    entries,
  }
  return zone.nsec3Chain
}

/** Lowercase copies of names being hashed are made here: one at a time, synchronously. */
const scratch = Buffer.alloc(255)

/** The NSEC3 hash of the uncompressed name at `start` in `buf` (RFC 5155 section 5). */
export function nsec3Hash(chain: Nsec3Chain, buf: Uint8Array, start: number): Buffer {
  let end = start
  while (buf[end] !== 0) end += buf[end] + 1
  const length = end + 1 - start
  for (let i = 0; i < length; i++) {
    const c = buf[start + i]
    scratch[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c
  }
  let digest = hash('sha1', Buffer.concat([scratch.subarray(0, length), chain.salt]), 'buffer')
  for (let i = 0; i < chain.iterations; i++)
    digest = hash('sha1', Buffer.concat([digest, chain.salt]), 'buffer')
  return digest
}

/** The entry whose hash is `digest`, if any. */
export function matchingEntry(chain: Nsec3Chain, digest: Buffer): Nsec3Entry | undefined {
  const entry = chain.entries[lastAtOrBefore(chain, digest)]
  return entry?.hash.equals(digest) ? entry : undefined
}

/** The entry that covers `digest`: the last before it, or the last of all (the chain wraps around). */
export function coveringEntry(chain: Nsec3Chain, digest: Buffer): Nsec3Entry {
  let i = lastAtOrBefore(chain, digest)
  if (i >= 0 && chain.entries[i].hash.equals(digest)) i--
  return chain.entries[i >= 0 ? i : chain.entries.length - 1]
}

/** Index of the last entry whose hash is at most `digest` (-1: none). */
function lastAtOrBefore(chain: Nsec3Chain, digest: Buffer): number {
  let low = -1
  let high = chain.entries.length - 1
  while (low < high) {
    const mid = (low + high + 1) >> 1
    if (Buffer.compare(chain.entries[mid].hash, digest) <= 0) low = mid
    else high = mid - 1
  }
  return low
}

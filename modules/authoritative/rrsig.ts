// RRSIG records made here (RFC 4034 section 3): the signature over an RRset in
// its canonical form (section 6), by one of the zone's keys (signing-keys.ts).

import { sign } from 'node:crypto'
import { Type } from '../../dns/constants.ts'
import { labelCount, lowerWire } from '../../dns/name.ts'
import { type Rdata, rdataFromWire } from '../../dns/rdata.ts'
import { FIELDS, walk } from '../../dns/rdata-fields.ts'
import type { SigningKey } from './signing-keys.ts'

/** Types whose rdata names are lowercased in canonical form (RFC 4034 section 6.2, less NSEC and RRSIG per RFC 6840 section 5.1). */
const LOWERCASED = new Set<number>([
  Type.NS,
  Type.MD,
  Type.MF,
  Type.CNAME,
  Type.SOA,
  Type.MB,
  Type.MG,
  Type.MR,
  Type.PTR,
  Type.MINFO,
  Type.MX,
  Type.RP,
  Type.AFSDB,
  Type.RT,
  Type.PX,
  Type.NAPTR,
  Type.KX,
  Type.SRV,
  Type.DNAME,
])

/** `wire` with the names in it lowercased, for types whose canonical form says so. */
export function canonicalRdata(type: number, wire: Buffer): Buffer {
  const fields = FIELDS.get(type)
  if (!LOWERCASED.has(type) || fields === undefined) return wire
  const out = Buffer.from(wire)
  walk(
    fields,
    out,
    0,
    out.length,
    (field, at, next) => {
      if (field === 'name' || field === 'plain-name')
        lowerWire(out.subarray(at, next)).copy(out, at)
    },
    true,
  )
  return out
}

export interface Validity {
  /** Seconds since the epoch. */
  inception: number
  expiration: number
}

/**
 * The RRSIG by `key` over the RRset `type` at `owner` with `ttl`, signed by the
 * zone at `signer` (RFC 4034 section 3.1.8.1: the RRSIG's fields, then each
 * record in canonical form and order).
 */
export function signRRset(
  owner: Buffer,
  type: number,
  ttl: number,
  rdatas: readonly Rdata[],
  signer: Buffer,
  key: SigningKey,
  validity: Validity,
): Rdata {
  const wildcard = owner[0] === 1 && owner[1] === 0x2a
  const head = Buffer.alloc(18)
  head.writeUInt16BE(type, 0)
  head[2] = key.algorithm
  head[3] = labelCount(owner) - (wildcard ? 1 : 0)
  head.writeUInt32BE(ttl, 4)
  head.writeUInt32BE(validity.expiration >>> 0, 8)
  head.writeUInt32BE(validity.inception >>> 0, 12)
  head.writeUInt16BE(key.tag, 16)
  const fields = Buffer.concat([head, lowerWire(signer)])

  const name = lowerWire(owner)
  const fixed = Buffer.alloc(10)
  fixed.writeUInt16BE(type, 0)
  fixed.writeUInt16BE(1, 2)
  fixed.writeUInt32BE(ttl, 4)
  const datas = [...new Set(rdatas.map((r) => canonicalRdata(type, r.wire).toString('latin1')))]
    .map((d) => Buffer.from(d, 'latin1'))
    .sort(Buffer.compare)
  const parts: Buffer[] = [fields]
  for (const data of datas) {
    const record = Buffer.from(fixed)
    record.writeUInt16BE(data.length, 8)
    parts.push(name, record, data)
  }
  const signature = sign(key.digest, Buffer.concat(parts), {
    key: key.key,
    dsaEncoding: 'ieee-p1363',
  })
  return rdataFromWire(Type.RRSIG, Buffer.concat([fields, signature]))
}

// How long a legacy reply may be served from the cache, and what to count down:
// positive answers live as long as their shortest TTL; negative ones (NXDOMAIN,
// NODATA) as the SOA says (RFC 2308 section 5); SERVFAIL briefly; the rest not at all.

import { Flag, Rcode, Type } from '../../dns/constants.ts'
import { Section, walkRecords } from '../../dns/record-walk.ts'

export interface Cacheable {
  /** Seconds the reply may be served. */
  ttl: number
  /** The reply with its OPT record's options removed (a cookie belongs to one client). */
  response: Buffer
  ttlOffsets: Uint16Array
  ttls: Uint32Array
}

/** What to store for `reply`, or undefined when it must not be cached. */
export function cacheable(
  reply: Buffer,
  servfailTtl: number,
  maxTtl: number,
): Cacheable | undefined {
  if (reply.length < 12 || reply[2] & (Flag.TC >> 8)) return undefined
  const rcode = reply[3] & 0xf
  if (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN && rcode !== Rcode.SERVFAIL)
    return undefined
  const answers = (reply[6] << 8) | reply[7]
  const offsets: number[] = []
  const ttls: number[] = []
  let minTtl = Number.MAX_SAFE_INTEGER
  let negativeTtl = -1
  let opt: { start: number; end: number } | undefined
  const ok = walkRecords(reply, (r) => {
    if (r.type === Type.OPT) {
      opt = { start: r.rdataStart, end: r.rdataEnd }
      return
    }
    const ttl = reply.readUInt32BE(r.ttlOffset)
    offsets.push(r.ttlOffset)
    ttls.push(ttl)
    minTtl = Math.min(minTtl, ttl)
    if (r.section === Section.AUTHORITY && r.type === Type.SOA && r.rdataEnd - r.rdataStart >= 20) {
      negativeTtl = Math.min(ttl, reply.readUInt32BE(r.rdataEnd - 4))
    }
  })
  if (!ok) return undefined
  let ttl: number
  if (rcode === Rcode.SERVFAIL) ttl = servfailTtl
  else if (rcode === Rcode.NXDOMAIN || answers === 0)
    ttl = negativeTtl < 0 ? -1 : Math.min(negativeTtl, minTtl)
  else ttl = minTtl
  ttl = Math.min(ttl, maxTtl)
  if (!(ttl > 0)) return undefined

  let response: Buffer
  if (opt && opt.end > opt.start) {
    // Cutting bytes out of the middle would break compression pointers behind
    // them; servers put OPT last (BIND, Unbound), and a reply that does not is
    // simply not cached.
    if (opt.end !== reply.length) return undefined
    response = Buffer.from(reply.subarray(0, opt.start))
    response.writeUInt16BE(0, opt.start - 2)
  } else {
    response = Buffer.from(reply)
  }

  return { ttl, response, ttlOffsets: Uint16Array.from(offsets), ttls: Uint32Array.from(ttls) }
}

// cacheable(): how long a legacy reply may be served, which TTL fields to count
// down, and the stored copy with the OPT record's options removed.

import { describe, expect, it } from 'vitest'
import { EdnsOption, Flag, Rcode, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage, writeOpt } from '../../dns/message.ts'
import { WireWriter } from '../../dns/wire-writer.ts'
import { cacheable } from './lifetime.ts'
import { type Rr, rr, soa, writeRr } from './record-test-support.ts'

/** A reply to `www.example.test A` with the given sections; `opt` adds an OPT last. */
function reply(
  rcode: number,
  sections: { an?: Rr[]; ns?: Rr[]; ar?: Rr[]; opt?: Buffer; flags?: number },
): Buffer {
  const q = buildQuery({ id: 9, name: 'www.example.test', type: Type.A })
  const an = sections.an ?? []
  const ns = sections.ns ?? []
  const ar = sections.ar ?? []
  const w = new WireWriter(0)
  w.u16(9)
  w.u16(Flag.QR | Flag.RD | Flag.RA | (sections.flags ?? 0) | rcode)
  w.u16(1)
  w.u16(an.length)
  w.u16(ns.length)
  w.u16(ar.length + (sections.opt ? 1 : 0))
  w.bytes(q.subarray(12))
  for (const r of [...an, ...ns, ...ar]) writeRr(w, r)
  if (sections.opt) writeOpt(w, 1232, false, 0, [{ code: EdnsOption.COOKIE, data: sections.opt }])
  return w.take()
}

const A = (ttl: number, ip = '192.0.2.1'): Rr => rr('www.example.test.', Type.A, ttl, ip)

describe('cacheable', () => {
  it('keeps a positive reply for its smallest TTL and lists every TTL field', () => {
    const r = reply(Rcode.NOERROR, {
      an: [A(300), A(200, '192.0.2.2')],
      ns: [rr('example.test.', Type.NS, 3600, 'ns1.example.test.')],
      ar: [rr('ns1.example.test.', Type.A, 100, '192.0.2.53')],
    })
    const c = cacheable(r, 5, 86_400)!
    expect(c.ttl).toBe(100)
    expect(Array.from(c.ttls)).toEqual([300, 200, 3600, 100])
    for (let i = 0; i < c.ttls.length; i++)
      expect(c.response.readUInt32BE(c.ttlOffsets[i])).toBe(c.ttls[i])
    expect(c.response).toEqual(r)
    // A copy: the caller may reuse its buffer.
    const before = Buffer.from(c.response)
    r.fill(0)
    expect(c.response).toEqual(before)
  })

  it('keeps NXDOMAIN and NODATA for min(SOA TTL, SOA minimum)', () => {
    expect(cacheable(reply(Rcode.NXDOMAIN, { ns: [soa(3600, 300)] }), 5, 86_400)?.ttl).toBe(300)
    expect(cacheable(reply(Rcode.NXDOMAIN, { ns: [soa(60, 300)] }), 5, 86_400)?.ttl).toBe(60)
    expect(cacheable(reply(Rcode.NOERROR, { ns: [soa(900, 600)] }), 5, 86_400)?.ttl).toBe(600)
  })

  it('keeps an NXDOMAIN after a CNAME no longer than its CNAME', () => {
    const r = reply(Rcode.NXDOMAIN, {
      an: [rr('www.example.test.', Type.CNAME, 30, 'gone.example.test.')],
      ns: [soa(3600, 300)],
    })
    expect(cacheable(r, 5, 86_400)?.ttl).toBe(30)
  })

  it('keeps a SERVFAIL for servfailTtl, and nothing longer than maxTtl', () => {
    expect(cacheable(reply(Rcode.SERVFAIL, {}), 5, 86_400)?.ttl).toBe(5)
    expect(cacheable(reply(Rcode.SERVFAIL, {}), 5, 2)?.ttl).toBe(2)
    expect(cacheable(reply(Rcode.NOERROR, { an: [A(86_400)] }), 5, 60)?.ttl).toBe(60)
  })

  it('refuses TC, other rcodes, referrals, TTL 0 and malformed replies', () => {
    expect(cacheable(reply(Rcode.NOERROR, { an: [A(300)], flags: Flag.TC }), 5, 60)).toBeUndefined()
    expect(cacheable(reply(Rcode.REFUSED, {}), 5, 60)).toBeUndefined()
    expect(cacheable(reply(Rcode.FORMERR, {}), 5, 60)).toBeUndefined()
    const referral = reply(Rcode.NOERROR, { ns: [rr('example.test.', Type.NS, 3600, 'ns.x.')] })
    expect(cacheable(referral, 5, 60)).toBeUndefined()
    expect(cacheable(reply(Rcode.NOERROR, { an: [A(0)] }), 5, 60)).toBeUndefined()
    expect(cacheable(reply(Rcode.SERVFAIL, {}), 0, 60)).toBeUndefined()
    const whole = reply(Rcode.NOERROR, { an: [A(300)] })
    expect(cacheable(whole.subarray(0, whole.length - 1), 5, 60)).toBeUndefined()
    expect(cacheable(Buffer.concat([whole, Buffer.of(0)]), 5, 60)).toBeUndefined()
    expect(cacheable(whole.subarray(0, 11), 5, 60)).toBeUndefined()
  })

  it('removes the OPT options, fixes its length and keeps the TTL offsets right', () => {
    const cookie = Buffer.from('0102030405060708', 'hex')
    const r = reply(Rcode.NOERROR, {
      an: [A(300)],
      ar: [rr('ns1.example.test.', Type.A, 100, '192.0.2.53')],
      opt: cookie,
    })
    const c = cacheable(r, 5, 86_400)!
    expect(c.response.length).toBe(r.length - 4 - cookie.length)
    const msg = decodeMessage(c.response)
    expect(msg.edns?.options).toEqual([])
    expect(msg.edns?.udpSize).toBe(1232)
    expect(msg.additional.map((x) => x.data)).toEqual(['192.0.2.53'])
    expect(Array.from(c.ttls)).toEqual([300, 100])
    for (let i = 0; i < c.ttls.length; i++)
      expect(c.response.readUInt32BE(c.ttlOffsets[i])).toBe(c.ttls[i])
  })
})

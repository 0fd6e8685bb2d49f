// The authoritative module through DNS bytes: positive answers, wildcards,
// NXDOMAIN and NODATA, delegations (its wire form, signed zones and loading are
// in wire.test.ts and loading.test.ts; the zones and helpers in query-harness.ts).

import { afterAll, describe, expect, it } from 'vitest'
import { Flag, Opcode, Rcode, Type } from '../../dns/constants.ts'
import { ask, expectNegative, removeZoneFiles, rrs, SOA_DATA, WWW_A } from './query-harness.ts'

afterAll(removeZoneFiles)

describe('authoritative: positive answers', () => {
  it('answers with AA, echoing ID, RD, CD and the question as asked', () => {
    const m = ask('WwW.AuTh.TeSt', Type.A, { cd: true })
    expect(m.flags & Flag.QR).toBe(Flag.QR)
    expect(m.flags & Flag.AA).toBe(Flag.AA)
    expect(m.flags & Flag.RD).toBe(Flag.RD)
    expect(m.flags & Flag.CD).toBe(Flag.CD)
    expect(m.flags & Flag.TC).toBe(0)
    expect(m.opcode).toBe(Opcode.QUERY)
    expect(m.rcode).toBe(Rcode.NOERROR)
    expect(m.questions).toEqual([{ name: 'WwW.AuTh.TeSt.', type: Type.A, class: 1 }])
    // The owner is a pointer to the question: it reads in the question's case.
    expect(m.answer).toEqual([
      { name: 'WwW.AuTh.TeSt.', type: Type.A, class: 1, ttl: 3600, data: '192.0.2.10' },
      { name: 'WwW.AuTh.TeSt.', type: Type.A, class: 1, ttl: 3600, data: '192.0.2.11' },
    ])
    expect(m.authority).toEqual([])
    expect(m.additional).toEqual([])
    expect(m.edns).toBeUndefined()
    // RD clear in the query, clear in the reply.
    expect(ask('www.auth.test', Type.A, { rd: false }).flags & Flag.RD).toBe(0)
  })

  it('adds the addresses of NS and MX targets held in the zone', () => {
    const ns = ask('auth.test', Type.NS, { transport: 'tcp' })
    expect(rrs(ns.answer)).toEqual([
      ['auth.test.', Type.NS, 'ns1.auth.test.'],
      ['auth.test.', Type.NS, 'ns2.auth.test.'],
    ])
    expect(rrs(ns.additional)).toEqual([
      ['ns1.auth.test.', Type.A, '192.0.2.1'],
      ['ns1.auth.test.', Type.AAAA, '2001:db8::1'],
      ['ns2.auth.test.', Type.A, '192.0.2.2'],
    ])
    const mx = ask('auth.test', Type.MX)
    expect(rrs(mx.answer)).toEqual([
      ['auth.test.', Type.MX, '10 mail.auth.test.'],
      ['auth.test.', Type.MX, '20 mail.outside.test.'],
    ])
    expect(rrs(mx.additional)).toEqual([['mail.auth.test.', Type.A, '192.0.2.3']])
    const srv = ask('_sip._tcp.auth.test', Type.SRV)
    expect(rrs(srv.additional)).toEqual([['sipserver.auth.test.', Type.A, '192.0.2.60']])
  })

  it('follows a CNAME chain inside the zone', () => {
    const m = ask('Chain.auth.test', Type.A)
    expect(m.rcode).toBe(Rcode.NOERROR)
    expect(m.flags & Flag.AA).toBe(Flag.AA)
    expect(rrs(m.answer)).toEqual([
      ['chain.auth.test.', Type.CNAME, 'alias.auth.test.'],
      ['alias.auth.test.', Type.CNAME, 'www.auth.test.'],
      ...WWW_A,
    ])
    expect(m.authority).toEqual([])
  })

  it('answers a CNAME question with the CNAME alone', () => {
    const m = ask('chain.auth.test', Type.CNAME)
    expect(rrs(m.answer)).toEqual([['chain.auth.test.', Type.CNAME, 'alias.auth.test.']])
  })

  it('ends a chain at NODATA with the SOA when the target lacks the type', () => {
    expectNegative(ask('alias.auth.test', Type.MX), Rcode.NOERROR, [
      ['alias.auth.test.', Type.CNAME, 'www.auth.test.'],
    ])
  })

  it('gives NXDOMAIN with the CNAME and the SOA for a dangling CNAME', () => {
    const m = ask('dangling.auth.test', Type.A)
    expectNegative(m, Rcode.NXDOMAIN, [['dangling.auth.test.', Type.CNAME, 'missing.auth.test.']])
    expect(m.authority[0].ttl).toBe(300)
  })

  it('gives SERVFAIL for a CNAME loop', () => {
    const m = ask('loop1.auth.test', Type.A)
    expect(m.rcode).toBe(Rcode.SERVFAIL)
    expect(ask('loop2.auth.test', Type.AAAA).rcode).toBe(Rcode.SERVFAIL)
  })

  it('stops at a CNAME that leaves the zone', () => {
    const m = ask('external.auth.test', Type.A)
    expect(m.rcode).toBe(Rcode.NOERROR)
    expect(rrs(m.answer)).toEqual([['external.auth.test.', Type.CNAME, 'www.outside.test.']])
    expect(m.authority).toEqual([])
  })

  it('answers the SOA at the apex', () => {
    const m = ask('auth.test', Type.SOA)
    expect(rrs(m.answer)).toEqual([['auth.test.', Type.SOA, SOA_DATA]])
    expect(m.answer[0].ttl).toBe(3600)
  })
})

describe('authoritative: wildcards (RFC 4592)', () => {
  it('synthesises records owned by the question name', () => {
    for (const name of ['foo.wild.auth.test', 'A.b.C.wild.auth.test', 'x.WILD.auth.test']) {
      const m = ask(name, Type.A)
      expect(m.rcode).toBe(Rcode.NOERROR)
      expect(m.flags & Flag.AA).toBe(Flag.AA)
      expect(m.answer.map((r) => [r.name, r.data])).toEqual([[`${name}.`, '192.0.2.30']])
    }
    const txt = ask('bar.wild.auth.test', Type.TXT)
    expect(rrs(txt.answer)).toEqual([['bar.wild.auth.test.', Type.TXT, '"wildcard"']])
  })

  it('gives NODATA at a wildcard for a type it lacks', () => {
    expectNegative(ask('foo.wild.auth.test', Type.MX), Rcode.NOERROR)
    // A type that exists nowhere in the zone, too.
    expect(ask('foo.wild.auth.test', Type.CAA).rcode).toBe(Rcode.NOERROR)
  })

  it('follows a wildcard CNAME, and a CNAME into a wildcard', () => {
    const m = ask('anything.cnamewild.auth.test', Type.A)
    expect(rrs(m.answer)).toEqual([
      ['anything.cnamewild.auth.test.', Type.CNAME, 'www.auth.test.'],
      ...WWW_A,
    ])
    const t = ask('to-wild.auth.test', Type.A)
    expect(rrs(t.answer)).toEqual([
      ['to-wild.auth.test.', Type.CNAME, 'foo.wild.auth.test.'],
      ['foo.wild.auth.test.', Type.A, '192.0.2.30'],
    ])
  })

  it('answers the parent of a wildcard, an empty non-terminal, with NODATA', () => {
    expectNegative(ask('wild.auth.test', Type.A), Rcode.NOERROR)
  })
})

describe('authoritative: NXDOMAIN and NODATA', () => {
  it('gives NODATA at empty non-terminals and NXDOMAIN below them', () => {
    for (const name of ['ent.auth.test', 'c.ent.auth.test', 'b.c.ent.auth.test']) {
      expectNegative(ask(name, Type.A), Rcode.NOERROR)
    }
    expect(ask('a.b.c.ent.auth.test', Type.A).answer.map((r) => r.data)).toEqual(['192.0.2.40'])
    for (const name of ['x.c.ent.auth.test', 'x.ent.auth.test', 'nope.auth.test']) {
      expectNegative(ask(name, Type.A), Rcode.NXDOMAIN)
    }
  })

  it('gives NODATA for a type absent at an existing name', () => {
    expectNegative(ask('www.auth.test', Type.TXT), Rcode.NOERROR)
  })

  it('uses min(SOA TTL, SOA minimum) as the negative TTL, 0 in an NXDOMAIN to an SOA query', () => {
    expect(ask('nope.auth.test', Type.A).authority[0].ttl).toBe(300)
    expect(ask('www.auth.test', Type.TXT).authority[0].ttl).toBe(300)
    // NODATA to an SOA question keeps the negative TTL; NXDOMAIN to one gets 0.
    expect(ask('www.auth.test', Type.SOA).authority[0].ttl).toBe(300)
    expect(ask('nope.auth.test', Type.SOA).authority[0].ttl).toBe(0)
    expect(ask('nope.auth.test', Type.SOA).rcode).toBe(Rcode.NXDOMAIN)
    expect(ask('dangling.auth.test', Type.SOA).authority[0].ttl).toBe(0)
    // Where the SOA's own TTL is the smaller.
    expect(ask('nope.low.test', Type.A).authority[0].ttl).toBe(60)
    expect(ask('low.test', Type.MX).authority[0].ttl).toBe(60)
    expect(ask('nope.low.test', Type.SOA).authority[0].ttl).toBe(0)
  })
})

describe('authoritative: delegations', () => {
  it('answers below a cut with a referral: AA clear, NS in authority, glue only below the cut', () => {
    for (const [name, type] of [
      ['www.sub.auth.test', Type.A],
      ['sub.auth.test', Type.NS],
      ['sub.auth.test', Type.A],
      ['ns1.sub.auth.test', Type.A],
      ['deep.er.Sub.auth.test', Type.MX],
    ] as const) {
      const m = ask(name, type)
      expect(m.rcode).toBe(Rcode.NOERROR)
      expect(m.flags & Flag.AA).toBe(0)
      expect(m.answer).toEqual([])
      expect(rrs(m.authority)).toEqual([
        ['sub.auth.test.', Type.NS, 'ns1.sub.auth.test.'],
        ['sub.auth.test.', Type.NS, 'ns.outside.test.'],
        ['sub.auth.test.', Type.NS, 'ns1.auth.test.'],
      ])
      // ns1.auth.test is in the zone but above the cut: not glue.
      expect(rrs(m.additional)).toEqual([['ns1.sub.auth.test.', Type.A, '192.0.2.50']])
    }
  })

  it('answers DS at a cut from the parent side, and refers below it', () => {
    const ds = ask('signed.auth.test', Type.DS)
    expect(ds.flags & Flag.AA).toBe(Flag.AA)
    expect(rrs(ds.answer)).toEqual([
      [
        'signed.auth.test.',
        Type.DS,
        '12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      ],
    ])
    // No DS at the other cut: NODATA from the parent, with its SOA.
    expectNegative(ask('sub.auth.test', Type.DS), Rcode.NOERROR)
    // DS of a name below the cut belongs to the child: a referral.
    const below = ask('x.signed.auth.test', Type.DS)
    expect(below.flags & Flag.AA).toBe(0)
    expect(rrs(below.authority)).toEqual([['signed.auth.test.', Type.NS, 'ns1.signed.auth.test.']])
  })
})

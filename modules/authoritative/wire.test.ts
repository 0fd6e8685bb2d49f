// The authoritative module's answers as wire bytes: sizes, EDNS and TC,
// compression pointers behind any question, and what goes to the legacy path.

import { afterAll, describe, expect, it } from 'vitest'
import { Class, Flag, Opcode, Rcode, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage, type QueryOptions } from '../../dns/message.ts'
import { ANSWER, NEXT } from '../verdict.ts'
import { Fallback } from './index.ts'
import {
  ask,
  expectNegative,
  HOSTS,
  host,
  lower,
  removeZoneFiles,
  rrs,
  run,
  WWW_A,
} from './query-harness.ts'

afterAll(removeZoneFiles)

describe('authoritative: sizes and EDNS', () => {
  it('adds an OPT record with ednsPayload when the query has EDNS, and none otherwise', () => {
    const m = ask('www.auth.test', Type.A, { edns: { udpSize: 4096 }, ednsPayload: 1400 })
    expect(m.edns).toEqual({ udpSize: 1400, version: 0, extendedRcode: 0, do: false, options: [] })
    expect(m.answer).toHaveLength(2)
    expect(ask('www.auth.test', Type.A).edns).toBeUndefined()
    const nx = ask('nope.auth.test', Type.A, { edns: { udpSize: 1232 } })
    expect(nx.edns?.udpSize).toBe(1232)
    expect(nx.rcode).toBe(Rcode.NXDOMAIN)
  })

  it('truncates with TC=1 and no records when the answer exceeds the limit', () => {
    const m = ask('big.auth.test', Type.A)
    expect(m.bytes.length).toBeLessThanOrEqual(512)
    expect(m.flags & Flag.TC).toBe(Flag.TC)
    expect(m.flags & Flag.AA).toBe(Flag.AA)
    expect(m.questions).toEqual([{ name: 'big.auth.test.', type: Type.A, class: 1 }])
    expect([m.answer, m.authority, m.additional]).toEqual([[], [], []])

    const e = ask('big.auth.test', Type.A, { edns: { udpSize: 512 } })
    expect(e.flags & Flag.TC).toBe(Flag.TC)
    expect(e.answer).toEqual([])
    expect(e.edns?.udpSize).toBe(1232)

    // It fits a larger EDNS limit and TCP.
    expect(ask('big.auth.test', Type.A, { edns: { udpSize: 1232 } }).answer).toHaveLength(40)
    const tcp = ask('big.auth.test', Type.A, { transport: 'tcp' })
    expect(tcp.flags & Flag.TC).toBe(0)
    expect(tcp.answer).toHaveLength(40)
  })

  it('keeps the additional records that fit, in order, to the first that does not (as BIND)', () => {
    const full = ask('auth.test', Type.NS, { transport: 'tcp' })
    expect(full.additional).toHaveLength(3)
    const at = (sizeLimit: number) => ask('auth.test', Type.NS, { sizeLimit })
    const lean = at(full.bytes.length - 1)
    expect(lean.flags & Flag.TC).toBe(0)
    expect(rrs(lean.answer)).toEqual(rrs(full.answer))
    expect(rrs(lean.additional)).toEqual(rrs(full.additional).slice(0, 2))
    // At exactly the full size, all of it.
    expect(at(full.bytes.length).additional).toHaveLength(3)
    let limit = lean.bytes.length
    while (limit > 0 && at(limit).additional.length > 0) limit--
    const bare = at(limit)
    expect(bare.flags & Flag.TC).toBe(0)
    expect(rrs(bare.answer)).toEqual(rrs(full.answer))
    // One octet less than the answer alone: truncated.
    const tc = at(bare.bytes.length - 1)
    expect(tc.flags & Flag.TC).toBe(Flag.TC)
    expect(tc.answer).toEqual([])
  })

  it('counts the OPT record in the limit', () => {
    const edns = { udpSize: 1232 }
    const full = ask('auth.test', Type.NS, { edns, transport: 'tcp' })
    expect(full.edns).toBeDefined()
    const lean = ask('auth.test', Type.NS, { edns, sizeLimit: full.bytes.length - 1 })
    expect(lean.flags & Flag.TC).toBe(0)
    expect(lean.additional).toHaveLength(2)
    expect(lean.edns?.udpSize).toBe(1232)
  })

  it('keeps a referral whole: truncates rather than drop its glue', () => {
    const full = ask('www.sub.auth.test', Type.A, { transport: 'tcp' })
    expect(full.additional).toHaveLength(1)
    const m = ask('www.sub.auth.test', Type.A, { sizeLimit: full.bytes.length - 1 })
    expect(m.flags & Flag.TC).toBe(Flag.TC)
    expect([m.answer, m.authority, m.additional]).toEqual([[], [], []])
  })

  it('gives EDNS clients offering 512 octets or less over UDP no extra addresses, but keeps glue', () => {
    const small = ask('auth.test', Type.NS, { edns: { udpSize: 512 } })
    expect(small.answer).toHaveLength(2)
    expect(small.additional).toEqual([])
    expect(small.edns).toBeDefined()
    expect(ask('auth.test', Type.NS, { edns: { udpSize: 513 } }).additional).toHaveLength(3)
    expect(
      ask('auth.test', Type.NS, { edns: { udpSize: 512 }, transport: 'tcp' }).additional,
    ).toHaveLength(3)
    const referral = ask('www.sub.auth.test', Type.A, { edns: { udpSize: 512 } })
    expect(rrs(referral.additional)).toEqual([['ns1.sub.auth.test.', Type.A, '192.0.2.50']])
  })
})

describe('authoritative: compression pointers behind any question', () => {
  const names = [
    'a',
    'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
    'x.y',
    'Much.Longer.Chain.Of.Labels.Below.The.Wildcard.Parent',
  ]

  it('aims the pointers of one wildcard answer at questions of any length', () => {
    for (const prefix of names) {
      const name = `${prefix}.wild.auth.test`
      const a = ask(name, Type.A)
      expect(a.answer.map((r) => r.name)).toEqual([`${name}.`])
      expectNegative(ask(name, Type.MX), Rcode.NOERROR)
      const cname = ask(`${prefix}.cnamewild.auth.test`, Type.A)
      expect(rrs(cname.answer)).toEqual([
        [lower(`${prefix}.cnamewild.auth.test.`), Type.CNAME, 'www.auth.test.'],
        ...WWW_A,
      ])
    }
  })

  it('aims the pointers of the shared NXDOMAIN answer at questions of any length', () => {
    for (const prefix of names) {
      for (const type of [Type.A, Type.SOA, Type.TXT]) {
        expectNegative(ask(`${prefix}.nx.Auth.Test`, type), Rcode.NXDOMAIN)
      }
    }
  })

  it('aims the pointers of one referral at questions of any length below the cut', () => {
    for (const prefix of names) {
      const m = ask(`${prefix}.sub.auth.test`, Type.A)
      expect(rrs(m.authority).map((r) => r[0])).toEqual([
        'sub.auth.test.',
        'sub.auth.test.',
        'sub.auth.test.',
      ])
      expect(rrs(m.authority).map((r) => r[2])).toEqual([
        'ns1.sub.auth.test.',
        'ns.outside.test.',
        'ns1.auth.test.',
      ])
      expect(rrs(m.additional)).toEqual([['ns1.sub.auth.test.', Type.A, '192.0.2.50']])
    }
  })

  it('emits no pointer past 0x3fff in an answer of more than 16 KiB', () => {
    // Targets written past 0x3fff cannot be pointed at: their addresses' owners
    // must be written out. A wrapped pointer would decode to a wrong name or fail.
    const checkBig = (name: string) => {
      const m = ask(name, Type.MX, { transport: 'tcp' })
      expect(m.bytes.length).toBeGreaterThan(0x4000 + 4096)
      expect(m.flags & Flag.TC).toBe(0)
      expect(m.answer).toHaveLength(HOSTS)
      expect(m.additional).toHaveLength(HOSTS)
      m.answer.forEach((r, i) => {
        expect(lower(r.name)).toBe(`${lower(name)}.`)
        expect(r.data).toBe(`${i} ${host(i)}.big.test.`)
      })
      m.additional.forEach((r, i) => {
        expect(r.name).toBe(`${host(i)}.big.test.`)
        expect(r.data).toBe(`10.0.${i >> 8}.${i & 0xff}`)
      })
    }
    checkBig('mx.big.test')
    checkBig('Some.Name.Under.w.big.test')
    checkBig('q.w.big.test')
  })
})

describe('authoritative: the legacy path', () => {
  const verdictOf = (query: Buffer) => run(query).verdict

  it.each([
    ['opcode', Fallback.opcode, 'opcode'],
    ['class', Fallback.class, 'class'],
    ['any', Fallback.any, 'qtype-any'],
    ['transfer', Fallback.transfer, 'zone-transfer'],
    ['metaType', Fallback.metaType, 'qtype-meta'],
    ['proof', Fallback.proof, 'dnssec-proof'],
    ['ednsVersion', Fallback.ednsVersion, 'edns-version'],
    ['extraRecords', Fallback.extraRecords, 'extra-records'],
  ] as const)('Fallback.%s is legacy(%s)', (_key, verdict, reason) => {
    expect(verdict).toEqual({ kind: 'legacy', reason })
  })

  it('sends other opcodes to the legacy path', () => {
    for (const opcode of [Opcode.IQUERY, Opcode.STATUS, Opcode.NOTIFY, Opcode.UPDATE]) {
      const query = buildQuery({ name: 'www.auth.test', type: Type.A })
      query[2] |= opcode << 3
      expect(verdictOf(query)).toBe(Fallback.opcode)
    }
  })

  it('sends other classes to the legacy path', () => {
    for (const klass of [Class.CH, Class.HS, Class.ANY]) {
      expect(verdictOf(buildQuery({ name: 'www.auth.test', type: Type.A, class: klass }))).toBe(
        Fallback.class,
      )
    }
  })

  it('sends ANY, zone transfers and other meta types to the legacy path', () => {
    const v = (type: number) => verdictOf(buildQuery({ name: 'auth.test', type }))
    expect(v(Type.ANY)).toBe(Fallback.any)
    expect(v(Type.AXFR)).toBe(Fallback.transfer)
    expect(v(Type.IXFR)).toBe(Fallback.transfer)
    for (const type of [0, Type.OPT, 128, Type.TSIG, 249, 253, 254])
      expect(v(type)).toBe(Fallback.metaType)
    // Just outside the meta range: answered.
    expect(v(127)).toBe(ANSWER)
    expect(v(256)).toBe(ANSWER)
  })

  it('answers DO queries to an unsigned zone as others, echoing DO; sends EDNS versions above 0 to the legacy path', () => {
    const q = (edns: QueryOptions['edns']) =>
      buildQuery({ name: 'www.auth.test', type: Type.A, edns })
    const withDo = run(q({ do: true }))
    expect(withDo.verdict).toBe(ANSWER)
    const reply = decodeMessage(withDo.reply)
    expect(reply.edns?.do).toBe(true)
    expect(reply.answer.map((r) => r.type)).toEqual([Type.A, Type.A])
    expect(decodeMessage(run(q({})).reply).edns?.do).toBe(false)
    expect(verdictOf(q({ version: 1 }))).toBe(Fallback.ednsVersion)
    expect(verdictOf(q({ version: 0 }))).toBe(ANSWER)
  })

  it('sends queries carrying other records (TSIG, answers) to the legacy path', () => {
    // A TSIG-shaped record: root owner, type TSIG, class ANY, empty rdata.
    const tsig = Buffer.from([0, 0, Type.TSIG, 0, 255, 0, 0, 0, 0, 0, 0])
    const plain = buildQuery({ name: 'www.auth.test', type: Type.A })
    const signed = Buffer.concat([plain, tsig])
    signed.writeUInt16BE(1, 10)
    expect(verdictOf(signed)).toBe(Fallback.extraRecords)

    const withEdns = buildQuery({ name: 'www.auth.test', type: Type.A, edns: {} })
    const both = Buffer.concat([withEdns, tsig])
    both.writeUInt16BE(2, 10)
    expect(verdictOf(both)).toBe(Fallback.extraRecords)

    // An answer record in a query.
    const a = Buffer.from([0xc0, 12, 0, Type.A, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1])
    const answered = Buffer.concat([plain, a])
    answered.writeUInt16BE(1, 6)
    expect(verdictOf(answered)).toBe(Fallback.extraRecords)
  })

  it('passes names outside its zones to the next module', () => {
    for (const name of ['www.other.test', 'test', '.', 'xauth.test', 'auth.test.example']) {
      const { verdict, reply } = run(buildQuery({ name, type: Type.A }))
      expect(verdict).toBe(NEXT)
      expect(reply.length).toBe(0)
    }
  })
})

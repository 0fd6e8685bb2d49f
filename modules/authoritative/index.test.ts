// The authoritative module through DNS bytes: zones written to temp files,
// queries built as a client sends them, replies decoded and checked record by
// record (flags, sections, owner names behind compression pointers, TTLs).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import { CutoverError } from '../../common/cutover-error.ts'
import { Class, Flag, Opcode, Rcode, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage, type Message, type QueryOptions } from '../../dns/message.ts'
import { createQueryView, Parse, readQuery } from '../../dns/query-view.ts'
import type { DnsContext, DnsTransport } from '../dns-module.ts'
import type { ModuleLog } from '../env.ts'
import { ANSWER, NEXT, type Verdict } from '../verdict.ts'
import { type AuthoritativeModule, authoritative, Fallback } from './index.ts'

// --- zones -------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'cutover-authoritative-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
/** Writes a zone file and returns its path. */
function zoneFile(text: string): string {
  const file = join(dir, `zone-${files++}.zone`)
  writeFileSync(file, text)
  return file
}

const AUTH_ZONE = `
$TTL 3600
$ORIGIN auth.test.
@        IN SOA  ns1 hostmaster ( 1 7200 900 1209600 300 )
         IN NS   ns1
         IN NS   ns2.auth.test.
         IN MX   10 mail
         IN MX   20 mail.outside.test.
ns1      IN A    192.0.2.1
         IN AAAA 2001:db8::1
ns2      IN A    192.0.2.2
mail     IN A    192.0.2.3
www      IN A    192.0.2.10
         IN A    192.0.2.11
         IN AAAA 2001:db8::10
alias    IN CNAME www
chain    IN CNAME alias
dangling IN CNAME missing
loop1    IN CNAME loop2
loop2    IN CNAME loop1
external IN CNAME www.outside.test.
to-wild  IN CNAME foo.wild
*.wild   IN A    192.0.2.30
         IN TXT  "wildcard"
*.cnamewild IN CNAME www
a.b.c.ent IN A   192.0.2.40
sub      IN NS   ns1.sub
         IN NS   ns.outside.test.
         IN NS   ns1
ns1.sub  IN A    192.0.2.50
signed   IN NS   ns1.signed
         IN DS   12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns1.signed IN A  192.0.2.51
_sip._tcp IN SRV 10 60 5060 sipserver
sipserver IN A   192.0.2.60
${Array.from({ length: 40 }, (_, i) => `big IN A 198.51.100.${i + 1}`).join('\n')}
`

/** The smallest zone that loads: a leading blank line, then its SOA, its NS and the NS's address. */
const apex = (origin: string, ttl: number, minimum: number) => `
$TTL ${ttl}
$ORIGIN ${origin}.
@   IN SOA ns1 hostmaster 1 7200 900 1209600 ${minimum}
    IN NS  ns1
ns1 IN A   192.0.2.1
`

// The SOA's own TTL (60) is below its minimum (600): negative answers use 60.
const LOW_ZONE = apex('low.test', 60, 600)

// More than 16 KiB of answer: 900 MX records whose targets have addresses.
const HOSTS = 900
const host = (i: number) => `h${String(i).padStart(3, '0')}`
const BIG_ZONE = `${apex('big.test', 3600, 300)}${Array.from({ length: HOSTS }, (_, i) => `mx IN MX ${i} ${host(i)}\n*.w IN MX ${i} ${host(i)}\n${host(i)} IN A 10.0.${i >> 8}.${i & 0xff}`).join('\n')}
`

const silent: ModuleLog = { info() {}, warn() {}, error() {} }

function load(zones: { name: string; text: string }[], log = silent): AuthoritativeModule {
  return authoritative(
    { zones: zones.map((z) => ({ name: z.name, file: zoneFile(z.text) })) },
    { log, registry: new Registry() },
  )
}

const auth = load([
  { name: 'auth.test', text: AUTH_ZONE },
  { name: 'low.test', text: LOW_ZONE },
  { name: 'big.test', text: BIG_ZONE },
])

// --- queries -----------------------------------------------------------------

interface Ask {
  transport?: DnsTransport
  /** Overrides the limit the engine would compute. */
  sizeLimit?: number
  ednsPayload?: number
}

/** Runs one query through the module as the engine would. */
function run(query: Buffer, opts: Ask = {}, module: AuthoritativeModule = auth) {
  const view = createQueryView()
  expect(readQuery(query, query.length, view)).toBe(Parse.OK)
  const transport = opts.transport ?? 'udp'
  const ctx: DnsContext = {
    query,
    view,
    transport,
    sizeLimit:
      opts.sizeLimit ??
      (transport !== 'udp'
        ? 65_535
        : view.edns
          ? Math.min(Math.max(view.ednsUdpSize, 512), 1232)
          : 512),
    ednsPayload: opts.ednsPayload ?? 1232,
    out: Buffer.alloc(65_535),
    response: Buffer.alloc(0),
    responseLength: 0,
  }
  const verdict: Verdict = module.query!(ctx)
  const reply = Buffer.from(ctx.response.subarray(0, ctx.responseLength))
  return { verdict, reply }
}

/** Asks `name`/`type` and decodes the answer; fails when the module did not answer. */
function ask(
  name: string,
  type: number,
  opts: Ask & Partial<QueryOptions> = {},
  module: AuthoritativeModule = auth,
): Message & { bytes: Buffer } {
  const query = buildQuery({ id: 0x4242, name, type, ...opts })
  const { verdict, reply } = run(query, opts, module)
  expect(verdict).toBe(ANSWER)
  expect(reply.readUInt16BE(0)).toBe(0x4242)
  // The question exactly as asked.
  expect(reply.subarray(12, query.length - (opts.edns ? 11 + optionsLength(opts) : 0))).toEqual(
    query.subarray(12, query.length - (opts.edns ? 11 + optionsLength(opts) : 0)),
  )
  return { ...decodeMessage(reply), bytes: reply }
}

const optionsLength = (opts: Partial<QueryOptions>) =>
  (opts.edns?.options ?? []).reduce((n, o) => n + 4 + o.data.length, 0)

const lower = (s: string) => s.toLowerCase()
/**
 * Records as [owner, type, data] triples, lowercased: names compressed against the
 * question read in the question's case.
 */
const rrs = (records: Message['answer']) =>
  records.map((r) => [lower(r.name), r.type, lower(r.data)] as [string, number, string])

const SOA_DATA = 'ns1.auth.test. hostmaster.auth.test. 1 7200 900 1209600 300'

/** The A records of www.auth.test, where its CNAME chains end. */
const WWW_A: [string, number, string][] = [
  ['www.auth.test.', Type.A, '192.0.2.10'],
  ['www.auth.test.', Type.A, '192.0.2.11'],
]

/**
 * A negative answer from auth.test: `rcode`, authoritative, `answer` (the CNAMEs
 * on the way, or nothing), and the zone's SOA alone in authority.
 */
function expectNegative(m: Message, rcode: number, answer: [string, number, string][] = []) {
  expect(m.rcode).toBe(rcode)
  expect(m.flags & Flag.AA).toBe(Flag.AA)
  expect(rrs(m.answer)).toEqual(answer)
  expect(rrs(m.authority)).toEqual([['auth.test.', Type.SOA, SOA_DATA]])
}

// --- tests -------------------------------------------------------------------

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

describe('authoritative: DNAME (RFC 6672)', () => {
  const m = load([
    {
      name: 'dn.test',
      text: `${apex('dn.test', 300, 300)}old IN DNAME new.dn.test.
www.new IN A 192.0.2.80
out IN DNAME ${Array.from({ length: 3 }, () => 'l'.repeat(60)).join('.')}.example.
`,
    },
  ])

  it('answers a name below a DNAME with it, the CNAME it makes, and where that leads', () => {
    const r = ask('WWW.old.dn.test', Type.A, {}, m)
    expect(r.rcode).toBe(Rcode.NOERROR)
    expect(rrs(r.answer)).toEqual([
      ['old.dn.test.', Type.DNAME, 'new.dn.test.'],
      ['www.old.dn.test.', Type.CNAME, 'www.new.dn.test.'],
      ['www.new.dn.test.', Type.A, '192.0.2.80'],
    ])
    // The CNAME is owned by the name as asked, and takes the DNAME's TTL.
    expect(r.answer[1].name).toBe('WWW.old.dn.test.')
    expect(r.answer[1].ttl).toBe(r.answer[0].ttl)
    const nx = ask('nx.old.dn.test', Type.A, {}, m)
    expect(nx.rcode).toBe(Rcode.NXDOMAIN)
    expect(rrs(nx.answer).map(([, type]) => type)).toEqual([Type.DNAME, Type.CNAME])
  })

  it('stops at the CNAME when a CNAME is asked, and answers the DNAME owner itself as any name', () => {
    expect(rrs(ask('www.old.dn.test', Type.CNAME, {}, m).answer).map(([, t]) => t)).toEqual([
      Type.DNAME,
      Type.CNAME,
    ])
    expect(rrs(ask('old.dn.test', Type.DNAME, {}, m).answer)).toEqual([
      ['old.dn.test.', Type.DNAME, 'new.dn.test.'],
    ])
    expect(ask('old.dn.test', Type.A, {}, m).answer).toEqual([])
  })

  it('answers YXDOMAIN when the name it makes would be over 255 octets', () => {
    const r = ask(`${'x'.repeat(60)}.${'y'.repeat(30)}.out.dn.test`, Type.A, {}, m)
    expect(r.rcode).toBe(Rcode.YXDOMAIN)
    expect(rrs(r.answer).map(([, t]) => t)).toEqual([Type.DNAME])
  })
})

describe('authoritative: a signed zone', () => {
  const sig = (covered: string, tag = 12345) =>
    `RRSIG ${covered} 13 3 300 20270101000000 20261201000000 ${tag} rrsig.test. AQID`
  const m = load([
    {
      name: 'rrsig.test',
      text: `${apex('rrsig.test', 300, 300)}@ 300 IN ${sig('SOA')}
@ 300 IN ${sig('NS')}
ns1 300 IN ${sig('A')}
www IN A 192.0.2.2
www 250 IN ${sig('A')}
www 250 IN ${sig('A', 54321)}
alias IN CNAME www
alias IN ${sig('CNAME')}
out IN CNAME elsewhere.example.
out IN ${sig('CNAME')}
*.wild IN A 192.0.2.3
*.wild IN ${sig('A')}
sec IN NS ns.elsewhere.example.
sec IN DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
sec IN ${sig('DS')}
insec IN NS ns.elsewhere.example.
`,
    },
  ])
  const withDo = (name: string, type: number) =>
    ask(name, type, { edns: { udpSize: 1232, do: true } }, m)
  const verdict = (name: string, type: number, edns?: QueryOptions['edns']) =>
    run(buildQuery({ name, type, edns }), {}, m).verdict
  const types = (records: Message['answer']) => rrs(records).map(([owner, t]) => `${owner} ${t}`)

  it('answers without DO as an unsigned zone; with DO, each RRset followed by its signatures at their own TTL', () => {
    expect(m.zone('rrsig.test')?.signed).toBe(true)
    expect(rrs(ask('www.rrsig.test', Type.A, {}, m).answer)).toEqual([
      ['www.rrsig.test.', Type.A, '192.0.2.2'],
    ])
    const r = withDo('www.rrsig.test', Type.A)
    expect(r.edns?.do).toBe(true)
    expect(r.answer.map((x) => [x.type, x.ttl])).toEqual([
      [Type.A, 300],
      [Type.RRSIG, 250],
      [Type.RRSIG, 250],
    ])
  })

  it('signs each step of a CNAME chain, and the additional addresses', () => {
    expect(types(withDo('alias.rrsig.test', Type.A).answer)).toEqual([
      `alias.rrsig.test. ${Type.CNAME}`,
      `alias.rrsig.test. ${Type.RRSIG}`,
      `www.rrsig.test. ${Type.A}`,
      `www.rrsig.test. ${Type.RRSIG}`,
      `www.rrsig.test. ${Type.RRSIG}`,
    ])
    expect(types(withDo('out.rrsig.test', Type.A).answer)).toEqual([
      `out.rrsig.test. ${Type.CNAME}`,
      `out.rrsig.test. ${Type.RRSIG}`,
    ])
    const ns = withDo('rrsig.test', Type.NS)
    expect(types(ns.answer)).toEqual([`rrsig.test. ${Type.NS}`, `rrsig.test. ${Type.RRSIG}`])
    expect(types(ns.additional.filter((x) => x.type !== Type.OPT))).toEqual([
      `ns1.rrsig.test. ${Type.A}`,
      `ns1.rrsig.test. ${Type.RRSIG}`,
    ])
  })

  it('refers to a secure delegation with its DS and their signatures', () => {
    const r = withDo('www.sec.rrsig.test', Type.A)
    expect(r.flags & Flag.AA).toBe(0)
    expect(r.answer).toEqual([])
    expect(types(r.authority)).toEqual([
      `sec.rrsig.test. ${Type.NS}`,
      `sec.rrsig.test. ${Type.DS}`,
      `sec.rrsig.test. ${Type.RRSIG}`,
    ])
    expect(types(ask('www.sec.rrsig.test', Type.A, {}, m).authority)).toEqual([
      `sec.rrsig.test. ${Type.NS}`,
    ])
  })

  it('sends DO queries whose answer needs an NSEC or NSEC3 proof to the legacy path', () => {
    const dnssec = { udpSize: 1232, do: true }
    expect(verdict('nx.rrsig.test', Type.A, dnssec)).toBe(Fallback.proof)
    expect(verdict('www.rrsig.test', Type.TXT, dnssec)).toBe(Fallback.proof)
    expect(verdict('a.wild.rrsig.test', Type.A, dnssec)).toBe(Fallback.proof)
    expect(verdict('www.insec.rrsig.test', Type.A, dnssec)).toBe(Fallback.proof)
    expect(verdict('nx.rrsig.test', Type.A, { udpSize: 1232 })).toBe(ANSWER)
    expect(verdict('a.wild.rrsig.test', Type.A, { udpSize: 1232 })).toBe(ANSWER)
  })

  it('sends RRSIG queries on, and refuses its record events without its keys, naming the setting', () => {
    expect(verdict('www.rrsig.test', Type.RRSIG)).toBe(Fallback.signatures)
    const refused = m.apply({
      zone: 'rrsig.test',
      sequence: '1-0',
      op: 'create',
      name: 'new',
      type: 'A',
      data: '192.0.2.9',
    } as never)
    expect(refused).toEqual({
      result: 'refused',
      reason: expect.stringContaining(
        'is signed and the new path has no keys to sign a change: set keys:',
      ),
    })
  })
})

describe('authoritative: zones it cannot serve', () => {
  const base = (origin: string) => `${apex(origin, 300, 300)}www IN A   192.0.2.2\n`

  it('reports a zone it has no data for as unsupported', () => {
    expect(auth.unsupported('nope.test')).toBe('no zone data for nope.test.')
    expect(auth.unsupported('sub.auth.test')).toBe('no zone data for sub.auth.test.')
    expect(auth.unsupported('auth.test')).toBeUndefined()
  })

  it('skips out-of-zone records with a warning', () => {
    const warnings: string[] = []
    const log: ModuleLog = {
      info() {},
      error() {},
      warn: (_o, m) => {
        warnings.push(m ?? '')
      },
    }
    const m = load(
      [{ name: 'in.test', text: `${base('in.test')}www.elsewhere.test. IN A 192.0.2.9\n` }],
      log,
    )
    expect(
      warnings.some((w) => w.includes('out-of-zone') && w.includes('www.elsewhere.test.')),
    ).toBe(true)
    expect(m.unsupported('in.test')).toBeUndefined()
  })
})

describe('authoritative: load-time errors', () => {
  const zoneError = (name: string, text: string): CutoverError => {
    try {
      load([{ name, text }])
    } catch (err) {
      expect(err).toBeInstanceOf(CutoverError)
      expect((err as CutoverError).code).toBe('CUTOVER_ERR_ZONE_DATA')
      expect((err as CutoverError).source).toBe('config')
      return err as CutoverError
    }
    throw new Error(`zone ${name} loaded`)
  }

  const cases = {
    'no SOA': [
      'nosoa.test',
      `$ORIGIN nosoa.test.\n$TTL 60\n@ IN NS ns1\nns1 IN A 192.0.2.1\n`,
      'zone nosoa.test. has no SOA record at its apex',
    ],
    'no NS': [
      'nons.test',
      `$ORIGIN nons.test.\n$TTL 60\n@ IN SOA ns1 hostmaster 1 2 3 4 5\nns1 IN A 192.0.2.1\n`,
      'zone nons.test. has no NS records at its apex',
    ],
    'CNAME beside other data': [
      'cname.test',
      `$ORIGIN cname.test.\n$TTL 60\n@ IN SOA ns1 hostmaster 1 2 3 4 5\n@ IN NS ns1\nns1 IN A 192.0.2.1\nwww IN CNAME ns1\nwww IN TXT "x"\n`,
      'www.cname.test. has a CNAME beside other data',
    ],
    'in-zone NS without address': [
      'noaddr.test',
      `$ORIGIN noaddr.test.\n$TTL 60\n@ IN SOA ns1 hostmaster 1 2 3 4 5\n@ IN NS ns1\n@ IN NS ns2\nns1 IN A 192.0.2.1\nns2 IN TXT "no address"\n`,
      "NS 'ns2.noaddr.test.' of zone noaddr.test. has no address records (A or AAAA)",
    ],
  } as const

  it.each(Object.entries(cases))('rejects a zone with %s', (_case, [name, text, message]) => {
    expect(zoneError(name, text).message).toMatch(
      new RegExp(`^/.*\\.zone(:\\d+)?: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    )
  })

  it('names the zone file in every load-time error (README: errors name the file)', () => {
    for (const [name, text] of Object.values(cases)) {
      const file = zoneFile(text)
      let message = ''
      try {
        authoritative({ zones: [{ name, file }] }, { log: silent, registry: new Registry() })
      } catch (err) {
        message = (err as Error).message
      }
      expect(message).toContain(file)
    }
  })

  it('accepts an out-of-zone NS without addresses, and an in-zone one with only AAAA', () => {
    const m = load([
      {
        name: 'ok.test',
        text: `$ORIGIN ok.test.\n$TTL 60\n@ IN SOA ns1 hostmaster 1 2 3 4 5\n@ IN NS ns1\n@ IN NS ns.elsewhere.test.\nns1 IN AAAA 2001:db8::53\n`,
      },
    ])
    expect(m.unsupported('ok.test')).toBeUndefined()
  })
})

describe('authoritative: the shipped zones', () => {
  it('serves the example zone as the quickstart advertises', () => {
    const m = authoritative(
      {
        zones: [
          {
            name: 'example.test',
            file: join(import.meta.dirname, '../../examples/zones/example.test.zone'),
          },
        ],
      },
      { log: silent, registry: new Registry() },
    )
    const www = ask('www.example.test', Type.A, {}, m)
    expect(www.flags & Flag.AA).toBe(Flag.AA)
    expect(www.answer.map((r) => r.data)).toEqual(['192.0.2.10'])
    const shop = ask('shop.example.test', Type.A, { transport: 'tcp' }, m)
    expect(rrs(shop.answer)).toEqual([
      ['shop.example.test.', Type.CNAME, 'www.example.test.'],
      ['www.example.test.', Type.A, '192.0.2.10'],
    ])
    const app = ask('x.apps.example.test', Type.A, {}, m)
    expect(app.answer.map((r) => [r.name, r.data])).toEqual([
      ['x.apps.example.test.', '192.0.2.30'],
    ])
  })
})

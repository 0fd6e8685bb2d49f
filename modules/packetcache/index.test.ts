// The packet cache through DNS bytes: replies stored by the response phase and
// served by the query phase, keyed, counted down, expired, bounded and measured.

import { Registry } from 'prom-client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Class, EdnsOption, Flag, Opcode, Rcode, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage, type EdnsOptionData, writeOpt } from '../../dns/message.ts'
import { createQueryView, Parse, readQuery } from '../../dns/query-view.ts'
import { ECHOED_FLAGS } from '../../dns/reply.ts'
import { WireWriter } from '../../dns/wire-writer.ts'
import type { DnsContext, DnsTransport } from '../dns-module.ts'
import { ANSWER, NEXT } from '../verdict.ts'
import { type PacketCacheSettings, packetcache } from './index.ts'
import { type Rr, rr, soa, writeRr } from './record-test-support.ts'

// --- helpers -----------------------------------------------------------------

interface ReplySpec {
  rcode?: number
  /** Extra header bits (TC, AA). */
  flags?: number
  answer?: Rr[]
  authority?: Rr[]
  additional?: Rr[]
  /** The OPT record: by default present when the query has EDNS, placed last. */
  opt?: { options?: EdnsOptionData[]; at?: number } | false
}

/** A legacy reply to `query`, written with name compression as a real server would. */
function makeReply(query: Buffer, spec: ReplySpec = {}): Buffer {
  const view = createQueryView()
  expect(readQuery(query, query.length, view)).toBe(Parse.OK)
  const answer = spec.answer ?? []
  const authority = spec.authority ?? []
  const additional = spec.additional ?? []
  const opt = spec.opt ?? (view.edns ? {} : false)
  const w = new WireWriter(0)
  w.u16(query.readUInt16BE(0))
  w.u16(
    Flag.QR |
      (query.readUInt16BE(2) & ECHOED_FLAGS) |
      Flag.RA |
      (spec.flags ?? 0) |
      (spec.rcode ?? 0),
  )
  w.u16(1)
  w.u16(answer.length)
  w.u16(authority.length)
  w.u16(additional.length + (opt ? 1 : 0))
  w.bytes(query.subarray(12, view.questionEnd))
  w.seed(Buffer.from(query.subarray(12, view.qnameEnd)), { kind: 'abs', offset: 12 })
  const write = (r: Rr) => writeRr(w, r)
  answer.forEach(write)
  authority.forEach(write)
  const optAt = opt ? (opt.at ?? additional.length) : -1
  for (let i = 0; i <= additional.length; i++) {
    if (i === optAt && opt) writeOpt(w, 1232, view.ednsDo, 0, opt.options ?? [])
    if (i < additional.length) write(additional[i])
  }
  return w.take()
}

const positive = (query: Buffer, ttl = 300) =>
  makeReply(query, { answer: [rr('www.example.test.', Type.A, ttl, '192.0.2.10')] })

function ctxFor(query: Buffer, transport: DnsTransport = 'udp'): DnsContext {
  const view = createQueryView()
  expect(readQuery(query, query.length, view)).toBe(Parse.OK)
  const sizeLimit =
    transport !== 'udp' ? 65_535 : view.edns ? Math.min(Math.max(view.ednsUdpSize, 512), 1232) : 512
  return {
    query,
    view,
    transport,
    sizeLimit,
    ednsPayload: 1232,
    out: Buffer.alloc(65_535),
    response: Buffer.alloc(0),
    responseLength: 0,
  }
}

const silent = { info() {}, warn() {}, error() {} }

const DEFAULTS: PacketCacheSettings = {
  enabled: true,
  maxEntries: 1000,
  maxBytes: 1 << 20,
  servfailTtl: 5000,
  maxTtl: 86_400_000,
}

function harness(options: Partial<PacketCacheSettings> = {}) {
  const registry = new Registry()
  const cache = packetcache({ ...DEFAULTS, ...options }, { log: silent, registry })
  /** Runs the response phase as the engine does after a legacy reply. */
  const store = (query: Buffer, response: Buffer, transport: DnsTransport = 'udp') =>
    cache.response!({ query, transport, response, responseLength: response.length })
  /** Runs the query phase; the served reply, copied out, when it answered. */
  const lookup = (query: Buffer, transport: DnsTransport = 'udp') => {
    const ctx = ctxFor(query, transport)
    const verdict = cache.query!(ctx)
    expect(verdict === ANSWER || verdict === NEXT).toBe(true)
    return verdict === ANSWER
      ? Buffer.from(ctx.response.subarray(0, ctx.responseLength))
      : undefined
  }
  const metric = async (name: string) => {
    const m = registry.getSingleMetric(name)
    expect(m).toBeDefined()
    return (await m!.get()).values
  }
  const counts = async () => {
    const values = await metric('cutover_packetcache_lookups_total')
    const of = (result: string) => values.find((v) => v.labels.result === result)?.value ?? 0
    return { hit: of('hit'), miss: of('miss') }
  }
  const gauge = async (name: 'entries' | 'bytes') =>
    (await metric(`cutover_packetcache_${name}`))[0].value
  return { cache, registry, store, lookup, counts, gauge }
}

const q = (name: string, extra: Partial<Parameters<typeof buildQuery>[0]> = {}) =>
  buildQuery({ id: 0x1111, name, type: Type.A, ...extra })

let now = 1_000_000
/** Moves the clock the cache reads (performance.now) forward by `ms`. */
const advance = (ms: number) => {
  now += ms
}

beforeEach(() => {
  now = 1_000_000
  vi.spyOn(performance, 'now').mockImplementation(() => now)
})

afterEach(() => {
  vi.restoreAllMocks()
})

// --- tests -------------------------------------------------------------------

describe('packetcache: serving stored replies', () => {
  it('serves a stored reply for the same question in another case, with the new ID and case', () => {
    const { store, lookup } = harness()
    const first = q('www.example.test', { id: 0x1234 })
    const reply = positive(first)
    store(first, reply)

    const again = q('WwW.ExAmPle.TEST', { id: 0xbeef })
    const served = lookup(again)
    expect(served).toBeDefined()
    expect(served!.readUInt16BE(0)).toBe(0xbeef)
    // The question as the new client wrote it, byte for byte.
    expect(served!.subarray(12, again.length)).toEqual(again.subarray(12))
    const msg = decodeMessage(served!)
    expect(msg.questions).toEqual([{ name: 'WwW.ExAmPle.TEST.', type: Type.A, class: 1 }])
    expect(msg.flags & Flag.QR).toBe(Flag.QR)
    expect(msg.rcode).toBe(Rcode.NOERROR)
    // The owner is a pointer to the question, so it reads in the new client's case.
    expect(msg.answer).toEqual([
      { name: 'WwW.ExAmPle.TEST.', type: Type.A, class: 1, ttl: 300, data: '192.0.2.10' },
    ])
    // Apart from ID and question case, the very bytes stored.
    expect(served!.length).toBe(reply.length)
    expect(served!.subarray(again.length)).toEqual(reply.subarray(again.length))
  })

  it('stores only responseLength bytes of the response buffer', () => {
    const { cache, lookup } = harness()
    const query = q('www.example.test')
    const reply = positive(query)
    const padded = Buffer.concat([reply, Buffer.alloc(40, 0xee)])
    cache.response!({ query, transport: 'udp', response: padded, responseLength: reply.length })
    const served = lookup(q('www.example.test'))
    expect(served).toEqual(reply)
  })

  it('misses a name or type it never stored', () => {
    const { store, lookup } = harness()
    const query = q('www.example.test')
    store(query, positive(query))
    expect(lookup(q('www2.example.test'))).toBeUndefined()
    expect(lookup(q('www.example.test', { type: Type.AAAA }))).toBeUndefined()
    expect(lookup(q('example.test'))).toBeUndefined()
    expect(lookup(q('www.example.test'))).toBeDefined()
  })

  it.each([
    ['RD', { rd: false }],
    ['CD', { cd: true }],
    ['EDNS present', { edns: { udpSize: 1232 } }],
  ] as const)('keys on %s: a query differing in that bit alone misses', (_bit, variant) => {
    const { store, lookup } = harness()
    const base = q('www.example.test')
    store(base, positive(base))
    const other = q('www.example.test', variant)
    expect(lookup(other)).toBeUndefined()
    store(other, positive(other, 60))
    // Both now held, each served to its own kind of query.
    expect(decodeMessage(lookup(q('www.example.test'))!).answer[0].ttl).toBe(300)
    expect(decodeMessage(lookup(q('www.example.test', variant))!).answer[0].ttl).toBe(60)
  })

  it('keys on DO: an EDNS query with DO set misses an EDNS reply stored without it', () => {
    const { store, lookup } = harness()
    const plain = q('www.example.test', { edns: { udpSize: 1232 } })
    store(plain, positive(plain))
    const dnssec = q('www.example.test', { edns: { udpSize: 1232, do: true } })
    expect(lookup(dnssec)).toBeUndefined()
    store(dnssec, positive(dnssec, 60))
    expect(decodeMessage(lookup(dnssec)!).answer[0].ttl).toBe(60)
    expect(decodeMessage(lookup(plain)!).answer[0].ttl).toBe(300)
  })

  it('serves an EDNS query with another buffer size, the size is not part of the key', () => {
    const { store, lookup } = harness()
    const a = q('www.example.test', { edns: { udpSize: 1232 } })
    store(a, positive(a))
    const served = lookup(q('www.example.test', { edns: { udpSize: 4096 } }))
    expect(served).toBeDefined()
    expect(decodeMessage(served!).edns?.udpSize).toBe(1232)
  })
})

describe('packetcache: lifetimes', () => {
  it('counts every TTL down by whole seconds spent in the cache', () => {
    const { store, lookup } = harness()
    const query = q('www.example.test')
    store(
      query,
      makeReply(query, {
        answer: [rr('www.example.test.', Type.A, 300, '192.0.2.10')],
        authority: [rr('example.test.', Type.NS, 3600, 'ns1.example.test.')],
        additional: [rr('ns1.example.test.', Type.A, 1000, '192.0.2.1')],
      }),
    )
    advance(42_999)
    const msg = decodeMessage(lookup(q('www.example.test'))!)
    expect(msg.answer[0].ttl).toBe(258)
    expect(msg.authority[0].ttl).toBe(3558)
    expect(msg.additional[0].ttl).toBe(958)
    advance(1)
    expect(decodeMessage(lookup(q('www.example.test'))!).answer[0].ttl).toBe(257)
  })

  it('expires an entry after its smallest TTL', async () => {
    const { store, lookup, gauge } = harness()
    const query = q('www.example.test')
    store(
      query,
      makeReply(query, {
        answer: [
          rr('www.example.test.', Type.CNAME, 600, 'web.example.test.'),
          rr('web.example.test.', Type.A, 45, '192.0.2.10'),
        ],
      }),
    )
    advance(44_999)
    const last = decodeMessage(lookup(q('www.example.test'))!)
    expect(last.answer.map((r) => r.ttl)).toEqual([556, 1])
    advance(1)
    expect(lookup(q('www.example.test'))).toBeUndefined()
    // The expired entry is gone, not just hidden.
    expect(await gauge('entries')).toBe(0)
    expect(await gauge('bytes')).toBe(0)
  })

  it.each([
    ['NXDOMAIN, SOA minimum below its TTL', Rcode.NXDOMAIN, 3600, 300, 300],
    ['NXDOMAIN, SOA TTL below its minimum', Rcode.NXDOMAIN, 60, 300, 60],
    ['NODATA, SOA minimum below its TTL', Rcode.NOERROR, 3600, 120, 120],
    ['NODATA, SOA TTL below its minimum', Rcode.NOERROR, 30, 900, 30],
  ])('caches %s for min(SOA TTL, minimum) (RFC 2308)', (_case, rcode, ttl, minimum, life) => {
    const { store, lookup } = harness()
    const query = q('nx.example.test')
    store(query, makeReply(query, { rcode, authority: [soa(ttl, minimum)] }))
    advance(life * 1000 - 1)
    const msg = decodeMessage(lookup(q('NX.example.test'))!)
    expect(msg.rcode).toBe(rcode)
    expect(msg.answer).toEqual([])
    expect(msg.authority[0].type).toBe(Type.SOA)
    advance(1)
    expect(lookup(q('nx.example.test'))).toBeUndefined()
  })

  it('caches a SERVFAIL for servfailTtl', () => {
    const { store, lookup } = harness({ servfailTtl: 2500 })
    const query = q('broken.example.test')
    store(query, makeReply(query, { rcode: Rcode.SERVFAIL }))
    advance(2499)
    expect(decodeMessage(lookup(q('broken.example.test'))!).rcode).toBe(Rcode.SERVFAIL)
    advance(1)
    expect(lookup(q('broken.example.test'))).toBeUndefined()
  })

  it('caps every lifetime at maxTtl', () => {
    const { store, lookup } = harness({ maxTtl: 10_000 })
    const a = q('www.example.test')
    store(a, positive(a, 86_400))
    const nx = q('nx.example.test')
    store(nx, makeReply(nx, { rcode: Rcode.NXDOMAIN, authority: [soa(3600, 3600)] }))
    advance(9_999)
    expect(lookup(q('www.example.test'))).toBeDefined()
    expect(lookup(q('nx.example.test'))).toBeDefined()
    advance(1)
    expect(lookup(q('www.example.test'))).toBeUndefined()
    expect(lookup(q('nx.example.test'))).toBeUndefined()
  })

  it('caps a SERVFAIL at maxTtl too', () => {
    const { store, lookup } = harness({ servfailTtl: 60_000, maxTtl: 1_000 })
    const query = q('broken.example.test')
    store(query, makeReply(query, { rcode: Rcode.SERVFAIL }))
    advance(999)
    expect(lookup(q('broken.example.test'))).toBeDefined()
    advance(1)
    expect(lookup(q('broken.example.test'))).toBeUndefined()
  })
})

describe('packetcache: what is not stored', () => {
  const notStored: [string, (query: Buffer) => Buffer][] = [
    ['a truncated reply', (query) => makeReply(query, { flags: Flag.TC })],
    [
      'a truncated reply with records',
      (query) =>
        makeReply(query, {
          flags: Flag.TC,
          answer: [rr('x.example.test.', Type.A, 300, '192.0.2.1')],
        }),
    ],
    ['REFUSED', (query) => makeReply(query, { rcode: Rcode.REFUSED })],
    ['FORMERR', (query) => makeReply(query, { rcode: Rcode.FORMERR })],
    ['NOTIMP', (query) => makeReply(query, { rcode: Rcode.NOTIMP })],
    [
      'a NOERROR referral without SOA',
      (query) =>
        makeReply(query, {
          authority: [rr('x.example.test.', Type.NS, 3600, 'ns.x.example.test.')],
          additional: [rr('ns.x.example.test.', Type.A, 3600, '192.0.2.53')],
        }),
    ],
    ['an NXDOMAIN without SOA', (query) => makeReply(query, { rcode: Rcode.NXDOMAIN })],
    ['an empty NOERROR', (query) => makeReply(query)],
    [
      'an answer with TTL 0',
      (query) =>
        makeReply(query, {
          answer: [
            rr('x.example.test.', Type.A, 300, '192.0.2.1'),
            rr('x.example.test.', Type.A, 0, '192.0.2.2'),
          ],
        }),
    ],
    [
      'a negative answer whose SOA minimum is 0',
      (query) => makeReply(query, { rcode: Rcode.NXDOMAIN, authority: [soa(3600, 0)] }),
    ],
  ]

  it.each(notStored)('does not store %s', async (_case, make) => {
    const { store, lookup, gauge } = harness()
    const query = q('x.example.test')
    store(query, make(query))
    expect(await gauge('entries')).toBe(0)
    expect(lookup(q('x.example.test'))).toBeUndefined()
  })

  it('does not store or serve a reply to a query with an EDNS Client Subnet option', async () => {
    const { store, lookup, gauge, counts } = harness()
    const ecs: EdnsOptionData = {
      code: EdnsOption.ECS,
      data: Buffer.from('0001180000c00002', 'hex'),
    }
    const withEcs = q('www.example.test', { edns: { udpSize: 1232, options: [ecs] } })
    store(withEcs, positive(withEcs))
    expect(await gauge('entries')).toBe(0)

    // Nor is an ECS query answered from what a plain EDNS query stored.
    const plain = q('www.example.test', { edns: { udpSize: 1232 } })
    store(plain, positive(plain))
    expect(lookup(plain)).toBeDefined()
    expect(lookup(withEcs)).toBeUndefined()
    // Not a cache lookup at all: neither hit nor miss is counted for it.
    expect(await counts()).toEqual({ hit: 1, miss: 0 })
  })

  it('does not store or serve a reply to a class CH query', async () => {
    const { store, lookup, gauge } = harness()
    const ch = buildQuery({ id: 7, name: 'version.bind', type: Type.TXT, class: Class.CH })
    store(ch, makeReply(ch, { answer: [rr('version.bind.', Type.TXT, 300, 'legacy')] }))
    expect(await gauge('entries')).toBe(0)
    expect(lookup(ch)).toBeUndefined()
  })

  it('does not store a reply to a query of another opcode', async () => {
    const { store, gauge } = harness()
    const notify = q('example.test', { type: Type.SOA })
    notify.writeUInt16BE((Opcode.NOTIFY << 11) | Flag.AA, 2)
    store(notify, makeReply(notify, { answer: [] }))
    expect(await gauge('entries')).toBe(0)
  })

  it('does not serve a stored reply larger than the client takes', () => {
    const { store, lookup } = harness()
    const answer = Array.from({ length: 40 }, (_, i) =>
      rr('big.example.test.', Type.A, 300, `198.51.100.${i + 1}`),
    )
    const query = q('big.example.test')
    // Fetched over TCP for some client, 12 + 22 + 40 * 16 octets.
    const reply = makeReply(query, { answer })
    expect(reply.length).toBeGreaterThan(512)
    store(query, reply, 'tcp')
    expect(lookup(q('big.example.test'), 'udp')).toBeUndefined()
    expect(lookup(q('big.example.test'), 'tcp')).toBeDefined()
  })

  it('serves a reply exactly as large as the limit', () => {
    const { store, lookup } = harness()
    const query = q('big.example.test')
    // 12 + 22 octets of header and question, 16 per A record, 14 for a TXT "x" at the question name.
    const answer = Array.from({ length: 29 }, (_, i) =>
      rr('big.example.test.', Type.A, 300, `198.51.100.${i + 1}`),
    )
    const fits = makeReply(query, {
      answer,
      additional: [rr('big.example.test.', Type.TXT, 300, 'x')],
    })
    expect(fits.length).toBe(512)
    store(query, fits)
    expect(lookup(q('big.example.test'), 'udp')).toEqual(fits)
  })
})

describe('packetcache: EDNS options are not shared', () => {
  const cookie: EdnsOptionData = {
    code: EdnsOption.COOKIE,
    data: Buffer.from('0102030405060708a1a2a3a4a5a6a7a8a9aaabacadaeafb0', 'hex'),
  }

  it('strips the options of the stored OPT record and still counts TTLs down', () => {
    const { store, lookup } = harness()
    const query = q('www.example.test', { edns: { udpSize: 1232, options: [cookie] } })
    const reply = makeReply(query, {
      answer: [rr('www.example.test.', Type.A, 300, '192.0.2.10')],
      authority: [rr('example.test.', Type.NS, 600, 'ns1.example.test.')],
      additional: [rr('ns1.example.test.', Type.A, 900, '192.0.2.1')],
      opt: { options: [cookie] },
    })
    expect(decodeMessage(reply).edns?.options).toHaveLength(1)
    store(query, reply)
    advance(10_000)
    const served = lookup(q('www.example.test', { edns: { udpSize: 1232 } }))
    expect(served).toBeDefined()
    expect(served!.length).toBe(reply.length - 4 - cookie.data.length)
    const msg = decodeMessage(served!)
    expect(msg.edns).toEqual({
      udpSize: 1232,
      version: 0,
      extendedRcode: 0,
      do: false,
      options: [],
    })
    expect(msg.answer.map((r) => [r.data, r.ttl])).toEqual([['192.0.2.10', 290]])
    expect(msg.authority.map((r) => [r.data, r.ttl])).toEqual([['ns1.example.test.', 590]])
    expect(msg.additional.map((r) => [r.name, r.data, r.ttl])).toEqual([
      ['ns1.example.test.', '192.0.2.1', 890],
    ])
  })

  it('does not store a reply whose OPT record with options is not last (cutting it out would break pointers)', () => {
    const { store, lookup } = harness()
    const query = q('www.example.test', { edns: { udpSize: 1232, options: [cookie] } })
    // OPT first in the additional section (RFC 6891 allows any place); the names
    // after it compress against each other.
    const reply = makeReply(query, {
      answer: [rr('www.example.test.', Type.A, 300, '192.0.2.10')],
      additional: [
        rr('extra.example.test.', Type.A, 700, '192.0.2.7'),
        rr('extra.example.test.', Type.AAAA, 800, '2001:db8::7'),
      ],
      opt: { options: [cookie], at: 0 },
    })
    expect(decodeMessage(reply).additional.map((r) => r.name)).toEqual([
      'extra.example.test.',
      'extra.example.test.',
    ])
    store(query, reply)
    expect(lookup(q('www.example.test', { edns: { udpSize: 1232 } }))).toBeUndefined()
  })
})

describe('packetcache: bounds', () => {
  const names = ['a.example.test', 'b.example.test', 'c.example.test']
  const storeName = (store: (q: Buffer, r: Buffer) => void, name: string) => {
    const query = q(name)
    store(query, makeReply(query, { answer: [rr(`${name}.`, Type.A, 300, '192.0.2.1')] }))
  }

  it('evicts the least recently used entry beyond maxEntries; a lookup refreshes recency', async () => {
    const { store, lookup, gauge } = harness({ maxEntries: 2 })
    storeName(store, names[0])
    storeName(store, names[1])
    expect(lookup(q(names[0]))).toBeDefined()
    storeName(store, names[2])
    expect(await gauge('entries')).toBe(2)
    expect(lookup(q(names[1]))).toBeUndefined()
    expect(lookup(q(names[0]))).toBeDefined()
    expect(lookup(q(names[2]))).toBeDefined()
  })

  it('evicts in insertion order without lookups', () => {
    const { store, lookup } = harness({ maxEntries: 2 })
    for (const name of names) storeName(store, name)
    expect(lookup(q(names[0]))).toBeUndefined()
    expect(lookup(q(names[1]))).toBeDefined()
    expect(lookup(q(names[2]))).toBeDefined()
  })

  it('evicts the least recently used entries beyond maxBytes', async () => {
    const query = q(names[0])
    const size = makeReply(query, { answer: [rr(`${names[0]}.`, Type.A, 300, '192.0.2.1')] }).length
    const { store, lookup, gauge } = harness({ maxBytes: 2 * (size + 160) + 10 })
    storeName(store, names[0])
    storeName(store, names[1])
    expect(await gauge('bytes')).toBe(2 * (size + 160))
    expect(lookup(q(names[0]))).toBeDefined()
    storeName(store, names[2])
    expect(await gauge('entries')).toBe(2)
    expect(await gauge('bytes')).toBe(2 * (size + 160))
    expect(lookup(q(names[1]))).toBeUndefined()
    expect(lookup(q(names[0]))).toBeDefined()
    expect(lookup(q(names[2]))).toBeDefined()
  })

  it('does not keep a reply larger than maxBytes on its own', async () => {
    const { store, lookup, gauge } = harness({ maxBytes: 100 })
    storeName(store, names[0])
    expect(await gauge('entries')).toBe(0)
    expect(await gauge('bytes')).toBe(0)
    expect(lookup(q(names[0]))).toBeUndefined()
  })

  it('replaces the entry for a question stored again, and still serves it', async () => {
    // The legacy answers the same question twice when two clients miss at once,
    // or when a stored reply was too large for a UDP client.
    const { store, lookup, gauge } = harness()
    const query = q('www.example.test')
    store(query, positive(query, 300))
    store(query, positive(query, 60))
    expect(await gauge('entries')).toBe(1)
    const served = lookup(q('www.example.test'))
    expect(served).toBeDefined()
    expect(decodeMessage(served!).answer[0].ttl).toBe(60)
  })
})

describe('packetcache: metrics', () => {
  it('counts hits and misses and reports entries and bytes', async () => {
    const { store, lookup, counts, gauge } = harness()
    expect(await counts()).toEqual({ hit: 0, miss: 0 })
    expect(await gauge('entries')).toBe(0)
    expect(await gauge('bytes')).toBe(0)

    const a = q('a.example.test')
    expect(lookup(a)).toBeUndefined()
    const ra = positive(a)
    store(a, ra)
    const b = q('b.example.test', { type: Type.MX })
    const rb = makeReply(b, { rcode: Rcode.NXDOMAIN, authority: [soa(3600, 300)] })
    store(b, rb)
    expect(lookup(a)).toBeDefined()
    expect(lookup(a)).toBeDefined()
    expect(lookup(b)).toBeDefined()
    expect(lookup(q('c.example.test'))).toBeUndefined()

    expect(await counts()).toEqual({ hit: 3, miss: 2 })
    expect(await gauge('entries')).toBe(2)
    expect(await gauge('bytes')).toBe(ra.length + rb.length + 2 * 160)

    // An expired entry counts as a miss.
    advance(300_000)
    expect(lookup(a)).toBeUndefined()
    expect(await counts()).toEqual({ hit: 3, miss: 3 })
    expect(await gauge('entries')).toBe(1)
  })
})

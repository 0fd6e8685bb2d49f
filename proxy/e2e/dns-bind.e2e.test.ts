// End to end against a real BIND 9: the new path serves e2e.test from the same
// zone file BIND serves, and must answer every name and type as BIND does, over
// UDP and TCP, with and without EDNS, in any letter case. Everything else goes
// through the proxy to BIND.

import assert from 'node:assert'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Flag, Rcode, Type } from '../../dns/constants.ts'
import { parseMasterFile } from '../../dns/master-file.ts'
import { buildQuery, decodeMessage, type QueryOptions } from '../../dns/message.ts'
import { wireToText } from '../../dns/name.ts'
import { compareDns } from '../../flamingo-tests/dns-compare.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { type BindServer, startBind } from './support/bind.ts'
import { compareWithBind, mismatchesOf } from './support/dns-against-bind.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'

const ZONES = join(dirname(fileURLToPath(import.meta.url)), 'zones')
const E2E_ZONE = join(ZONES, 'e2e.test.zone')

let bind: BindServer
let proxy: TestProxy

beforeAll(async () => {
  bind = await startBind(
    [
      { name: 'e2e.test', file: E2E_ZONE },
      { name: 'other.test', file: join(ZONES, 'other.test.zone') },
    ],
    ZONES,
  )
  proxy = await startTestProxy({
    dns: {
      listen: '127.0.0.1:0',
      zones: [{ name: 'e2e.test', file: E2E_ZONE, percent: 100 }],
      legacy: { servers: [`127.0.0.1:${bind.port}`], timeout: '1s' },
    },
  })
})

afterAll(async () => {
  await proxy?.stop()
  await bind?.stop()
})

const at = () => ({ host: '127.0.0.1', port: proxy.dnsPort })

/** Randomly mixed letter case, the way a 0x20-encoding resolver asks. */
function mixCase(name: string, seed: number): string {
  let s = seed
  return [...name]
    .map((ch) => {
      s = (s * 1103515245 + 12345) & 0x7fffffff
      return s & 1 ? ch.toUpperCase() : ch.toLowerCase()
    })
    .join('')
}

async function both(q: QueryOptions, transport: 'udp' | 'tcp') {
  const query = buildQuery(q)
  const [fromBind, fromProxy] = await Promise.all([
    exchange(bind, query, transport),
    exchange(at(), query, transport),
  ])
  return { query, fromBind, fromProxy }
}

const NAMES = [
  'e2e.test',
  'ns1.e2e.test',
  'ns2.e2e.test',
  'mail.e2e.test',
  'www.e2e.test',
  'mixed.e2e.test',
  'ttl-first.e2e.test',
  'alias.e2e.test',
  'chain.e2e.test',
  'dangling.e2e.test',
  'nodata-target.e2e.test',
  'external.e2e.test',
  'loop1.e2e.test',
  'to-wild.e2e.test',
  'foo.wild.e2e.test',
  'a.b.wild.e2e.test',
  '*.wild.e2e.test',
  'wild.e2e.test',
  'x.cnamewild.e2e.test',
  'a.b.c.ent.e2e.test',
  'b.c.ent.e2e.test',
  'c.ent.e2e.test',
  'ent.e2e.test',
  'sub.e2e.test',
  'www.sub.e2e.test',
  'deep.www.sub.e2e.test',
  'ns1.sub.e2e.test',
  'inzone-deleg.e2e.test',
  '_sip._tcp.e2e.test',
  '_tcp.e2e.test',
  'sipserver.e2e.test',
  'ptr.e2e.test',
  'txt.e2e.test',
  'hinfo.e2e.test',
  'generic.e2e.test',
  'host.inc.e2e.test',
  'big.e2e.test',
  'nearfull.e2e.test',
  'olddept.e2e.test',
  'www.olddept.e2e.test',
  'nx.olddept.e2e.test',
  'a.b.olddept.e2e.test',
  'www.outside.e2e.test',
  'to-dname.e2e.test',
  'newdept.e2e.test',
  `${'x'.repeat(60)}.long.e2e.test`,
  // Renamed, it would be longer than 255 octets: YXDOMAIN.
  `${'x'.repeat(60)}.${'y'.repeat(30)}.long.e2e.test`,
  'fits-ns.e2e.test',
  'nx.e2e.test',
  'deep.nx.e2e.test',
]
const TYPES = [
  Type.A,
  Type.AAAA,
  Type.NS,
  Type.SOA,
  Type.MX,
  Type.TXT,
  Type.CNAME,
  Type.SRV,
  Type.PTR,
  Type.CAA,
  Type.HINFO,
  Type.DS,
  65280,
  Type.HTTPS,
  Type.DNAME,
  Type.NSEC,
  Type.RRSIG,
]
const EDNS = [undefined, { udpSize: 1232 }, { udpSize: 4096 }, { udpSize: 512 }]

/** Every name and type of NAMES and TYPES, in mixed case, with `edns` and RD 1 and 0 (resolvers ask with RD=0). */
function casesOf(edns: readonly (QueryOptions['edns'] | undefined)[]): QueryOptions[] {
  const cases: QueryOptions[] = []
  let seed = 1
  for (const name of NAMES)
    for (const type of TYPES)
      for (const e of edns)
        for (const rd of [true, false])
          cases.push({ name: mixCase(name, seed++), type, edns: e, rd })
  return cases
}

describe('new path against a default BIND 9 for the same zone file', () => {
  for (const transport of ['udp', 'tcp'] as const) {
    it(`answers every name and type as BIND does over ${transport}, RD 1 and 0`, async () => {
      const cases = casesOf(EDNS)
      const { mismatches, newPath } = await compareWithBind({ bind, proxy }, cases, [transport])
      expect(mismatches.slice(0, 5).join('\n\n')).toBe('')
      expect(newPath).toBe(cases.length)
    })
  }

  it('answers a resolver (RD=0) with the zone NS RRset and their addresses, a stub (RD=1) without', async () => {
    const q = { name: 'www.e2e.test', type: Type.A, edns: { udpSize: 1232 } }
    const resolver = decodeMessage((await both({ ...q, rd: false }, 'udp')).fromProxy)
    expect(resolver.authority.map((r) => r.type)).toEqual([Type.NS, Type.NS])
    expect(resolver.additional.some((r) => r.type === Type.A)).toBe(true)
    const stub = decodeMessage((await both({ ...q, rd: true }, 'udp')).fromProxy)
    expect(stub.authority).toEqual([])
  })
  it('truncates an answer too large for a UDP client and serves it whole over TCP', async () => {
    const q = { name: 'big.e2e.test', type: Type.A }
    const udp = decodeMessage((await both(q, 'udp')).fromProxy)
    expect(udp.flags & Flag.TC).toBe(Flag.TC)
    const tcp = decodeMessage((await both(q, 'tcp')).fromProxy)
    expect(tcp.flags & Flag.TC).toBe(0)
    expect(tcp.answer).toHaveLength(40)
    const large = decodeMessage((await both({ ...q, edns: { udpSize: 1232 } }, 'udp')).fromProxy)
    expect(large.answer).toHaveLength(40)
  })
})

describe('minimalResponses, each value against BIND set the same way', () => {
  for (const setting of ['no', 'no-auth', 'no-auth-recursive', 'yes'] as const) {
    it(`answers as BIND with minimal-responses ${setting}`, async () => {
      const pair = {
        bind: await startBind(
          [{ name: 'e2e.test', file: E2E_ZONE }],
          ZONES,
          `minimal-responses ${setting};`,
        ),
        proxy: undefined as TestProxy | undefined,
      }
      try {
        pair.proxy = await startTestProxy({
          dns: {
            listen: '127.0.0.1:0',
            minimalResponses: setting === 'no' ? 'no-auth' : 'no-auth-recursive',
            zones: [{ name: 'e2e.test', file: E2E_ZONE, minimalResponses: setting, percent: 100 }],
            legacy: { servers: [`127.0.0.1:${pair.bind.port}`], timeout: '1s' },
          },
        })
        const mismatches = await mismatchesOf(
          { bind: pair.bind, proxy: pair.proxy },
          casesOf([undefined, { udpSize: 1232 }]),
          'udp',
        )
        expect(mismatches.slice(0, 5).join('\n\n')).toBe('')
      } finally {
        await pair.proxy?.stop()
        await pair.bind.stop()
      }
    })
  }
})

describe('every record type BIND reads from a master file', () => {
  it('serves each as BIND serves it from the same file, RD 1 and 0, UDP and TCP', async () => {
    const file = join(ZONES, 'types.test.zone')
    const pair = {
      bind: await startBind([{ name: 'types.test', file }], ZONES),
      proxy: undefined as TestProxy | undefined,
    }
    try {
      pair.proxy = await startTestProxy({
        dns: {
          listen: '127.0.0.1:0',
          zones: [{ name: 'types.test', file, percent: 100 }],
          legacy: { servers: [`127.0.0.1:${pair.bind.port}`], timeout: '1s' },
        },
      })
      const records = parseMasterFile(
        { text: readFileSync(file, 'utf8'), file },
        { origin: 'types.test', include: () => assert.fail('no $INCLUDE here') },
      ).records
      const cases = [...new Set(records.map((r) => `${wireToText(r.owner)} ${r.type}`))].flatMap(
        (key) => {
          const [name, type] = key.split(' ')
          return [true, false].map((rd) => ({
            name,
            type: Number(type),
            rd,
            edns: { udpSize: 1232 },
          }))
        },
      )
      expect(cases.length).toBeGreaterThan(100)
      for (const transport of ['udp', 'tcp'] as const) {
        const mismatches = await mismatchesOf(
          { bind: pair.bind, proxy: pair.proxy },
          cases,
          transport,
        )
        expect(mismatches.slice(0, 5).join('\n\n')).toBe('')
      }
      expect(
        await pair.proxy.metric('cutover_requests_total', { protocol: 'dns', path: 'new' }),
      ).toBe(cases.length * 2)
    } finally {
      await pair.proxy?.stop()
      await pair.bind.stop()
    }
  })
})

describe('legacy path through the proxy', () => {
  it('forwards names outside the migrated zones to BIND and returns its answers', async () => {
    for (const transport of ['udp', 'tcp'] as const) {
      for (const name of ['www.other.test', 'nx.other.test', 'other.test', 'elsewhere.example']) {
        const { fromBind, fromProxy } = await both(
          { name: mixCase(name, 7), type: Type.A, edns: { udpSize: 1232 } },
          transport,
        )
        expect(
          compareDns(decodeMessage(fromBind), decodeMessage(fromProxy), { ttlTolerance: 1 }),
        ).toEqual([])
      }
    }
    expect(
      await proxy.metric('cutover_requests_total', { protocol: 'dns', path: 'legacy' }),
    ).toBeGreaterThan(0)
  })

  it('sends what the new path does not serve to BIND, counted by reason', async () => {
    const cases: [QueryOptions, string][] = [
      [{ name: 'www.e2e.test', type: Type.ANY }, 'qtype-any'],
      [{ name: 'e2e.test', type: Type.AXFR }, 'zone-transfer'],
      [{ name: 'www.e2e.test', type: Type.A, class: 3 }, 'class'],
      [{ name: 'www.e2e.test', type: Type.A, edns: { version: 1 } }, 'edns-version'],
    ]
    for (const [q, reason] of cases) {
      const before = await proxy.metric('cutover_fallbacks_total', { protocol: 'dns', reason })
      const { fromBind, fromProxy } = await both(q, 'udp')
      expect(compareDns(decodeMessage(fromBind), decodeMessage(fromProxy)), reason).toEqual([])
      expect(
        await proxy.metric('cutover_fallbacks_total', { protocol: 'dns', reason }),
        reason,
      ).toBe(before + 1)
    }
  })

  it('answers DO queries for an unsigned zone on the new path, as BIND does', async () => {
    const before = await proxy.metric('cutover_requests_total', { protocol: 'dns', path: 'new' })
    for (const transport of ['udp', 'tcp'] as const) {
      for (const name of ['www.e2e.test', 'nx.e2e.test']) {
        const { fromBind, fromProxy } = await both(
          { name, type: Type.A, edns: { udpSize: 1232, do: true } },
          transport,
        )
        expect(compareDns(decodeMessage(fromBind), decodeMessage(fromProxy)), name).toEqual([])
      }
    }
    expect(
      await proxy.metric('cutover_requests_total', { protocol: 'dns', path: 'new' }),
    ).toBeGreaterThanOrEqual(before + 4)
  })

  it('serves repeated legacy answers from the packet cache with TTLs counted down', async () => {
    const q = { name: 'short.other.test', type: Type.A, edns: { udpSize: 1232 } }
    const hitsBefore = await proxy.metric('cutover_packetcache_lookups_total', { result: 'hit' })
    const first = decodeMessage(await exchange(at(), buildQuery(q), 'udp'))
    const second = decodeMessage(await exchange(at(), buildQuery(q), 'udp'))
    expect(second.answer).toEqual(first.answer.map((r) => ({ ...r, ttl: second.answer[0].ttl })))
    expect(second.answer[0].ttl).toBeLessThanOrEqual(first.answer[0].ttl)
    expect(await proxy.metric('cutover_packetcache_lookups_total', { result: 'hit' })).toBe(
      hitsBefore + 1,
    )
  })

  it('answers SERVFAIL within the timeout when the legacy does not answer', async () => {
    const silent = await startTestProxy({
      dns: {
        listen: '127.0.0.1:0',
        legacy: { servers: ['127.0.0.1:9'], timeout: '300ms', attempts: 2 },
      },
    })
    try {
      const started = performance.now()
      const reply = decodeMessage(
        await exchange(
          { host: '127.0.0.1', port: silent.dnsPort },
          buildQuery({ name: 'www.other.test', type: Type.A }),
          'udp',
          3000,
        ),
      )
      expect(reply.rcode).toBe(Rcode.SERVFAIL)
      expect(reply.questions[0].name).toBe('www.other.test.')
      expect(performance.now() - started).toBeLessThan(1500)
      expect(
        await silent.metric('cutover_legacy_failures_total', {
          protocol: 'dns',
          failure: 'timeout',
        }),
      ).toBe(1)
    } finally {
      await silent.stop()
    }
  })
})

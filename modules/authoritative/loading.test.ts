// The authoritative module beyond plain zones: DNAME, a signed zone, zones it
// cannot serve, load-time errors as BIND makes them, and the zones shipped.

import { join } from 'node:path'
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import { CutoverError } from '../../common/cutover-error.ts'
import { Flag, Rcode, Type } from '../../dns/constants.ts'
import { buildQuery, type Message, type QueryOptions } from '../../dns/message.ts'
import type { ModuleLog } from '../env.ts'
import { ANSWER } from '../verdict.ts'
import { authoritative, Fallback } from './index.ts'
import {
  apex,
  ask,
  auth,
  load,
  removeZoneFiles,
  rrs,
  run,
  silent,
  zoneFile,
} from './query-harness.ts'

afterAll(removeZoneFiles)

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

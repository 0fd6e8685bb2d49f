// Per-record builds against full builds: any sequence of record events applied
// in place answers every name and type exactly as a zone built from scratch
// from the records that result (written out and read back as a master file).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import { Rcode, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import { createQueryView, Parse, readQuery } from '../../dns/query-view.ts'
import type { DnsContext } from '../dns-module.ts'
import type { ModuleLog } from '../env.ts'
import { type AuthoritativeModule, authoritative } from './index.ts'
import type { RecordEventBody } from './record-event.ts'
import { zoneText } from './zone-text.ts'

const dir = mkdtempSync(join(tmpdir(), 'cutover-zone-edit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const silent: ModuleLog = { info() {}, warn() {}, error() {} }

const BASE = `$TTL 300
$ORIGIN p.test.
@    IN SOA ns1 hostmaster 100 7200 900 1209600 60
     IN NS  ns1
ns1  IN A   192.0.2.1
`

let files = 0
function load(text: string): AuthoritativeModule {
  const file = join(dir, `z${files++}.zone`)
  writeFileSync(file, text)
  return authoritative(
    { zones: [{ name: 'p.test', file }] },
    { log: silent, registry: new Registry() },
  )
}

/** Records the events draw from: chains, wildcards, empty non-terminals, delegations, additional data. */
const POOL: [string, string, string][] = [
  ['a', 'A', '192.0.2.10'],
  ['a', 'A', '192.0.2.11'],
  ['a', 'AAAA', '2001:db8::10'],
  ['b', 'CNAME', 'a'],
  ['b', 'CNAME', 'c'],
  ['c', 'A', '192.0.2.12'],
  ['c', 'TXT', '"see c"'],
  ['x.y', 'A', '192.0.2.13'],
  ['y', 'TXT', '"y has data"'],
  ['*.w', 'A', '192.0.2.14'],
  ['*.w', 'TXT', '"wild"'],
  ['q.w', 'A', '192.0.2.15'],
  ['m', 'MX', '10 a'],
  ['m', 'MX', '20 c'],
  ['m', 'MX', '30 z.w'],
  ['d', 'CNAME', 'x.w'],
  ['e', 'CNAME', 'nothing'],
  ['nothing', 'A', '192.0.2.16'],
  ['sub', 'NS', 'ns.sub'],
  ['sub', 'NS', 'ns1'],
  ['ns.sub', 'A', '192.0.2.17'],
  ['f', 'CNAME', 'in.sub'],
  ['@', 'MX', '5 a'],
  ['@', 'TXT', '"apex"'],
  ['@', 'NS', 'a'],
  ['ns1', 'AAAA', '2001:db8::1'],
  ['*', 'A', '192.0.2.18'],
  // Names below a chain's target: the target appears as an empty non-terminal.
  ['v.x.w', 'A', '192.0.2.19'],
  ['deep.nothing', 'A', '192.0.2.20'],
]
const NAMES = [
  '@',
  'a',
  'b',
  'c',
  'x.y',
  'y',
  'w',
  'z.w',
  'q.w',
  'r.q.w',
  'm',
  'd',
  'e',
  'f',
  'nothing',
  'sub',
  'ns.sub',
  'in.sub',
  'ns1',
  'absent',
  'deep.absent',
  '*.w',
  'under.y',
  'x.w',
  'v.x.w',
  'deep.nothing',
].map((n) => (n === '@' ? 'p.test' : `${n}.p.test`))
const TYPES = [Type.A, Type.AAAA, Type.TXT, Type.MX, Type.CNAME, Type.NS, Type.SOA, Type.PTR]

// RD=1 and RD=0: under BIND's default minimal-responses the two get answers of their own.
const RD = [true, false]
const QUERIES = new Map(
  NAMES.flatMap((name) =>
    TYPES.flatMap((type) =>
      RD.map((rd) => [`${name}/${type}/${rd}`, buildQuery({ name, type, id: 7, rd })]),
    ),
  ),
)
const ctx: DnsContext = {
  query: Buffer.alloc(0),
  view: createQueryView(),
  transport: 'tcp',
  sizeLimit: 65_535,
  ednsPayload: 1232,
  out: Buffer.alloc(65_535),
  response: Buffer.alloc(0),
  responseLength: 0,
}

function answer(module: AuthoritativeModule, name: string, type: number, rd = true): Buffer {
  ctx.query = QUERIES.get(`${name}/${type}/${rd}`) ?? buildQuery({ name, type, id: 7, rd })

  expect(readQuery(ctx.query, ctx.query.length, ctx.view)).toBe(Parse.OK)
  module.query!(ctx)
  return Buffer.from(ctx.response.subarray(0, ctx.responseLength))
}

/**
 * Asks every name for some types, so answers made on demand exist before the
 * next change. Not every type: an answer that carried the SOA is forgotten at
 * every change (the serial moves), which would hide what a change must forget.
 */
function askSome(module: AuthoritativeModule): void {
  for (const name of NAMES)
    for (const type of [Type.A, Type.MX]) for (const rd of RD) answer(module, name, type, rd)
}

/** Every name and type answered by `edited` and by a fresh full build of its records. */
function expectSameAsFullBuild(edited: AuthoritativeModule): void {
  const full = load(zoneText(edited.zone('p.test')!))
  for (const name of NAMES)
    for (const type of TYPES)
      for (const rd of RD) {
        const got = answer(edited, name, type, rd)
        const want = answer(full, name, type, rd)
        if (!got.equals(want))
          expect({ name, type, rd, reply: decodeMessage(got) }).toEqual({
            name,
            type,
            rd,
            reply: decodeMessage(want),
          })
      }
}

const event = (op: 'create' | 'delete', i: number, ttl = 300): RecordEventBody => {
  const [name, type, data] = POOL[i]
  return { op, zone: 'p.test', name, type, data, ttl }
}

describe('per-record builds', () => {
  it('answer as a full build of the resulting zone, after any sequence of creates and deletes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            op: fc.constantFrom('create' as const, 'create' as const, 'delete' as const),
            i: fc.nat(POOL.length - 1),
            ttl: fc.constantFrom(300, 600),
          }),
          { maxLength: 40 },
        ),
        (events) => {
          const module = load(BASE)
          events.forEach((e, n) => {
            module.apply({ ...event(e.op, e.i, e.ttl), sequence: `${n + 1}-0` })
            askSome(module)
          })
          expectSameAsFullBuild(module)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('forgets a chain answer that went through a wildcard when its target turns into an empty non-terminal', () => {
    const module = load(BASE)
    apply(module, event('create', at('*.w', 'A')), event('create', at('d', 'CNAME')))
    expect(decodeMessage(answer(module, 'd.p.test', Type.A)).answer.map((r) => r.data)).toEqual([
      'x.w.p.test.',
      '192.0.2.14',
    ])
    apply(module, event('create', at('v.x.w', 'A')))
    expect(decodeMessage(answer(module, 'd.p.test', Type.A)).answer.map((r) => r.data)).toEqual([
      'x.w.p.test.',
    ])
    expectSameAsFullBuild(module)
  })

  it('an update that renames a record leaves no answer at the old name', () => {
    const module = load(BASE)
    apply(module, event('create', at('a', 'A')))
    apply(module, {
      op: 'update',
      zone: 'p.test',
      name: 'renamed',
      type: 'A',
      ttl: 300,
      data: '192.0.2.10',
      old: { name: 'a', type: 'A', data: '192.0.2.10' },
    })
    expect(decodeMessage(answer(module, 'a.p.test', Type.A)).rcode).toBe(Rcode.NXDOMAIN)
    expect(
      decodeMessage(answer(module, 'renamed.p.test', Type.A)).answer.map((r) => r.data),
    ).toEqual(['192.0.2.10'])
  })

  it('refuses what BIND refuses in a dynamic update, naming why; an update is whole or nothing', () => {
    const module = load(BASE)
    apply(module, event('create', at('a', 'A')), event('create', at('b', 'CNAME')))
    const serial = () =>
      module
        .zone('p.test')!
        .soa.rdatas[0].wire.readUInt32BE(module.zone('p.test')!.soa.rdatas[0].wire.length - 20)
    const before = serial()
    const refused = (e: RecordEventBody) => apply(module, e)[0]
    expect(refused({ op: 'create', zone: 'p.test', name: 'b', type: 'TXT', data: '"x"' })).toEqual({
      result: 'refused',
      reason: 'b.p.test. is a CNAME and cannot take other data',
    })
    expect(refused({ op: 'create', zone: 'p.test', name: 'a', type: 'CNAME', data: 'c' })).toEqual({
      result: 'refused',
      reason: 'a.p.test. has other data and cannot take a CNAME',
    })
    expect(refused({ op: 'delete', zone: 'p.test', name: '@', type: 'NS', data: 'ns1' })).toEqual({
      result: 'refused',
      reason: 'the last NS record of p.test. cannot be deleted',
    })
    expect(
      refused({ op: 'delete', zone: 'p.test', name: 'ns1', type: 'A', data: '192.0.2.1' }),
    ).toEqual({
      result: 'refused',
      reason: 'ns1.p.test. is a name server of p.test. and needs an address',
    })
    expect(
      refused({ op: 'create', zone: 'p.test', name: 'k', type: 'DNSKEY', data: '257 3 13 AAAA' }),
    ).toMatchObject({
      result: 'refused',
    })
    expect(
      refused({
        op: 'create',
        zone: 'p.test',
        name: 'x.other.test.',
        type: 'A',
        data: '192.0.2.1',
      }),
    ).toMatchObject({
      result: 'refused',
    })
    // The create half is refused: the delete half is undone.
    expect(
      refused({
        op: 'update',
        zone: 'p.test',
        name: 'b',
        type: 'A',
        data: '192.0.2.99',
        old: { name: 'a', type: 'A', data: '192.0.2.10' },
      }),
    ).toEqual({ result: 'refused', reason: 'b.p.test. is a CNAME and cannot take other data' })
    expect(decodeMessage(answer(module, 'a.p.test', Type.A)).answer.map((r) => r.data)).toEqual([
      '192.0.2.10',
    ])
    expect(serial()).toBe(before)
    expectSameAsFullBuild(module)
  })

  it('bumps the serial once per event that changed something, and skips events it has applied', () => {
    const module = load(BASE)
    const serial = () => {
      const wire = module.zone('p.test')!.soa.rdatas[0].wire
      return wire.readUInt32BE(wire.length - 20)
    }
    apply(module, event('create', at('a', 'A')))
    expect(serial()).toBe(101)
    apply(module, event('create', at('a', 'A')), event('delete', at('c', 'A')))
    expect(serial()).toBe(101)
    expect(module.apply({ ...event('delete', at('a', 'A')), sequence: '1-0' })).toEqual({
      result: 'skipped',
    })
    expect(decodeMessage(answer(module, 'a.p.test', Type.A)).answer).toHaveLength(1)
  })
})

let sequence = 1000
/** Applies events in order with fresh sequences; gives their outcomes. */
function apply(module: AuthoritativeModule, ...events: RecordEventBody[]) {
  return events.map((e) => module.apply({ ...e, sequence: `${++sequence}-0` }))
}

const at = (name: string, type: string) => POOL.findIndex((p) => p[0] === name && p[1] === type)

// The DNS engine with bad input: 100,000 random and mutated packets through the
// whole per-query flow (parse, route, authoritative module, fallback) never
// throw, and each gets a well-formed reply with its ID, or no reply at all.

import { join } from 'node:path'
import fc from 'fast-check'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Flag, Rcode, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import type { LegacyExchange } from '../../legacy-adapter/dns-forwarder.ts'
import { authoritative } from '../../modules/authoritative/index.ts'
import { createDnsRouter } from '../../rollout/dns-router.ts'
import { createScope } from '../../rollout/scopes.ts'
import { createMetrics } from '../telemetry/metrics.ts'
import { DnsEngine } from './engine.ts'
import { ReplyCollector } from './engine-test-support.ts'

const ZONE = join(import.meta.dirname, '..', 'e2e', 'zones', 'e2e.test.zone')

function scope(id: string, basisPoints: number, servable: boolean) {
  return createScope(
    { id, protocol: 'dns', basisPoints, stickiness: undefined, salt: undefined, servable },
    { v4: 24, v6: 56 },
  )
}

function engineWith(forward: (ex: LegacyExchange) => void) {
  const registry = new Registry()
  const log = pino({ level: 'silent' })
  const auth = authoritative({ zones: [{ name: 'e2e.test', file: ZONE }] }, { log, registry })
  return new DnsEngine({
    router: createDnsRouter(
      [{ zone: 'e2e.test', scope: scope('dns:e2e.test', 10_000, true), qtypes: new Map() }],
      scope('dns:*', 0, false),
    ),
    newChain: [auth],
    legacyChain: [],
    forwarder: { forward },
    metrics: createMetrics(registry),
    log,
    udpPayload: 1232,
    moduleBudgetMs: 1000,
    control: undefined,
    recorder: undefined,
  })
}

const seeds = [
  buildQuery({ name: 'www.e2e.test', type: Type.A }),
  buildQuery({ name: 'foo.wild.e2e.test', type: Type.TXT, edns: { udpSize: 1232 } }),
  buildQuery({ name: 'www.sub.e2e.test', type: Type.AAAA, edns: { udpSize: 4096, do: true } }),
  buildQuery({ name: 'nx.e2e.test', type: Type.MX, rd: false }),
  buildQuery({ name: 'elsewhere.example', type: Type.A }),
]

const mutated = fc
  .record({
    seed: fc.integer({ min: 0, max: seeds.length - 1 }),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
    cut: fc.option(fc.nat()),
    extra: fc.uint8Array({ maxLength: 40 }),
  })
  .map(({ seed, flips, cut, extra }) => {
    const p = Buffer.concat([seeds[seed], extra])
    for (const [at, v] of flips) p[at % p.length] = v
    return cut === null ? p : p.subarray(0, cut % (p.length + 1))
  })
const random = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a))

describe('DNS engine with random and mutated packets', () => {
  it('never throws; every packet gets a well-formed reply with its ID, or none', () => {
    let forwarded = 0
    const engine = engineWith((ex) => {
      forwarded++
      ex.finish(undefined, 'timeout')
    })
    let total = 0
    fc.assert(
      fc.property(fc.oneof(mutated, random), (packet) => {
        const out = new ReplyCollector()
        total++
        engine.handle(packet, total % 2 ? 'udp' : 'tcp', '127.0.0.1', 0, out)
        expect(out.replies.length + out.drops).toBe(1)
        for (const reply of out.replies) {
          expect(reply.readUInt16BE(0)).toBe(packet.readUInt16BE(0))
          expect(reply[2] & 0x80).toBe(0x80)
          const rcode = reply[3] & 0xf
          if (rcode !== Rcode.FORMERR) expect(() => decodeMessage(reply)).not.toThrow()
        }
      }),
      { numRuns: 100_000 },
    )
    expect(total).toBe(100_000)
    expect(forwarded).toBeGreaterThan(0)
  }, 120_000)

  it('answers a query that survives mutation like any other', () => {
    const engine = engineWith(() => {})
    const out = new ReplyCollector()
    engine.handle(buildQuery({ name: 'WWW.e2e.TEST', type: Type.A }), 'udp', '127.0.0.1', 0, out)
    const reply = decodeMessage(out.replies[0])
    expect(reply.flags & Flag.AA).toBe(Flag.AA)
    expect(reply.questions[0].name).toBe('WWW.e2e.TEST.')
    expect(reply.answer.map((r) => r.data).sort()).toEqual(['192.0.2.10', '192.0.2.11'])
  })
})

// The DNS engine under load shedding, without sockets: a query the overload
// guard turns away gets the cheapest answer there is (nothing over UDP, or
// SERVFAIL) before any routing, module or legacy call, and is counted; when
// the guard sheds nothing, queries are answered as ever.

import { pino } from 'pino'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Flag, Rcode, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import type { LegacyExchange } from '../../legacy-adapter/dns-forwarder.ts'
import type { DnsModule, DnsTransport } from '../../modules/dns-module.ts'
import { ANSWER, NEXT } from '../../modules/verdict.ts'
import { createDnsRouter } from '../../rollout/dns-router.ts'
import { catchAllSpec, createScope } from '../../rollout/scopes.ts'
import { fakeOverload } from '../telemetry/fake-overload.ts'
import { familiesOfRegistry, sampleOf } from '../telemetry/metric-sample.ts'
import { createMetrics } from '../telemetry/metrics.ts'
import type { Overload } from '../telemetry/overload.ts'
import { DnsEngine } from './engine.ts'
import { ReplyCollector } from './engine-test-support.ts'

const SUBNET = { v4: 24, v6: 56 }
const ID = 0x4b1d

/** A module that answers A 192.0.2.1 for whatever it is asked, counting the queries it saw. */
function answering(seen: { queries: number }): DnsModule {
  return {
    name: 'answering',
    query(ctx) {
      seen.queries++
      const q = ctx.query
      // The query's header and question, as a response with one answer pointing at the question name.
      q.copy(ctx.out, 0, 0, ctx.view.questionEnd)
      ctx.out.writeUInt16BE(Flag.QR | Flag.AA | Flag.RD, 2)
      ctx.out.writeUInt16BE(1, 6)
      ctx.out.writeUInt16BE(0, 10)
      const answer = Buffer.from('c00c000100010000003c0004c0000201', 'hex')
      answer.copy(ctx.out, ctx.view.questionEnd)
      ctx.response = ctx.out
      ctx.responseLength = ctx.view.questionEnd + answer.length
      return ANSWER
    },
  }
}

/** An engine for overload.test on the new path (or the legacy, at 0 basis points), with `overload`. */
function rig(overload: Overload | undefined, basisPoints = 10_000) {
  const registry = new Registry()
  const seen = { queries: 0, legacyPhase: 0 }
  const forwarded: LegacyExchange[] = []
  const scope = createScope(
    {
      id: 'dns:overload.test',
      protocol: 'dns',
      basisPoints,
      stickiness: undefined,
      salt: undefined,
      servable: true,
    },
    SUBNET,
  )
  const engine = new DnsEngine({
    router: createDnsRouter(
      [{ zone: 'overload.test', scope, qtypes: new Map() }],
      createScope(catchAllSpec('dns'), SUBNET),
    ),
    newChain: [answering(seen)],
    legacyChain: [
      {
        name: 'legacy-watcher',
        query() {
          seen.legacyPhase++
          return NEXT
        },
      },
    ],
    forwarder: { forward: (ex) => void forwarded.push(ex) },
    metrics: createMetrics(registry),
    log: pino({ level: 'silent' }),
    udpPayload: 1232,
    moduleBudgetMs: 1000,
    recorder: undefined,
    control: undefined,
    overload,
  })
  const counted = async (name: string, labels: Record<string, string>) =>
    sampleOf(await familiesOfRegistry(registry), name, labels)
  return {
    seen,
    forwarded,
    ask(
      transport: DnsTransport,
      query = buildQuery({ id: ID, name: 'www.overload.test', type: Type.A }),
    ) {
      const client = new ReplyCollector()
      engine.handle(query, transport, '192.0.2.200', 0, client)
      return client
    },
    shed: () => counted('cutover_shed_total', { protocol: 'dns' }),
    malformed: () => counted('cutover_malformed_total', { protocol: 'dns' }),
    served: () => counted('cutover_requests_total', { protocol: 'dns' }),
  }
}

/** The one reply is a SERVFAIL for the query with ID, its question echoed (as a resolver expects). */
function expectServfail(client: ReplyCollector): void {
  expect(client.drops).toBe(0)
  expect(client.replies).toHaveLength(1)
  const reply = decodeMessage(client.replies[0])
  expect(reply.id).toBe(ID)
  expect(reply.flags & Flag.QR).toBe(Flag.QR)
  expect(reply.rcode).toBe(Rcode.SERVFAIL)
  expect(reply.questions.map((q) => q.name)).toEqual(['www.overload.test.'])
  expect(reply.answer).toEqual([])
}

describe('a DNS query shed for overload', () => {
  it("over UDP with overload.dnsUdp 'drop': nothing is sent, it is counted, nothing runs for it", async () => {
    const guard = fakeOverload({ dnsUdp: 'drop' })
    const r = rig(guard.overload)
    const client = r.ask('udp')

    expect(client.replies).toEqual([])
    expect(client.drops).toBe(1)
    expect(guard.asked).toBe(1)
    expect(await r.shed()).toBe(1)
    expect(r.seen).toEqual({ queries: 0, legacyPhase: 0 })
    expect(r.forwarded).toEqual([])
    expect(await r.served()).toBe(0)
  })

  it("over UDP with overload.dnsUdp 'servfail': SERVFAIL with the query's ID, counted", async () => {
    const r = rig(fakeOverload({ dnsUdp: 'servfail' }).overload)
    const client = r.ask('udp')

    expectServfail(client)
    expect(await r.shed()).toBe(1)
    expect(r.seen).toEqual({ queries: 0, legacyPhase: 0 })
    expect(r.forwarded).toEqual([])
  })

  it("over TCP and DoH: SERVFAIL, even with overload.dnsUdp 'drop'", async () => {
    const r = rig(fakeOverload({ dnsUdp: 'drop' }).overload)
    expectServfail(r.ask('tcp'))
    expectServfail(r.ask('doh'))

    expect(await r.shed()).toBe(2)
    expect(r.seen).toEqual({ queries: 0, legacyPhase: 0 })
    expect(r.forwarded).toEqual([])
  })

  it('on the legacy path too: no legacy-chain module runs and nothing is forwarded', async () => {
    const r = rig(fakeOverload({ dnsUdp: 'servfail' }).overload, 0)
    expectServfail(r.ask('udp'))
    expect(r.ask('udp').replies).toHaveLength(1)

    expect(await r.shed()).toBe(2)
    expect(r.seen).toEqual({ queries: 0, legacyPhase: 0 })
    expect(r.forwarded).toEqual([])
  })

  it('a malformed packet is refused as malformed, not counted as shed', async () => {
    const r = rig(fakeOverload({ dnsUdp: 'servfail' }).overload)
    const client = r.ask(
      'udp',
      buildQuery({ id: ID, name: 'www.overload.test', type: Type.A }).subarray(0, 15),
    )

    expect(client.replies.length + client.drops).toBe(1)
    expect(await r.malformed()).toBe(1)
    expect(await r.shed()).toBe(0)
  })
})

describe('a DNS engine whose overload guard sheds nothing', () => {
  it('answers on the new path as ever, counting no shed query', async () => {
    const guard = fakeOverload({ dnsUdp: 'drop' }, false)
    const r = rig(guard.overload)
    for (const transport of ['udp', 'tcp'] as const) {
      const client = r.ask(transport)
      expect(client.drops).toBe(0)
      expect(client.replies).toHaveLength(1)
      const reply = decodeMessage(client.replies[0])
      expect(reply.id).toBe(ID)
      expect(reply.rcode).toBe(Rcode.NOERROR)
      expect(reply.answer.map((a) => a.data)).toEqual(['192.0.2.1'])
    }
    expect(guard.asked).toBe(2)
    expect(r.seen.queries).toBe(2)
    expect(await r.shed()).toBe(0)
    expect(await r.served()).toBe(2)
  })

  it('hands a legacy-path query to the legacy as ever', async () => {
    const r = rig(fakeOverload({ dnsUdp: 'drop' }, false).overload, 0)
    const client = r.ask('udp')
    expect(client.replies).toEqual([])
    expect(r.forwarded).toHaveLength(1)
    expect(r.seen.legacyPhase).toBe(1)
    expect(await r.shed()).toBe(0)
  })

  it('without an overload guard at all, answers too', async () => {
    const r = rig(undefined)
    expect(decodeMessage(r.ask('udp').replies[0]).answer).toHaveLength(1)
    expect(await r.shed()).toBe(0)
  })
})

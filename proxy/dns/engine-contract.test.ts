// The DNS engine's contract with modules and the legacy, without sockets: when
// the new path hands a query to the legacy, how that is counted and what the
// client then gets, and the order in which response phases run.

import { pino } from 'pino'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { LegacyExchange } from '../../legacy-adapter/dns-forwarder.ts'
import type { DnsContext, DnsModule } from '../../modules/dns-module.ts'
import { ANSWER, legacy, NEXT, type Verdict } from '../../modules/verdict.ts'
import { createDnsRouter } from '../../rollout/dns-router.ts'
import { catchAllSpec, createScope } from '../../rollout/scopes.ts'
import { familiesOfRegistry, sampleOf } from '../telemetry/metric-sample.ts'
import { createMetrics } from '../telemetry/metrics.ts'
import { DnsEngine } from './engine.ts'
import { ReplyCollector } from './engine-test-support.ts'

const SUBNET = { v4: 24, v6: 56 }

// www.contract.test A, ID 0x5a5a, RD.
const QUESTION = '03777777 08636f6e7472616374 0474657374 00 0001 0001'
const QUERY = hex(`5a5a 0100 0001 0000 0000 0000 ${QUESTION}`)
// The legacy's answer: 192.0.2.99, not authoritative.
const LEGACY_ANSWER = hex(
  `5a5a 8180 0001 0001 0000 0000 ${QUESTION} c00c 0001 0001 00000e10 0004 c0000263`,
)
// A new-path module's answer: 192.0.2.1, authoritative.
const NEW_ANSWER = hex(
  `5a5a 8580 0001 0001 0000 0000 ${QUESTION} c00c 0001 0001 00000e10 0004 c0000201`,
)

function hex(text: string): Buffer {
  return Buffer.from(text.replaceAll(' ', ''), 'hex')
}

/** The legacy resolver, faked: it holds each exchange until `answer()` finishes it with LEGACY_ANSWER. */
function fakeLegacy() {
  const pending: LegacyExchange[] = []
  const asked: Buffer[] = []
  return {
    asked,
    forward(exchange: LegacyExchange): void {
      asked.push(Buffer.from(exchange.query))
      pending.push(exchange)
    },
    answer(): void {
      for (const exchange of pending.splice(0))
        exchange.finish(Buffer.from(LEGACY_ANSWER), undefined)
    },
  }
}

interface RigOptions {
  newChain?: DnsModule[]
  legacyChain?: DnsModule[]
  /** The zone's share on the new path; 10,000 (all) unless said. */
  basisPoints?: number
  moduleBudgetMs?: number
}

/** An engine with one zone, contract.test, whose legacy is faked; and ways to use and read it. */
function rig(options: RigOptions = {}) {
  const registry = new Registry()
  const scope = createScope(
    {
      id: 'dns:contract.test',
      protocol: 'dns',
      basisPoints: options.basisPoints ?? 10_000,
      stickiness: undefined,
      salt: undefined,
      servable: true,
    },
    SUBNET,
  )
  const legacyResolver = fakeLegacy()
  const engine = new DnsEngine({
    router: createDnsRouter(
      [{ zone: 'contract.test', scope, qtypes: new Map() }],
      createScope(catchAllSpec('dns'), SUBNET),
    ),
    newChain: options.newChain ?? [],
    legacyChain: options.legacyChain ?? [],
    forwarder: legacyResolver,
    metrics: createMetrics(registry),
    log: pino({ level: 'silent' }),
    udpPayload: 1232,
    moduleBudgetMs: options.moduleBudgetMs ?? 1000,
    recorder: undefined,
    control: undefined,
  })
  const counted = async (name: string, labels: Record<string, string>) =>
    sampleOf(await familiesOfRegistry(registry), name, labels)
  return {
    scope,
    legacy: legacyResolver,
    /** Sends QUERY over UDP; the client sees what the engine replies, now or when the legacy answers. */
    ask(): ReplyCollector {
      const client = new ReplyCollector()
      engine.handle(Buffer.from(QUERY), 'udp', '192.0.2.200', 0, client)
      return client
    },
    fallbacks: (labels: { reason?: string } = {}) =>
      counted('cutover_fallbacks_total', { protocol: 'dns', ...labels }),
    served: (path: 'new' | 'legacy' | 'fallback') =>
      counted('cutover_requests_total', { protocol: 'dns', path }),
  }
}

/**
 * A module that logs its phases, and whose query phase does `decide` (pass on,
 * unless said); its response phase also keeps a copy of the response in `seen`.
 */
function recording(
  name: string,
  log: string[],
  decide: (ctx: DnsContext) => Verdict = () => NEXT,
  seen: Buffer[] = [],
): DnsModule {
  return {
    name,
    query(ctx) {
      log.push(`query ${name}`)
      return decide(ctx)
    },
    response(reply) {
      log.push(`response ${name}`)
      seen.push(Buffer.from(reply.response.subarray(0, reply.responseLength)))
    },
  }
}

/** A query phase that answers NEW_ANSWER, as a module does: written into ctx.out. */
function answerNew(ctx: DnsContext): Verdict {
  NEW_ANSWER.copy(ctx.out)
  ctx.response = ctx.out
  ctx.responseLength = NEW_ANSWER.length
  return ANSWER
}

/** The client got exactly one reply, the legacy's bytes (which carry the query's ID). */
function expectLegacyAnswer(client: ReplyCollector): void {
  expect(client.replies).toEqual([LEGACY_ANSWER])
  expect(client.replies[0].readUInt16BE(0)).toBe(QUERY.readUInt16BE(0))
}

describe('a new-path module that fails hands the query to the legacy', () => {
  it('a query phase that throws: module-error, the client gets the legacy answer, no new-path response phase runs', async () => {
    const log: string[] = []
    const r = rig({
      newChain: [
        recording('before', log),
        recording('thrower', log, () => {
          throw new Error('module bug')
        }),
        recording('after', log, answerNew),
      ],
    })
    const client = r.ask()
    expect(client.replies).toEqual([])
    r.legacy.answer()

    expectLegacyAnswer(client)
    expect(r.legacy.asked).toEqual([QUERY])
    expect(log).toEqual(['query before', 'query thrower'])
    expect(await r.fallbacks({ reason: 'module-error' })).toBe(1)
    expect(await r.fallbacks()).toBe(1)
    expect([await r.served('fallback'), await r.served('new')]).toEqual([1, 0])
    expect(r.scope.stats.fallbacks).toBe(1)
    expect(r.scope.stats.newErrors).toBe(1)
  })

  describe('a chain that answers after the module budget', () => {
    afterEach(() => {
      vi.restoreAllMocks()
    })

    /** A rig whose only module answers after `ms` of (faked) time, with a 1 ms budget. */
    function answeringAfter(ms: number) {
      let now = 1000
      vi.spyOn(performance, 'now').mockImplementation(() => now)
      return rig({
        moduleBudgetMs: 1,
        newChain: [
          {
            name: 'slow',
            query(ctx) {
              now += ms
              return answerNew(ctx)
            },
          },
        ],
      })
    }

    it('over the budget: module-budget, the client gets the legacy answer instead', async () => {
      const r = answeringAfter(2)
      const client = r.ask()
      r.legacy.answer()

      expectLegacyAnswer(client)
      expect(await r.fallbacks({ reason: 'module-budget' })).toBe(1)
      expect(await r.fallbacks()).toBe(1)
      expect(await r.served('fallback')).toBe(1)
      expect(r.scope.stats.fallbacks).toBe(1)
    })

    it('within the budget: the module answer stands', async () => {
      const r = answeringAfter(0.5)
      const client = r.ask()

      expect(client.replies).toEqual([NEW_ANSWER])
      expect(r.legacy.asked).toEqual([])
      expect(await r.fallbacks()).toBe(0)
      expect(await r.served('new')).toBe(1)
    })
  })
})

describe('response phases run in reverse chain order', () => {
  it('new path: those before the answering module, last first', async () => {
    const log: string[] = []
    const r = rig({
      newChain: [
        recording('a', log),
        recording('b', log),
        recording('c', log, answerNew),
        recording('d', log),
      ],
    })
    const client = r.ask()

    expect(client.replies).toEqual([NEW_ANSWER])
    expect(log).toEqual(['query a', 'query b', 'query c', 'response b', 'response a'])
    expect(await r.served('new')).toBe(1)
  })

  it('legacy chain: all of them, last first, once the forwarder has answered', async () => {
    const log: string[] = []
    const seen: Buffer[] = []
    const r = rig({
      basisPoints: 0,
      legacyChain: [
        recording('x', log, undefined, seen),
        recording('y', log, undefined, seen),
        recording('z', log, undefined, seen),
      ],
    })
    const client = r.ask()
    expect(log).toEqual(['query x', 'query y', 'query z'])
    r.legacy.answer()

    expect(log).toEqual(['query x', 'query y', 'query z', 'response z', 'response y', 'response x'])
    expect(seen).toEqual([LEGACY_ANSWER, LEGACY_ANSWER, LEGACY_ANSWER])
    expectLegacyAnswer(client)
    expect(await r.served('legacy')).toBe(1)
  })
})

describe('how a fallback is counted', () => {
  it('each legacy(reason) verdict under its own reason, and in the scope stats', async () => {
    const reasons = ['no-dnssec', 'no-wildcard', 'no-dnssec']
    let asked = 0
    const r = rig({ newChain: [{ name: 'refuser', query: () => legacy(reasons[asked++]) }] })
    const clients = reasons.map(() => r.ask())
    r.legacy.answer()

    for (const client of clients) expectLegacyAnswer(client)
    expect(await r.fallbacks({ reason: 'no-dnssec' })).toBe(2)
    expect(await r.fallbacks({ reason: 'no-wildcard' })).toBe(1)
    expect(await r.fallbacks()).toBe(3)
    expect(await r.served('fallback')).toBe(3)
    expect(r.scope.stats.fallbacks).toBe(3)
    expect(r.scope.stats.newErrors).toBe(0)
  })

  it('a chain passed on to its end: unserved', async () => {
    const log: string[] = []
    const r = rig({ newChain: [recording('a', log), recording('b', log)] })
    const client = r.ask()
    r.legacy.answer()

    expectLegacyAnswer(client)
    expect(log).toEqual(['query a', 'query b'])
    expect(await r.fallbacks({ reason: 'unserved' })).toBe(1)
    expect(await r.fallbacks()).toBe(1)
    expect(await r.served('fallback')).toBe(1)
    expect(r.scope.stats.fallbacks).toBe(1)
  })
})

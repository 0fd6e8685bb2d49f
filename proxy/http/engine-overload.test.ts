// The HTTP engine under load shedding, without sockets: a request the overload
// guard turns away gets 503 with Retry-After at once, before any module,
// origin or legacy call, and is counted; when the guard sheds nothing,
// requests are served as ever.

import { pino } from 'pino'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { NEXT } from '../../modules/verdict.ts'
import { createHttpRouter } from '../../rollout/http-router.ts'
import { catchAllSpec, createScope } from '../../rollout/scopes.ts'
import { fakeOverload } from '../telemetry/fake-overload.ts'
import { createMetrics } from '../telemetry/metrics.ts'
import type { Overload } from '../telemetry/overload.ts'
import { HttpEngine } from './engine.ts'
import {
  counted,
  FakeResponse,
  fakeRequest,
  fakeUpstream,
  type RequestShape,
} from './engine-test-support.ts'

const HOST = 'www.overload.test'
const SUBNET = { v4: 24, v6: 56 }

/** An engine with one site (on the new path at `basisPoints`), its origin and legacy faked. */
function rig(overload: Overload | undefined, basisPoints = 10_000) {
  const registry = new Registry()
  const origin = fakeUpstream({ status: 200, headers: ['server', 'origin'], body: 'origin\n' })
  const legacy = fakeUpstream({ status: 203, headers: ['server', 'legacy'], body: 'legacy\n' })
  const phases: string[] = []
  let dohCalls = 0
  const scope = createScope(
    {
      id: `http:${HOST}`,
      protocol: 'http',
      basisPoints,
      stickiness: undefined,
      salt: undefined,
      servable: true,
    },
    SUBNET,
  )
  const modules = [
    {
      name: 'watcher',
      phases: {
        request() {
          phases.push('request')
          return NEXT
        },
      },
    },
  ]
  const engine = new HttpEngine({
    router: createHttpRouter(
      [{ hosts: [HOST], scope, paths: [], site: { modules, origin: origin.upstream } }],
      createScope(catchAllSpec('http'), SUBNET),
    ),
    legacy: legacy.upstream,
    metrics: createMetrics(registry),
    log: pino({ level: 'silent' }),
    maxBodySize: 1024,
    moduleBudgetMs: 1000,
    token: 'overload-test-token',
    shadow: undefined,
    recorder: undefined,
    dohPath: '/dns-query',
    doh(_req, res) {
      dohCalls++
      res.writeHead(200, ['content-type', 'application/dns-message'])
      res.end()
    },
    overload,
  })
  return {
    origin,
    legacy,
    phases,
    async send(shape: Partial<RequestShape> = {}): Promise<FakeResponse> {
      const out = new FakeResponse()
      engine.handle(fakeRequest({ rawHeaders: ['Host', HOST], ...shape }), out.res)
      await out.finished
      return out
    },
    dohCalls: () => dohCalls,
    shed: () => counted(registry, 'cutover_shed_total', { protocol: 'http' }),
    served: () => counted(registry, 'cutover_requests_total', { protocol: 'http' }),
  }
}

describe('an HTTP request shed for overload', () => {
  it('gets 503 with Retry-After, is counted, and no module, origin or legacy sees it', async () => {
    const guard = fakeOverload({})
    const { overload } = guard
    const r = rig(overload)
    const out = await r.send()

    expect(out.status).toBe(503)
    expect(out.header('retry-after')).toEqual(['1'])
    expect(out.body).toMatch(/^Service Unavailable: /)
    expect(guard.asked).toBe(1)
    expect(await r.shed()).toBe(1)
    expect(r.phases).toEqual([])
    expect([r.origin.requests.length, r.legacy.requests.length]).toEqual([0, 0])
    expect(await r.served()).toBe(0)
  })

  it('on the legacy path too: the legacy is not called', async () => {
    const r = rig(fakeOverload({}).overload, 0)
    for (let i = 0; i < 3; i++) expect((await r.send()).status).toBe(503)
    expect(await r.shed()).toBe(3)
    expect([r.origin.requests.length, r.legacy.requests.length]).toEqual([0, 0])
  })

  it('keeps the connection of a request without a body, and closes one whose body it would only throw away', async () => {
    const r = rig(fakeOverload({}).overload)
    expect((await r.send()).shouldKeepAlive).toBe(true)
    for (const fields of [
      ['Content-Length', '5'],
      ['Transfer-Encoding', 'chunked'],
    ]) {
      const out = await r.send({
        method: 'POST',
        rawHeaders: ['Host', HOST, ...fields],
        chunks: [Buffer.from('hello')],
      })
      expect(out.status, fields[0]).toBe(503)
      expect(out.shouldKeepAlive, fields[0]).toBe(false)
    }
    expect(await r.shed()).toBe(3)
  })

  it('refuses a malformed request as malformed (400, closed), not as overload', async () => {
    const r = rig(fakeOverload({}).overload)
    const out = await r.send({ rawHeaders: ['Host', HOST, 'Host', 'other.test'] })
    expect(out.status).toBe(400)
    expect(out.shouldKeepAlive).toBe(false)
    expect(await r.shed()).toBe(0)
  })

  it('hands a DoH query to the DNS side without a draw of its own: shed there, with SERVFAIL', async () => {
    const guard = fakeOverload({})
    const r = rig(guard.overload)
    const out = await r.send({ url: '/dns-query?dns=AAABAAABAAAAAAAAA3d3dwAAAQAB' })
    expect(out.status).toBe(200)
    expect(r.dohCalls()).toBe(1)
    expect(guard.asked).toBe(0)
    expect(await r.shed()).toBe(0)
  })

  it('Retry-After is overload.retryAfter in whole seconds, rounded, at least 1', async () => {
    for (const [ms, seconds] of [
      [0, '1'],
      [400, '1'],
      [1000, '1'],
      [2500, '3'],
      [2499, '2'],
      [30_000, '30'],
    ] as const) {
      const out = await rig(fakeOverload({ retryAfter: ms }).overload).send()
      expect(out.status).toBe(503)
      expect(out.header('retry-after'), `retryAfter ${ms} ms`).toEqual([seconds])
    }
  })
})

describe('an HTTP engine whose overload guard sheds nothing', () => {
  it('serves from the origin as ever, counting no shed request', async () => {
    const guard = fakeOverload({}, false)
    const { overload } = guard
    const r = rig(overload)
    const out = await r.send()

    expect(out.status).toBe(200)
    expect(out.body).toBe('origin\n')
    expect(out.header('retry-after')).toEqual([])
    expect(guard.asked).toBe(1)
    expect(r.phases).toEqual(['request'])
    expect(r.origin.requests).toHaveLength(1)
    expect(await r.shed()).toBe(0)
    expect(await r.served()).toBe(1)
  })

  it('and starts shedding the moment the guard says so', async () => {
    const guard = fakeOverload({}, false)
    const { overload } = guard
    const r = rig(overload, 0)
    expect((await r.send()).status).toBe(203)
    guard.shedding = true
    expect((await r.send()).status).toBe(503)
    expect(r.legacy.requests).toHaveLength(1)
    expect(await r.shed()).toBe(1)
  })
})

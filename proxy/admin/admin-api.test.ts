// The admin API's rollout routes through app.inject(), on a file-backed rollout
// service: reading is free, changing needs the token, and every refusal has
// its status and reason.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createScope, type ScopeSet } from '../../rollout/scopes.ts'
import { type RolloutService, startRollout } from '../../rollout/service.ts'
import type { Config } from '../config/config.ts'
import { createMetrics } from '../telemetry/metrics.ts'
import { createAdmin } from './admin-api.ts'

const TOKEN = 'test-admin-token-0123456789abcdef'
const BOT = 'deploy-bot-token-0123456789abcdef'
const VIEWER = 'viewer-token-0123456789abcdef'
const auth = { authorization: `Bearer ${TOKEN}` }

const ZONE = 'dns:example.test'
const AAAA = 'dns:example.test/AAAA'
const SITE = 'http:x.test'
const API = 'http:x.test/api/'

let dir: string
let service: RolloutService
let app: FastifyInstance
let notReady: string[]
let warnings: string[]

function scopes(extra: string[] = []): ScopeSet {
  const set: ScopeSet = new Map()
  const add = (id: string, protocol: 'dns' | 'http', basisPoints: number, servable = true) =>
    set.set(
      id,
      createScope(
        { id, protocol, basisPoints, stickiness: undefined, salt: undefined, servable },
        { v4: 24, v6: 56 },
      ),
    )
  add(ZONE, 'dns', 0)
  add(AAAA, 'dns', 2500)
  add('dns:*', 'dns', 0, false)
  add(SITE, 'http', 10_000)
  add(API, 'http', 100)
  for (const id of extra) add(id, 'http', 0)
  return set
}

async function start(extra: string[] = []): Promise<void> {
  const config: Pick<Config, 'state' | 'rollout'> = {
    state: dir,
    rollout: {
      store: 'file',
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'cutover' },
      subnet: { v4: 24, v6: 56 },
      notify: [],
      gates: {
        minSamples: 100,
        maxErrorRate: 0.01,
        maxFallbackRate: 0.05,
        maxLatencyRatio: 1.5,
        maxMismatchRate: 0.001,
      },
      rollbackTo: 'last-good',
      ednsOption: 65430,
    },
  }
  const registry = new Registry()
  service = await startRollout(
    config as Config,
    scopes(extra),
    createMetrics(registry).rolloutPercent,
    pino({ level: 'silent' }),
  )
  app = createAdmin({
    registry,
    token: TOKEN,
    state: dir,
    tokens: () => [
      { name: 'admin', role: 'operator', token: TOKEN },
      { name: 'deploy-bot', role: 'operator', token: BOT },
      { name: 'sre-oncall', role: 'viewer', token: VIEWER },
    ],
    rollout: service,
    shadow: async () => ({ examples: [], fields: [] }),
    notReady: () => notReady,
    warnings: () => warnings,
  })
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-admin-'))
  notReady = []
  warnings = []
  await start()
})

afterEach(async () => {
  await app.close()
  await service.stop()
  rmSync(dir, { recursive: true, force: true })
})

const url = (id: string) => `/rollout/${encodeURIComponent(id)}`

async function put(id: string, body: unknown, headers: Record<string, string> = auth) {
  return app.inject({ method: 'PUT', url: url(id), headers, payload: body as object })
}

async function post(id: string, body: unknown, headers: Record<string, string> = auth) {
  return app.inject({ method: 'POST', url: url(id), headers, payload: body as object })
}

describe('GET /rollout', () => {
  it('lists every scope, sorted, with its live percentage, and the store health', async () => {
    const res = await app.inject({ method: 'GET', url: '/rollout' })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.version).toBe(1)
    expect(body.store).toEqual({ ok: true })
    expect(body.scopes.map((s: { scope: string }) => s.scope)).toEqual([
      'dns:*',
      ZONE,
      AAAA,
      SITE,
      API,
    ])
    const aaaa = body.scopes.find((s: { scope: string }) => s.scope === AAAA)
    expect(aaaa).toMatchObject({
      scope: AAAA,
      percent: 25,
      servable: true,
      stickiness: 'ecs',
      updatedBy: 'config',
    })
    expect(aaaa.plan).toBeUndefined()
    expect(body.scopes.find((s: { scope: string }) => s.scope === 'dns:*')).toMatchObject({
      servable: false,
      percent: 0,
    })
    expect(body.scopes.find((s: { scope: string }) => s.scope === API)).toMatchObject({
      percent: 1,
      stickiness: 'client-ip',
    })
  })

  it('shows one scope, its id URL-encoded or not', async () => {
    for (const path of [url(AAAA), `/rollout/${AAAA}`, url(API), `/rollout/${API}`]) {
      const res = await app.inject({ method: 'GET', url: path })
      expect(res.statusCode, path).toBe(200)
    }
    expect((await app.inject({ method: 'GET', url: url(API) })).json()).toMatchObject({
      scope: API,
      percent: 1,
    })
  })

  it('answers 404 for an unknown scope', async () => {
    const res = await app.inject({ method: 'GET', url: url('dns:nope.test') })
    expect(res.statusCode).toBe(404)
    expect(res.json().error).toBe("unknown scope 'dns:nope.test'; GET /rollout lists them")
  })
})

describe('named tokens', () => {
  it("records each change under its token's name", async () => {
    const res = await put(ZONE, { percent: 5 }, { authorization: `Bearer ${BOT}` })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ updatedBy: 'deploy-bot' })
    const plan = await post(
      AAAA,
      { action: 'plan', steps: [30], bake: '1m' },
      { authorization: `Bearer ${BOT}` },
    )
    expect(plan.statusCode).toBe(200)
    const history = (await app.inject({ method: 'GET', url: '/history' })).json().entries as {
      by: string
      action: string
    }[]
    expect(history.slice(-2).map((e) => [e.action, e.by])).toEqual([
      ['set', 'deploy-bot'],
      ['plan', 'deploy-bot'],
    ])
  })

  it("refuses a viewer's token any change, naming it; it still reads", async () => {
    const res = await put(ZONE, { percent: 5 }, { authorization: `Bearer ${VIEWER}` })
    expect(res.statusCode).toBe(403)
    expect(res.json().error).toBe("token 'sre-oncall' is a viewer's: it can read, not change")
    expect(
      (await post(ZONE, { action: 'pause' }, { authorization: `Bearer ${VIEWER}` })).statusCode,
    ).toBe(403)
    expect(service.store.current().version).toBe(1)
    const read = await app.inject({
      method: 'GET',
      url: '/rollout',
      headers: { authorization: `Bearer ${VIEWER}` },
    })
    expect(read.statusCode).toBe(200)
  })
})

describe('PUT /rollout/<scope>', () => {
  it('needs the token: 401 without it, 403 with a wrong one, and changes nothing', async () => {
    const none = await put(ZONE, { percent: 50 }, {})
    expect(none.statusCode).toBe(401)
    expect(none.json().error).toBe(
      'this call changes state: send Authorization: Bearer <admin token>',
    )
    expect((await put(ZONE, { percent: 50 }, { authorization: `Basic ${TOKEN}` })).statusCode).toBe(
      401,
    )
    const wrong = await put(ZONE, { percent: 50 }, { authorization: 'Bearer not-the-token' })
    expect(wrong.statusCode).toBe(403)
    expect(wrong.json().error).toBe('wrong admin token')
    const almost = await put(ZONE, { percent: 50 }, { authorization: `Bearer ${TOKEN}x` })
    expect(almost.statusCode).toBe(403)
    expect(service.store.current().version).toBe(1)
    expect(service.scopes.get(ZONE)?.basisPoints).toBe(0)
  })

  it('sets the percentage: 200, the live scope changes, and history says who and why', async () => {
    const res = await put(ZONE, { percent: 12.5, reason: 'first users' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ scope: ZONE, percent: 12.5, updatedBy: 'admin' })
    expect(service.scopes.get(ZONE)?.basisPoints).toBe(1250)
    expect(service.store.current()).toMatchObject({
      version: 2,
      scopes: { [ZONE]: { basisPoints: 1250, updatedBy: 'admin' } },
    })
    const history = (await app.inject({ method: 'GET', url: '/history' })).json().entries
    expect(history.at(-1)).toMatchObject({
      scope: ZONE,
      from: 0,
      to: 1250,
      by: 'admin',
      action: 'set',
      why: 'first users',
    })
    const plain = await put(ZONE, { percent: 0.01 })
    expect(plain.statusCode).toBe(200)
    expect(service.scopes.get(ZONE)?.basisPoints).toBe(1)
    expect((await service.store.history(ZONE)).at(-1)?.why).toBe('set by hand')
  })

  it('refuses a bad percentage with 400 and the reason', async () => {
    for (const percent of [101, -1, 0.001, 12.345]) {
      const res = await put(ZONE, { percent })
      expect(res.statusCode, `${percent}`).toBe(400)
      expect(res.json().error).toBe(
        `percent must be from 0 to 100 in steps of 0.01, got ${percent}`,
      )
    }
    const text = await put(ZONE, { percent: '50' })
    expect(text.statusCode).toBe(400)
    expect(text.json().error).toMatch(/^percent: /)
    const extra = await put(ZONE, { percent: 50, colour: 'red' })
    expect(extra.statusCode).toBe(400)
    expect(extra.json().error).toContain('colour')
    const missing = await put(ZONE, {})
    expect(missing.statusCode).toBe(400)
    expect(missing.json().error).toMatch(/^percent: /)
    expect(service.store.current().version).toBe(1)
  })

  it('answers 404 for an unknown scope', async () => {
    const res = await put('dns:nope.test', { percent: 50 })
    expect(res.statusCode).toBe(404)
    expect(res.json().error).toBe("unknown scope 'dns:nope.test'; GET /rollout lists them")
  })

  it('answers 503 with the reason when the state cannot be written, and changes nothing', async () => {
    // Where the new state is written first, something that cannot be written to.
    mkdirSync(join(dir, `rollout.json.${process.pid}.tmp`))
    const res = await put(ZONE, { percent: 10 })
    expect(res.statusCode).toBe(503)
    expect(res.json().error).toMatch(/^cannot write the rollout state .*rollout\.json \(EISDIR/)
    expect(service.scopes.get(ZONE)?.basisPoints).toBe(0)
  })

  it('answers 409 when the state moved on since the version the change was made from', async () => {
    expect((await put(ZONE, { percent: 10, version: 1 })).statusCode).toBe(200)
    const stale = await put(AAAA, { percent: 50, version: 1 })
    expect(stale.statusCode).toBe(409)
    expect(stale.json().error).toBe(
      'the rollout state moved on (version 2, you had 1); look again and retry',
    )
    expect(service.scopes.get(AAAA)?.basisPoints).toBe(2500)
    expect((await put(AAAA, { percent: 50, version: 2 })).statusCode).toBe(200)
    expect(service.scopes.get(AAAA)?.basisPoints).toBe(5000)
  })

  it('reaches scopes whose id holds a slash, URL-encoded or not', async () => {
    expect((await put(AAAA, { percent: 75 })).statusCode).toBe(200)
    expect(service.scopes.get(AAAA)?.basisPoints).toBe(7500)
    expect(service.scopes.get(ZONE)?.basisPoints).toBe(0)
    expect((await put(API, { percent: 3 })).statusCode).toBe(200)
    expect(service.scopes.get(API)?.basisPoints).toBe(300)
    const raw = await app.inject({
      method: 'PUT',
      url: `/rollout/${API}`,
      headers: auth,
      payload: { percent: 4 },
    })
    expect(raw.statusCode).toBe(200)
    expect(service.scopes.get(API)?.basisPoints).toBe(400)
    expect(service.scopes.get(SITE)?.basisPoints).toBe(10_000)
  })
})

describe('POST /rollout/<scope>', () => {
  it('starts a plan at its first step', async () => {
    const res = await post(ZONE, { action: 'plan', steps: [1, 5, 25, 50, 100], bake: '10m' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({
      scope: ZONE,
      percent: 1,
      plan: {
        steps: [1, 5, 25, 50, 100],
        bakeMs: 600_000,
        step: 0,
        status: 'running',
        lastGood: 0,
      },
    })
    expect(service.scopes.get(ZONE)?.basisPoints).toBe(100)
    expect((await service.store.history(ZONE)).at(-1)).toMatchObject({
      action: 'plan',
      by: 'admin',
      why: 'plan 1,5,25,50,100 with 600 s bake',
    })
    // A bake in seconds works too.
    expect((await post(AAAA, { action: 'plan', steps: [30], bake: 90 })).json().plan.bakeMs).toBe(
      90_000,
    )
  })

  it('refuses a bad plan with 400 and the reason', async () => {
    const down = await post(ZONE, { action: 'plan', steps: [5, 1], bake: '1m' })
    expect(down.statusCode).toBe(400)
    expect(down.json().error).toBe('plan steps must go up, like 1,5,25,50,100')
    const fine = await post(ZONE, { action: 'plan', steps: [0.001], bake: '1m' })
    expect(fine.statusCode).toBe(400)
    expect(fine.json().error).toBe('percent must be from 0 to 100 in steps of 0.01, got 0.001')
    const bake = await post(ZONE, { action: 'plan', steps: [1], bake: 'soon' })
    expect(bake.statusCode).toBe(400)
    expect(bake.json().error).toContain('bake: expected a duration like "500ms", "2s" or "1m"')
    const empty = await post(ZONE, { action: 'plan', steps: [], bake: '1m' })
    expect(empty.statusCode).toBe(400)
    const unknown = await post(ZONE, { action: 'launch' })
    expect(unknown.statusCode).toBe(400)
    expect(service.store.current().version).toBe(1)
  })

  it('pauses, resumes, promotes and aborts a plan', async () => {
    await post(ZONE, { action: 'plan', steps: [1, 5, 25], bake: '1h' })
    const paused = await post(ZONE, { action: 'pause', reason: 'lunch' })
    expect(paused.statusCode).toBe(200)
    expect(paused.json().plan).toMatchObject({ status: 'paused', note: 'lunch' })
    const again = await post(ZONE, { action: 'pause' })
    expect(again.statusCode).toBe(400)
    expect(again.json().error).toBe(`the plan of '${ZONE}' is paused, not running`)

    const resumed = await post(ZONE, { action: 'resume' })
    expect(resumed.statusCode).toBe(200)
    expect(resumed.json().plan.status).toBe('running')

    const promoted = await post(ZONE, { action: 'promote', reason: 'looks good' })
    expect(promoted.statusCode).toBe(200)
    expect(promoted.json()).toMatchObject({ percent: 5, plan: { step: 1, lastGood: 1 } })
    expect(service.scopes.get(ZONE)?.basisPoints).toBe(500)

    const aborted = await post(ZONE, { action: 'abort', reason: 'kill switch' })
    expect(aborted.statusCode).toBe(200)
    expect(aborted.json()).toMatchObject({ percent: 0, plan: { status: 'aborted' } })
    expect(service.scopes.get(ZONE)?.basisPoints).toBe(0)
    expect((await post(ZONE, { action: 'resume' })).statusCode).toBe(400)

    const actions = (await service.store.history(ZONE)).map((e) => [e.action, e.by, e.why])
    expect(actions).toEqual([
      ['init', 'config', 'starting percentage from the config'],
      ['plan', 'admin', 'plan 1,5,25 with 3600 s bake'],
      ['pause', 'admin', 'lunch'],
      ['resume', 'admin', 'resumed at step 1 of 3'],
      ['promote', 'admin', 'looks good'],
      ['abort', 'admin', 'kill switch'],
    ])
  })

  it('refuses plan actions on a scope without a plan with 400', async () => {
    for (const action of ['pause', 'resume', 'abort', 'promote']) {
      const res = await post(ZONE, { action })
      expect(res.statusCode, action).toBe(400)
      expect(res.json().error).toBe(
        `scope '${ZONE}' has no plan; start one with 'cutover rollout plan'`,
      )
    }
  })

  it('needs the token, answers 404 for an unknown scope and 409 for a stale version', async () => {
    const plan = { action: 'plan', steps: [1], bake: '1m' }
    expect((await post(ZONE, plan, {})).statusCode).toBe(401)
    expect((await post(ZONE, plan, { authorization: 'Bearer nope' })).statusCode).toBe(403)
    expect((await post('dns:nope.test', plan)).statusCode).toBe(404)
    expect((await post(ZONE, { ...plan, version: 0 })).statusCode).toBe(409)
    expect((await post(ZONE, { ...plan, version: 1 })).statusCode).toBe(200)
    expect((await post(ZONE, { action: 'pause', version: 1 })).statusCode).toBe(409)
    expect(service.store.current().scopes[ZONE].plan?.status).toBe('running')
  })

  it('reaches scopes whose id holds a slash', async () => {
    const res = await post(API, { action: 'plan', steps: [2, 4], bake: '1m' })
    expect(res.statusCode).toBe(200)
    expect(res.json().scope).toBe(API)
    expect(service.scopes.get(API)?.basisPoints).toBe(200)
    expect(service.scopes.get(SITE)?.basisPoints).toBe(10_000)
  })
})

describe('GET /history', () => {
  it('lists the entries, filtered by scope, up to the limit', async () => {
    await put(ZONE, { percent: 1 })
    await put(ZONE, { percent: 2 })
    await put(API, { percent: 3 })
    const all = (await app.inject({ method: 'GET', url: '/history' })).json().entries
    expect(all.map((e: { action: string }) => e.action)).toEqual([
      'init',
      'init',
      'init',
      'init',
      'init',
      'set',
      'set',
      'set',
    ])
    const zone = await app.inject({
      method: 'GET',
      url: `/history?scope=${encodeURIComponent(ZONE)}`,
    })
    expect(zone.json().entries.map((e: { to: number }) => e.to)).toEqual([0, 100, 200])
    const api = await app.inject({
      method: 'GET',
      url: `/history?scope=${encodeURIComponent(API)}&limit=1`,
    })
    expect(api.json().entries).toEqual([
      expect.objectContaining({ scope: API, from: 100, to: 300 }),
    ])
  })
})

describe('health routes', () => {
  it('answers /healthz, and /readyz with the reasons it is not ready', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' })
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
    notReady = ['draining']
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({ ready: false, reasons: ['draining'], warnings: [] })
  })

  it('says what needs doing soon in /readyz warnings, and stays ready', async () => {
    warnings = ['certificate www.example.test expires in 3.0 days']
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ ready: true, reasons: [], warnings })
  })

  it('serves the metrics, with the live rollout percentages', async () => {
    await put(ZONE, { percent: 33 })
    const res = await app.inject({ method: 'GET', url: '/metrics' })
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain(`cutover_rollout_percent{scope="${ZONE}"} 33`)
    expect(res.body).toContain('cutover_rollout_percent{scope="dns:*"} 0')
  })
})

describe('scope ids in URLs', () => {
  it('decodes a scope id once: an id holding a % is reachable by its URL-encoded form', async () => {
    await app.close()
    await service.stop()
    const id = 'http:x.test/caf%C3%A9/'
    await start([id])
    const res = await app.inject({ method: 'GET', url: url(id) })
    expect(res.statusCode).toBe(200)
    expect(res.json().scope).toBe(id)
    expect((await put(id, { percent: 5 })).statusCode).toBe(200)
    expect(service.scopes.get(id)?.basisPoints).toBe(500)
  })

  it('answers 404, not 500, for an id that decodes to a lone %', async () => {
    const res = await app.inject({ method: 'GET', url: '/rollout/%25' })
    expect(res.statusCode).toBe(404)
  })
})

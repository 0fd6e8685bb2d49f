// The HTTP engine's contract with modules, upstreams and operators, without
// sockets: when the new path hands a request to the legacy and how that is
// counted, the order of response phases, what a decision trace says, and the
// error replies a client gets.

import { pino } from 'pino'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { headerAll, headerGet } from '../../common/header-list.ts'
import type { HttpContext, HttpSiteModule } from '../../modules/http-module.ts'
import { ANSWER, legacy, NEXT, type Verdict } from '../../modules/verdict.ts'
import { HTTP_AUTH, HTTP_FORCE, HTTP_TRACE, signHttp } from '../../rollout/control.ts'
import { createHttpRouter } from '../../rollout/http-router.ts'
import { catchAllSpec, createScope } from '../../rollout/scopes.ts'
import { createMetrics } from '../telemetry/metrics.ts'
import { HttpEngine } from './engine.ts'
import {
  counted,
  FakeResponse,
  fakeRequest,
  fakeUpstream,
  type UpstreamAnswer,
} from './engine-test-support.ts'
import type { SiteModules } from './exchange.ts'

const HOST = 'www.contract.test'
const TOKEN = 'contract-test-admin-token'
const SUBNET = { v4: 24, v6: 56 }

type Whole = Exclude<UpstreamAnswer, { fail: unknown }>

const ORIGIN: Whole = {
  status: 200,
  headers: ['content-type', 'text/plain', 'server', 'origin'],
  body: 'from the origin\n',
}
const LEGACY: Whole = {
  status: 203,
  headers: ['content-type', 'text/plain', 'server', 'legacy'],
  body: 'from the legacy\n',
}

interface RigOptions {
  modules?: SiteModules
  /** False: the site has no new-path setup, as one with unsupported rules or no origin. */
  servable?: boolean
  origin?: UpstreamAnswer
  moduleBudgetMs?: number
  maxBodySize?: number
}

interface Send {
  path?: string
  /** Fields after Host. */
  headers?: string[]
  chunks?: Buffer[]
}

/** An engine with one site at 100% (its scope, origin and the legacy faked), and ways to use it. */
function rig(options: RigOptions = {}) {
  const registry = new Registry()
  const origin = fakeUpstream(options.origin ?? ORIGIN)
  const legacyUpstream = fakeUpstream(LEGACY)
  const servable = options.servable ?? true
  const scope = createScope(
    {
      id: `http:${HOST}`,
      protocol: 'http',
      basisPoints: 10_000,
      stickiness: undefined,
      salt: undefined,
      servable,
    },
    SUBNET,
  )
  const site = servable ? { modules: options.modules ?? [], origin: origin.upstream } : undefined
  const engine = new HttpEngine({
    router: createHttpRouter(
      [{ hosts: [HOST], scope, paths: [], site }],
      createScope(catchAllSpec('http'), SUBNET),
    ),
    legacy: legacyUpstream.upstream,
    metrics: createMetrics(registry),
    log: pino({ level: 'silent' }),
    maxBodySize: options.maxBodySize ?? 1024,
    moduleBudgetMs: options.moduleBudgetMs ?? 1000,
    token: TOKEN,
    shadow: undefined,
    recorder: undefined,
    dohPath: undefined,
    doh: undefined,
  })
  /** Hands the engine a request with these raw headers; resolves with the finished response. */
  const handle = async (rawHeaders: string[], send: Send = {}) => {
    const out = new FakeResponse()
    const req = fakeRequest({ url: send.path ?? '/', rawHeaders, chunks: send.chunks })
    engine.handle(req, out.res)
    await out.finished
    return out
  }
  return {
    scope,
    origin,
    legacy: legacyUpstream,
    handle,
    send: (send: Send = {}) => handle(['Host', HOST, ...(send.headers ?? [])], send),
    fallbacks: (labels: { reason?: string } = {}) =>
      counted(registry, 'cutover_fallbacks_total', { protocol: 'http', ...labels }),
    served: (path: 'new' | 'legacy' | 'fallback') =>
      counted(registry, 'cutover_requests_total', { protocol: 'http', path }),
    malformed: () => counted(registry, 'cutover_malformed_total', { protocol: 'http' }),
  }
}

/** The X-Cutover-* fields proving the admin token for GET `path`: force `new`, and/or a trace. */
function control(path: string, ask: { force?: 'new'; trace?: boolean }): string[] {
  const force = ask.force ?? ''
  const trace = ask.trace ? '1' : ''
  const ts = Math.floor(Date.now() / 1000)
  const fields = [HTTP_AUTH, signHttp(TOKEN, ts, 'GET', HOST, path, force, trace)]
  if (force) fields.push(HTTP_FORCE, force)
  if (trace) fields.push(HTTP_TRACE, trace)
  return fields
}

/** The one decision trace of a response, as its `key=value` fields. */
function traceOf(out: FakeResponse): Record<string, string> {
  const traces = out.header(HTTP_TRACE)
  expect(traces).toHaveLength(1)
  return Object.fromEntries(traces[0].split('; ').map((kv) => kv.split('=', 2)))
}

/** What the client got, in the parts a test tells the upstreams apart by. */
function seen(out: FakeResponse) {
  return { status: out.status, server: out.header('server'), body: out.body }
}

/** The same parts of what an upstream answers. */
function sent(answer: Whole) {
  return { status: answer.status, server: headerAll(answer.headers, 'server'), body: answer.body }
}

const FROM_LEGACY = sent(LEGACY)
const FROM_ORIGIN = sent(ORIGIN)

/** A module that logs its phases; its response phase also marks the response. */
function recording(
  name: string,
  log: string[],
  decide: (ctx: HttpContext) => Verdict | Promise<Verdict> = () => NEXT,
): { name: string; phases: HttpSiteModule } {
  return {
    name,
    phases: {
      request(ctx) {
        log.push(`request ${name}`)
        return decide(ctx)
      },
      response(_ctx, response) {
        log.push(`response ${name}`)
        response.headers.push('x-seen', name)
      },
    },
  }
}

describe('a module that fails hands the request to the legacy', () => {
  it('a request phase that throws: module-error, counted once, the legacy answers as received, no response phase runs', async () => {
    const log: string[] = []
    const before = recording('before', log, (ctx) => {
      ctx.request.headers.push('x-changed-by', 'before')
      return NEXT
    })
    const thrower = recording('thrower', log, () => {
      throw new Error('module bug')
    })
    const r = rig({ modules: [before, thrower] })
    const out = await r.send()

    expect(seen(out)).toEqual(FROM_LEGACY)
    expect(out.header('x-seen')).toEqual([])
    expect(log).toEqual(['request before', 'request thrower'])
    expect([r.origin.requests.length, r.legacy.requests.length]).toEqual([0, 1])
    // The legacy gets the request as the client sent it, not as the modules left it.
    expect(headerGet(r.legacy.requests[0].headers, 'x-changed-by')).toBeUndefined()
    expect(await r.fallbacks({ reason: 'module-error' })).toBe(1)
    expect(await r.fallbacks()).toBe(1)
    expect([await r.served('fallback'), await r.served('new')]).toEqual([1, 0])
    expect(r.scope.stats.fallbacks).toBe(1)
    expect(r.scope.stats.newErrors).toBe(1)
  })

  it('a module that answers without a reply: module-error, the legacy answers', async () => {
    const r = rig({ modules: [recording('mute', [], () => ANSWER)] })
    const out = await r.send()

    expect(seen(out)).toEqual(FROM_LEGACY)
    expect(await r.fallbacks({ reason: 'module-error' })).toBe(1)
    expect(r.scope.stats.newErrors).toBe(1)
  })

  it('a reply whose head Node refuses: module-error, the legacy gets the request body whole', async () => {
    const crlf = recording('crlf', [], (ctx) => {
      ctx.reply = { status: 302, headers: ['location', '/a\r\nx: y'], body: Buffer.alloc(0) }
      return ANSWER
    })
    const r = rig({ modules: [crlf] })
    const out = await r.send({
      headers: ['Content-Length', '7'],
      chunks: [Buffer.from('one '), Buffer.from('two')],
    })

    expect(seen(out)).toEqual(FROM_LEGACY)
    expect(r.legacy.bodies).toEqual(['one two'])
    expect(await r.fallbacks({ reason: 'module-error' })).toBe(1)
  })

  it('an async request phase slower than the module budget: module-budget, the legacy answers', async () => {
    const log: string[] = []
    const stuck = recording('stuck', log, () => new Promise<Verdict>(() => {}))
    const after = recording('after', log)
    const r = rig({ modules: [stuck, after], moduleBudgetMs: 5 })
    const out = await r.send()

    expect(seen(out)).toEqual(FROM_LEGACY)
    expect(log).toEqual(['request stuck'])
    expect(r.origin.requests).toHaveLength(0)
    expect(await r.fallbacks({ reason: 'module-budget' })).toBe(1)
    expect(await r.fallbacks()).toBe(1)
    expect(await r.served('fallback')).toBe(1)
    expect(r.scope.stats.fallbacks).toBe(1)
  }, 5000)

  it('counts each legacy(reason) verdict under its own reason', async () => {
    const reasons: Record<string, Verdict> = {
      '/alpha': legacy('contract-alpha'),
      '/beta': legacy('contract-beta'),
    }
    const sender = recording('sender', [], (ctx) => reasons[ctx.request.path] ?? NEXT)
    const r = rig({ modules: [sender] })
    for (const path of ['/alpha', '/beta', '/alpha'])
      expect(seen(await r.send({ path }))).toEqual(FROM_LEGACY)

    expect(await r.fallbacks({ reason: 'contract-alpha' })).toBe(2)
    expect(await r.fallbacks({ reason: 'contract-beta' })).toBe(1)
    expect(await r.fallbacks()).toBe(3)
    expect(await r.served('fallback')).toBe(3)
    expect(r.scope.stats).toMatchObject({ fallbacks: 3, newErrors: 0 })
  })
})

describe('response phases', () => {
  it('run in reverse chain order on the origin response', async () => {
    const log: string[] = []
    const r = rig({ modules: ['a', 'b', 'c'].map((name) => recording(name, log)) })
    const out = await r.send()

    expect(seen(out)).toEqual(FROM_ORIGIN)
    expect(log).toEqual([
      'request a',
      'request b',
      'request c',
      'response c',
      'response b',
      'response a',
    ])
    expect(out.header('x-seen')).toEqual(['c', 'b', 'a'])
    expect(await r.served('new')).toBe(1)
  })

  it('on a local reply: only those of the modules before the one that answered, last first', async () => {
    const log: string[] = []
    const answering = recording('c', log, (ctx) => {
      ctx.reply = { status: 202, headers: ['server', 'local'], body: Buffer.from('local\n') }
      return ANSWER
    })
    const modules = [recording('a', log), recording('b', log), answering, recording('d', log)]
    const r = rig({ modules })
    const out = await r.send()

    expect(seen(out)).toEqual({ status: 202, server: ['local'], body: 'local\n' })
    expect(log).toEqual(['request a', 'request b', 'request c', 'response b', 'response a'])
    expect(out.header('x-seen')).toEqual(['b', 'a'])
    expect([r.origin.requests.length, r.legacy.requests.length]).toEqual([0, 0])
  })
})

describe('the decision trace tells the truth', () => {
  it('forced to new on a site the new path cannot serve: path=fallback, reason=unservable', async () => {
    const r = rig({ servable: false })
    const out = await r.send({ headers: control('/', { force: 'new', trace: true }) })

    expect(seen(out)).toEqual(FROM_LEGACY)
    expect(traceOf(out)).toMatchObject({
      scope: `http:${HOST}`,
      path: 'fallback (forced)',
      reason: 'unservable',
    })
    expect(await r.fallbacks({ reason: 'unservable' })).toBe(1)
    expect(await r.served('fallback')).toBe(1)
    // The proof is for this hop: the legacy does not see it.
    expect(r.legacy.requests[0].headers.filter((h) => h.startsWith('x-cutover-'))).toEqual([])
  })

  it("a request a module sends to the legacy: path=fallback and that module's reason", async () => {
    const sender = recording('sender', [], () => legacy('contract-not-here'))
    const r = rig({ modules: [sender] })
    const out = await r.send({ headers: control('/', { trace: true }) })

    expect(seen(out)).toEqual(FROM_LEGACY)
    expect(traceOf(out)).toMatchObject({ path: 'fallback', reason: 'contract-not-here' })
  })

  it('a request the origin answers: path=new, reason=-', async () => {
    const r = rig()
    const out = await r.send({ headers: control('/', { trace: true }) })

    expect(seen(out)).toEqual(FROM_ORIGIN)
    expect(traceOf(out)).toMatchObject({
      scope: `http:${HOST}`,
      percent: '100.00',
      path: 'new',
      reason: '-',
    })
  })
})

describe('error replies', () => {
  it.each([
    ['UPSTREAM_TIMEOUT', 504, 'Gateway Timeout'],
    ['UPSTREAM_UNREACHABLE', 502, 'Bad Gateway'],
  ] as const)('an origin that fails with %s: %i, traced', async (code, status, phrase) => {
    const r = rig({ origin: { fail: code } })
    const out = await r.send({ headers: control('/', { trace: true }) })

    expect({ status: out.status, body: out.body }).toEqual({ status, body: `${phrase}\n` })
    expect(traceOf(out)).toMatchObject({ path: 'new', reason: '-' })
    expect(out.shouldKeepAlive).toBe(true)
    expect(r.legacy.requests).toHaveLength(0)
  })

  it('a chunked body over maxBodySize: 413, traced, the connection closed', async () => {
    const r = rig({ maxBodySize: 16 })
    const out = await r.send({
      headers: ['Transfer-Encoding', 'chunked', ...control('/', { trace: true })],
      chunks: [Buffer.alloc(10, 'a'), Buffer.alloc(10, 'b')],
    })

    expect({ status: out.status, body: out.body }).toEqual({
      status: 413,
      body: 'Content Too Large\n',
    })
    expect(traceOf(out)).toMatchObject({ path: 'new', reason: '-' })
    expect(out.shouldKeepAlive).toBe(false)
    expect(r.origin.requests).toHaveLength(1)
  })

  it('two Host fields: 400 naming why, counted as malformed, the connection closed, no upstream asked', async () => {
    const r = rig()
    const out = await r.handle(['Host', HOST, 'Host', 'other.test'])

    expect({ status: out.status, body: out.body }).toEqual({
      status: 400,
      body: 'Bad Request: more than one Host header\n',
    })
    expect(out.shouldKeepAlive).toBe(false)
    expect(await r.malformed()).toBe(1)
    expect([r.origin.requests.length, r.legacy.requests.length]).toEqual([0, 0])
  })
})

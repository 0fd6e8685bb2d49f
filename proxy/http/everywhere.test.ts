// Rules marked `everywhere: true`, without sockets: the engine runs a site's
// everywhere chain in front of the legacy (legacy path, fallbacks, sites the new
// path cannot serve) and not a second time on the new path; the registry refuses
// them for modules that answer instead of the legacy, naming the rule and why.

import { pino } from 'pino'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { headerGet } from '../../common/header-list.ts'
import type { HttpContext, HttpSiteModule, Rule } from '../../modules/http-module.ts'
import { everywhereModulesForRules, modulesForRules } from '../../modules/http-registry.ts'
import { ANSWER, legacy, NEXT, type Verdict } from '../../modules/verdict.ts'
import { HTTP_AUTH, HTTP_TRACE, signHttp } from '../../rollout/control.ts'
import { createHttpRouter } from '../../rollout/http-router.ts'
import { catchAllSpec, createScope } from '../../rollout/scopes.ts'
import { createMetrics } from '../telemetry/metrics.ts'
import { HttpEngine } from './engine.ts'
import { counted, FakeResponse, fakeRequest, fakeUpstream } from './engine-test-support.ts'
import type { SiteModules } from './exchange.ts'

const HOST = 'www.everywhere.test'
const TOKEN = 'everywhere-test-admin-token'
const SUBNET = { v4: 24, v6: 56 }

const ORIGIN = { status: 200, headers: ['server', 'origin'], body: 'from the origin\n' }
const LEGACY = { status: 203, headers: ['server', 'legacy'], body: 'from the legacy\n' }

interface RigOptions {
  /** The site's new-path chain; undefined: the new path cannot serve the site. */
  modules?: SiteModules
  everywhere: SiteModules
  /** Share on the new path: 0 (all legacy, the default) or 100. */
  percent?: 0 | 100
}

/** An engine with one site (its scope, origin and the legacy faked). */
function rig(options: RigOptions) {
  const registry = new Registry()
  const origin = fakeUpstream(ORIGIN)
  const legacyUpstream = fakeUpstream(LEGACY)
  const servable = options.modules !== undefined
  const scope = createScope(
    {
      id: `http:${HOST}`,
      protocol: 'http',
      basisPoints: (options.percent ?? 0) * 100,
      stickiness: undefined,
      salt: undefined,
      servable,
    },
    SUBNET,
  )
  const site = {
    modules: options.modules ?? [],
    origin: servable ? origin.upstream : undefined,
    everywhere: options.everywhere,
  }
  const engine = new HttpEngine({
    router: createHttpRouter(
      [{ hosts: [HOST], scope, paths: [], site }],
      createScope(catchAllSpec('http'), SUBNET),
    ),
    legacy: legacyUpstream.upstream,
    metrics: createMetrics(registry),
    log: pino({ level: 'silent' }),
    maxBodySize: 1024,
    moduleBudgetMs: 1000,
    token: TOKEN,
    shadow: undefined,
    recorder: undefined,
    dohPath: undefined,
    doh: undefined,
  })
  return {
    origin,
    legacy: legacyUpstream,
    /** GET / with these fields after Host; resolves with the finished response. */
    async send(headers: string[] = []) {
      const out = new FakeResponse()
      engine.handle(fakeRequest({ rawHeaders: ['Host', HOST, ...headers] }), out.res)
      await out.finished
      return out
    },
    served: (path: 'new' | 'legacy' | 'fallback') =>
      counted(registry, 'cutover_requests_total', { protocol: 'http', path }),
    fallbacks: () => counted(registry, 'cutover_fallbacks_total', { protocol: 'http' }),
  }
}

/** A module that logs its phases: its request phase adds `x-request-<name>`, its response phase `x-seen`. */
function recording(
  name: string,
  log: string[],
  decide: (ctx: HttpContext) => Verdict = () => NEXT,
): { name: string; phases: HttpSiteModule } {
  return {
    name,
    phases: {
      request(ctx) {
        log.push(`request ${name}`)
        ctx.request.headers.push(`x-request-${name}`, '1')
        return decide(ctx)
      },
      response(_ctx, response) {
        log.push(`response ${name}`)
        response.headers.push('x-seen', name)
      },
    },
  }
}

/** A module that denies every request with 403, as an access deny does. */
function denying(name: string, log: string[]) {
  return recording(name, log, (ctx) => {
    ctx.reply = { status: 403, headers: ['content-type', 'text/plain'], body: Buffer.from('no\n') }
    return ANSWER
  })
}

/** The fields of the response's decision trace. */
function traceOf(out: FakeResponse): Record<string, string> {
  const [trace] = out.header(HTTP_TRACE)
  return Object.fromEntries(trace.split('; ').map((kv) => kv.split('=', 2)))
}

function traceAsked(): string[] {
  const ts = Math.floor(Date.now() / 1000)
  return [HTTP_AUTH, signHttp(TOKEN, ts, 'GET', HOST, '/', '', '1'), HTTP_TRACE, '1']
}

describe('on the legacy path, the everywhere chain runs in front of the legacy', () => {
  it('a deny answers locally with its status; the legacy is never asked; counted as legacy', async () => {
    const log: string[] = []
    const r = rig({ everywhere: [recording('headers', log), denying('access', log)] })
    const out = await r.send(traceAsked())

    expect([out.status, out.body]).toEqual([403, 'no\n'])
    expect(r.legacy.requests).toHaveLength(0)
    // Response phases of the modules before the one that answered, as on the new path.
    expect(log).toEqual(['request headers', 'request access', 'response headers'])
    expect(out.header('x-seen')).toEqual(['headers'])
    expect(await r.served('legacy')).toBe(1)
    expect(traceOf(out)).toMatchObject({ path: 'legacy', reason: '-' })
  })

  it("request edits reach the legacy; response phases run on the legacy's answer, last first", async () => {
    const log: string[] = []
    const r = rig({ everywhere: [recording('a', log), recording('b', log)] })
    const out = await r.send(['X-Client', 'kept'])

    expect([out.status, out.body]).toEqual([203, 'from the legacy\n'])
    const sent = r.legacy.requests[0].headers
    expect([headerGet(sent, 'x-request-a'), headerGet(sent, 'x-request-b')]).toEqual(['1', '1'])
    expect(headerGet(sent, 'x-client')).toBe('kept')
    expect(out.header('x-seen')).toEqual(['b', 'a'])
    expect(log).toEqual(['request a', 'request b', 'response b', 'response a'])
  })

  it("the new path's chain does not run on the legacy path", async () => {
    const log: string[] = []
    const r = rig({ modules: [recording('newonly', log)], everywhere: [] })
    const out = await r.send()

    expect(out.status).toBe(203)
    expect(log).toEqual([])
    expect(headerGet(r.legacy.requests[0].headers, 'x-request-newonly')).toBeUndefined()
  })

  it('a module that throws or says legacy(reason) in front of the legacy: the legacy answers, not a fallback', async () => {
    const log: string[] = []
    const thrower = recording('thrower', log, () => {
      throw new Error('module bug')
    })
    const sender = recording('sender', log, () => legacy('everywhere-test'))
    const r = rig({ everywhere: [sender, thrower] })
    const out = await r.send()

    expect(out.status).toBe(203)
    expect(await r.fallbacks()).toBe(0)
    expect(await r.served('legacy')).toBe(1)
  })
})

describe('on the new path, everywhere rules run once, as part of the chain', () => {
  it('the everywhere chain is not run a second time', async () => {
    const log: string[] = []
    const r = rig({
      modules: [recording('access', log), recording('headers', log)],
      everywhere: [recording('access-everywhere', log)],
      percent: 100,
    })
    const out = await r.send()

    expect(out.status).toBe(200)
    expect(log).toEqual([
      'request access',
      'request headers',
      'response headers',
      'response access',
    ])
    expect(r.legacy.requests).toHaveLength(0)
  })
})

describe('on a fallback, the everywhere chain runs in front of the legacy', () => {
  it("the legacy gets the everywhere edits, not the new path's", async () => {
    const log: string[] = []
    const thrower = recording('thrower', log, () => {
      throw new Error('module bug')
    })
    const r = rig({
      modules: [recording('newonly', log), thrower],
      everywhere: [recording('everywhere', log)],
      percent: 100,
    })
    const out = await r.send(traceAsked())

    expect([out.status, out.body]).toEqual([203, 'from the legacy\n'])
    const sent = r.legacy.requests[0].headers
    expect(headerGet(sent, 'x-request-everywhere')).toBe('1')
    expect(headerGet(sent, 'x-request-newonly')).toBeUndefined()
    expect(headerGet(sent, 'x-request-thrower')).toBeUndefined()
    expect(out.header('x-seen')).toEqual(['everywhere'])
    expect(traceOf(out)).toMatchObject({ path: 'fallback', reason: 'module-error' })
    expect(await r.fallbacks()).toBe(1)
  })

  it('a site the new path cannot serve runs its everywhere chain, forced or not', async () => {
    const log: string[] = []
    for (const percent of [0, 100] as const) {
      const r = rig({ everywhere: [denying('access', log)], percent })
      const out = await r.send()
      expect(out.status).toBe(403)
      expect(r.legacy.requests).toHaveLength(0)
    }
    expect(log).toEqual(['request access', 'request access'])
  })
})

describe('the registry builds the everywhere chain from the rules marked so', () => {
  const WHERE = 'http.sites[0]'

  it('in chain order, with their own config paths; other rules left out', () => {
    const rules: Rule[] = [
      { type: 'headers', response: { set: { 'x-a': '1' } }, everywhere: true },
      { type: 'access', action: 'deny', everywhere: true },
      { type: 'access', action: 'allow' },
      { type: 'ratelimit', key: 'client-ip', rate: 1, per: '1s', everywhere: false },
      { type: 'waf', everywhere: true },
    ]
    const chain = everywhereModulesForRules(rules, WHERE)
    expect(chain.map((m) => [m.module.name, m.where])).toEqual([
      ['access', [`${WHERE}.rules[1]`]],
      ['headers', [`${WHERE}.rules[0]`]],
    ])
  })

  it('the new path keeps every rule, everywhere or not, and the modules accept the key', () => {
    const rules: Rule[] = [
      { type: 'access', action: 'deny', everywhere: true },
      { type: 'access', action: 'allow' },
    ]
    const [access] = modulesForRules(rules, WHERE)
    expect(access.rules).toHaveLength(2)
    const env = { log: pino({ level: 'silent' }), registry: new Registry() }
    expect(() => access.module.site(access.rules, access.where, env, 0)).not.toThrow()
  })

  it.each([
    ['static', { status: 200, body: 'x' }, 'it answers instead of the legacy'],
    ['redirect', { to: 'https://example.test/' }, 'it answers instead of the legacy'],
    ['cache', {}, 'it answers from its store instead of the legacy'],
  ])('refuses a %s rule marked everywhere, naming the rule and why', (type, rest, why) => {
    const rules: Rule[] = [
      { type: 'access', action: 'deny', everywhere: true },
      { type: 'headers' },
      { type, ...rest, everywhere: true },
    ]
    expect(() => everywhereModulesForRules(rules, WHERE)).toThrow(
      `${WHERE}.rules[2]: a ${type} rule cannot run in front of the legacy (everywhere: true): ${why}`,
    )
  })

  it('refuses an everywhere that is not a boolean', () => {
    const rules: Rule[] = [{ type: 'access', action: 'deny', everywhere: 'yes' }]
    expect(() => everywhereModulesForRules(rules, WHERE)).toThrow(
      `${WHERE}.rules[0].everywhere: expected boolean, got "yes"`,
    )
  })
})

// End to end: rules marked `everywhere: true` protect a site's legacy traffic.
// The site is at 0% (every request on the legacy path): an everywhere access
// deny answers itself, an everywhere response header lands on the legacy's
// answer, an everywhere rate limit limits it, a rule without the mark does
// nothing there; a site the new path cannot serve runs its everywhere rules
// too; and rules whose module answers instead of the legacy are refused.

import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { startUpstream, type TestUpstream } from './support/upstream.ts'

const SITE = 'www.everywhere.test'
/** A site the new path cannot serve (a rule type no module serves, no origin). */
const LEGACY_ONLY = 'old.everywhere.test'

describe('everywhere rules on the legacy path', () => {
  let origin: TestUpstream
  let legacy: TestUpstream
  let proxy: TestProxy
  /** The X-Everywhere-Request field of each request the legacy got. */
  const legacySaw: (string | undefined)[] = []

  beforeAll(async () => {
    origin = await startUpstream()
    legacy = await startUpstream((req, res) => {
      legacySaw.push(req.headers['x-everywhere-request'] as string | undefined)
      req.resume()
      res.writeHead(200, { 'content-type': 'text/plain', server: 'legacy' })
      res.end('from the legacy\n')
    })
    const everywhereRules = [
      { type: 'access', action: 'deny', path: { prefix: '/blocked/' }, everywhere: true },
      {
        type: 'ratelimit',
        key: 'header:X-Client',
        rate: 2,
        per: '1h',
        match: { prefix: '/limited/' },
        everywhere: true,
      },
      {
        type: 'headers',
        request: { set: { 'X-Everywhere-Request': 'yes' } },
        response: { set: { 'X-Everywhere': 'yes' } },
        everywhere: true,
      },
    ]
    proxy = await startTestProxy({
      http: {
        listen: '127.0.0.1:0',
        legacy: { url: legacy.url },
        doh: false,
        sites: [
          {
            host: SITE,
            origin: origin.url,
            percent: 0,
            rules: [
              ...everywhereRules,
              { type: 'access', action: 'deny', path: { prefix: '/new-only/' } },
              { type: 'headers', response: { set: { 'X-New-Only': 'yes' } } },
            ],
          },
          {
            host: LEGACY_ONLY,
            percent: 0,
            rules: [
              { type: 'waf', ruleset: 'owasp' },
              { type: 'access', action: 'deny', path: { prefix: '/blocked/' }, everywhere: true },
            ],
          },
        ],
      },
    })
  })

  afterAll(async () => {
    await proxy?.stop()
    await origin?.stop()
    await legacy?.stop()
  })

  async function get(host: string, path: string, headers: Record<string, string> = {}) {
    const res = await request(`http://127.0.0.1:${proxy.httpPort}${path}`, {
      headers: { host, ...headers },
    })
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() }
  }

  it('an everywhere deny answers 403 itself; the legacy is not asked', async () => {
    const before = legacy.requests
    const denied = await proxy.metric('cutover_access_decisions_total', { result: 'deny' })
    const res = await get(SITE, '/blocked/x')

    expect(res.status).toBe(403)
    expect(legacy.requests).toBe(before)
    expect(await proxy.metric('cutover_access_decisions_total', { result: 'deny' })).toBe(
      denied + 1,
    )
    // headers comes after access in chain order: as on the new path, it does not see the deny.
    expect(res.headers['x-everywhere']).toBeUndefined()
  })

  it("an everywhere header rule edits what the legacy gets and the legacy's answer; the others do nothing", async () => {
    const res = await get(SITE, '/new-only/page')

    expect([res.status, res.body]).toEqual([200, 'from the legacy\n'])
    expect(res.headers.server).toBe('legacy')
    expect(res.headers['x-everywhere']).toBe('yes')
    expect(res.headers['x-new-only']).toBeUndefined()
    expect(legacySaw.at(-1)).toBe('yes')
    expect(origin.requests).toBe(0)
    expect(await proxy.metric('cutover_requests_total', { protocol: 'http', path: 'new' })).toBe(0)
  })

  it('an everywhere rate limit limits legacy traffic, per key', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 3; i++)
      statuses.push((await get(SITE, '/limited/x', { 'x-client': 'a' })).status)
    const other = await get(SITE, '/limited/x', { 'x-client': 'b' })

    expect(statuses).toEqual([200, 200, 429])
    expect(other.status).toBe(200)
    expect(await proxy.metric('cutover_ratelimit_requests_total', { result: 'limited' })).toBe(1)
  })

  it('a site the new path cannot serve still runs its everywhere rules', async () => {
    const before = legacy.requests
    expect((await get(LEGACY_ONLY, '/blocked/x')).status).toBe(403)
    expect(legacy.requests).toBe(before)
    expect((await get(LEGACY_ONLY, '/open')).status).toBe(200)
    expect(legacy.requests).toBe(before + 1)
  })
})

describe('rules that cannot run in front of the legacy are refused at config time', () => {
  let legacy: TestUpstream
  beforeAll(async () => {
    legacy = await startUpstream()
  })
  afterAll(async () => {
    await legacy?.stop()
  })

  it.each([
    ['static', { match: { exact: '/robots.txt' }, body: 'x' }, 'it answers instead of the legacy'],
    ['redirect', { match: { prefix: '/old/' }, to: '/new/' }, 'it answers instead of the legacy'],
    ['cache', {}, 'it answers from its store instead of the legacy'],
  ])('%s with everywhere: true', async (type, rest, why) => {
    const start = startTestProxy({
      http: {
        listen: '127.0.0.1:0',
        legacy: { url: legacy.url },
        doh: false,
        sites: [
          {
            host: SITE,
            origin: legacy.url,
            percent: 100,
            rules: [{ type: 'headers' }, { type, ...rest, everywhere: true }],
          },
        ],
      },
    })
    await expect(start).rejects.toThrow(
      `http.sites[0].rules[1]: a ${type} rule cannot run in front of the legacy (everywhere: true): ${why}`,
    )
  })
})

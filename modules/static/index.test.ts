// The static module through its contract: a site's request phase against
// hand-made requests; the answers counted; config errors from site().

import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { HttpRequest, HttpSiteModule } from '../http-module.ts'
import { context, siteOf } from '../shared/http-test-support.ts'
import { ANSWER, NEXT } from '../verdict.ts'
import { staticModule } from './index.ts'

const site = (rules: Record<string, unknown>[]) => siteOf(staticModule, rules)
const ctx = context
/** A module env of its own, whose registry a test reads. */
const newEnv = () => ({ log: { info() {}, warn() {}, error() {} }, registry: new Registry() })

/** The reply as plain values, or 'next' when the module passed the request on. */
function send(s: HttpSiteModule, request: Partial<HttpRequest> = {}) {
  const c = ctx(request)
  const verdict = s.request!(c)
  if (verdict === NEXT) {
    expect(c.reply).toBeUndefined()
    return 'next'
  }
  expect(verdict).toBe(ANSWER)
  const { status, headers, body } = c.reply!
  return { status, headers, body: body.toString() }
}

describe('answers', () => {
  it('answers a matching GET with 200, text/plain and the body', () => {
    const s = site([{ match: { exact: '/robots.txt' }, body: 'User-agent: *\n' }])
    expect(send(s, { path: '/robots.txt' })).toEqual({
      status: 200,
      headers: ['content-type', 'text/plain; charset=utf-8'],
      body: 'User-agent: *\n',
    })
  })

  it('answers with an empty body by default', () => {
    const s = site([{ match: { exact: '/empty' } }])
    expect(send(s, { path: '/empty' })).toMatchObject({ status: 200, body: '' })
  })

  it('passes on paths it does not match', () => {
    const s = site([{ match: { exact: '/robots.txt' }, body: 'x' }])
    expect(send(s, { path: '/robots.txt.bak' })).toBe('next')
    expect(send(s, { path: '/' })).toBe('next')
  })

  it('matches by prefix and by regex', () => {
    const s = site([
      { match: { prefix: '/maintenance/' }, body: 'down' },
      { match: { regex: '^/v[0-9]+/health$' }, body: 'ok' },
    ])
    expect(send(s, { path: '/maintenance/a/b' })).toMatchObject({ body: 'down' })
    expect(send(s, { path: '/v12/health' })).toMatchObject({ body: 'ok' })
    expect(send(s, { path: '/v12/healthz' })).toBe('next')
  })

  it('uses the configured status', () => {
    const s = site([
      { match: { exact: '/gone' }, status: 410, body: 'gone' },
      { match: { exact: '/down' }, status: 503 },
      { match: { exact: '/nothing' }, status: 204 },
    ])
    expect(send(s, { path: '/gone' })).toMatchObject({ status: 410, body: 'gone' })
    expect(send(s, { path: '/down' })).toMatchObject({ status: 503 })
    expect(send(s, { path: '/nothing' })).toMatchObject({ status: 204 })
  })

  it('sends the configured headers in order, then the default type', () => {
    const s = site([
      { match: { exact: '/' }, headers: { 'Cache-Control': 'no-store', 'X-A': '1' }, body: 'x' },
    ])
    expect(send(s)).toMatchObject({
      headers: [
        'Cache-Control',
        'no-store',
        'X-A',
        '1',
        'content-type',
        'text/plain; charset=utf-8',
      ],
    })
  })

  it('keeps a configured Content-Type in any letter case instead of the default', () => {
    const s = site([
      { match: { exact: '/a' }, headers: { 'Content-Type': 'text/html' } },
      { match: { exact: '/b' }, headers: { 'content-TYPE': 'application/json' } },
    ])
    expect(send(s, { path: '/a' })).toMatchObject({ headers: ['Content-Type', 'text/html'] })
    expect(send(s, { path: '/b' })).toMatchObject({
      headers: ['content-TYPE', 'application/json'],
    })
  })

  it('gives each reply its own header list', () => {
    const s = site([{ match: { exact: '/' }, body: 'x' }])
    const first = ctx()
    s.request!(first)
    first.reply!.headers.push('x-added-later', '1')
    expect(send(s)).toMatchObject({ headers: ['content-type', 'text/plain; charset=utf-8'] })
  })

  it('keeps the body bytes as written (UTF-8)', () => {
    const s = site([{ match: { exact: '/' }, body: 'héllo ✓' }])
    const c = ctx()
    s.request!(c)
    expect(c.reply!.body).toEqual(Buffer.from('héllo ✓', 'utf8'))
  })
})

describe('methods', () => {
  it('answers GET and HEAD by default and passes the others on', () => {
    const s = site([{ match: { exact: '/' }, body: 'x' }])
    expect(send(s, { method: 'GET' })).not.toBe('next')
    expect(send(s, { method: 'HEAD' })).not.toBe('next')
    expect(send(s, { method: 'POST' })).toBe('next')
    expect(send(s, { method: 'OPTIONS' })).toBe('next')
  })

  it('answers only the configured methods, written in any case', () => {
    const s = site([{ match: { exact: '/' }, methods: ['post', 'Put'] }])
    expect(send(s, { method: 'POST' })).not.toBe('next')
    expect(send(s, { method: 'PUT' })).not.toBe('next')
    expect(send(s, { method: 'GET' })).toBe('next')
  })
})

describe('rule order', () => {
  it('lets the first matching rule answer', () => {
    const s = site([
      { match: { exact: '/a' }, body: 'exact' },
      { match: { prefix: '/' }, body: 'catch-all' },
    ])
    expect(send(s, { path: '/a' })).toMatchObject({ body: 'exact' })
    expect(send(s, { path: '/b' })).toMatchObject({ body: 'catch-all' })
  })

  it('skips a matching rule whose methods do not fit', () => {
    const s = site([
      { match: { prefix: '/' }, methods: ['POST'], status: 405, body: 'no' },
      { match: { prefix: '/' }, body: 'yes' },
    ])
    expect(send(s, { method: 'POST' })).toMatchObject({ status: 405 })
    expect(send(s, { method: 'GET' })).toMatchObject({ status: 200, body: 'yes' })
  })

  it('passes everything on with no rules', () => {
    expect(send(site([]), { path: '/' })).toBe('next')
  })
})

describe('metrics', () => {
  /** cutover_static_total in `registry`. */
  async function served(registry: Registry): Promise<number> {
    const { values } = await registry.getSingleMetric('cutover_static_total')!.get()
    expect(values).toHaveLength(1)
    return values[0].value
  }
  const rules = [{ match: { exact: '/robots.txt' }, body: 'x' }]

  it('is at zero from set-up', async () => {
    const env = newEnv()
    siteOf(staticModule, rules, env)
    expect(await served(env.registry)).toBe(0)
  })

  it('counts local answers, and nothing for requests passed on', async () => {
    const env = newEnv()
    const s = siteOf(staticModule, rules, env)
    expect(send(s, { path: '/robots.txt' })).not.toBe('next')
    expect(send(s, { path: '/robots.txt', method: 'HEAD' })).not.toBe('next')
    expect(await served(env.registry)).toBe(2)
    expect(send(s, { path: '/robots.txt', method: 'POST' })).toBe('next')
    expect(send(s, { path: '/other' })).toBe('next')
    expect(await served(env.registry)).toBe(2)
  })

  it('counts on when the site is set up again on the same registry (a reload)', async () => {
    const env = newEnv()
    send(siteOf(staticModule, rules, env), { path: '/robots.txt' })
    send(siteOf(staticModule, rules, env), { path: '/robots.txt' })
    expect(await served(env.registry)).toBe(2)
  })
})

describe('config errors', () => {
  const check = (rule: Record<string, unknown>, message: string | RegExp): void => {
    expect(() => site([{ match: { exact: '/' } }, rule])).toThrow(message)
  }

  it('names the key and what was expected', () => {
    check(
      { match: { exact: '/' }, status: 600 },
      'http.sites[0].rules[1].status: Too big: expected number to be <=599',
    )
    check(
      { match: { exact: '/' }, status: 199 },
      'http.sites[0].rules[1].status: Too small: expected number to be >=200',
    )
    check(
      { match: { exact: '/' }, status: '200' },
      'http.sites[0].rules[1].status: expected number, got "200"',
    )
    check({ match: { exact: '/' }, status: 200.5 }, 'http.sites[0].rules[1].status: ')
    check(
      { match: { exact: '/' }, body: 42 },
      'http.sites[0].rules[1].body: expected string, got 42',
    )
    check(
      { match: { exact: '/' }, headers: { 'X-A': 1 } },
      'http.sites[0].rules[1].headers.X-A: expected string, got 1',
    )
    check(
      { match: { exact: '/' }, methods: 'GET' },
      'http.sites[0].rules[1].methods: expected array, got "GET"',
    )
    check(
      { match: { regex: '(' } },
      'http.sites[0].rules[1].match.regex: not a valid regular expression',
    )
    check({ match: { exact: 'robots.txt' } }, 'http.sites[0].rules[1].match.exact: ')
    check(
      { match: { exact: '/' }, code: 200 },
      `http.sites[0].rules[1]: unknown key(s) "code"; check the spelling against README's configuration reference`,
    )
  })

  it('refuses a header Node could not send, when the config is read', () => {
    check(
      { match: { exact: '/' }, headers: { 'X-A': 'a\r\nSet-Cookie: x' } },
      /http\.sites\[0\]\.rules\[1\]\.headers\.X-A: header values may not contain CR, LF/,
    )
    check(
      { match: { exact: '/' }, headers: { 'bad name': 'x' } },
      /http\.sites\[0\]\.rules\[1\]\.headers(\.bad name)?: not a valid header name/,
    )
  })

  it('says what a match must be when it is missing or unknown', () => {
    check({}, /http\.sites\[0\]\.rules\[1\]\.match: .*exact.*prefix.*regex/)
    check({ match: { glob: '/*' } }, /http\.sites\[0\]\.rules\[1\]\.match: .*exact.*prefix.*regex/)
  })

  it('throws CUTOVER_ERR_CONFIG_INVALID', () => {
    expect(() => site([{ match: { exact: '/' }, status: 0 }])).toThrow(
      expect.objectContaining({ code: 'CUTOVER_ERR_CONFIG_INVALID' }),
    )
  })
})

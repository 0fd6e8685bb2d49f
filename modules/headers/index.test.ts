// The headers module through its contract: request edits before the origin,
// response edits after it (local replies too); the rewrites counted; config
// errors from site().

import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { HeaderList } from '../../common/header-list.ts'
import type { HttpResponse, HttpSiteModule } from '../http-module.ts'
import { context, siteOf } from '../shared/http-test-support.ts'
import { NEXT } from '../verdict.ts'
import { headersModule } from './index.ts'

const site = (rules: Record<string, unknown>[]) => siteOf(headersModule, rules)
const ctx = context
/** A module env of its own, whose registry a test reads. */
const newEnv = () => ({ log: { info() {}, warn() {}, error() {} }, registry: new Registry() })

/** The request headers the origin would get. */
function sent(s: HttpSiteModule, headers: HeaderList, path = '/'): HeaderList {
  const c = ctx({ path, headers: [...headers] })
  expect(s.request!(c)).toBe(NEXT)
  return c.request.headers
}

/** The response headers the client would get. */
function received(
  s: HttpSiteModule,
  headers: HeaderList,
  path = '/',
  source: 'origin' | 'local' = 'origin',
): HeaderList {
  const response: HttpResponse = {
    status: 200,
    headers: [...headers],
    source,
    body: undefined,
    taps: [],
  }
  s.response!(ctx({ path }), response)
  return response.headers
}

describe('request headers', () => {
  it('adds a field, keeping the ones already there', () => {
    const s = site([{ request: { add: { 'X-Tag': 'new' } } }])
    expect(sent(s, ['Host', 'a', 'x-tag', 'old'])).toEqual([
      'Host',
      'a',
      'x-tag',
      'old',
      'X-Tag',
      'new',
    ])
  })

  it('sets a field, replacing every value of it in any letter case', () => {
    const s = site([{ request: { set: { 'X-Cutover': 'new-path' } } }])
    expect(sent(s, ['x-cutover', 'a', 'Accept', '*/*', 'X-CUTOVER', 'b'])).toEqual([
      'Accept',
      '*/*',
      'X-Cutover',
      'new-path',
    ])
    expect(sent(s, [])).toEqual(['X-Cutover', 'new-path'])
  })

  it('removes every value of a field, named in any letter case', () => {
    const s = site([{ request: { remove: ['Cookie', 'x-debug'] } }])
    expect(
      sent(s, ['cookie', 'a=1', 'Host', 'h', 'COOKIE', 'b=2', 'X-Debug', '1', 'x-debugger', '2']),
    ).toEqual(['Host', 'h', 'x-debugger', '2'])
  })

  it('removes, then sets, then adds', () => {
    const s = site([
      {
        request: {
          add: { 'X-A': 'added' },
          set: { 'X-A': 'set' },
          remove: ['x-a'],
        },
      },
    ])
    expect(sent(s, ['X-A', 'old'])).toEqual(['X-A', 'set', 'X-A', 'added'])
  })

  it('applies several fields of a rule in the order written', () => {
    const s = site([{ request: { add: { 'X-One': '1', 'X-Two': '2', 'X-Three': '3' } } }])
    expect(sent(s, [])).toEqual(['X-One', '1', 'X-Two', '2', 'X-Three', '3'])
  })

  it('leaves response headers alone', () => {
    const s = site([{ request: { set: { 'X-A': '1' }, remove: ['server'] } }])
    expect(received(s, ['Server', 'origin'])).toEqual(['Server', 'origin'])
  })

  it('allows empty values', () => {
    const s = site([{ request: { set: { 'X-Empty': '' } } }])
    expect(sent(s, [])).toEqual(['X-Empty', ''])
  })
})

describe('response headers', () => {
  it('adds, sets and removes on origin responses', () => {
    const s = site([
      {
        response: {
          add: { 'Set-Cookie': 'c=3' },
          set: { 'X-Served-By': 'cutover' },
          remove: ['Server', 'x-powered-by'],
        },
      },
    ])
    expect(
      received(s, [
        'Server',
        'nginx',
        'Set-Cookie',
        'a=1',
        'X-Powered-By',
        'php',
        'x-served-by',
        'legacy',
        'set-cookie',
        'b=2',
      ]),
    ).toEqual([
      'Set-Cookie',
      'a=1',
      'set-cookie',
      'b=2',
      'X-Served-By',
      'cutover',
      'Set-Cookie',
      'c=3',
    ])
  })

  it('edits local replies too', () => {
    const s = site([{ response: { set: { 'X-Served-By': 'cutover' } } }])
    expect(received(s, ['content-type', 'text/plain'], '/', 'local')).toEqual([
      'content-type',
      'text/plain',
      'X-Served-By',
      'cutover',
    ])
  })

  it('leaves request headers alone', () => {
    const s = site([{ response: { set: { 'X-A': '1' } } }])
    expect(sent(s, ['Host', 'h'])).toEqual(['Host', 'h'])
  })
})

describe('matching', () => {
  it('applies a rule without match to every path', () => {
    const s = site([{ request: { set: { 'X-A': '1' } }, response: { set: { 'X-B': '2' } } }])
    for (const path of ['/', '/a/b', '/x?y'])
      expect([sent(s, [], path), received(s, [], path)]).toEqual([
        ['X-A', '1'],
        ['X-B', '2'],
      ])
  })

  it('applies a rule only to paths its match selects', () => {
    const s = site([
      { match: { exact: '/exact' }, request: { add: { 'X-Rule': 'exact' } } },
      { match: { prefix: '/api/' }, request: { add: { 'X-Rule': 'prefix' } } },
      { match: { regex: '\\.css$' }, response: { set: { 'Cache-Control': 'max-age=60' } } },
    ])
    expect(sent(s, [], '/exact')).toEqual(['X-Rule', 'exact'])
    expect(sent(s, [], '/api/x')).toEqual(['X-Rule', 'prefix'])
    expect(sent(s, [], '/other')).toEqual([])
    expect(received(s, [], '/a/site.css')).toEqual(['Cache-Control', 'max-age=60'])
    expect(received(s, [], '/a/site.css.map')).toEqual([])
  })

  it('applies every matching rule in site order', () => {
    const s = site([
      { request: { set: { 'X-Order': 'first' } }, response: { add: { 'X-Seen': 'first' } } },
      {
        match: { prefix: '/' },
        request: { set: { 'x-order': 'second' } },
        response: { add: { 'X-Seen': 'second' } },
      },
    ])
    expect(sent(s, [])).toEqual(['x-order', 'second'])
    expect(received(s, [])).toEqual(['X-Seen', 'first', 'X-Seen', 'second'])
  })

  it('matches responses by the request path', () => {
    const s = site([{ match: { exact: '/a' }, response: { set: { 'X-A': '1' } } }])
    expect(received(s, [], '/a')).toEqual(['X-A', '1'])
    expect(received(s, [], '/b')).toEqual([])
  })
})

describe('metrics', () => {
  /** cutover_headers_rewrites_total in `registry`, by phase. */
  async function rewrites(registry: Registry): Promise<Record<string, number>> {
    const { values } = await registry.getSingleMetric('cutover_headers_rewrites_total')!.get()
    return Object.fromEntries(values.map((v) => [String(v.labels.phase), v.value]))
  }

  it('has both series at zero from set-up', async () => {
    const env = newEnv()
    siteOf(headersModule, [{ request: { set: { 'X-A': '1' } } }], env)
    expect(await rewrites(env.registry)).toEqual({ request: 0, response: 0 })
  })

  it('counts a request or response once, however many rules changed it', async () => {
    const env = newEnv()
    const s = siteOf(
      headersModule,
      [
        {
          match: { prefix: '/api/' },
          request: { set: { 'X-A': '1' } },
          response: { set: { 'X-B': '2' } },
        },
        { match: { prefix: '/api/' }, request: { add: { 'X-C': '3' } } },
      ],
      env,
    )
    expect(sent(s, [], '/api/x')).toEqual(['X-A', '1', 'X-C', '3'])
    expect(await rewrites(env.registry)).toEqual({ request: 1, response: 0 })
    expect(received(s, [], '/api/x')).toEqual(['X-B', '2'])
    expect(received(s, [], '/api/x', 'local')).toEqual(['X-B', '2'])
    expect(await rewrites(env.registry)).toEqual({ request: 1, response: 2 })
  })

  it('counts nothing for paths no rule selects', async () => {
    const env = newEnv()
    const s = siteOf(
      headersModule,
      [
        {
          match: { exact: '/a' },
          request: { set: { 'X-A': '1' } },
          response: { add: { 'X-B': '2' } },
        },
      ],
      env,
    )
    expect(sent(s, [], '/b')).toEqual([])
    expect(received(s, [], '/b')).toEqual([])
    expect(await rewrites(env.registry)).toEqual({ request: 0, response: 0 })
  })

  it('counts a remove only when the field was there', async () => {
    const env = newEnv()
    const s = siteOf(
      headersModule,
      [{ request: { remove: ['Cookie'] }, response: { remove: ['Server'] } }],
      env,
    )
    expect(sent(s, ['Host', 'h'])).toEqual(['Host', 'h'])
    expect(received(s, ['Via', '1.1 cutover'])).toEqual(['Via', '1.1 cutover'])
    expect(await rewrites(env.registry)).toEqual({ request: 0, response: 0 })
    expect(sent(s, ['Host', 'h', 'cookie', 'a=1'])).toEqual(['Host', 'h'])
    expect(received(s, ['server', 'nginx'])).toEqual([])
    expect(await rewrites(env.registry)).toEqual({ request: 1, response: 1 })
  })

  it('counts on when the site is set up again on the same registry (a reload)', async () => {
    const env = newEnv()
    const rules = [{ request: { set: { 'X-A': '1' } } }]
    sent(siteOf(headersModule, rules, env), [])
    sent(siteOf(headersModule, rules, env), [])
    expect(await rewrites(env.registry)).toEqual({ request: 2, response: 0 })
  })
})

describe('config errors', () => {
  const check = (rule: Record<string, unknown>, message: string | RegExp): void => {
    expect(() => site([{ request: { set: { 'X-A': '1' } } }, rule])).toThrow(message)
  }

  it('refuses CR, LF and NUL in values, naming the field', () => {
    check(
      { request: { set: { 'X-A': 'a\r\nInjected: 1' } } },
      'http.sites[0].rules[1].request.set.X-A: header values may not contain CR, LF, NUL, other control characters or characters above U+00FF',
    )
    check(
      { response: { add: { 'X-B': 'a\nb' } } },
      'http.sites[0].rules[1].response.add.X-B: header values may not contain CR, LF, NUL, other control characters or characters above U+00FF',
    )
    check(
      { response: { add: { 'X-C': 'a\rb' } } },
      'http.sites[0].rules[1].response.add.X-C: header values may not contain CR, LF, NUL, other control characters or characters above U+00FF',
    )
    check(
      { response: { set: { 'X-D': 'a\0b' } } },
      'http.sites[0].rules[1].response.set.X-D: header values may not contain CR, LF, NUL, other control characters or characters above U+00FF',
    )
  })

  it('refuses a value Node could not send: another control character, or one above U+00FF', () => {
    const message = /header values may not contain CR, LF, NUL, other control characters/
    check({ request: { set: { 'X-A': 'a\x7fb' } } }, message)
    check({ response: { add: { 'X-B': 'caf\u00e9 \u2603' } } }, message)
  })

  it('refuses a bad header name to remove, naming it', () => {
    check(
      { request: { remove: ['Host', 'bad name'] } },
      'http.sites[0].rules[1].request.remove.1: not a valid header name',
    )
    check({ response: { remove: [''] } }, 'http.sites[0].rules[1].response.remove.0: ')
  })

  it('says a bad header name to add or set is not a valid header name', () => {
    check(
      { request: { add: { 'bad name': 'x' } } },
      /http\.sites\[0\]\.rules\[1\]\.request\.add(\.bad name)?: not a valid header name/,
    )
    check(
      { response: { set: { 'X-A:': 'x' } } },
      /http\.sites\[0\]\.rules\[1\]\.response\.set(\.X-A:)?: not a valid header name/,
    )
  })

  it('names other mistakes', () => {
    check(
      { request: { set: { 'X-A': 1 } } },
      'http.sites[0].rules[1].request.set.X-A: expected string, got 1',
    )
    check(
      { request: { remove: 'Cookie' } },
      'http.sites[0].rules[1].request.remove: expected array, got "Cookie"',
    )
    check(
      { response: { delete: ['Server'] } },
      /http\.sites\[0\]\.rules\[1\]\.response: unknown key\(s\) "delete"/,
    )
    check({ requests: { set: {} } }, /http\.sites\[0\]\.rules\[1\]: unknown key\(s\) "requests"/)
    check(
      { match: { regex: '*' }, request: {} },
      'http.sites[0].rules[1].match.regex: not a valid regular expression',
    )
  })

  it('throws CUTOVER_ERR_CONFIG_INVALID', () => {
    expect(() => site([{ request: { set: { 'X-A': '\n' } } }])).toThrow(
      expect.objectContaining({ code: 'CUTOVER_ERR_CONFIG_INVALID' }),
    )
  })
})

// The redirect module through its contract: Location and status for hand-made
// requests; the redirects counted; config errors from site().

import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { HttpRequest, HttpSiteModule } from '../http-module.ts'
import { context, siteOf } from '../shared/http-test-support.ts'
import { ANSWER, NEXT } from '../verdict.ts'
import { redirectModule } from './index.ts'

const site = (rules: Record<string, unknown>[]) => siteOf(redirectModule, rules)
const ctx = context
/** A module env of its own, whose registry a test reads. */
const newEnv = () => ({ log: { info() {}, warn() {}, error() {} }, registry: new Registry() })

/** The Location a request is sent to, or 'next' when the module passed it on. */
function location(s: HttpSiteModule, path: string, query = ''): string {
  const c = ctx({ path, query })
  const verdict = s.request!(c)
  if (verdict === NEXT) return 'next'
  expect(verdict).toBe(ANSWER)
  return c.reply!.headers[1]
}

/** The whole reply to a request. */
function reply(s: HttpSiteModule, request: Partial<HttpRequest>) {
  const c = ctx(request)
  expect(s.request!(c)).toBe(ANSWER)
  return c.reply!
}

describe('reply', () => {
  it('is a 301 with Location, an empty body and Content-Length 0 by default', () => {
    const s = site([{ match: { exact: '/moved' }, to: '/elsewhere' }])
    const r = reply(s, { path: '/moved' })
    expect(r.status).toBe(301)
    expect(r.headers).toEqual(['location', '/elsewhere', 'content-length', '0'])
    expect(r.body.length).toBe(0)
  })

  it('uses the configured status: 301, 302, 307 or 308', () => {
    for (const status of [301, 302, 307, 308]) {
      const s = site([{ match: { exact: '/' }, to: '/x', status }])
      expect(reply(s, { path: '/' }).status).toBe(status)
    }
  })

  it('redirects every method', () => {
    const s = site([{ match: { exact: '/' }, to: '/x', status: 308 }])
    for (const method of ['GET', 'HEAD', 'POST', 'DELETE'])
      expect(reply(s, { method }).headers[1]).toBe('/x')
  })

  it('takes absolute targets as written', () => {
    const s = site([{ match: { prefix: '/' }, to: 'https://www.example.test$path' }])
    expect(location(s, '/a/b')).toBe('https://www.example.test/a/b')
  })
})

describe('matching', () => {
  it('passes on paths no rule matches', () => {
    const s = site([
      { match: { exact: '/moved' }, to: '/x' },
      { match: { prefix: '/old/' }, to: '/y' },
      { match: { regex: '^/items/(\\d+)$' }, to: '/z' },
    ])
    expect(location(s, '/moved/')).toBe('next')
    expect(location(s, '/old')).toBe('next')
    expect(location(s, '/items/x')).toBe('next')
    expect(location(s, '/')).toBe('next')
  })

  it('lets the first matching rule answer', () => {
    const s = site([
      { match: { exact: '/old/special' }, to: '/special' },
      { match: { prefix: '/old/' }, to: '/new/$1' },
      { match: { prefix: '/' }, to: '/never' },
    ])
    expect(location(s, '/old/special')).toBe('/special')
    expect(location(s, '/old/other')).toBe('/new/other')
    expect(location(s, '/else')).toBe('/never')
  })

  it('passes everything on with no rules', () => {
    expect(location(site([]), '/')).toBe('next')
  })
})

describe('captures in the target', () => {
  it('puts the rest of a prefix match in $1', () => {
    const s = site([{ match: { prefix: '/old/' }, to: '/new/$1' }])
    expect(location(s, '/old/page')).toBe('/new/page')
    expect(location(s, '/old/a/b/c.html')).toBe('/new/a/b/c.html')
    expect(location(s, '/old/')).toBe('/new/')
  })

  it('fills $1..$9 from regex groups', () => {
    const s = site([
      {
        match: { regex: '^/(a)(b)(c)(d)(e)(f)(g)(h)(i)$' },
        to: '/$9$8$7$6$5$4$3$2$1',
      },
      { match: { regex: '^/items/(\\d+)/(\\w+)$' }, to: '/products/$2?id=$1' },
    ])
    expect(location(s, '/abcdefghi')).toBe('/ihgfedcba')
    expect(location(s, '/items/42/red')).toBe('/products/red?id=42')
  })

  it('uses a capture more than once', () => {
    const s = site([{ match: { regex: '^/u/(\\w+)$' }, to: '/users/$1/$1' }])
    expect(location(s, '/u/ann')).toBe('/users/ann/ann')
  })

  it("fills an unmatched group, or one the regex does not have, with ''", () => {
    const s = site([{ match: { regex: '^/p(/x)?/(\\d+)$' }, to: '/q$1/$2/$3' }])
    expect(location(s, '/p/7')).toBe('/q/7/')
    expect(location(s, '/p/x/7')).toBe('/q/x/7/')
  })

  it('leaves references empty for an exact match', () => {
    const s = site([{ match: { exact: '/a' }, to: '/b/$1' }])
    expect(location(s, '/a')).toBe('/b/')
  })

  it('puts the whole path in $path', () => {
    const s = site([
      { match: { prefix: '/legacy/' }, to: 'https://legacy.example.test$path' },
      { match: { regex: '^/(x)$' }, to: '$path/$1' },
    ])
    expect(location(s, '/legacy/a%20b')).toBe('https://legacy.example.test/legacy/a%20b')
    expect(location(s, '/x')).toBe('/x/x')
  })

  it('reads $10 as $1 followed by 0, and keeps other $ text as written', () => {
    const s = site([{ match: { regex: '^/(a)$' }, to: '/$10/$0/$x/$/$$1' }])
    expect(location(s, '/a')).toBe('/a0/$0/$x/$/$a')
  })

  it('percent-encodes what a URI may not hold, so a decoded path cannot split the response head', () => {
    const s = site([{ match: { prefix: '/go/' }, to: '/to/$1' }])
    expect(location(s, '/go/a b\r\nSet-Cookie: x=1')).toBe('/to/a%20b%0D%0ASet-Cookie:%20x=1')
    expect(location(s, '/go/caf\u00e9/\u{1f600}')).toBe('/to/caf%C3%A9/%F0%9F%98%80')
  })

  it('does not read references inside the captured text again', () => {
    const s = site([{ match: { prefix: '/go/' }, to: '/to/$1' }])
    expect(location(s, '/go/$path$1')).toBe('/to/$path$1')
  })
})

describe('query string', () => {
  it('keeps the query by default', () => {
    const s = site([{ match: { prefix: '/old/' }, to: '/new/$1' }])
    expect(location(s, '/old/page', 'x=1&y=2')).toBe('/new/page?x=1&y=2')
  })

  it("joins with '&' when the target already has a query", () => {
    const s = site([{ match: { exact: '/search' }, to: '/find?src=old' }])
    expect(location(s, '/search', 'q=cats')).toBe('/find?src=old&q=cats')
  })

  it("joins with '&' when a capture put a query in the target", () => {
    const s = site([{ match: { regex: '^/item/(\\d+)$' }, to: '/show?id=$1' }])
    expect(location(s, '/item/3', 'ref=mail')).toBe('/show?id=3&ref=mail')
  })

  it('adds nothing when the request has no query', () => {
    const s = site([
      { match: { exact: '/a' }, to: '/b' },
      { match: { exact: '/c' }, to: '/d?e=1' },
    ])
    expect(location(s, '/a')).toBe('/b')
    expect(location(s, '/c')).toBe('/d?e=1')
  })

  it('drops the query when preserveQuery is false', () => {
    const s = site([
      { match: { exact: '/a' }, to: '/b', preserveQuery: false },
      { match: { exact: '/c' }, to: '/d?keep=1', preserveQuery: false },
    ])
    expect(location(s, '/a', 'x=1')).toBe('/b')
    expect(location(s, '/c', 'x=1')).toBe('/d?keep=1')
  })

  it('keeps the query as sent, encoding and all', () => {
    const s = site([{ match: { exact: '/a' }, to: '/b' }])
    expect(location(s, '/a', 'q=a%20b&x=%3F&flag')).toBe('/b?q=a%20b&x=%3F&flag')
  })

  it('matches on the path only, never the query', () => {
    const s = site([{ match: { regex: 'x=1' }, to: '/hit' }])
    expect(location(s, '/a', 'x=1')).toBe('next')
  })
})

describe('metrics', () => {
  /** cutover_redirect_total in `registry`, by status. */
  async function redirects(registry: Registry): Promise<Record<string, number>> {
    const { values } = await registry.getSingleMetric('cutover_redirect_total')!.get()
    return Object.fromEntries(values.map((v) => [String(v.labels.status), v.value]))
  }
  const rules = [
    { match: { exact: '/a' }, to: '/x' },
    { match: { exact: '/b' }, to: '/y', status: 308 },
    { match: { exact: '/c' }, to: '/z', status: 308 },
  ]

  it('has a series at zero for each configured status, and for no other', async () => {
    const env = newEnv()
    siteOf(redirectModule, rules, env)
    expect(await redirects(env.registry)).toEqual({ '301': 0, '308': 0 })
  })

  it('counts each redirect under its status, and nothing for requests passed on', async () => {
    const env = newEnv()
    const s = siteOf(redirectModule, rules, env)
    expect(location(s, '/a')).toBe('/x')
    expect(await redirects(env.registry)).toEqual({ '301': 1, '308': 0 })
    expect(location(s, '/b')).toBe('/y')
    expect(location(s, '/c')).toBe('/z')
    expect(await redirects(env.registry)).toEqual({ '301': 1, '308': 2 })
    expect(location(s, '/d')).toBe('next')
    expect(await redirects(env.registry)).toEqual({ '301': 1, '308': 2 })
  })

  it('counts on when the site is set up again on the same registry (a reload)', async () => {
    const env = newEnv()
    location(siteOf(redirectModule, rules, env), '/a')
    const again = siteOf(redirectModule, [{ match: { exact: '/a' }, to: '/x', status: 302 }], env)
    location(again, '/a')
    expect(await redirects(env.registry)).toEqual({ '301': 1, '302': 1, '308': 0 })
  })
})

describe('config errors', () => {
  const check = (rule: Record<string, unknown>, message: string | RegExp): void => {
    expect(() => site([{ match: { exact: '/' }, to: '/x' }, rule])).toThrow(message)
  }

  it('names the key and what was expected', () => {
    check({ match: { exact: '/' } }, 'http.sites[0].rules[1].to: expected string (missing)')
    check(
      { match: { exact: '/' }, to: '' },
      'http.sites[0].rules[1].to: Too small: expected string to have >=1 characters',
    )
    check(
      { match: { exact: '/' }, to: '/a', preserveQuery: 'no' },
      'http.sites[0].rules[1].preserveQuery: expected boolean, got "no"',
    )
    check(
      { match: { regex: '(a' }, to: '/a' },
      'http.sites[0].rules[1].match.regex: not a valid regular expression',
    )
    check({ match: { prefix: 'old/' }, to: '/a' }, 'http.sites[0].rules[1].match.prefix: ')
    check(
      { match: { exact: '/' }, to: '/a', code: 301 },
      /http\.sites\[0\]\.rules\[1\]: unknown key\(s\) "code"/,
    )
    check({ match: { exact: '/' }, to: '/a', status: '301' }, 'http.sites[0].rules[1].status')
  })

  it('says which statuses a redirect may have', () => {
    for (const status of [200, 303, 304, 404])
      check(
        { match: { exact: '/' }, to: '/a', status },
        /http\.sites\[0\]\.rules\[1\]\.status: .*301.*302.*307.*308/,
      )
  })

  it('throws CUTOVER_ERR_CONFIG_INVALID', () => {
    expect(() => site([{ match: { exact: '/' } }])).toThrow(
      expect.objectContaining({ code: 'CUTOVER_ERR_CONFIG_INVALID' }),
    )
  })
})

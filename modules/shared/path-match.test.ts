// Path matching through its two public pieces: the config schema and the compiled matcher.

import { describe, expect, it } from 'vitest'
import { compilePathMatch, pathMatchSchema } from './path-match.ts'

describe('compilePathMatch', () => {
  it('matches an exact path only, with no groups', () => {
    const m = compilePathMatch({ exact: '/robots.txt' })
    expect(m('/robots.txt')).toEqual([])
    expect(m('/robots.txt/')).toBeUndefined()
    expect(m('/robots')).toBeUndefined()
    expect(m('/ROBOTS.TXT')).toBeUndefined()
    expect(m('')).toBeUndefined()
  })

  it('matches a prefix, with the whole path and the rest as groups', () => {
    const m = compilePathMatch({ prefix: '/old/' })
    expect(m('/old/')).toEqual(['/old/', ''])
    expect(m('/old/a/b.html')).toEqual(['/old/a/b.html', 'a/b.html'])
    expect(m('/old')).toBeUndefined()
    expect(m('/older/x')).toBeUndefined()
    expect(m('/x/old/')).toBeUndefined()
  })

  it('treats a prefix without a trailing slash as plain text', () => {
    const m = compilePathMatch({ prefix: '/api' })
    expect(m('/api')).toEqual(['/api', ''])
    expect(m('/apiary')).toEqual(['/apiary', 'ary'])
  })

  it('matches the root prefix against every path', () => {
    const m = compilePathMatch({ prefix: '/' })
    expect(m('/')).toEqual(['/', ''])
    expect(m('/a/b')).toEqual(['/a/b', 'a/b'])
  })

  it("gives a regex's whole match and groups, an unmatched group as ''", () => {
    const m = compilePathMatch({ regex: '^/items/(\\d+)(/edit)?$' })
    expect(m('/items/42')).toEqual(['/items/42', '42', ''])
    expect(m('/items/42/edit')).toEqual(['/items/42/edit', '42', '/edit'])
    expect(m('/items/x')).toBeUndefined()
  })

  it('searches anywhere in the path unless the regex is anchored', () => {
    const m = compilePathMatch({ regex: '\\.php$' })
    expect(m('/a/index.php')).toEqual(['.php'])
    expect(m('/index.php5')).toBeUndefined()
  })

  it('is case-sensitive and keeps percent-encoding as sent', () => {
    const m = compilePathMatch({ regex: '^/a%20b/(.*)$' })
    expect(m('/a%20b/c%2Fd')).toEqual(['/a%20b/c%2Fd', 'c%2Fd'])
    expect(m('/A%20b/c')).toBeUndefined()
  })

  it('gives the same result on every call (no regex state kept between paths)', () => {
    const m = compilePathMatch({ regex: '/(x)' })
    expect(m('/x')).toEqual(['/x', 'x'])
    expect(m('/x')).toEqual(['/x', 'x'])
    expect(m('/y')).toBeUndefined()
  })
})

describe('pathMatchSchema', () => {
  it('accepts exactly one of exact, prefix or regex', () => {
    expect(pathMatchSchema.parse({ exact: '/a' })).toEqual({ exact: '/a' })
    expect(pathMatchSchema.parse({ prefix: '/' })).toEqual({ prefix: '/' })
    expect(pathMatchSchema.parse({ regex: '^/a(.*)$' })).toEqual({ regex: '^/a(.*)$' })
    expect(pathMatchSchema.safeParse({ exact: '/a', prefix: '/b' }).success).toBe(false)
    expect(pathMatchSchema.safeParse({}).success).toBe(false)
    expect(pathMatchSchema.safeParse({ glob: '/*' }).success).toBe(false)
    expect(pathMatchSchema.safeParse('/a').success).toBe(false)
  })

  it('wants exact and prefix paths to start with /', () => {
    expect(pathMatchSchema.safeParse({ exact: 'a' }).success).toBe(false)
    expect(pathMatchSchema.safeParse({ prefix: '' }).success).toBe(false)
  })

  it('rejects a regex that does not compile, saying so', () => {
    const r = pathMatchSchema.safeParse({ regex: '(' })
    expect(r.success).toBe(false)
    expect(r.error!.issues.map((i) => i.message)).toContain('not a valid regular expression')
    expect(pathMatchSchema.safeParse({ regex: '[a-' }).success).toBe(false)
  })
})

// Which site and scope an HTTP request's Host (and path) belongs to.

import { describe, expect, it } from 'vitest'
import { createHttpRouter, type HttpSiteScopes, scopeForPath } from './http-router.ts'
import type { Scope } from './scope.ts'
import { createScope } from './scopes.ts'

const subnet = { v4: 24, v6: 56 }

function scope(id: string, servable = true): Scope {
  return createScope(
    {
      id,
      protocol: 'http',
      basisPoints: servable ? 10_000 : 0,
      stickiness: undefined,
      salt: undefined,
      servable,
    },
    subnet,
  )
}

const fallback = scope('http:*', false)

function site(
  hosts: string[],
  name: string | undefined,
  paths: [string, Scope][] = [],
): HttpSiteScopes<string> {
  return {
    hosts,
    scope: scope(`http:${hosts[0]}`, name !== undefined),
    paths: paths.map(([prefix, s]) => ({ prefix, scope: s })),
    site: name,
  }
}

const route = createHttpRouter(
  [
    site(['www.example.test', 'example.test'], 'www'),
    site(['shop.example.test'], undefined),
    site(['*.example.test'], 'any-example'),
    site(['*.eu.example.test'], 'eu'),
    site(['api.other.test', '*.api.other.test'], 'api'),
  ],
  fallback,
)

describe('createHttpRouter', () => {
  it('finds a site by its host', () => {
    expect(route('www.example.test').site).toBe('www')
    expect(route('www.example.test').scope.id).toBe('http:www.example.test')
    const shop = route('shop.example.test')
    expect(shop.scope.id).toBe('http:shop.example.test')
    expect(shop.site).toBeUndefined()
  })

  it('finds a site by an alias, under the scope of its first host', () => {
    expect(route('example.test')).toBe(route('www.example.test'))
    expect(route('example.test').scope.id).toBe('http:www.example.test')
  })

  it('prefers an exact host over a wildcard', () => {
    expect(route('shop.example.test').scope.id).toBe('http:shop.example.test')
    expect(route('api.other.test').site).toBe('api')
  })

  it('matches a wildcard at any depth, never its own name', () => {
    expect(route('blog.example.test').scope.id).toBe('http:*.example.test')
    expect(route('a.b.c.example.test').site).toBe('any-example')
    expect(route('v1.api.other.test').scope.id).toBe('http:api.other.test')
    const only = createHttpRouter([site(['*.x.test'], 'x')], fallback)
    expect(only('x.test').scope).toBe(fallback)
    expect(only('a.x.test').site).toBe('x')
  })

  it('picks the closest wildcard', () => {
    expect(route('paris.eu.example.test').site).toBe('eu')
    expect(route('a.paris.eu.example.test').site).toBe('eu')
    expect(route('eu.example.test').site).toBe('any-example')
  })

  it('picks the closest wildcard whatever the config order', () => {
    const r = createHttpRouter([site(['*.test'], 'tld'), site(['*.b.test'], 'b')], fallback)
    expect(r('a.b.test').site).toBe('b')
    expect(r('a.c.test').site).toBe('tld')
  })

  it('sends unknown hosts to the http:* scope, which the new path does not serve', () => {
    for (const host of [
      'unknown.test',
      'example.test.evil',
      'wwwexample.test',
      'badexample.test',
      '',
    ]) {
      const r = route(host)
      expect(r.scope).toBe(fallback)
      expect(r.site).toBeUndefined()
      expect(r.paths).toEqual([])
    }
    expect(fallback.id).toBe('http:*')
    expect(fallback.servable).toBe(false)
    expect(createHttpRouter([], fallback)('www.example.test').scope).toBe(fallback)
  })
})

describe('scopeForPath', () => {
  it('narrows to the longest path prefix with a scope, whatever the config order', () => {
    const api = scope('http:a.test/api/')
    const v2 = scope('http:a.test/api/v2/')
    const r = createHttpRouter(
      [
        site(['a.test'], 'a', [
          ['/api/', api],
          ['/api/v2/', v2],
        ]),
      ],
      fallback,
    )('a.test')
    expect(scopeForPath(r, '/api/v2/users')).toBe(v2)
    expect(scopeForPath(r, '/api/v1/users')).toBe(api)
    expect(scopeForPath(r, '/api')).toBe(r.scope)
    expect(scopeForPath(r, '/')).toBe(r.scope)
  })

  it('gives the fallback for unknown hosts', () => {
    expect(scopeForPath(route('nowhere.test'), '/api/')).toBe(fallback)
  })
})

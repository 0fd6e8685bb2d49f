// The access module through its contract: allow or deny hand-made requests by
// address, method, path and header; the decisions counted; config errors from site().

import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { HttpRequest, HttpSiteModule } from '../http-module.ts'
import { context, siteOf } from '../shared/http-test-support.ts'
import { ANSWER, NEXT } from '../verdict.ts'
import { accessModule } from './index.ts'

const site = (rules: Record<string, unknown>[]) => siteOf(accessModule, rules)
const ctx = context
/** A module env of its own, whose registry a test reads. */
const newEnv = () => ({ log: { info() {}, warn() {}, error() {} }, registry: new Registry() })

/** 'pass' when the request goes on, else the status of the refusal. */
function check(s: HttpSiteModule, request: Partial<HttpRequest> = {}): 'pass' | number {
  const c = ctx(request)
  const verdict = s.request!(c)
  if (verdict === NEXT) {
    expect(c.reply).toBeUndefined()
    return 'pass'
  }
  expect(verdict).toBe(ANSWER)
  return c.reply!.status
}

describe('decisions', () => {
  it('lets requests no rule matches through', () => {
    const s = site([{ action: 'deny', path: { prefix: '/admin/' } }])
    expect(check(s, { path: '/public' })).toBe('pass')
    expect(check(site([]), { path: '/' })).toBe('pass')
  })

  it('denies with 403, text/plain and the reason phrase', () => {
    const s = site([{ action: 'deny', path: { prefix: '/admin/' } }])
    const c = ctx({ path: '/admin/panel' })
    expect(s.request!(c)).toBe(ANSWER)
    expect(c.reply).toEqual({
      status: 403,
      headers: ['content-type', 'text/plain; charset=utf-8'],
      body: Buffer.from('Forbidden\n'),
    })
  })

  it('uses the configured status and its reason phrase', () => {
    const s = site([
      { action: 'deny', path: { exact: '/a' }, status: 404 },
      { action: 'deny', path: { exact: '/b' }, status: 451 },
      { action: 'deny', path: { exact: '/c' }, status: 599 },
    ])
    const reply = (path: string) => {
      const c = ctx({ path })
      s.request!(c)
      return [c.reply!.status, c.reply!.body.toString()]
    }
    expect(reply('/a')).toEqual([404, 'Not Found\n'])
    expect(reply('/b')).toEqual([451, 'Unavailable For Legal Reasons\n'])
    expect(reply('/c')).toEqual([599, 'Denied\n'])
  })

  it('lets the first matching rule decide: an allow ends the search', () => {
    const s = site([
      { action: 'allow', ip: ['10.0.0.0/8'] },
      { action: 'deny', path: { prefix: '/' } },
    ])
    expect(check(s, { clientIp: '10.1.2.3' })).toBe('pass')
    expect(check(s, { clientIp: '192.0.2.1' })).toBe(403)
  })

  it('lets an earlier deny win over a later allow', () => {
    const s = site([
      { action: 'deny', ip: ['10.0.0.13'], status: 429 },
      { action: 'allow', ip: ['10.0.0.0/8'] },
      { action: 'deny', ip: ['0.0.0.0/0', '::/0'] },
    ])
    expect(check(s, { clientIp: '10.0.0.13' })).toBe(429)
    expect(check(s, { clientIp: '10.0.0.14' })).toBe('pass')
    expect(check(s, { clientIp: '192.0.2.1' })).toBe(403)
    expect(check(s, { clientIp: '2001:db8::1' })).toBe(403)
  })

  it('denies everything with a rule that has no conditions', () => {
    const s = site([{ action: 'deny' }])
    expect(check(s, { path: '/x', method: 'POST', clientIp: '::1' })).toBe(403)
  })

  it('gives each reply its own header list', () => {
    const s = site([{ action: 'deny' }])
    const first = ctx()
    s.request!(first)
    first.reply!.headers.push('x-later', '1')
    const second = ctx()
    s.request!(second)
    expect(second.reply!.headers).toEqual(['content-type', 'text/plain; charset=utf-8'])
  })
})

describe('client address', () => {
  it('matches IPv4 blocks, odd prefixes included', () => {
    const s = site([{ action: 'deny', ip: ['198.51.100.0/23', '203.0.113.9/32'] }])
    expect(check(s, { clientIp: '198.51.101.200' })).toBe(403)
    expect(check(s, { clientIp: '198.51.102.1' })).toBe('pass')
    expect(check(s, { clientIp: '203.0.113.9' })).toBe(403)
    expect(check(s, { clientIp: '203.0.113.10' })).toBe('pass')
  })

  it('matches IPv6 blocks, odd prefixes included', () => {
    const s = site([{ action: 'deny', ip: ['2001:db8:0:80::/57', '2001:db8::1/128'] }])
    expect(check(s, { clientIp: '2001:db8:0:ff::5' })).toBe(403)
    expect(check(s, { clientIp: '2001:db8:0:7f::5' })).toBe('pass')
    expect(check(s, { clientIp: '2001:db8::1' })).toBe(403)
    expect(check(s, { clientIp: '2001:db8::2' })).toBe('pass')
  })

  it('matches every address of a family with /0', () => {
    const v4 = site([{ action: 'deny', ip: ['0.0.0.0/0'] }])
    expect(check(v4, { clientIp: '255.255.255.255' })).toBe(403)
    expect(check(v4, { clientIp: '2001:db8::1' })).toBe('pass')
    const v6 = site([{ action: 'deny', ip: ['::/0'] }])
    expect(check(v6, { clientIp: '2001:db8::1' })).toBe(403)
    expect(check(v6, { clientIp: '192.0.2.1' })).toBe('pass')
  })

  it('matches an IPv4-mapped IPv6 client as IPv4', () => {
    const s = site([{ action: 'deny', ip: ['127.0.0.0/8'] }])
    expect(check(s, { clientIp: '::ffff:127.0.0.1' })).toBe(403)
    expect(check(s, { clientIp: '::ffff:192.0.2.1' })).toBe('pass')
    expect(check(s, { clientIp: '::1' })).toBe('pass')
  })

  it('does not match an address rule for a client address it cannot read', () => {
    const s = site([
      { action: 'allow', ip: ['0.0.0.0/0', '::/0'] },
      { action: 'deny', status: 400 },
    ])
    expect(check(s, { clientIp: '' })).toBe(400)
    expect(check(s, { clientIp: 'unknown' })).toBe(400)
    expect(check(s, { clientIp: '10.0.0.1' })).toBe('pass')
  })
})

describe('other conditions', () => {
  it('matches methods, written in any case', () => {
    const s = site([{ action: 'deny', methods: ['delete', 'Put'], status: 405 }])
    expect(check(s, { method: 'DELETE' })).toBe(405)
    expect(check(s, { method: 'PUT' })).toBe(405)
    expect(check(s, { method: 'GET' })).toBe('pass')
  })

  it('matches paths exactly, by prefix and by regex', () => {
    const s = site([
      { action: 'deny', path: { exact: '/secret' } },
      { action: 'deny', path: { prefix: '/admin/' } },
      { action: 'deny', path: { regex: '\\.git(/|$)' } },
    ])
    expect(check(s, { path: '/secret' })).toBe(403)
    expect(check(s, { path: '/secret/x' })).toBe('pass')
    expect(check(s, { path: '/admin/x' })).toBe(403)
    expect(check(s, { path: '/admin' })).toBe('pass')
    expect(check(s, { path: '/repo/.git/config' })).toBe(403)
    expect(check(s, { path: '/repo/.github' })).toBe('pass')
  })

  it('matches a header by presence, its name in any case', () => {
    const s = site([{ action: 'deny', header: { name: 'X-Debug' } }])
    expect(check(s, { headers: ['x-debug', '1'] })).toBe(403)
    expect(check(s, { headers: ['X-DEBUG', ''] })).toBe(403)
    expect(check(s, { headers: ['x-debugger', '1'] })).toBe('pass')
    expect(check(s, { headers: [] })).toBe('pass')
  })

  it('matches a header value exactly', () => {
    const s = site([
      { action: 'allow', header: { name: 'x-token', equals: 's3cret' } },
      { action: 'deny', status: 401 },
    ])
    expect(check(s, { headers: ['X-Token', 's3cret'] })).toBe('pass')
    expect(check(s, { headers: ['X-Token', 'S3CRET'] })).toBe(401)
    expect(check(s, { headers: ['X-Token', 's3cret '] })).toBe(401)
    expect(check(s, { headers: [] })).toBe(401)
  })

  it('requires every condition of a rule to hold', () => {
    const s = site([
      {
        action: 'deny',
        ip: ['10.0.0.0/8'],
        methods: ['POST'],
        path: { prefix: '/api/' },
        header: { name: 'x-role', equals: 'guest' },
      },
    ])
    const all = {
      clientIp: '10.0.0.1',
      method: 'POST',
      path: '/api/x',
      headers: ['x-role', 'guest'],
    }
    expect(check(s, all)).toBe(403)
    expect(check(s, { ...all, clientIp: '11.0.0.1' })).toBe('pass')
    expect(check(s, { ...all, method: 'GET' })).toBe('pass')
    expect(check(s, { ...all, path: '/web/x' })).toBe('pass')
    expect(check(s, { ...all, headers: ['x-role', 'admin'] })).toBe('pass')
  })
})

describe('metrics', () => {
  /** cutover_access_decisions_total in `registry`, by result. */
  async function decisions(registry: Registry): Promise<Record<string, number>> {
    const { values } = await registry.getSingleMetric('cutover_access_decisions_total')!.get()
    return Object.fromEntries(values.map((v) => [String(v.labels.result), v.value]))
  }
  const rules = [
    { action: 'allow', ip: ['10.0.0.0/8'] },
    { action: 'deny', path: { prefix: '/admin/' } },
  ]

  it('has both series at zero from set-up', async () => {
    const env = newEnv()
    siteOf(accessModule, rules, env)
    expect(await decisions(env.registry)).toEqual({ allow: 0, deny: 0 })
  })

  it('counts the rule that decided, and nothing for requests no rule matched', async () => {
    const env = newEnv()
    const s = siteOf(accessModule, rules, env)
    expect(check(s, { clientIp: '10.0.0.1', path: '/admin/x' })).toBe('pass')
    expect(await decisions(env.registry)).toEqual({ allow: 1, deny: 0 })
    expect(check(s, { clientIp: '192.0.2.1', path: '/admin/x' })).toBe(403)
    expect(await decisions(env.registry)).toEqual({ allow: 1, deny: 1 })
    expect(check(s, { clientIp: '192.0.2.1', path: '/public' })).toBe('pass')
    expect(await decisions(env.registry)).toEqual({ allow: 1, deny: 1 })
  })

  it('counts on when the site is set up again on the same registry (a reload)', async () => {
    const env = newEnv()
    check(siteOf(accessModule, rules, env), { path: '/admin/x' })
    const again = siteOf(accessModule, rules, env)
    check(again, { path: '/admin/x' })
    expect(await decisions(env.registry)).toEqual({ allow: 0, deny: 2 })
  })
})

describe('config errors', () => {
  const fails = (rule: Record<string, unknown>, message: string | RegExp): void => {
    expect(() => site([{ action: 'allow' }, rule])).toThrow(message)
  }

  it('names the key and what was expected', () => {
    fails(
      { action: 'block' },
      'http.sites[0].rules[1].action: Invalid option: expected one of "allow"|"deny"',
    )
    fails({}, 'http.sites[0].rules[1].action: ')
    fails(
      { action: 'deny', ip: [] },
      'http.sites[0].rules[1].ip: Too small: expected array to have >=1 items',
    )
    fails(
      { action: 'deny', ip: '10.0.0.0/8' },
      'http.sites[0].rules[1].ip: expected array, got "10.0.0.0/8"',
    )
    fails({ action: 'deny', methods: [] }, 'http.sites[0].rules[1].methods: ')
    fails(
      { action: 'deny', status: 302 },
      'http.sites[0].rules[1].status: Too small: expected number to be >=400',
    )
    fails(
      { action: 'deny', status: 600 },
      'http.sites[0].rules[1].status: Too big: expected number to be <=599',
    )
    fails(
      { action: 'deny', path: { regex: '(' } },
      'http.sites[0].rules[1].path.regex: not a valid regular expression',
    )
    fails({ action: 'deny', header: { name: '' } }, 'http.sites[0].rules[1].header.name: ')
    fails(
      { action: 'deny', header: { name: 'x', value: 'y' } },
      /http\.sites\[0\]\.rules\[1\]\.header: unknown key\(s\) "value"/,
    )
    fails(
      { action: 'deny', cidr: ['10.0.0.0/8'] },
      /http\.sites\[0\]\.rules\[1\]: unknown key\(s\) "cidr"/,
    )
  })

  it('names a bad CIDR block and shows the forms expected', () => {
    for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0/8', 'localhost', '10.0.0.0/'])
      fails(
        { action: 'deny', ip: ['192.0.2.0/24', bad] },
        `http.sites[0].rules[1].ip.1: expected an address or CIDR block like "10.0.0.0/8" or "2001:db8::/32", got ${JSON.stringify(bad)}`,
      )
  })

  it('refuses a header name no request can carry', () => {
    fails({ action: 'deny', header: { name: 'X Debug' } }, 'http.sites[0].rules[1].header.name: ')
  })

  it('throws CUTOVER_ERR_CONFIG_INVALID', () => {
    expect(() => site([{ action: 'deny', ip: ['nope'] }])).toThrow(
      expect.objectContaining({ code: 'CUTOVER_ERR_CONFIG_INVALID' }),
    )
  })
})

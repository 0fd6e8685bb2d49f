// Header rewriting at the proxy hop: hop-by-hop fields removed, X-Forwarded-*
// and Via added, everything else kept in order.

import { describe, expect, it } from 'vitest'
import { endToEnd, forwardRequestHeaders, forwardResponseHeaders, VIA } from './http-headers.ts'

describe('endToEnd', () => {
  it('drops the fixed hop-by-hop set in any letter case', () => {
    expect(
      endToEnd([
        'Host',
        'a',
        'Connection',
        'keep-alive',
        'KEEP-ALIVE',
        'timeout=5',
        'proxy-connection',
        'close',
        'Proxy-Authenticate',
        'Basic',
        'Proxy-Authorization',
        'Basic eA==',
        'TE',
        'trailers',
        'Trailer',
        'X-Sum',
        'Transfer-Encoding',
        'chunked',
        'upgrade',
        'websocket',
        'Accept',
        '*/*',
      ]),
    ).toEqual(['Host', 'a', 'Accept', '*/*'])
  })

  it('drops the fields Connection names, in any case and spacing', () => {
    expect(
      endToEnd([
        'X-Hop',
        '1',
        'connection',
        ' X-HOP ,x-other,, close ',
        'X-Other',
        '2',
        'X-Kept',
        '3',
      ]),
    ).toEqual(['X-Kept', '3'])
  })

  it('reads the names of every Connection field', () => {
    expect(
      endToEnd(['Connection', 'x-a', 'X-A', '1', 'X-B', '2', 'CONNECTION', 'X-B', 'X-C', '3']),
    ).toEqual(['X-C', '3'])
  })

  it('keeps order, letter case and duplicates of the other fields', () => {
    const raw = [
      'Set-Cookie',
      'a=1; Path=/',
      'Content-Type',
      'text/html',
      'set-cookie',
      'b=2; Path=/',
      'X-Empty',
      '',
      'Set-Cookie',
      'c=3',
    ]
    expect(endToEnd(raw)).toEqual(raw)
  })

  it('also drops the names given to it, which must be lowercase', () => {
    expect(endToEnd(['Expect', '100-continue', 'X-A', '1'], new Set(['expect']))).toEqual([
      'X-A',
      '1',
    ])
  })

  it('leaves its input alone', () => {
    const raw = ['Connection', 'close', 'X-A', '1']
    endToEnd(raw)
    expect(raw).toEqual(['Connection', 'close', 'X-A', '1'])
  })
})

describe('forwardRequestHeaders', () => {
  /** The fields the hop adds after the client's, in this order. */
  const added = (forwardedFor: string, proto: string) => [
    'x-forwarded-for',
    forwardedFor,
    'x-forwarded-proto',
    proto,
    'via',
    VIA,
  ]

  it('adds X-Forwarded-For, X-Forwarded-Proto and Via after the client fields', () => {
    const raw = ['Host', 'www.example.test', 'Accept', '*/*']
    expect(forwardRequestHeaders(raw, '192.0.2.1', 'http')).toEqual([
      ...raw,
      ...added('192.0.2.1', 'http'),
    ])
    expect(VIA).toBe('1.1 cutover')
  })

  it('appends the client to an existing X-Forwarded-For', () => {
    const out = forwardRequestHeaders(['X-Forwarded-For', '203.0.113.7'], '192.0.2.1', 'http')
    expect(out.slice(0, 2)).toEqual(['x-forwarded-for', '203.0.113.7, 192.0.2.1'])
  })

  it('folds several X-Forwarded-For fields, in order, into one', () => {
    const out = forwardRequestHeaders(
      [
        'X-Forwarded-For',
        '203.0.113.7, 198.51.100.2',
        'Accept',
        '*/*',
        'x-forwarded-for',
        '198.51.100.3',
      ],
      '2001:db8::1',
      'https',
    )
    expect(out).toEqual([
      'Accept',
      '*/*',
      ...added('203.0.113.7, 198.51.100.2, 198.51.100.3, 2001:db8::1', 'https'),
    ])
  })

  it('shows an IPv4-mapped IPv6 client as IPv4, other IPv6 as is', () => {
    expect(forwardRequestHeaders([], '::ffff:192.0.2.1', 'http').slice(0, 2)).toEqual([
      'x-forwarded-for',
      '192.0.2.1',
    ])
    expect(forwardRequestHeaders([], '::1', 'http').slice(0, 2)).toEqual(['x-forwarded-for', '::1'])
    expect(forwardRequestHeaders([], '::ffff:1', 'http').slice(0, 2)).toEqual([
      'x-forwarded-for',
      '::ffff:1',
    ])
  })

  it("replaces the client's X-Forwarded-Proto with the real one", () => {
    const out = forwardRequestHeaders(
      ['X-Forwarded-Proto', 'https', 'x-forwarded-proto', 'https', 'A', '1'],
      '192.0.2.1',
      'http',
    )
    expect(
      out.filter((_, i) => i % 2 === 0 && out[i].toLowerCase() === 'x-forwarded-proto'),
    ).toHaveLength(1)
    expect(out).toEqual(['A', '1', ...added('192.0.2.1', 'http')])
  })

  it('appends to an existing Via', () => {
    const out = forwardRequestHeaders(
      ['Via', '1.0 fred', 'via', '1.1 p.example'],
      '192.0.2.1',
      'http',
    )
    expect(out.slice(-2)).toEqual(['via', `1.0 fred, 1.1 p.example, ${VIA}`])
    expect(out.filter((v) => v.toLowerCase() === 'via')).toHaveLength(1)
  })

  it('drops Expect and the hop-by-hop fields', () => {
    const out = forwardRequestHeaders(
      [
        'Host',
        'h',
        'Expect',
        '100-continue',
        'Connection',
        'Upgrade, X-Secret',
        'Upgrade',
        'h2c',
        'X-Secret',
        's',
        'TE',
        'trailers',
        'Content-Length',
        '5',
      ],
      '192.0.2.1',
      'http',
    )
    expect(out.slice(0, 4)).toEqual(['Host', 'h', 'Content-Length', '5'])
    expect(out).toHaveLength(10)
  })

  it('keeps the order and duplicates of the other fields', () => {
    const raw = ['Cookie', 'a=1', 'Accept', 'text/html', 'cookie', 'b=2', 'Host', 'h']
    expect(forwardRequestHeaders(raw, '192.0.2.1', 'http').slice(0, raw.length)).toEqual(raw)
  })

  it('does not take a client X-Forwarded-For named in Connection', () => {
    const out = forwardRequestHeaders(
      ['Connection', 'x-forwarded-for', 'X-Forwarded-For', '6.6.6.6'],
      '192.0.2.1',
      'http',
    )
    expect(out.slice(0, 2)).toEqual(['x-forwarded-for', '192.0.2.1'])
  })
})

describe('forwardResponseHeaders', () => {
  it('drops hop-by-hop fields and appends Via', () => {
    expect(
      forwardResponseHeaders([
        'Content-Type',
        'text/plain',
        'Transfer-Encoding',
        'chunked',
        'Connection',
        'keep-alive, X-Upstream-Only',
        'Keep-Alive',
        'timeout=4',
        'X-Upstream-Only',
        '1',
        'Content-Length',
        '3',
      ]),
    ).toEqual(['Content-Type', 'text/plain', 'Content-Length', '3', 'via', VIA])
  })

  it('keeps several Set-Cookie fields apart and in order', () => {
    const raw = [
      'Set-Cookie',
      'a=1; Path=/',
      'Date',
      'x',
      'set-cookie',
      'b=2; Path=/',
      'Set-Cookie',
      'c=3, d=4',
    ]
    expect(forwardResponseHeaders(raw)).toEqual([...raw, 'via', VIA])
  })

  it("appends to the upstream's Via", () => {
    expect(forwardResponseHeaders(['Via', '1.1 nginx'])).toEqual(['via', `1.1 nginx, ${VIA}`])
  })

  it('adds no X-Forwarded fields and keeps Expect-CT-like fields', () => {
    expect(
      forwardResponseHeaders(['Expect-CT', 'max-age=0', 'X-Forwarded-Proto', 'https']),
    ).toEqual(['Expect-CT', 'max-age=0', 'X-Forwarded-Proto', 'https', 'via', VIA])
  })
})

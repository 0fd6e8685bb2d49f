// The client behind trusted proxies: the X-Forwarded-For and Forwarded walk from
// the right, what stops it, and that an untrusted peer's headers say nothing.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseCidr } from '../../modules/access/cidr.ts'
import { clientAddress, forwardedElements, nodeAddress } from './forwarded-client.ts'
import { NOBODY, trustedProxies } from './trusted-proxies.ts'

const trusted = trustedProxies(
  ['10.0.0.0/8', '2001:db8:ffff::/48', '127.0.0.1'].map((c) => parseCidr(c)!),
)

describe('X-Forwarded-For', () => {
  it('from a trusted peer: the rightmost address not itself trusted', () => {
    const headers = ['X-Forwarded-For', '203.0.113.9, 198.51.100.4', 'x-forwarded-for', '10.1.1.1']
    expect(clientAddress(headers, '10.0.0.2', trusted)).toEqual({
      ip: '198.51.100.4',
      peer: '10.0.0.2',
      proto: undefined,
    })
  })

  it('from an untrusted peer: the peer, whatever the headers say', () => {
    const headers = ['x-forwarded-for', '203.0.113.9', 'x-forwarded-proto', 'https']
    expect(clientAddress(headers, '198.51.100.1', trusted)).toEqual({
      ip: '198.51.100.1',
      peer: '198.51.100.1',
      proto: undefined,
    })
    expect(clientAddress(headers, '10.0.0.2', NOBODY).ip).toBe('10.0.0.2')
  })

  it('every hop trusted: the leftmost; no header: the peer', () => {
    expect(clientAddress(['x-forwarded-for', '10.9.9.9, 10.1.1.1'], '10.0.0.2', trusted).ip).toBe(
      '10.9.9.9',
    )
    expect(clientAddress([], '10.0.0.2', trusted).ip).toBe('10.0.0.2')
  })

  it('stops at an entry that is not an address, at the hop that wrote it', () => {
    const headers = ['x-forwarded-for', '203.0.113.9, unknown, 10.1.1.1']
    expect(clientAddress(headers, '10.0.0.2', trusted).ip).toBe('10.1.1.1')
    expect(clientAddress(['x-forwarded-for', 'junk'], '10.0.0.2', trusted).ip).toBe('10.0.0.2')
  })

  it('reads ports, brackets and IPv4-mapped peers', () => {
    const headers = ['x-forwarded-for', '[2001:db8::7]:443, 198.51.100.4:8080, 10.2.2.2']
    expect(clientAddress(headers, '::ffff:10.0.0.2', trusted).ip).toBe('198.51.100.4')
    expect(
      clientAddress(['x-forwarded-for', '[2001:db8::7]:443'], '2001:db8:ffff::1', trusted).ip,
    ).toBe('2001:db8::7')
  })

  it('keeps X-Forwarded-Proto from a trusted peer, http or https only', () => {
    const at = (v: string) => clientAddress(['x-forwarded-proto', v], '10.0.0.2', trusted).proto
    expect(at('https')).toBe('https')
    expect(at('HTTP')).toBe('http')
    expect(at('http, https')).toBe('https')
    expect(at('gopher')).toBe(undefined)
  })
})

describe('Forwarded (RFC 7239)', () => {
  it('is used when present, with quoted IPv6 and ports, and its proto', () => {
    const headers = [
      'Forwarded',
      'for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https;by=10.0.0.1',
      'X-Forwarded-For',
      '198.51.100.99',
    ]
    expect(clientAddress(headers, '10.0.0.2', trusted)).toEqual({
      ip: '2001:db8:cafe::17',
      peer: '10.0.0.2',
      proto: 'https',
    })
  })

  it('walks past trusted hops and stops at unknown or obfuscated ones', () => {
    const at = (v: string) => clientAddress(['forwarded', v], '10.0.0.2', trusted).ip
    expect(at('for=192.0.2.43, for=10.3.3.3')).toBe('192.0.2.43')
    expect(at('for=192.0.2.43, for=unknown, for=10.3.3.3')).toBe('10.3.3.3')
    expect(at('for=192.0.2.43, for=_hidden')).toBe('10.0.0.2')
    expect(at('for=192.0.2.43, proto=http')).toBe('10.0.0.2')
  })

  it('a field that does not parse says nothing', () => {
    expect(clientAddress(['forwarded', 'for="192.0.2.43'], '10.0.0.2', trusted).ip).toBe('10.0.0.2')
    expect(forwardedElements('for=1.2.3.4;;')).toBe(undefined)
    expect(forwardedElements('nonsense')).toBe(undefined)
  })

  it('reads quoted strings with escapes, and any case of names', () => {
    expect(forwardedElements('For="a\\"b";PROTO=https, for=x')).toEqual([
      { for: 'a"b', proto: 'https' },
      { for: 'x' },
    ])
  })
})

describe('any header', () => {
  it('never throws; the client is the peer or an address the headers named', () => {
    const part = fc.constantFrom(
      'for=',
      '"',
      '[',
      ']',
      ':',
      ',',
      ';',
      ' ',
      '10.1.1.1',
      '192.0.2.5',
      '::1',
      'unknown',
      '\\',
      'proto=https',
    )
    const value = fc.array(part, { maxLength: 12 }).map((p) => p.join(''))
    fc.assert(
      fc.property(value, value, (forwarded, xff) => {
        for (const headers of [
          ['forwarded', forwarded],
          ['x-forwarded-for', xff],
        ]) {
          const c = clientAddress(headers, '10.0.0.2', trusted)
          expect(c.ip === '10.0.0.2' || nodeAddress(c.ip) === c.ip).toBe(true)
        }
      }),
      { numRuns: 3000 },
    )
  })
})

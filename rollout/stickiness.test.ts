// Stickiness keys: what a DNS query or an HTTP request is hashed by, so the same
// client (network, name, host, user) stays on one path.

import { describe, expect, it } from 'vitest'
import { buildQuery } from '../dns/message.ts'
import { createQueryView, Parse, type QueryView, readQuery } from '../dns/query-view.ts'
import type { Scope } from './scope.ts'
import { createScope, parseStickiness } from './scopes.ts'
import { dnsKeyHash, httpKeyHash } from './stickiness.ts'

const subnet = { v4: 24, v6: 56 }

function scope(
  stickiness: string,
  protocol: 'dns' | 'http' = 'dns',
  prefixes = subnet,
  salt = 'salt',
): Scope {
  return createScope(
    {
      id: `${protocol}:example.test`,
      protocol,
      basisPoints: 5000,
      stickiness,
      salt,
      servable: true,
    },
    prefixes,
  )
}

/** EDNS Client Subnet option data (RFC 7871): family, source prefix, scope prefix, address. */
function ecs(family: number, source: number, address: number[]): Buffer {
  return Buffer.from([family >> 8, family & 0xff, source, 0, ...address])
}

function query(
  name: string,
  options?: { ecs?: Buffer; edns?: boolean },
): { buf: Buffer; view: QueryView } {
  const buf = buildQuery({
    id: 0x1234,
    name,
    type: 1,
    edns:
      options?.ecs !== undefined
        ? { options: [{ code: 8, data: options.ecs }] }
        : options?.edns
          ? {}
          : undefined,
  })
  const view = createQueryView()
  expect(readQuery(buf, buf.length, view)).toBe(Parse.OK)
  return { buf, view }
}

function dnsHash(s: Scope, client: string, name = 'www.example.test', ecsData?: Buffer): number {
  const q = query(name, { ecs: ecsData })
  return dnsKeyHash(s, q.buf, q.view, client)
}

const http = (s: Scope, client: string, host = 'www.example.test', headers: string[] = []) =>
  httpKeyHash(s, host, headers, client)

describe('client-ip', () => {
  it('gives one address one hash, and different addresses different hashes', () => {
    const dns = scope('client-ip')
    const web = scope('client-ip', 'http')
    expect(dnsHash(dns, '192.0.2.1')).toBe(dnsHash(dns, '192.0.2.1', 'other.example.test'))
    expect(dnsHash(dns, '192.0.2.1')).not.toBe(dnsHash(dns, '192.0.2.2'))
    expect(dnsHash(dns, '2001:db8::1')).not.toBe(dnsHash(dns, '2001:db8::2'))
    expect(http(web, '192.0.2.1')).toBe(http(web, '192.0.2.1', 'shop.example.test', ['a', 'b']))
    expect(http(web, '192.0.2.1')).not.toBe(http(web, '192.0.2.2'))
    // The same salt and address give the same hash over DNS and HTTP.
    expect(dnsHash(dns, '198.51.100.9')).toBe(http(web, '198.51.100.9'))
  })

  it('is the default for HTTP', () => {
    expect(scope(undefined as unknown as string, 'http').stickiness).toEqual({ kind: 'client-ip' })
  })

  it('treats an IPv4-mapped IPv6 address as the IPv4 address it maps', () => {
    // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; an IPv4 one as a.b.c.d.
    // The same client must land in the same bucket on either (and on UDP vs DoH listeners).
    const dns = scope('client-ip')
    const web = scope('client-ip', 'http')
    expect(dnsHash(dns, '::ffff:192.0.2.7')).toBe(dnsHash(dns, '192.0.2.7'))
    expect(http(web, '::ffff:192.0.2.7')).toBe(http(web, '192.0.2.7'))
  })
})

describe('client-subnet', () => {
  it('gives every address of a /24 one hash, and different /24s different hashes', () => {
    for (const s of [scope('client-subnet'), scope('client-subnet', 'http')]) {
      const hash = (c: string) => (s.protocol === 'dns' ? dnsHash(s, c) : http(s, c))
      const one = hash('192.0.2.1')
      for (const c of ['192.0.2.0', '192.0.2.77', '192.0.2.255']) expect(hash(c)).toBe(one)
      for (const c of ['192.0.3.1', '192.1.2.1', '193.0.2.1', '10.0.0.1'])
        expect(hash(c)).not.toBe(one)
    }
  })

  it('gives every address of a /56 one hash, and different /56s different hashes', () => {
    for (const s of [scope('client-subnet'), scope('client-subnet', 'http')]) {
      const hash = (c: string) => (s.protocol === 'dns' ? dnsHash(s, c) : http(s, c))
      const one = hash('2001:db8:0:1200::1')
      for (const c of ['2001:db8:0:1200::', '2001:db8:0:12ff:ffff::9', '2001:db8:0:1234:5:6:7:8'])
        expect(hash(c)).toBe(one)
      for (const c of ['2001:db8:0:1300::1', '2001:db8:1:1200::1', '2001:db9:0:1200::1'])
        expect(hash(c)).not.toBe(one)
    }
  })

  it('masks prefixes that do not end on an octet', () => {
    const s = scope('client-subnet', 'dns', { v4: 20, v6: 60 })
    expect(dnsHash(s, '10.0.31.200')).toBe(dnsHash(s, '10.0.16.1'))
    expect(dnsHash(s, '10.0.32.1')).not.toBe(dnsHash(s, '10.0.16.1'))
    expect(dnsHash(s, '2001:db8:0:12ff::')).toBe(dnsHash(s, '2001:db8:0:12f0::1'))
    expect(dnsHash(s, '2001:db8:0:12e0::')).not.toBe(dnsHash(s, '2001:db8:0:12f0::1'))
  })

  it('does not mix up an IPv4 subnet and an IPv6 one with the same leading octets', () => {
    const s = scope('client-subnet', 'dns', { v4: 24, v6: 24 })
    // c000:02 are the octets 192.0.2.
    expect(dnsHash(s, 'c000:200::1')).not.toBe(dnsHash(s, '192.0.2.1'))
  })

  it('treats an IPv4-mapped IPv6 address as IPv4', () => {
    const s = scope('client-subnet')
    expect(dnsHash(s, '::ffff:192.0.2.7')).toBe(dnsHash(s, '192.0.2.99'))
    expect(dnsHash(s, '::ffff:192.0.3.7')).not.toBe(dnsHash(s, '192.0.2.99'))
    const web = scope('client-subnet', 'http')
    expect(http(web, '::ffff:198.51.100.1')).toBe(http(web, '198.51.100.200'))
  })

  it('reads every text form of an IPv6 address alike', () => {
    const s = scope('client-subnet', 'dns', { v4: 24, v6: 128 })
    const one = dnsHash(s, '2001:db8::1')
    for (const c of [
      '2001:0db8:0000:0000:0000:0000:0000:0001',
      '2001:DB8::1',
      '2001:db8:0::0:1',
      '2001:db8:0:0:0:0:0:1',
    ])
      expect(dnsHash(s, c), c).toBe(one)
    expect(dnsHash(s, '2001:db8::1:0')).not.toBe(one)
    expect(dnsHash(s, '::1')).toBe(dnsHash(s, '0:0:0:0:0:0:0:1'))
    expect(dnsHash(s, '::')).toBe(dnsHash(s, '0:0:0:0:0:0:0:0'))
    expect(dnsHash(s, '1::')).toBe(dnsHash(s, '1:0:0:0:0:0:0:0'))
    expect(dnsHash(s, '1:2:3:4:5:6:7::')).toBe(dnsHash(s, '1:2:3:4:5:6:7:0'))
    expect(dnsHash(s, '::2:3:4:5:6:7:8')).toBe(dnsHash(s, '0:2:3:4:5:6:7:8'))
    // At /56, an IPv6 client and the ECS of its network agree (checked below); here, forms differ only in text.
    const net = scope('client-subnet')
    expect(dnsHash(net, '2001:DB8:0:12AB::')).toBe(dnsHash(net, '2001:db8:0:1200:ffff::1'))
  })

  it('hashes malformed IPv6 text as a whole string, not as some address', () => {
    const s = scope('client-subnet', 'dns', { v4: 24, v6: 0 })
    // With a /0 prefix every IPv6 address shares one hash: a malformed one must not.
    const any = dnsHash(s, '2001:db8::1')
    expect(dnsHash(s, 'fe80::1')).toBe(any)
    for (const c of [
      ':1::',
      ':::',
      '1:::2',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:',
      '1:2:3:4:5:6:7::8',
      '12345::1',
      '2001:db8::g',
      'fe80::1%eth0',
    ])
      expect(dnsHash(s, c), c).not.toBe(any)
  })

  it('hashes an address it cannot parse as a whole, without throwing', () => {
    const s = scope('client-subnet')
    for (const c of [
      '',
      'not-an-ip',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '1.2.3.',
      '::ffff:1.2.3',
    ]) {
      expect(dnsHash(s, c)).toBe(dnsHash(s, c))
    }
    expect(dnsHash(s, 'not-an-ip')).not.toBe(dnsHash(s, 'not-an-ip-either'))
  })
})

describe('ecs', () => {
  const s = scope('ecs')
  const net = scope('client-subnet')

  it('is the default for DNS', () => {
    expect(scope(undefined as unknown as string).stickiness).toEqual({
      kind: 'ecs',
      v4: 24,
      v6: 56,
    })
  })

  it("hashes the resolver's ECS subnet, not the resolver's own address", () => {
    const user = ecs(1, 24, [198, 51, 100])
    // The same user network through two resolvers: one hash, equal to that network's own.
    expect(dnsHash(s, '10.0.0.1', undefined, user)).toBe(dnsHash(s, '172.16.0.1', undefined, user))
    expect(dnsHash(s, '10.0.0.1', undefined, user)).toBe(dnsHash(net, '198.51.100.77'))
    // Another user network behind the same resolver: another hash.
    expect(dnsHash(s, '10.0.0.1', undefined, ecs(1, 24, [198, 51, 101]))).not.toBe(
      dnsHash(s, '10.0.0.1', undefined, user),
    )
    // A full address with trailing zero bits is the same network as the truncated one.
    expect(dnsHash(s, '10.0.0.1', undefined, ecs(1, 24, [198, 51, 100, 0]))).toBe(
      dnsHash(s, '10.0.0.1', undefined, user),
    )
  })

  it('masks the ECS address to the shorter of its source prefix and the configured one', () => {
    const h = (source: number, address: number[]) =>
      dnsHash(s, '10.0.0.1', undefined, ecs(1, source, address))
    // Longer than configured: cut to /24.
    expect(h(28, [198, 51, 100, 16])).toBe(h(24, [198, 51, 100]))
    expect(h(32, [198, 51, 100, 200])).toBe(h(24, [198, 51, 100]))
    // Shorter than configured: cut to the source prefix (bits past it do not count).
    expect(h(16, [1, 2, 3])).toBe(h(16, [1, 2]))
    expect(h(16, [1, 2, 3])).toBe(h(16, [1, 2, 0, 0]))
    expect(h(16, [1, 2])).not.toBe(h(24, [1, 2, 3]))
    expect(h(20, [1, 2, 31])).toBe(h(20, [1, 2, 16]))
    expect(h(20, [1, 2, 32])).not.toBe(h(20, [1, 2, 16]))
  })

  it('handles IPv6 ECS, cut to the configured /56', () => {
    const six = (source: number, address: number[]) =>
      dnsHash(s, '10.0.0.1', undefined, ecs(2, source, address))
    const a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0x12]
    expect(six(56, a)).toBe(dnsHash(net, '2001:db8:0:1234::1'))
    expect(six(64, [...a, 0x34])).toBe(six(56, a))
    expect(six(48, [0x20, 0x01, 0x0d, 0xb8, 0, 0])).toBe(six(48, [...a, 0x34]))
    expect(six(56, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0x13])).not.toBe(six(56, a))
  })

  it('falls back to the client subnet when the query has no ECS', () => {
    expect(dnsHash(s, '192.0.2.1')).toBe(dnsHash(net, '192.0.2.200'))
    const withEdns = query('www.example.test', { edns: true })
    expect(dnsKeyHash(s, withEdns.buf, withEdns.view, '192.0.2.1')).toBe(
      dnsHash(net, '192.0.2.200'),
    )
    expect(dnsHash(s, '192.0.2.1')).not.toBe(dnsHash(s, '192.0.3.1'))
    expect(dnsHash(s, '2001:db8:0:1200::1')).toBe(dnsHash(net, '2001:db8:0:12ff::'))
  })

  it('falls back to the client subnet when the ECS option is malformed', () => {
    const fallback = dnsHash(net, '192.0.2.200')
    for (const bad of [
      Buffer.from([0, 1, 24]), // shorter than family, source and scope
      Buffer.from([]),
      ecs(3, 24, [198, 51, 100]), // unknown family
      ecs(0, 24, [198, 51, 100]),
      ecs(1, 24, [198, 51, 100, 1, 2]), // longer than an IPv4 address
      ecs(
        2,
        56,
        Array.from({ length: 17 }, () => 1),
      ), // longer than an IPv6 address
    ]) {
      expect(dnsHash(s, '192.0.2.1', undefined, bad), bad.toString('hex')).toBe(fallback)
    }
  })
})

describe('qname', () => {
  const s = scope('qname')

  it('gives a name one hash whatever its letter case and whoever asks', () => {
    const one = dnsHash(s, '192.0.2.1', 'www.example.test')
    expect(dnsHash(s, '203.0.113.9', 'www.example.test')).toBe(one)
    expect(dnsHash(s, '192.0.2.1', 'WWW.Example.TEST')).toBe(one)
    expect(dnsHash(s, '192.0.2.1', 'wWw.eXaMpLe.tEsT.')).toBe(one)
  })

  it('gives different names different hashes', () => {
    const one = dnsHash(s, '192.0.2.1', 'www.example.test')
    for (const n of ['mail.example.test', 'example.test', 'www.example.tes', 'a.www.example.test'])
      expect(dnsHash(s, '192.0.2.1', n)).not.toBe(one)
  })

  it('depends on the salt', () => {
    expect(dnsHash(scope('qname', 'dns', subnet, 'a'), '192.0.2.1')).not.toBe(
      dnsHash(scope('qname', 'dns', subnet, 'b'), '192.0.2.1'),
    )
  })
})

describe('host', () => {
  const s = scope('host', 'http')

  it('gives a host one hash whoever asks, and different hosts different hashes', () => {
    const one = http(s, '192.0.2.1', 'shop.example.test')
    expect(http(s, '203.0.113.9', 'shop.example.test', ['x-user', 'bob'])).toBe(one)
    expect(http(s, '192.0.2.1', 'www.example.test')).not.toBe(one)
  })
})

describe('header:<name>', () => {
  const s = scope('header:X-User', 'http')
  const byClient = scope('client-ip', 'http')

  it('has a lowercase name whatever the config wrote', () => {
    expect(s.stickiness).toEqual({ kind: 'header', name: 'x-user' })
  })

  it("hashes the header's value, matched by name in any letter case", () => {
    const alice = http(s, '192.0.2.1', 'www.example.test', ['X-User', 'alice'])
    expect(http(s, '203.0.113.9', 'www.example.test', ['x-user', 'alice'])).toBe(alice)
    expect(http(s, '203.0.113.9', 'shop.example.test', ['Accept', '*/*', 'X-USER', 'alice'])).toBe(
      alice,
    )
    expect(http(s, '192.0.2.1', 'www.example.test', ['X-User', 'bob'])).not.toBe(alice)
  })

  it('falls back to the client address when the header is absent', () => {
    expect(http(s, '192.0.2.1')).toBe(http(byClient, '192.0.2.1'))
    expect(http(s, '192.0.2.1', 'www.example.test', ['X-Other', 'alice'])).toBe(
      http(byClient, '192.0.2.1'),
    )
    expect(http(s, '192.0.2.1')).not.toBe(http(s, '192.0.2.2'))
  })

  it('does not confuse a header value with a client address that reads the same', () => {
    expect(http(s, '10.0.0.1', 'x.test', ['x-user', '192.0.2.1'])).not.toBe(
      http(s, '192.0.2.1', 'x.test'),
    )
  })
})

describe('parseStickiness', () => {
  it('rejects a kind it does not know', () => {
    expect(() => parseStickiness('cookie', subnet)).toThrow("unknown stickiness 'cookie'")
  })
})

// CIDR parsing and matching, IPv4 and IPv6, and client addresses as bytes.

import { describe, expect, it } from 'vitest'
import { addressBytes, cidrContains, parseCidr } from './cidr.ts'

/** Whether `block` holds the client address `ip`. */
function holds(block: string, ip: string): boolean {
  const c = parseCidr(block)
  const a = addressBytes(ip)
  expect(c, block).toBeDefined()
  expect(a, ip).toBeDefined()
  return cidrContains(c!, a!)
}

describe('parseCidr', () => {
  it('reads IPv4 and IPv6 blocks', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ bytes: Uint8Array.of(10, 0, 0, 0), prefix: 8 })
    const v6 = parseCidr('2001:db8::/32')!
    expect(v6.prefix).toBe(32)
    expect([...v6.bytes]).toEqual([0x20, 0x01, 0x0d, 0xb8, ...Array(12).fill(0)])
  })

  it('reads a bare address as a block of one', () => {
    expect(parseCidr('192.0.2.7')).toEqual({ bytes: Uint8Array.of(192, 0, 2, 7), prefix: 32 })
    expect(parseCidr('::1')!.prefix).toBe(128)
  })

  it('accepts /0 and the full length', () => {
    expect(parseCidr('0.0.0.0/0')!.prefix).toBe(0)
    expect(parseCidr('1.2.3.4/32')!.prefix).toBe(32)
    expect(parseCidr('::/0')!.prefix).toBe(0)
    expect(parseCidr('2001:db8::1/128')!.prefix).toBe(128)
  })

  it('rejects prefixes longer than the address', () => {
    expect(parseCidr('10.0.0.0/33')).toBeUndefined()
    expect(parseCidr('2001:db8::/129')).toBeUndefined()
    expect(parseCidr('10.0.0.0/999')).toBeUndefined()
  })

  it('rejects malformed blocks', () => {
    for (const text of [
      '',
      '/8',
      '10.0.0.0/',
      '10.0.0.0/-1',
      '10.0.0.0/+8',
      '10.0.0.0/8.0',
      '10.0.0.0/0x8',
      '10.0.0.0/1000',
      '10.0.0.0/8/8',
      '10.0.0/8',
      '10.0.0.256/8',
      '010.0.0.0/8',
      'example.test/8',
      '2001:db8:::/32',
      '2001:db8::g/32',
      ' 10.0.0.0/8',
    ])
      expect(parseCidr(text), text).toBeUndefined()
  })
})

describe('addressBytes', () => {
  it('gives four bytes for IPv4 and sixteen for IPv6', () => {
    expect(addressBytes('192.0.2.1')).toEqual(Uint8Array.of(192, 0, 2, 1))
    expect(addressBytes('2001:db8::1')!.length).toBe(16)
    expect(addressBytes('::1')!.length).toBe(16)
  })

  it('gives four bytes for an IPv4-mapped IPv6 address', () => {
    expect(addressBytes('::ffff:192.0.2.1')).toEqual(Uint8Array.of(192, 0, 2, 1))
  })

  it('gives undefined for what is not an address', () => {
    expect(addressBytes('')).toBeUndefined()
    expect(addressBytes('localhost')).toBeUndefined()
    expect(addressBytes('::ffff:300.0.0.1')).toBeUndefined()
    expect(addressBytes('192.0.2.1:80')).toBeUndefined()
  })
})

describe('cidrContains', () => {
  it('matches IPv4 blocks on byte boundaries', () => {
    expect(holds('10.0.0.0/8', '10.255.1.2')).toBe(true)
    expect(holds('10.0.0.0/8', '11.0.0.0')).toBe(false)
    expect(holds('192.168.0.0/16', '192.168.200.1')).toBe(true)
    expect(holds('192.168.0.0/16', '192.169.0.1')).toBe(false)
    expect(holds('198.51.100.0/24', '198.51.100.255')).toBe(true)
    expect(holds('198.51.100.0/24', '198.51.101.0')).toBe(false)
  })

  it('matches everything with /0, and one address with /32', () => {
    expect(holds('0.0.0.0/0', '0.0.0.0')).toBe(true)
    expect(holds('0.0.0.0/0', '255.255.255.255')).toBe(true)
    expect(holds('192.0.2.1/32', '192.0.2.1')).toBe(true)
    expect(holds('192.0.2.1/32', '192.0.2.0')).toBe(false)
    expect(holds('192.0.2.1', '192.0.2.2')).toBe(false)
  })

  it('matches IPv4 prefixes inside a byte, like /23 and /31', () => {
    expect(holds('10.0.2.0/23', '10.0.2.0')).toBe(true)
    expect(holds('10.0.2.0/23', '10.0.3.255')).toBe(true)
    expect(holds('10.0.2.0/23', '10.0.1.255')).toBe(false)
    expect(holds('10.0.2.0/23', '10.0.4.0')).toBe(false)
    expect(holds('192.0.2.6/31', '192.0.2.7')).toBe(true)
    expect(holds('192.0.2.6/31', '192.0.2.5')).toBe(false)
    expect(holds('128.0.0.0/1', '200.0.0.1')).toBe(true)
    expect(holds('128.0.0.0/1', '127.255.255.255')).toBe(false)
  })

  it('ignores host bits set in the block', () => {
    expect(holds('10.0.3.77/23', '10.0.2.1')).toBe(true)
    expect(holds('10.9.9.9/8', '10.0.0.1')).toBe(true)
  })

  it('matches IPv6 blocks: /0, /32, /57, /64 and /128', () => {
    expect(holds('::/0', '2001:db8::1')).toBe(true)
    expect(holds('::/0', '::')).toBe(true)
    expect(holds('2001:db8::/32', '2001:db8:ffff::1')).toBe(true)
    expect(holds('2001:db8::/32', '2001:db9::1')).toBe(false)
    // /57: seven whole bytes and the top bit of the eighth.
    expect(holds('2001:db8:0:80::/57', '2001:db8:0:ff::1')).toBe(true)
    expect(holds('2001:db8:0:80::/57', '2001:db8:0:80::')).toBe(true)
    expect(holds('2001:db8:0:80::/57', '2001:db8:0:7f::1')).toBe(false)
    expect(holds('2001:db8:0:80::/57', '2001:db8:0:180::')).toBe(false)
    expect(holds('2001:db8:1:2::/64', '2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(true)
    expect(holds('2001:db8:1:2::/64', '2001:db8:1:3::')).toBe(false)
    expect(holds('2001:db8::1/128', '2001:db8::1')).toBe(true)
    expect(holds('2001:db8::1/128', '2001:db8::2')).toBe(false)
    expect(holds('::1', '::1')).toBe(true)
  })

  it('never matches across families', () => {
    expect(holds('0.0.0.0/0', '::1')).toBe(false)
    expect(holds('::/0', '192.0.2.1')).toBe(false)
  })

  it('matches an IPv4-mapped client against IPv4 blocks', () => {
    expect(holds('10.0.0.0/8', '::ffff:10.1.2.3')).toBe(true)
    expect(holds('10.0.0.0/8', '::ffff:11.1.2.3')).toBe(false)
    expect(holds('0.0.0.0/0', '::ffff:192.0.2.1')).toBe(true)
    expect(holds('::/0', '::ffff:192.0.2.1')).toBe(false)
  })
})

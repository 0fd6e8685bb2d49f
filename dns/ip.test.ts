// IPv4 and IPv6 text <-> bytes: strict parsing and RFC 5952 output.

import { describe, expect, it } from 'vitest'
import { addressInto, formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './ip.ts'

const hex = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : Buffer.from(b).toString('hex')

describe('parseIPv4', () => {
  it('reads dotted quads', () => {
    expect(hex(parseIPv4('192.0.2.1'))).toBe('c0000201')
    expect(hex(parseIPv4('0.0.0.0'))).toBe('00000000')
    expect(hex(parseIPv4('255.255.255.255'))).toBe('ffffffff')
    expect(hex(parseIPv4('10.0.100.9'))).toBe('0a006409')
  })

  it('rejects leading zeros, out-of-range parts and other forms', () => {
    for (const text of [
      '01.2.3.4',
      '1.2.3.04',
      '1.2.3.00',
      '256.0.0.1',
      '1.2.3.1000',
      '1.2.3',
      '1.2.3.4.5',
      '1.2.3.4.',
      '.1.2.3',
      '1..2.3',
      '1.2.3.-4',
      '1.2.3.+4',
      '0x1.2.3.4',
      ' 1.2.3.4',
      '1.2.3.4 ',
      '',
      '１.2.3.4',
    ]) {
      expect(parseIPv4(text), text).toBeUndefined()
    }
  })
})

describe('parseIPv6', () => {
  it('reads the unspecified and loopback addresses', () => {
    expect(hex(parseIPv6('::'))).toBe('00'.repeat(16))
    expect(hex(parseIPv6('::1'))).toBe(`${'00'.repeat(15)}01`)
  })

  it('reads full, compressed and mixed-case forms', () => {
    expect(hex(parseIPv6('2001:db8:0:0:0:0:0:1'))).toBe('20010db8000000000000000000000001')
    expect(hex(parseIPv6('2001:DB8::1'))).toBe('20010db8000000000000000000000001')
    expect(hex(parseIPv6('1::'))).toBe(`0001${'00'.repeat(14)}`)
    expect(hex(parseIPv6('1:2:3:4:5:6:7::'))).toBe('00010002000300040005000600070000')
    expect(hex(parseIPv6('::2:3:4:5:6:7:8'))).toBe('00000002000300040005000600070008')
    expect(hex(parseIPv6('fe80::1:0:0:2'))).toBe('fe800000000000000001000000000002')
    expect(hex(parseIPv6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'))).toBe('ff'.repeat(16))
    expect(hex(parseIPv6('0001:0002::000a'))).toBe('0001000200000000000000000000000a')
  })

  it('reads an embedded IPv4 address at the end', () => {
    expect(hex(parseIPv6('::ffff:192.0.2.1'))).toBe('00000000000000000000ffffc0000201')
    expect(hex(parseIPv6('::192.0.2.1'))).toBe('000000000000000000000000c0000201')
    expect(hex(parseIPv6('64:ff9b::192.0.2.33'))).toBe('0064ff9b0000000000000000c0000221')
    expect(hex(parseIPv6('1:2:3:4:5:6:1.2.3.4'))).toBe('00010002000300040005000601020304')
  })

  it('rejects bad forms', () => {
    for (const text of [
      '',
      ':',
      ':::',
      '1::2::3',
      '::1::',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8::',
      '::1:2:3:4:5:6:7:8',
      '12345::',
      'g::1',
      ':1::',
      '1:',
      '1:2:3:4:5:6:7:',
      '::ffff:01.2.3.4',
      '::ffff:1.2.3',
      '::ffff:256.0.0.1',
      '1:2:3:4:5:6:7:1.2.3.4',
      '::1.2.3.4:5',
      ' ::1',
      '1.2.3.4',
    ]) {
      expect(parseIPv6(text), text).toBeUndefined()
    }
  })

  it('rejects an IPv4 part anywhere but at the end', () => {
    // A dotted quad may only close the address (RFC 4291 section 2.2, form 3).
    expect(parseIPv6('1.2.3.4::')).toBeUndefined()
    expect(parseIPv6('::1.2.3.4:1')).toBeUndefined()
    expect(parseIPv6('1:1.2.3.4::5')).toBeUndefined()
  })
})

describe('formatIPv4', () => {
  it('writes four decimal octets from an offset', () => {
    expect(formatIPv4(Uint8Array.of(192, 0, 2, 1))).toBe('192.0.2.1')
    expect(formatIPv4(Uint8Array.of(9, 9, 10, 0, 0, 255), 2)).toBe('10.0.0.255')
  })
})

describe('formatIPv6 (RFC 5952)', () => {
  const f = (text: string) => formatIPv6(parseIPv6(text)!)

  it('compresses the longest run of two or more zero groups', () => {
    expect(f('0:0:0:0:0:0:0:0')).toBe('::')
    expect(f('0:0:0:0:0:0:0:1')).toBe('::1')
    expect(f('1:0:0:0:0:0:0:0')).toBe('1::')
    expect(f('2001:db8:0:0:0:0:2:1')).toBe('2001:db8::2:1')
    expect(f('2001:0:0:1:0:0:0:1')).toBe('2001:0:0:1::1')
  })

  it('leaves a single zero group alone (section 4.2.2)', () => {
    expect(f('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1')
  })

  it('picks the first of equally long runs (section 4.2.3)', () => {
    expect(f('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1')
  })

  it('writes lowercase hex without leading zeros (sections 4.1, 4.3)', () => {
    expect(f('2001:0DB8:00AB:000C:0000:0000:0000:0001')).toBe('2001:db8:ab:c::1')
    expect(f('FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF')).toBe(
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    )
  })

  it('writes a mapped address in hex groups', () => {
    expect(f('::ffff:192.0.2.1')).toBe('::ffff:c000:201')
  })

  it('reads from an offset', () => {
    const b = new Uint8Array(18)
    b.set(parseIPv6('fe80::1')!, 2)
    expect(formatIPv6(b, 2)).toBe('fe80::1')
  })

  it('round-trips its own output', () => {
    for (const text of [
      '::',
      '::1',
      '1::',
      '2001:db8::2:1',
      '2001:db8:0:1:1:1:1:1',
      '1:0:0:2::3',
      'a:b:c:d:e:f:1:2',
    ]) {
      expect(f(text)).toBe(text)
    }
  })
})

describe('addressInto', () => {
  const read = (text: string) => {
    const out = new Uint8Array(16).fill(0xee)
    const length = addressInto(text, out)
    return `${length}:${Buffer.from(out.subarray(0, length)).toString('hex')}`
  }

  it('writes IPv4 as 4 bytes and IPv6 as 16', () => {
    expect(read('192.0.2.7')).toBe('4:c0000207')
    expect(read('2001:db8::1')).toBe('16:20010db8000000000000000000000001')
    expect(read('::')).toBe('16:00000000000000000000000000000000')
  })

  it('takes an IPv4-mapped IPv6 address as the IPv4 client it is, in either form', () => {
    expect(read('::ffff:192.0.2.7')).toBe('4:c0000207')
    expect(read('::ffff:c000:207')).toBe('4:c0000207')
    expect(read('::fffe:192.0.2.7')).toBe('16:00000000000000000000fffec0000207')
  })

  it('refuses what parseIPv4 and parseIPv6 refuse', () => {
    for (const text of ['', '01.2.3.4', '1.2.3', '1.2.3.4 ', 'fe80::1%eth0', '1:2', ':1::', 'x'])
      expect(read(text)).toBe('0:')
  })
})

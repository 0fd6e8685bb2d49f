// The PROXY protocol parser on headers as haproxy's spec writes them, cut
// anywhere, garbled, and on random bytes (it never throws and stays bounded).

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseProxyHeader, V1_MAX } from './proxy-protocol.ts'

const SIG = '0d0a0d0a000d0a515549540a'

/** A version 2 header: command byte, family byte, then `body` hex (its length is written for it). */
function v2(command: number, family: number, body: string): Buffer {
  const b = Buffer.from(body, 'hex')
  const len = Buffer.alloc(2)
  len.writeUInt16BE(b.length)
  return Buffer.concat([Buffer.from(SIG, 'hex'), Buffer.from([command, family]), len, b])
}

const V2_TCP4 = v2(0x21, 0x11, 'c0000201' + 'c0000202' + '3039' + '0050')
const V2_TCP6 = v2(
  0x21,
  0x21,
  '20010db8000000000000000000000001' + '20010db8000000000000000000000002' + '30390050',
)

describe('version 1', () => {
  it('reads the source of a TCP4 and a TCP6 line, and where the data starts', () => {
    const line = 'PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n'
    expect(parseProxyHeader(Buffer.from(`${line}GET /`))).toEqual({
      kind: 'header',
      length: line.length,
      source: '192.0.2.1',
    })
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n'))).toEqual({
      kind: 'header',
      length: 40,
      source: '2001:db8::1',
    })
  })

  it('takes UNKNOWN, with or without addresses, as the connection speaking for itself', () => {
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({
      kind: 'header',
      length: 15,
      source: undefined,
    })
    expect(
      parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n')),
    ).toMatchObject({ kind: 'header', source: undefined })
  })

  it('waits for more bytes at every cut of a good line', () => {
    const line = Buffer.from('PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n')
    for (let n = 0; n < line.length; n++)
      expect(parseProxyHeader(line.subarray(0, n)).kind).toBe('incomplete')
  })

  it.each([
    ['a family it does not know', 'PROXY UDP4 192.0.2.1 192.0.2.2 1 2\r\n'],
    ['an address of the other family', 'PROXY TCP4 2001:db8::1 192.0.2.2 1 2\r\n'],
    ['a bad address', 'PROXY TCP4 192.0.2.256 192.0.2.2 1 2\r\n'],
    ['a port too large', 'PROXY TCP4 192.0.2.1 192.0.2.2 65536 2\r\n'],
    ['a port with a leading zero', 'PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n'],
    ['a field missing', 'PROXY TCP4 192.0.2.1 192.0.2.2 1\r\n'],
    ['two spaces', 'PROXY TCP4  192.0.2.1 192.0.2.2 1 2\r\n'],
    ['LF without CR', 'PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n'],
    ['lowercase', 'proxy TCP4 192.0.2.1 192.0.2.2 1 2\r\n'],
    ['an HTTP request', 'GET / HTTP/1.1\r\n'],
  ])('refuses %s', (_why, text) => {
    expect(parseProxyHeader(Buffer.from(text)).kind).toBe('invalid')
  })

  it('refuses a line with no end within 107 bytes', () => {
    const long = Buffer.from(`PROXY UNKNOWN ${'x'.repeat(V1_MAX)}`)
    expect(parseProxyHeader(long.subarray(0, V1_MAX - 1)).kind).toBe('incomplete')
    expect(parseProxyHeader(long.subarray(0, V1_MAX)).kind).toBe('invalid')
  })
})

describe('version 2', () => {
  it('reads an IPv4 and an IPv6 source', () => {
    expect(parseProxyHeader(Buffer.concat([V2_TCP4, Buffer.from('data')]))).toEqual({
      kind: 'header',
      length: 28,
      source: '192.0.2.1',
    })
    expect(parseProxyHeader(V2_TCP6)).toEqual({
      kind: 'header',
      length: 52,
      source: '2001:db8::1',
    })
  })

  it('reads an IPv4-mapped IPv6 source as its dotted quad', () => {
    const mapped = v2(0x21, 0x21, `00000000000000000000ffffc0000207${'00'.repeat(16)}00010002`)
    expect(parseProxyHeader(mapped)).toMatchObject({ source: '192.0.2.7' })
  })

  it('skips TLVs after the addresses, and reads UDP (DGRAM) as well', () => {
    const withTlv = v2(0x21, 0x12, `c0000201c000020230390035${'0100026832'}`)
    expect(parseProxyHeader(withTlv)).toEqual({ kind: 'header', length: 33, source: '192.0.2.1' })
  })

  it('takes LOCAL and an UNSPEC family as the connection speaking for itself', () => {
    expect(parseProxyHeader(v2(0x20, 0x00, ''))).toEqual({
      kind: 'header',
      length: 16,
      source: undefined,
    })
    expect(parseProxyHeader(v2(0x20, 0x11, 'c0000201c000020230390050'))).toMatchObject({
      source: undefined,
    })
    expect(parseProxyHeader(v2(0x21, 0x00, ''))).toMatchObject({ source: undefined })
  })

  it('waits for more bytes at every cut of a good header', () => {
    for (let n = 0; n < V2_TCP6.length; n++)
      expect(parseProxyHeader(V2_TCP6.subarray(0, n)).kind).toBe('incomplete')
  })

  it.each([
    ['version 1 in the version nibble', v2(0x11, 0x11, 'c0000201c000020230390050')],
    ['an unknown command', v2(0x22, 0x11, 'c0000201c000020230390050')],
    ['an unknown family', v2(0x21, 0x41, '')],
    ['an unknown transport', v2(0x21, 0x13, 'c0000201c000020230390050')],
    ['a length too short for IPv4 addresses', v2(0x21, 0x11, 'c0000201c0000202')],
    ['a length too short for IPv6 addresses', v2(0x21, 0x21, 'c0000201c000020230390050')],
    ['a wrong signature', Buffer.from(`${SIG.slice(0, -2)}0b2111000c`, 'hex')],
  ])('refuses %s', (_why, header) => {
    expect(parseProxyHeader(header).kind).toBe('invalid')
  })
})

describe('any bytes', () => {
  it('never throws, and a header never claims more bytes than it was given', () => {
    const prefixes = fc.constantFrom(
      Buffer.alloc(0),
      Buffer.from(SIG, 'hex'),
      Buffer.from(`${SIG}21`, 'hex'),
      Buffer.from('PROXY '),
      Buffer.from('PROXY TCP4 '),
    )
    fc.assert(
      fc.property(prefixes, fc.uint8Array({ maxLength: 200 }), (prefix, rest) => {
        const buf = Buffer.concat([prefix, rest])
        const header = parseProxyHeader(buf)
        if (header.kind === 'header') expect(header.length).toBeLessThanOrEqual(buf.length)
        if (header.kind === 'incomplete' && buf[0] === 0x50) expect(buf.length).toBeLessThan(V1_MAX)
      }),
      { numRuns: 5000 },
    )
  })
})

// The APL codec against BIND 9.18: named-compilezone reads the same records (and the
// wire we make, as `\#`), and what it prints, refuses or cannot print is what we do.

import { describe, expect, it } from 'vitest'
import { apl } from './apl.ts'
import { describeAgainstBind, hex, ORIGIN, tokens, wireOf } from './bind-reference.test-support.ts'

// --- APL ---

/** Lists BIND takes, including its IPv6 printing (dotted IPv4 tails) and lax numbers. */
const ACCEPTED = [
  '1:192.168.32.0/21 !1:192.168.38.0/28',
  '1:224.0.0.0/4 2:FF00:0:0:0:0:0:0:0/8',
  '',
  '1:0.0.0.0/0 !2:::/0',
  '1:192.168.1.1/24 2:2001:db8::1/32',
  '1:10.0.0.0/0 !1:255.255.255.255/32',
  '01:10.0.0.0/8 1:10.0.0.0/08 +1:10.0.0.0/8',
  '2:::ffff:1.2.3.4/128 2:::1.2.3.4/128 2:::0.0.0.2/128 2:::1/128',
  '2:::ffff:0.0.0.0/128 2:0:0:0:0:0:ffff:0:1/128 2:::ffff:1:0/128',
  '2:1:0:0:1:0:0:0:1/128 2:0:0:0:0:1:0:0:0/128 2:2001:DB8:0:0:1:0:0:1/64',
  '2:fe80::/10 !2:2001:db8:1:2:3:4:5:6/128',
]

/** Items BIND refuses; the error names the whole item, as BIND's does. */
const REFUSED: readonly (readonly [string, string | undefined])[] = [
  ['1:10.0.0.0/33', '1:10.0.0.0/33'],
  ['2:::/129', '2:::/129'],
  ['1:10.0.0.0/256', '1:10.0.0.0/256'],
  ['3:10.0.0.0/8', '3:10.0.0.0/8'],
  ['0:1.2.3.4/8', '0:1.2.3.4/8'],
  [':1.2.3.4/8', ':1.2.3.4/8'],
  ['65536:1.2.3.4/8', '65536:1.2.3.4/8'],
  ['-1:1.2.3.4/8', '-1:1.2.3.4/8'],
  ['a1:1.2.3.4/8', 'a1:1.2.3.4/8'],
  ['1.2.3.4/8', '1.2.3.4/8'],
  ['!!1:10.0.0.0/8', '!!1:10.0.0.0/8'],
  ['1:10.0.0.0', '1:10.0.0.0'],
  ['1:/8', '1:/8'],
  ['1:10.0.0.0/', '1:10.0.0.0/'],
  ['1:10.0.0.0/+8', '1:10.0.0.0/+8'],
  ['1:1.2.3.4/0x8', '1:1.2.3.4/0x8'],
  ['1:10.0.0.0/8/8', '1:10.0.0.0/8/8'],
  ['1:10.0.0/8', '1:10.0.0/8'],
  ['1:010.0.0.0/8', '1:010.0.0.0/8'],
  ['2:1.2.3.4/8', '2:1.2.3.4/8'],
  ['!2::/0', '!2::/0'],
  ['1:10.0.0.0/8 2:::/200', '2:::/200'],
  ['"1:10.0.0.0/8"', '1:10.0.0.0/8'],
]

/** Wire BIND does not print as APL: it refuses it, or keeps it and prints `\#`. */
const MALFORMED: readonly (readonly [string, string, 'refused' | 'generic'])[] = [
  ['family 0', '00008000', 'generic'],
  ['family 3', '000308010a', 'generic'],
  ['3 octets', '000100', 'refused'],
  ['address past the end', '00010005', 'refused'],
  ['a trailing zero octet', '0001180100', 'refused'],
  ['IPv4 prefix 33', '000121010a', 'refused'],
  ['IPv4 address of 5 octets', '0001200501020304 05', 'refused'],
  ['IPv6 prefix 129', '00028100', 'refused'],
  ['IPv6 address of 17 octets', '00028011 0101010101010101010101010101010101', 'refused'],
  ['a good item, then 2 octets', '00010000 0001', 'refused'],
]

describeAgainstBind('APL', apl, { accepted: ACCEPTED, refused: REFUSED, malformed: MALFORMED })

describe('APL, the forms themselves', () => {
  const fromText = (rdata: string) => apl.fromText(tokens(rdata), ORIGIN)

  it('writes afi, prefix, N bit with the address length, and the address without trailing zeros', () => {
    const items = '0001 15 03 c0a820  0001 1c 83 c0a826  0002 08 01 ff'
    expect(hex(fromText('1:192.168.32.0/21 !1:192.168.38.0/28 2:ff00::/8'))).toBe(
      hex(wireOf(items)),
    )
  })

  it('keeps address bits past the prefix, as BIND does', () => {
    expect(hex(fromText('1:10.1.2.3/8'))).toBe(hex(wireOf('0001 08 04 0a010203')))
  })

  it('reads the items where they sit in a message', () => {
    const wire = fromText('1:10.0.0.0/8 !2:::1/128')
    const msg = Buffer.concat([Buffer.from('ffff', 'hex'), wire, Buffer.from('ff', 'hex')])
    expect(apl.toText(msg, 2, 2 + wire.length)).toBe('1:10.0.0.0/8 !2:::1/128')
  })
})

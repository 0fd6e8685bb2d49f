// SVCB and HTTPS against BIND 9.18: every case below is also read by the
// installed BIND (named-compilezone -s full, which reads the whole zone and
// names each record it refuses) and must get the same verdict and text.

import { describe, expect, it } from 'vitest'
import type { Token } from '../rdata.ts'
import { describeCodecTable, ORIGIN } from './bind-reference.test-support.ts'
import { https, svcb } from './svcb.ts'

/**
 * Tokens as the master-file reader gives them: quotes removed, escapes kept.
 * The shared helper's split at every space would break `key="a b"`.
 */
function tokens(text: string): Token[] {
  return [...text.matchAll(/"((?:\\.|[^"\\])*)"|(?:\\.|[^\s"\\;()])+/g)].map((m) =>
    m[1] === undefined ? { text: m[0], quoted: false } : { text: m[1], quoted: true },
  )
}

const u16 = (n: number) => n.toString(16).padStart(4, '0')
const param = (key: number, hex = '') => u16(key) + u16(hex.length / 2) + hex
const ROOT_SERVICE = '000100' // priority 1, target "."
const A200 = 'A'.repeat(200)

/** Zone-file input -> BIND's canonical text. */
const READS: [string, string][] = [
  ['1 . alpn=h2,h3 port=443', '1 . alpn="h2,h3" port=443'],
  [
    '1 . alpn=h2,h3 port=443 ipv4hint=1.2.3.4,5.6.7.8 ech=AAAA ipv6hint=::1 dohpath=/q{?dns} mandatory=port,alpn no-default-alpn key999=abc key65000',
    '1 . mandatory=alpn,port alpn="h2,h3" no-default-alpn port=443 ipv4hint=1.2.3.4,5.6.7.8 ech=AAAA ipv6hint=::1 key7="/q{?dns}" key999="abc" key65000',
  ],
  ['0 foo', '0 foo.test.'],
  ['0 foo. port=1 alpn=h2', '0 foo. alpn="h2" port=1'],
  ['010 @', '10 test.'],
  ['65535 "foo"', '65535 foo.test.'],
  [
    String.raw`3 foo.example.org. alpn="h2,h\\,3" key7="/a{?dns}"`,
    String.raw`3 foo.example.org. alpn="h2,h\\,3" key7="/a{?dns}"`,
  ],
  [String.raw`1 . alpn=h2\,h3`, '1 . alpn="h2,h3"'],
  [String.raw`1 . alpn=h2\092,h3`, String.raw`1 . alpn="h2\\,h3"`],
  [String.raw`1 . alpn=h\\0442`, '1 . alpn="h0442"'],
  [String.raw`1 . alpn=\\\044`, String.raw`1 . alpn="\\,"`],
  [String.raw`1 . alpn=\\\\`, String.raw`1 . alpn="\\\\"`],
  ['1 . alpn="h 2"', String.raw`1 . alpn="h\0322"`],
  [`1 . alpn=${'a'.repeat(255)}`, `1 . alpn="${'a'.repeat(255)}"`],
  [String.raw`1 . key1=\002h2`, '1 . alpn="h2"'],
  [String.raw`1 . ALPN=\002h2`, '1 . alpn="h2"'],
  [String.raw`1 . Port=\000\001`, '1 . port=1'],
  [String.raw`1 . key0=\000\001 alpn=h2`, '1 . mandatory=alpn alpn="h2"'],
  ['1 . NO-DEFAULT-ALPN alpn=h2', '1 . alpn="h2" no-default-alpn'],
  ['1 . alpn=h2 no-default-alpn=""', '1 . alpn="h2" no-default-alpn'],
  ['1 . mandatory=ALPN alpn=h2', '1 . mandatory=alpn alpn="h2"'],
  ['1 . mandatory="alpn,port" alpn=h2 port=1', '1 . mandatory=alpn,port alpn="h2" port=1'],
  [
    '1 . mandatory=key65535,alpn alpn=h2 key65535',
    '1 . mandatory=alpn,key65535 alpn="h2" key65535',
  ],
  ['1 . key12=', '1 . key12'],
  ['1 . key12=""', '1 . key12'],
  ['1 . key12="a b" key13="c"', '1 . key12="a b" key13="c"'],
  [
    String.raw`1 . key65000="\" \\,;@()$\009\127\255A"`,
    String.raw`1 . key65000="\" \\,;@()$\009\127\255A"`,
  ],
  ['1 . ech=', '1 . ech'],
  ['1 . port=1 ech', '1 . port=1 ech'],
  ['1 . ech="AA AA"', '1 . ech=AAAA'],
  [`1 . ech=${A200}`, `1 . ech=${A200}`],
  ['1 . port=0443', '1 . port=443'],
  ['1 . dohpath=/{?dns}', '1 . key7="/{?dns}"'],
  ['1 . dohpath=/é{?dns}', String.raw`1 . key7="/\195\169{?dns}"`],
  [String.raw`1 . dohpath=/\237\160\128{?dns}`, String.raw`1 . key7="/\237\160\128{?dns}"`],
  [String.raw`1 . dohpath=/\000{?dns}`, String.raw`1 . key7="/\000{?dns}"`],
  [
    '1 . ipv6hint=::2,::1,::0.1.0.0,::ffff:0.0.0.0,::102:304,2001:DB8::1',
    '1 . ipv6hint=::2,::1,::0.1.0.0,::ffff:0.0.0.0,::1.2.3.4,2001:db8::1',
  ],
]

/** Input BIND refuses -> the token our error names (undefined: the end of the record). */
const REFUSED: [string, string | undefined][] = [
  ['0x10 .', '0x10'],
  ['65536 .', '65536'],
  ['-1 .', '-1'],
  ['"1" .', '1'],
  ['1', undefined],
  ['1 ""', ''],
  ['1 . ALPN=h2', 'ALPN=h2'],
  ['1 . alpn=""', 'alpn=""'],
  ['1 . alpn=', 'alpn='],
  ['1 . alpn', 'alpn'],
  ['1 . "alpn=h2"', 'alpn=h2'],
  ['1 . alpn=h2,', 'alpn=h2,'],
  ['1 . alpn=,h2', 'alpn=,h2'],
  ['1 . alpn=h2,,h3', 'alpn=h2,,h3'],
  [String.raw`1 . alpn=\044h2`, String.raw`alpn=\044h2`],
  [String.raw`1 . alpn=h\1`, String.raw`alpn=h\1`],
  [String.raw`1 . alpn=h\999`, String.raw`alpn=h\999`],
  [String.raw`1 . alpn=\\`, String.raw`alpn=\\`],
  [`1 . alpn=${'a'.repeat(256)}`, `alpn=${'a'.repeat(256)}`],
  ['1 . key1=h2', 'key1=h2'],
  ['1 . key3=1', 'key3=1'],
  ['1 . key2', 'key2'],
  ['1 . key2=x', 'key2=x'],
  ['1 . key01=x', 'key01=x'],
  ['1 . key0=', 'key0='],
  ['1 . key65536', 'key65536'],
  ['1 . key+1', 'key+1'],
  [String.raw`1 . KEY1=\002h2`, String.raw`KEY1=\002h2`],
  ['1 . key', 'key'],
  ['1 . foo=bar', 'foo=bar'],
  [String.raw`1 . key12=\1`, String.raw`key12=\1`],
  [String.raw`1 . key12=\256x`, String.raw`key12=\256x`],
  ['1 . key12=a"b"', 'b'],
  ['1 . mandatory=alpn,alpn alpn=h2', 'mandatory=alpn,alpn'],
  ['1 . mandatory=mandatory', 'mandatory=mandatory'],
  ['1 . mandatory=alpn, alpn=h2', 'mandatory=alpn,'],
  ['1 . mandatory= alpn=h2', 'mandatory='],
  ['1 . mandatory=port alpn=h2', 'mandatory=port'],
  ['1 . mandatory=key0,alpn alpn=h2', 'mandatory=key0,alpn'],
  [String.raw`1 . mandatory=al\112n alpn=h2`, String.raw`mandatory=al\112n`],
  ['1 . mandatory=port,alpn port=1 alpn=h2 mandatory=alpn', 'mandatory=alpn'],
  ['0 . mandatory=port', 'mandatory=port'],
  ['1 . no-default-alpn', 'no-default-alpn'],
  ['0 . no-default-alpn', 'no-default-alpn'],
  ['1 . alpn=h2 alpn=h3', 'alpn=h3'],
  ['0 . alpn=h2 alpn=h3', 'alpn=h3'],
  [String.raw`1 . alpn=h2 key1=\002h3`, String.raw`key1=\002h3`],
  ['1 . ech=AAA', 'ech=AAA'],
  ['1 . ech=AA==AAAA', 'ech=AA==AAAA'],
  [String.raw`1 . ech=AA\=\=`, String.raw`ech=AA\=\=`],
  ['1 . ech=AB==', 'ech=AB=='],
  ['1 . ech=AAAA=', 'ech=AAAA='],
  ['1 . dohpath=/q', 'dohpath=/q'],
  ['1 . dohpath=q{?dns}', 'dohpath=q{?dns}'],
  [String.raw`1 . dohpath=/\192\128{?dns}`, String.raw`dohpath=/\192\128{?dns}`],
  [String.raw`1 . dohpath=/\244\144\128\128{?dns}`, String.raw`dohpath=/\244\144\128\128{?dns}`],
  ['1 . dohpath=', 'dohpath='],
  ['1 . key7=/q', 'key7=/q'],
  ['1 . port=+1', 'port=+1'],
  ['1 . port=', 'port='],
  [String.raw`1 . port=1\050`, String.raw`port=1\050`],
  ['1 . port="1 "', 'port="1 "'],
  ['1 . port=65536', 'port=65536'],
  ['1 . ipv4hint=1.2.3.4,', 'ipv4hint=1.2.3.4,'],
  ['1 . ipv4hint=', 'ipv4hint='],
  ['1 . ipv4hint=01.2.3.4', 'ipv4hint=01.2.3.4'],
  ['1 . ipv4hint="1.2.3.4, 5.6.7.8"', 'ipv4hint="1.2.3.4, 5.6.7.8"'],
  ['1 . ipv6hint=::1,1.2.3.4', 'ipv6hint=::1,1.2.3.4'],
]

/** Wire BIND accepts -> its text. */
const WIRE: [string, string][] = [
  [`000000${param(1, '026832')}${param(3, '0001')}`, '0 . alpn="h2" port=1'],
  [
    ROOT_SERVICE + param(0, '00010003') + param(1, '026832') + param(3, '0001'),
    '1 . mandatory=alpn,port alpn="h2" port=1',
  ],
  [
    ROOT_SERVICE + param(1, '022268015c012c0120013b01400128017f01ff0109012701240141'),
    String.raw`1 . alpn="\"h,\\\\,\\,,\032,;,@,(,\127,\255,\009,',$,A"`,
  ],
  [
    ROOT_SERVICE + param(65000, '22205c2c3b40282924097fff41'),
    String.raw`1 . key65000="\" \\,;@()$\009\127\255A"`,
  ],
  [ROOT_SERVICE + param(5), '1 . ech'],
  [ROOT_SERVICE + param(5, '00'), '1 . ech=AA=='],
  [ROOT_SERVICE + param(8) + param(65535), '1 . key8 key65535'],
  [ROOT_SERVICE + param(6, '00000000000000000000ffff01020304'), '1 . ipv6hint=::ffff:1.2.3.4'],
  [ROOT_SERVICE + param(7, '2f7b3f646e737d'), '1 . key7="/{?dns}"'],
  [`000103466f4f00${param(1, '026832')}`, '1 FoO. alpn="h2"'],
  ['00000461202e2200', String.raw`0 a\032\.\".`],
]

/** Wire BIND refuses: toText gives undefined. */
const BAD_WIRE: string[] = [
  '00',
  '0001',
  '0000',
  '00010141',
  '000140',
  '0001c00c',
  '00010000',
  `${ROOT_SERVICE}0001000302`,
  `000000${param(3, '0001')}${param(1, '026832')}`,
  ROOT_SERVICE + param(1, '026832') + param(1, '026833'),
  ROOT_SERVICE + param(2),
  ROOT_SERVICE + param(0, '0001'),
  ROOT_SERVICE + param(0, '0003') + param(1, '026832'),
  ROOT_SERVICE + param(0, '0000') + param(1, '026832'),
  ROOT_SERVICE + param(0) + param(1, '026832'),
  ROOT_SERVICE + param(0, '00') + param(1, '026832'),
  ROOT_SERVICE + param(0, '00030001') + param(1, '026832') + param(3, '0001'),
  ROOT_SERVICE + param(0, '00010001') + param(1, '026832'),
  ROOT_SERVICE + param(1),
  ROOT_SERVICE + param(1, '00'),
  ROOT_SERVICE + param(1, '0268'),
  ROOT_SERVICE + param(1, '026832') + param(2, '00'),
  ROOT_SERVICE + param(3, '01'),
  ROOT_SERVICE + param(4, '010203'),
  ROOT_SERVICE + param(4),
  ROOT_SERVICE + param(6),
  ROOT_SERVICE + param(6, '01020304'),
  ROOT_SERVICE + param(7),
  ROOT_SERVICE + param(7, '2f7b3f646e73'),
  ROOT_SERVICE + param(7, '2fc0807b3f646e737d'),
  `${ROOT_SERVICE + param(1, '026832')}00`,
]

const fromText = (input: string) => svcb.fromText(tokens(input), ORIGIN)
const _toText = (wire: Buffer) => svcb.toText(wire, 0, wire.length)

describeCodecTable(
  'SVCB',
  svcb,
  { reads: READS, refused: REFUSED, wire: WIRE, badWire: BAD_WIRE },
  tokens,
)

describe('svcb', () => {
  it('reads HTTPS as SVCB, naming HTTPS in its errors', () => {
    for (const [input] of READS)
      expect(https.fromText(tokens(input), ORIGIN)).toEqual(fromText(input))
    expect(() => https.fromText(tokens('1 . alpn'), ORIGIN)).toThrow(
      "HTTPS rdata at 'alpn': expected alpn to be a comma-separated list",
    )
  })

  it('reads the rdata where it lies in a message', () => {
    const [hex, canonical] = WIRE[1]
    const msg = Buffer.from(`c00c0001${hex}ffff`, 'hex')
    expect(svcb.toText(msg, 4, msg.length - 2)).toBe(canonical)
    expect(svcb.toText(msg, 4, msg.length - 3)).toBeUndefined()
  })
})

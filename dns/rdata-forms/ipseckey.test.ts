// The IPSECKEY codec (RFC 4025) against BIND 9.18: named-compilezone reads the same
// records, and the wire we make as `\#`; what it prints or refuses is what we do.

import { describeCodecTable } from './bind-reference.test-support.ts'
import { ipseckey } from './ipseckey.ts'

const K = 'AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=='
const A = (n: number) => 'A'.repeat(n)

/** Zone-file input -> BIND's canonical text. */
const READS: [string, string][] = [
  [`10 0 2 . ${K}`, `10 0 2 . ${K}`],
  [`10 1 2 192.0.2.38 ${K}`, `10 1 2 192.0.2.38 ${K}`],
  [`10 2 2 2001:0DB8:0:8002::2000:1 ${K}`, `10 2 2 2001:db8:0:8002::2000:1 ${K}`],
  [`10 3 2 mygateway.test. ${K}`, `10 3 2 mygateway.test. ${K}`],
  [`10 3 2 mygw ${K}`, `10 3 2 mygw.test. ${K}`],
  [`10 3 2 @ ${K}`, `10 3 2 test. ${K}`],
  [String.raw`255 3 255 a\.b.example. AAAA`, String.raw`255 3 255 a\.b.example. AAAA`],
  ['10 0 2 . AQNR U3mG', '10 0 2 . AQNRU3mG'],
  ['10 0 2 . AA= =', '10 0 2 . AA=='],
  ['010 0 2 . AAAA', '10 0 2 . AAAA'],
  ['10 2 2 ::ffff:1.2.3.4 AAAA', '10 2 2 ::ffff:1.2.3.4 AAAA'],
  ['10 2 2 ::102:304 AAAA', '10 2 2 ::1.2.3.4 AAAA'],
  [`10 0 2 . ${A(56)}`, `10 0 2 . ${A(56)}`],
  [`10 0 2 . ${A(60)}`, `10 0 2 . ${A(56)} ${A(4)}`],
  [`10 0 2 . ${A(100)} ${A(100)}`, `10 0 2 . ${[A(56), A(56), A(56), A(32)].join(' ')}`],
]

/** Input BIND refuses -> the token our error names (undefined: the end of the record). */
const REFUSED: [string, string | undefined][] = [
  ['10 0 2 .', undefined],
  ['10 1 2 192.0.2.38', undefined],
  ['10 0 2', undefined],
  ['"10" 0 2 . AAAA', '10'],
  ['10 0x1 2 . AAAA', '0x1'],
  ['256 0 2 . AAAA', '256'],
  ['10 4 2 . AAAA', '4'],
  ['10 0 256 . AAAA', '256'],
  ['10 0 2 . "AAAA"', 'AAAA'],
  ['10 0 2 foo AAAA', 'foo'],
  ['10 0 2 "." AAAA', '.'],
  ['10 1 2 . AAAA', '.'],
  ['10 1 2 1.2.3 AAAA', '1.2.3'],
  ['10 1 2 01.2.3.4 AAAA', '01.2.3.4'],
  ['10 2 2 1.2.3.4 AAAA', '1.2.3.4'],
  ['10 3 2 "foo" AAAA', 'foo'],
  ['10 3 2 a..b AAAA', 'a..b'],
  ['10 0 2 . AB==', 'AB=='],
  ['10 0 2 . AA== AAAA', 'AA==AAAA'],
  ['10 0 2 . AAA', 'AAA'],
  ['10 0 2 . AA,A', 'AA,A'],
]

/** Wire BIND accepts -> its text. */
const WIRE: [string, string][] = [
  ['0a000200', '10 0 2 . AA=='],
  ['0a01020102030400', '10 1 2 1.2.3.4 AA=='],
  ['0a02020000000000000000000000000000000100', '10 2 2 ::1 AA=='],
  ['0a0302036162630000', '10 3 2 abc. AA=='],
  [`0a0002${'00'.repeat(45)}`, `10 0 2 . ${A(56)} ${A(4)}`],
]

/** Wire BIND refuses: toText gives undefined. */
const BAD_WIRE: string[] = [
  '',
  '0a00',
  '0a0002',
  '0a010201020304',
  '0a010201020300',
  '0a02020000',
  '0a030203616263',
  '0a03020361626300',
  '0a0302c00000',
  '0a040200',
  '0aff0200',
]

describeCodecTable('IPSECKEY', ipseckey, {
  reads: READS,
  refused: REFUSED,
  wire: WIRE,
  badWire: BAD_WIRE,
})

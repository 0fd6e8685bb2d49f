// AMTRELAY against BIND 9.18: every case below is also read by the installed
// BIND (named-compilezone -s full, which reads the whole zone and names each
// record it refuses) and must get the same verdict and text.

import { amtrelay } from './amtrelay.ts'
import { describeCodecTable } from './bind-reference.test-support.ts'

/** Zone-file input -> BIND's canonical text. */
const READS: [string, string][] = [
  ['10 0 0 .', '10 0 0 .'],
  ['10 0 1 203.0.113.15', '10 0 1 203.0.113.15'],
  [
    '10 0 2 2600:1f16:17c:3950:47ac:cb79:62ba:702e',
    '10 0 2 2600:1f16:17c:3950:47ac:cb79:62ba:702e',
  ],
  ['128 1 3 amtrelays.test.', '128 1 3 amtrelays.test.'],
  ['10 1 3 relay', '10 1 3 relay.test.'],
  ['10 1 3 @', '10 1 3 test.'],
  ['10 0 2 ::ffff:0:0', '10 0 2 ::ffff:0.0.0.0'],
  ['10 0 2 ::0.1.0.0', '10 0 2 ::0.1.0.0'],
  ['10 0 2 ::2', '10 0 2 ::2'],
  ['10 0 2 1:0:0:1:0:0:0:1', '10 0 2 1:0:0:1::1'],
  ['010 01 00 .', '10 1 0 .'],
]

/** Input BIND refuses -> the token our error names (undefined: the end of the record). */
const REFUSED: [string, string | undefined][] = [
  ['10 0 0', undefined],
  ['10 1 0', undefined],
  ['10 0 1', undefined],
  ['10 0 0 foo', 'foo'],
  ['10 0 0 @', '@'],
  [String.raw`10 0 0 \.`, String.raw`\.`],
  ['10 0 0 . extra', 'extra'],
  ['"10" 0 0 .', '10'],
  ['256 0 0 .', '256'],
  ['10 2 0 .', '2'],
  ['10 0 4 x', '4'],
  ['10 0 127 x', '127'],
  ['10 0 128 x', '128'],
  ['10 0 1 1.2.3.4 extra', 'extra'],
  ['10 0 1 ::1', '::1'],
  ['10 0 2 1.2.3.4', '1.2.3.4'],
  ['10 0 3 "foo"', 'foo'],
]

/** Wire BIND accepts -> its text. */
const WIRE: [string, string][] = [
  ['0a00', '10 0 0 .'],
  ['0a80', '10 1 0 .'],
  ['0a0101020304', '10 0 1 1.2.3.4'],
  ['0a8101020304', '10 1 1 1.2.3.4'],
  ['0a830361626300', '10 1 3 abc.'],
  ['0a0200000000000000000000ffff01020304', '10 0 2 ::ffff:1.2.3.4'],
]

/** Relay type 4: BIND keeps it but prints it only as `\\#`. */
const GENERIC_ONLY = '0a840102'

/** Wire BIND refuses: toText gives undefined. */
const BAD_WIRE: string[] = [
  '',
  '0a',
  '0a0001',
  '0a81010203',
  '0a020000000000000000000000000000000001',
  '0a83036162630000',
  '0a8303616263',
  '0a03c000',
]

describeCodecTable('AMTRELAY', amtrelay, {
  reads: READS,
  refused: REFUSED,
  wire: WIRE,
  badWire: BAD_WIRE,
  genericOnly: [GENERIC_ONLY],
})

// The HIP codec (RFC 8005) against BIND 9.18: named-compilezone reads the same
// records, and the wire we make as `\#`; what it prints or refuses is what we do.

import { describeCodecTable } from './bind-reference.test-support.ts'
import { hip } from './hip.ts'

/** The example of RFC 8005 section 6. */
const H = '200100107B1A74DF365639CC39F1D578'
const K =
  'AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5D'

/** Zone-file input -> BIND's canonical text. */
const READS: [string, string][] = [
  [`2 ${H} ${K}`, `2 ${H} ${K}`],
  [`2 ${H} ${K} www.test. rvs`, `2 ${H} ${K} www.test. rvs.test.`],
  [`2 ${H} ${K} @`, `2 ${H} ${K} test.`],
  [`2 ${H.toLowerCase()} ${K}`, `2 ${H} ${K}`],
  [`2 ${H} AwEA AbdX`, `2 ${H} AwEA AbdX.test.`],
  [`255 ${'ab'.repeat(255)} ${'A'.repeat(200)} .`, `255 ${'AB'.repeat(255)} ${'A'.repeat(200)} .`],
  ['010 00 AA==', '10 00 AA=='],
]

/** Input BIND refuses -> the token our error names (undefined: the end of the record). */
const REFUSED: [string, string | undefined][] = [
  [`2 ${H}`, undefined],
  ['2', undefined],
  [`256 ${H} ${K}`, '256'],
  [`"2" ${H} ${K}`, '2'],
  [`2 "${H}" ${K}`, H],
  [`2 ${H} "${K}"`, K],
  [`2 ${H} ${K} "rvs"`, 'rvs'],
  [`2 "" ${K}`, ''],
  [`2 ${H} ""`, ''],
  [`2 2001001 ${K}`, '2001001'],
  [`2 - ${K}`, '-'],
  [`2 0x20 ${K}`, '0x20'],
  [`2 ${'ab'.repeat(256)} AwEA`, 'ab'.repeat(256)],
  [`2 2001 0010 ${K}`, K],
  [`2 ${H} AwEA= rvs`, 'AwEA='],
  [`2 ${H} AB==`, 'AB=='],
  [`2 ${H} ${K} a..b`, 'a..b'],
]

/** Wire BIND accepts -> its text. */
const WIRE: [string, string][] = [
  ['02020001abcd00', '2 ABCD AA=='],
  ['02ff0001abcd000361626300' + '00', '255 ABCD AA== abc. .'],
]

/** Wire BIND refuses: toText gives undefined. */
const BAD_WIRE: string[] = [
  '',
  '020200',
  '0002000100',
  '02020000abcd',
  '02020002abcd00',
  '02020001abcd00036162',
  '02020001abcd00c000',
  '02020001abcd0040',
]

describeCodecTable('HIP', hip, { reads: READS, refused: REFUSED, wire: WIRE, badWire: BAD_WIRE })

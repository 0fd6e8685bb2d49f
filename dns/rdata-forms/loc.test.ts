// The LOC codec against BIND 9.18: named-compilezone reads the same records (and the
// wire we make, as `\#`), and what it prints, refuses or cannot print is what we do.

import { describe, expect, it } from 'vitest'
import { describeAgainstBind, hex, ORIGIN, tokens, wireOf } from './bind-reference.test-support.ts'
import { loc } from './loc.ts'

// --- LOC ---

/** Inputs BIND takes, from the canonical form to the corners of its number reading. */
const ACCEPTED = [
  '52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m',
  '42 21 54 N 71 06 18 W -24m 30m',
  '42 21 43.528 N 71 05 06.284 W -24m 1m 200m 10m',
  '52 N 4 E 0',
  '52 22 N 4 53 E 10',
  '52 22 23.5 S 4 53 32.123 W 10.5m 1m',
  '0 0 0 N 0 0 0 E 0 0 0 0',
  '0 S 0 W 0',
  '0 0 0.001 S 0 0 0.001 W -0.01m',
  '90 S 180 W -100000m 90000000m 90000000m 90000000m',
  '90 0 0 N 180 0 0.000 W 0',
  '89 59 59.999 N 179 59 59.999 E 42849672.95m',
  '052 01 05 N 004 E 0',
  '52 1 +5 N 4 E 0',
  '52 1 .5 N 4 E 0',
  '52 1 5. N 4 E 0',
  '52 1 -0 N 4 E 0',
  '52 N 4 E +5m',
  '52 N 4 E -+5m',
  '52 N 4 E .5m',
  '52 N 4 E 5.m',
  '52 N 4 E -0',
  '52 N 4 E -99999.99m',
  '52 N 4 E 0 12345m 0.3m 7m',
  '52 N 4 E 0 0.10m 0.15m 0.05m',
  '52 N 4 E 0 19m 99m 12345678m',
  '52 N 4 E 0 0.99m 9.99m 1.99',
  '52 N 4 E 0 0.1m 0.10 .01',
  '52 N 4 E 0 0.09 .9m 9.',
  '52 N 4 E 0 +1m 1.m 90000000.99m',
]

/** Inputs BIND refuses, and the token the error names (undefined: the end of the record). */
const REFUSED: readonly (readonly [string, string | undefined])[] = [
  ['', undefined],
  ['52 N', undefined],
  ['52 N 4 E', undefined],
  ['52 n 4 E 0', 'n'],
  ['52 S 4 N 0', 'N'],
  ['91 N 4 E 0', '91'],
  ['-5 N 4 E 0', '-5'],
  ['4294967296 N 4 E 0', '4294967296'],
  ['90 1 N 4 E 0', '1'],
  ['90 0 0.001 N 4 E 0', '0.001'],
  ['52 60 N 4 E 0', '60'],
  ['52 22.5 N 4 E 0', '22.5'],
  ['52 1 60 N 4 E 0', '60'],
  ['52 1 -5 N 4 E 0', '-5'],
  ['52 1 59.9999 N 4 E 0', '59.9999'],
  ['52 1 5.12a N 4 E 0', '5.12a'],
  ['52 22 23 4 E 0', '4'],
  ['52 N 181 E 0', '181'],
  ['52 N 180 0 1 E 0', '1'],
  ['52 N 4 e 0', 'e'],
  ['52 N 4 E -100000.01m', '-100000.01m'],
  ['52 N 4 E 42849672.96m', '42849672.96m'],
  ['52 N 4 E 99999999999999999999m', '99999999999999999999m'],
  ['52 N 4 E 1.234m', '1.234m'],
  ['52 N 4 E 5mm', '5mm'],
  ['52 N 4 E m', 'm'],
  ['52 N 4 E -', '-'],
  ['52 N 4 E --5m', '--5m'],
  ['52 N 4 E 0 90000001m', '90000001m'],
  ['52 N 4 E 0 0.001m', '0.001m'],
  ['52 N 4 E 0 -1m', '-1m'],
  ['52 N 4 E 0 1 1 m', 'm'],
  ['52 N 4 E 0 1 1 1 1', '1'],
  ['52 N 4 E 0 "1m"', '1m'],
]

/** Wire BIND does not print as LOC: it refuses it, or keeps it and prints `\#`. */
const MALFORMED: readonly (readonly [string, string, 'refused' | 'generic'])[] = [
  ['version 1', '01121613 80000000 80000000 00989680', 'generic'],
  ['version 1, one octet', '01', 'generic'],
  ['no octets', '', 'refused'],
  ['15 octets', '00121613 80000000 80000000 009896', 'refused'],
  ['17 octets', '00121613 80000000 80000000 00989680 00', 'refused'],
  ['size mantissa 10', '00a21613 80000000 80000000 00989680', 'refused'],
  ['size mantissa 0, exponent 5', '00051613 80000000 80000000 00989680', 'refused'],
  ['vertical precision exponent 10', '0012161a 80000000 80000000 00989680', 'refused'],
  ['latitude past 90 N', '00121613 934fd901 80000000 00989680', 'refused'],
  ['longitude past 180 W', '00121613 80000000 59604dff 00989680', 'refused'],
]

describeAgainstBind('LOC', loc, { accepted: ACCEPTED, refused: REFUSED, malformed: MALFORMED })

describe('LOC, the forms themselves', () => {
  const fromText = (rdata: string) => loc.fromText(tokens(rdata), ORIGIN)
  const toText = (wire: Uint8Array) => loc.toText(wire, 0, wire.length)

  it('writes RFC 1876 wire: version, size/hp/vp bytes, 2^31 offsets, altitude + 100000m', () => {
    const wire = '00 33 16 13 89172dd0 70be15f0 00988d20'
    expect(hex(fromText('42 21 54 N 71 06 18 W -24m 30m'))).toBe(hex(wireOf(wire)))
  })

  it('prints BIND canonical form: seconds to 3 places, altitude to 2, sizes from 1m whole', () => {
    expect(toText(fromText('52 22 23 N 4 53 32 E -2m 0m'))).toBe(
      '52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m',
    )
  })

  it('reads the record where it sits in a message', () => {
    const wire = fromText('52 N 4 E 0')
    const msg = Buffer.concat([Buffer.from('ffff', 'hex'), wire, Buffer.from('ff', 'hex')])
    expect(loc.toText(msg, 2, 2 + wire.length)).toBe(toText(wire))
  })
})

// LOC records (RFC 1876): `d1 [m1 [s1]] {N|S} d2 [m2 [s2]] {E|W} alt[m] [siz[m] [hp[m]
// [vp[m]]]]` to the 16 octets of version 0 and back, as BIND 9.18 reads and prints them.

import { Type } from '../constants.ts'
import type { Token } from '../rdata.ts'
import type { RdataCodec } from './codec.ts'
import { rdataError } from './rdata-error.ts'

/** Latitude and longitude 0, in thousandths of an arc second. */
const EQUATOR = 0x80000000
/** Altitude 0 is 100,000 m above the wire's zero, in centimetres. */
const DATUM = 10_000_000
const MS_PER_DEGREE = 3_600_000
/** Size 1m, horizontal precision 10000m, vertical 10m (RFC 1876 section 3). */
const DEFAULT_PRECISIONS = [0x12, 0x16, 0x13]
const PRECISION_NAMES = ['a size', 'a horizontal precision', 'a vertical precision']

function fail(token: string | undefined, why: string): Error {
  return rdataError(Type.LOC, token, why)
}

/** The tokens of one record, read front to back; quoted ones are refused as BIND's lexer does. */
interface Cursor {
  tokens: readonly Token[]
  at: number
}

function take(c: Cursor, what: string): string {
  const token = c.tokens[c.at++]
  if (token === undefined) throw fail(undefined, `expected ${what}`)
  if (token.quoted) throw fail(token.text, `expected ${what}, not a quoted string`)
  return token.text
}

/** Consumes the next token when it is `a` or `b` exactly (BIND takes no lower case here). */
function hemisphere(c: Cursor, a: string, b: string): string | undefined {
  const token = c.tokens[c.at]
  if (token === undefined || token.quoted || (token.text !== a && token.text !== b))
    return undefined
  c.at++
  return token.text
}

/**
 * What C's strtoul reads at the start of `text`: a sign, then digits. `end` is 0 when
 * it reads nothing; a negative number other than 0 wraps to a huge one (Infinity here).
 */
function leadingNumber(text: string): { value: number; end: number } {
  const signed = text[0] === '+' || text[0] === '-' ? 1 : 0
  let end = signed
  while (end < text.length && text.charCodeAt(end) >= 0x30 && text.charCodeAt(end) <= 0x39) end++
  if (end === signed) return { value: 0, end: 0 }
  const value = Number(text.slice(signed, end))
  return { value: text[0] === '-' && value !== 0 ? Number.POSITIVE_INFINITY : value, end }
}

/**
 * `text` as a whole number up to `max` with up to `places` decimals and an optional
 * `unit`, scaled by 10^places (BIND's loc_getdecimal); undefined when it is not one.
 */
function decimal(text: string, max: number, places: number, unit: string): number | undefined {
  const whole = leadingNumber(text)
  let e = whole.end
  if (e < text.length && text[e] !== '.' && text[e] !== unit) return undefined
  if (whole.value > max) return undefined
  let seen = e > 0
  let value = whole.value
  let i = 0
  if (text[e] === '.') {
    for (e++; i < places && e < text.length && text[e] !== unit; i++, e++) {
      const digit = text.charCodeAt(e) - 0x30
      if (digit < 0 || digit > 9) return undefined
      seen = true
      value = value * 10 + digit
    }
  }
  value *= 10 ** (places - i)
  if (unit !== '' && text[e] === unit) e++
  return seen && e === text.length ? value : undefined
}

/** A degrees or minutes field: digits only, as BIND's lexer reads a number. */
function wholeField(text: string, max: number, what: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!(value <= max)) throw fail(text, `expected ${what}`)
  return value
}

/** One coordinate, `d [m [s]] a|b`, as thousandths of an arc second from EQUATOR. */
function coordinate(c: Cursor, a: string, b: string, maxDegrees: number): number {
  const degreesWhat = `degrees from 0 to ${maxDegrees}`
  const degrees = wholeField(take(c, degreesWhat), maxDegrees, degreesWhat)
  const atMax = (text: string, value: number) => {
    if (degrees === maxDegrees && value !== 0)
      throw fail(text, `expected nothing past ${maxDegrees} degrees but ${a} or ${b}`)
  }
  let ms = 0
  let side = hemisphere(c, a, b)
  if (side === undefined) {
    const minutesWhat = `minutes from 0 to 59, or ${a} or ${b}`
    const minutesText = take(c, minutesWhat)
    const minutes = wholeField(minutesText, 59, minutesWhat)
    atMax(minutesText, minutes)
    ms = minutes * 60_000
    side = hemisphere(c, a, b)
  }
  if (side === undefined) {
    const secondsWhat = `seconds from 0 to 59.999, or ${a} or ${b}`
    const secondsText = take(c, secondsWhat)
    const seconds = decimal(secondsText, 59, 3, '')
    if (seconds === undefined) throw fail(secondsText, `expected ${secondsWhat}`)
    atMax(secondsText, seconds)
    ms += seconds
    side = hemisphere(c, a, b)
    if (side === undefined) throw fail(c.tokens[c.at]?.text, `expected ${a} or ${b}`)
  }
  const offset = degrees * MS_PER_DEGREE + ms
  return side === a ? EQUATOR + offset : EQUATOR - offset
}

/** Altitude in metres, -100000.00 to 42849672.95, as centimetres above the wire's zero. */
function altitude(text: string): number {
  const below = text[0] === '-'
  const cm = below ? decimal(text.slice(1), 100_000, 2, 'm') : decimal(text, 42_849_672, 2, 'm')
  const expected = 'expected an altitude from -100000.00m to 42849672.95m'
  if (cm === undefined) throw fail(text, expected)
  if (below ? cm > DATUM : cm > 0xffffffff - DATUM) throw fail(text, expected)
  return below ? DATUM - cm : DATUM + cm
}

/** A size or precision in metres (0 to 90000000.99) as RFC 1876's mantissa/exponent byte. */
function precision(text: string, what: string): number {
  const cm = decimal(text, 90_000_000, 2, 'm')
  if (cm === undefined) throw fail(text, `expected ${what} from 0 to 90000000m`)
  const metres = Math.floor(cm / 100)
  if (metres > 0) {
    // BIND keeps the leading digit and drops the rest (12345m is 1e4m).
    const exponent = String(metres).length - 1
    return (Math.floor(metres / 10 ** exponent) << 4) | (exponent + 2)
  }
  return cm >= 10 ? (Math.floor(cm / 10) << 4) | 1 : cm << 4
}

function fromText(tokens: readonly Token[]): Buffer {
  const c: Cursor = { tokens, at: 0 }
  const wire = Buffer.alloc(16)
  wire.writeUInt32BE(coordinate(c, 'N', 'S', 90), 4)
  wire.writeUInt32BE(coordinate(c, 'E', 'W', 180), 8)
  wire.writeUInt32BE(altitude(take(c, 'an altitude')), 12)
  for (let i = 0; i < 3; i++) {
    const what = PRECISION_NAMES[i]
    wire[1 + i] = c.at < tokens.length ? precision(take(c, what), what) : DEFAULT_PRECISIONS[i]
  }
  if (c.at < tokens.length)
    throw fail(tokens[c.at].text, 'expected nothing after the vertical precision')
  return wire
}

/** A mantissa/exponent byte BIND accepts from the wire: 0, or both digits 0-9, mantissa not 0. */
function validPrecision(byte: number): boolean {
  return byte === 0 || ((byte & 0x0f) <= 9 && byte >> 4 <= 9 && byte >> 4 !== 0)
}

function precisionText(byte: number): string {
  const mantissa = byte >> 4
  const exponent = byte & 0x0f
  if (exponent > 1) return `${mantissa * 10 ** (exponent - 2)}m`
  return `0.${String(mantissa * 10 ** exponent).padStart(2, '0')}m`
}

/** `d m s.fff X`, X the hemisphere: `a` from EQUATOR up, `b` below it. */
function angleText(value: number, a: string, b: string): string {
  let ms = value >= EQUATOR ? value - EQUATOR : EQUATOR - value
  const fraction = ms % 1000
  ms = Math.floor(ms / 1000)
  const seconds = ms % 60
  ms = Math.floor(ms / 60)
  const side = value >= EQUATOR ? a : b
  return `${Math.floor(ms / 60)} ${ms % 60} ${seconds}.${String(fraction).padStart(3, '0')} ${side}`
}

function altitudeText(value: number): string {
  const cm = Math.abs(value - DATUM)
  const sign = value < DATUM ? '-' : ''
  return `${sign}${Math.floor(cm / 100)}.${String(cm % 100).padStart(2, '0')}m`
}

function u32(msg: Uint8Array, at: number): number {
  return ((msg[at] << 24) | (msg[at + 1] << 16) | (msg[at + 2] << 8) | msg[at + 3]) >>> 0
}

function toText(msg: Uint8Array, start: number, end: number): string | undefined {
  // Other versions have no text form: BIND prints them as `\#`.
  if (end - start !== 16 || msg[start] !== 0) return undefined
  const precisions = [msg[start + 1], msg[start + 2], msg[start + 3]]
  if (!precisions.every(validPrecision)) return undefined
  const latitude = u32(msg, start + 4)
  const longitude = u32(msg, start + 8)
  if (Math.abs(latitude - EQUATOR) > 90 * MS_PER_DEGREE) return undefined
  if (Math.abs(longitude - EQUATOR) > 180 * MS_PER_DEGREE) return undefined
  return [
    angleText(latitude, 'N', 'S'),
    angleText(longitude, 'E', 'W'),
    altitudeText(u32(msg, start + 12)),
    ...precisions.map(precisionText),
  ].join(' ')
}

export const loc: RdataCodec = { fromText, toText }

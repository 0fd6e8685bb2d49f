// The fields of the DNSSEC types and of the rarer RFC types, each one token
// (base64 may take all the tokens left): text to wire, their width in wire
// form, and wire back to text as BIND prints them.

import { typeCode, typeName } from '../constants.ts'
import type { Token } from '../rdata.ts'
import { base32hexDecode, base32hexEncode } from './base32hex.ts'
import { timeFromText, timeToText } from './dnssec-time.ts'
import { CERT_TYPES, DNSSEC_ALGORITHMS, mnemonicOf, numberOrMnemonic } from './mnemonic-numbers.ts'
import { rdataError } from './rdata-error.ts'

export type ExtraField =
  | 'alg' // u8, or a DNSSEC algorithm mnemonic; printed as the number
  | 'cert-alg' // the same, printed as the mnemonic (CERT)
  | 'cert-type' // u16, or a CERT type mnemonic; printed as the mnemonic
  | 'type' // u16 written as a type mnemonic (RRSIG type covered)
  | 'time' // u32 written as YYYYMMDDHHmmSS (RRSIG times)
  | 'base64' // base64 to the end, over any number of tokens
  | 'salt' // length-prefixed bytes written as hex, `-` for none (NSEC3)
  | 'b32hex' // length-prefixed bytes written in base32hex (NSEC3 next owner)
  | 'eui48' // 6 bytes as xx-xx-xx-xx-xx-xx
  | 'eui64' // 8 bytes as xx-xx-xx-xx-xx-xx-xx-xx
  | 'l64' // 8 bytes as four 16-bit hex groups (L64, NID)

/** What each field expects, for the error when it is missing. */
export const EXTRA_WHAT: Record<ExtraField, string> = {
  alg: 'an algorithm number or mnemonic',
  'cert-alg': 'an algorithm number or mnemonic',
  'cert-type': 'a certificate type number or mnemonic',
  type: 'a record type',
  time: 'a time as YYYYMMDDHHmmSS',
  base64: 'base64 data',
  salt: 'a salt in hexadecimal, or -',
  b32hex: 'a hashed name in base32hex',
  eui48: 'an EUI-48 address (xx-xx-xx-xx-xx-xx)',
  eui64: 'an EUI-64 address (xx-xx-xx-xx-xx-xx-xx-xx)',
  l64: 'a locator (xxxx:xxxx:xxxx:xxxx)',
}

const fixed = (bytes: number, value: number): Buffer => {
  const b = Buffer.alloc(bytes)
  b.writeUIntBE(value, 0, bytes)
  return b
}

const counted = (bytes: Buffer): Buffer => Buffer.concat([Buffer.of(bytes.length), bytes])

/** Decodes base64 `text`; throws naming it when it is not base64. */
export function base64(type: number, text: string): Buffer {
  const bytes = Buffer.from(text, 'base64')
  // Canonical only, as BIND reads it: padding where due and no stray bits (`AB==` is refused).
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || bytes.toString('base64') !== text)
    throw rdataError(type, text, 'expected base64 data')
  return bytes
}

/** `field` of a `type` record from its token `tok`; `rest` gives the tokens after it, joined. */
export function extraFromText(
  type: number,
  field: ExtraField,
  tok: Token,
  rest: () => string,
): Buffer {
  const text = tok.text
  const fail = () => rdataError(type, text, `expected ${EXTRA_WHAT[field]}`)
  switch (field) {
    case 'alg':
    case 'cert-alg': {
      const v = numberOrMnemonic(text, DNSSEC_ALGORITHMS, 0xff)
      if (v === undefined) throw fail()
      return fixed(1, v)
    }
    case 'cert-type': {
      const v = numberOrMnemonic(text, CERT_TYPES, 0xffff)
      if (v === undefined) throw fail()
      return fixed(2, v)
    }
    case 'type': {
      const v = typeCode(text)
      if (v === undefined) throw fail()
      return fixed(2, v)
    }
    case 'time': {
      const v = timeFromText(text)
      if (v === undefined) throw fail()
      return fixed(4, v)
    }
    case 'base64':
      return base64(type, text + rest())
    case 'salt': {
      if (text === '-') return Buffer.of(0)
      if (!/^([0-9a-fA-F]{2}){1,255}$/.test(text)) throw fail()
      return counted(Buffer.from(text, 'hex'))
    }
    case 'b32hex': {
      const bytes = base32hexDecode(text)
      if (bytes === undefined || bytes.length === 0 || bytes.length > 255) throw fail()
      return counted(bytes)
    }
    case 'eui48':
    case 'eui64': {
      const groups = field === 'eui48' ? 6 : 8
      if (!new RegExp(`^[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){${groups - 1}}$`).test(text)) throw fail()
      return Buffer.from(text.replaceAll('-', ''), 'hex')
    }
    case 'l64': {
      if (!/^[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){3}$/.test(text)) throw fail()
      return Buffer.from(
        text
          .split(':')
          .map((g) => g.padStart(4, '0'))
          .join(''),
        'hex',
      )
    }
  }
}

/** Where `field` starting at msg[at] ends (past `end` when it does not fit). */
export function extraEnd(field: ExtraField, msg: Uint8Array, at: number, end: number): number {
  switch (field) {
    case 'alg':
    case 'cert-alg':
      return at + 1
    case 'cert-type':
    case 'type':
      return at + 2
    case 'time':
      return at + 4
    case 'base64':
      return end
    case 'salt':
    case 'b32hex':
      return at < end ? at + 1 + msg[at] : end + 1
    case 'eui48':
      return at + 6
    case 'eui64':
    case 'l64':
      return at + 8
  }
}

/** `field` at msg[at..next) as text. */
export function extraToText(field: ExtraField, msg: Uint8Array, at: number, next: number): string {
  const bytes = Buffer.from(msg.subarray(at, next))
  switch (field) {
    case 'alg':
      return String(msg[at])
    case 'cert-alg':
      return mnemonicOf(msg[at], DNSSEC_ALGORITHMS)
    case 'cert-type':
      return mnemonicOf(bytes.readUInt16BE(0), CERT_TYPES)
    case 'type':
      return typeName(bytes.readUInt16BE(0))
    case 'time':
      return timeToText(bytes.readUInt32BE(0))
    case 'base64':
      return bytes.toString('base64')
    case 'salt':
      return next === at + 1 ? '-' : bytes.subarray(1).toString('hex').toUpperCase()
    case 'b32hex':
      return base32hexEncode(bytes.subarray(1))
    case 'eui48':
    case 'eui64':
      return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('-')
    case 'l64':
      return [0, 2, 4, 6].map((i) => bytes.readUInt16BE(i).toString(16)).join(':')
  }
}

// SVCB and HTTPS (RFC 9460): priority, target name and SvcParams, read and
// printed as BIND 9.18 does. One codec for both types, made per type so that
// errors name the type being read.

import { Type } from '../constants.ts'
import { formatIPv4, parseIPv4, parseIPv6 } from '../ip.ts'
import { expandName, nameToWire, wireToText } from '../name.ts'
import type { Token } from '../rdata.ts'
import type { RdataCodec } from './codec.ts'
import { ipv6Text } from './ipseckey.ts'
import { rdataError } from './rdata-error.ts'

/** SvcParamKeys BIND 9.18 knows by name, indexed by number; it prints key 7 as `key7`. */
const KEY_NAMES = [
  'mandatory',
  'alpn',
  'no-default-alpn',
  'port',
  'ipv4hint',
  'ech',
  'ipv6hint',
  'dohpath',
] as const
const PRINTED_NAMES = 7
const MANDATORY = 0
const ALPN = 1
const NO_DEFAULT_ALPN = 2
const PORT = 3
const IPV4HINT = 4
const ECH = 5
const IPV6HINT = 6
const DOHPATH = 7

/** What the value of each named key must be, for errors. */
const KEY_WHAT = [
  'a comma-separated list of other keys, each once',
  'a comma-separated list of protocol ids, 1 to 255 octets each',
  'no value',
  'a port number from 0 to 65535',
  'a comma-separated list of IPv4 addresses',
  'base64 data',
  'a comma-separated list of IPv6 addresses',
  'a relative URI template holding {?dns}, in UTF-8',
]

type Fail = (token: string | undefined, why: string) => Error

interface Param {
  key: number
  value: Buffer
  /** The param as written, for errors. */
  token: string
}

function keyName(key: number): string {
  return key < PRINTED_NAMES ? KEY_NAMES[key] : `key${key}`
}

/** A key named in any case, or `keyNNNNN` without leading zeros; undefined when neither. */
function keyNumber(name: string): number | undefined {
  const known = (KEY_NAMES as readonly string[]).indexOf(name.toLowerCase())
  if (known >= 0) return known
  const digits = /^key(0|[1-9]\d*)$/.exec(name)?.[1]
  return digits !== undefined && Number(digits) <= 0xffff ? Number(digits) : undefined
}

/** Resolves `\c` and `\DDD` escapes; other characters count as their UTF-8 octets. */
function octetsFromText(raw: string): Buffer | undefined {
  const bytes = Buffer.from(raw, 'utf8')
  const out: number[] = []
  const digit = (i: number) => (bytes[i] >= 0x30 && bytes[i] <= 0x39 ? bytes[i] - 0x30 : -1)
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x5c) {
      out.push(bytes[i])
      continue
    }
    if (++i === bytes.length) return undefined
    if (digit(i) < 0) {
      out.push(bytes[i])
      continue
    }
    const value = digit(i) * 100 + digit(i + 1) * 10 + digit(i + 2)
    if (digit(i + 1) < 0 || digit(i + 2) < 0 || value > 0xff) return undefined
    out.push(value)
    i += 2
  }
  return Buffer.from(out)
}

/**
 * alpn's value-list (RFC 9460 appendix A.1): after the escapes of a
 * character-string, `\,` is a comma inside an id and `\\` a backslash.
 */
function alpnFromText(raw: string): Buffer | undefined {
  const bytes = octetsFromText(raw)
  if (bytes === undefined) return undefined
  const out: number[] = []
  let item: number[] = []
  let escaped = false
  const close = () => {
    if (item.length === 0 || item.length > 0xff) return false
    out.push(item.length, ...item)
    item = []
    return true
  }
  for (const b of bytes) {
    if (!escaped && b === 0x2c) {
      if (!close()) return undefined
    } else if (!escaped && b === 0x5c) {
      escaped = true
    } else {
      item.push(b)
      escaped = false
    }
  }
  return !escaped && close() ? Buffer.from(out) : undefined
}

function mandatoryFromText(raw: string): Buffer | undefined {
  const keys = raw.split(',').map(keyNumber)
  if (keys.some((k) => k === undefined)) return undefined
  const sorted = (keys as number[]).sort((a, b) => a - b)
  if (sorted.some((k, i) => i > 0 && k === sorted[i - 1])) return undefined
  return u16s(sorted)
}

function addressesFromText(raw: string, parse: (text: string) => Uint8Array | undefined) {
  const addresses = raw.split(',').map(parse)
  return addresses.some((a) => a === undefined)
    ? undefined
    : Buffer.concat(addresses as Uint8Array[])
}

/** Strict base64 as BIND decodes it: white space skipped, canonical padding and bits. */
function base64FromText(raw: string): Buffer | undefined {
  const text = raw.replace(/[ \t\r\n]/g, '')
  const bytes = Buffer.from(text, 'base64')
  return bytes.toString('base64') === text ? bytes : undefined
}

function u16s(values: readonly number[]): Buffer {
  const out = Buffer.alloc(values.length * 2)
  for (const [i, v] of values.entries()) out.writeUInt16BE(v, i * 2)
  return out
}

/** The value of each named key from its text (escapes not yet resolved). */
const VALUE_FROM_TEXT: readonly ((raw: string) => Buffer | undefined)[] = [
  mandatoryFromText,
  alpnFromText,
  (raw) => (raw === '' ? Buffer.alloc(0) : undefined),
  (raw) => (/^\d+$/.test(raw) && Number(raw) <= 0xffff ? u16s([Number(raw)]) : undefined),
  (raw) => addressesFromText(raw, parseIPv4),
  base64FromText,
  (raw) => addressesFromText(raw, parseIPv6),
  (raw) => {
    const bytes = octetsFromText(raw)
    return bytes && valueValid(DOHPATH, bytes, 0, bytes.length) ? bytes : undefined
  },
]

/**
 * One param: a key spelled exactly as BIND names it takes its own value syntax;
 * any other spelling of a key (`ALPN`, `key1`) takes the value as octets
 * (escapes allowed), checked as the key's wire form.
 */
function paramFromText(text: string, token: string, fail: Fail): Param {
  for (let key = 0; key < KEY_NAMES.length; key++) {
    const name = KEY_NAMES[key]
    if (!text.startsWith(name) || (text.length > name.length && text[name.length] !== '=')) continue
    const value = VALUE_FROM_TEXT[key](text.slice(name.length + 1))
    if (value === undefined) throw fail(token, `expected ${name} to be ${KEY_WHAT[key]}`)
    return { key, value, token }
  }
  const eq = text.indexOf('=')
  const key = keyNumber(eq < 0 ? text : text.slice(0, eq))
  if (key === undefined)
    throw fail(
      token,
      `expected a key (${KEY_NAMES.join(', ')} or keyNNNNN) with an optional =value`,
    )
  const value = octetsFromText(eq < 0 ? '' : text.slice(eq + 1))
  if (value === undefined || !valueValid(key, value, 0, value.length))
    throw fail(token, `expected a valid value for ${keyName(key)}`)
  return { key, value, token }
}

/** Params from tokens: `key`, `key=value`, or `key=` followed by a quoted value. */
function paramsFromText(tokens: readonly Token[], fail: Fail): Param[] {
  const params: Param[] = []
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t]
    if (tok.quoted) throw fail(tok.text, 'expected key=value, quoted only after the =')
    const quoted = tok.text.endsWith('=') && tokens[t + 1]?.quoted ? tokens[++t] : undefined
    const text = tok.text + (quoted?.text ?? '')
    const token = quoted ? `${tok.text}"${quoted.text}"` : tok.text
    const param = paramFromText(text, token, fail)
    if (param.value.length > 0xffff) throw fail(token, 'expected a value of at most 65535 octets')
    params.push(param)
  }
  return params.sort((a, b) => a.key - b.key)
}

/** BIND's check of a dohpath (RFC 9461 section 5): relative, UTF-8, with {?dns}. */
function dohpathValid(b: Uint8Array, at: number, end: number): boolean {
  const view = Buffer.from(b.buffer, b.byteOffset + at, end - at)
  return view.length >= 7 && view[0] === 0x2f && utf8Valid(view) && view.includes('{?dns}')
}

const UTF8_MIN = [0, 0x80, 0x800, 0x10000]

/** How many continuation octets follow lead octet `c`; -1 when it cannot lead. */
function utf8More(c: number): number {
  if (c < 0x80) return 0
  if ((c & 0xe0) === 0xc0) return 1
  if ((c & 0xf0) === 0xe0) return 2
  return (c & 0xf8) === 0xf0 ? 3 : -1
}

/** UTF-8 as BIND's isc_utf8_valid sees it: no overlong forms, nothing past U+10FFFF. */
function utf8Valid(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; ) {
    const more = utf8More(b[i])
    if (more < 0 || i + more >= b.length) return false
    let w = more === 0 ? b[i] : b[i] & (0x3f >> more)
    for (let k = 1; k <= more; k++) {
      if ((b[i + k] & 0xc0) !== 0x80) return false
      w = (w << 6) | (b[i + k] & 0x3f)
    }
    if (w < UTF8_MIN[more] || w > 0x10ffff) return false
    i += more + 1
  }
  return true
}

/** Whether msg[at..end) is a valid wire value for `key` (BIND's svcb_validate). */
function valueValid(key: number, msg: Uint8Array, at: number, end: number): boolean {
  const length = end - at
  switch (key) {
    case MANDATORY: {
      if (length === 0 || length % 2 !== 0 || u16(msg, at) === MANDATORY) return false
      for (let p = at + 2; p < end; p += 2) if (u16(msg, p) <= u16(msg, p - 2)) return false
      return true
    }
    case ALPN: {
      let p = at
      while (p < end && msg[p] > 0) p += 1 + msg[p]
      return length > 0 && p === end
    }
    case NO_DEFAULT_ALPN:
      return length === 0
    case PORT:
      return length === 2
    case IPV4HINT:
      return length > 0 && length % 4 === 0
    case IPV6HINT:
      return length > 0 && length % 16 === 0
    case DOHPATH:
      return dohpathValid(msg, at, end)
    default:
      return true
  }
}

/**
 * The rules between params (RFC 9460 sections 7.1.1 and 8) as BIND applies
 * them in both directions: the key at fault and why, or undefined.
 */
function ruleBroken(
  keys: ReadonlySet<number>,
  mandatory: readonly number[],
): { key: number; why: string } | undefined {
  for (const k of mandatory) {
    if (k === MANDATORY) return { key: k, why: 'expected mandatory to list other keys' }
    if (!keys.has(k))
      return { key: MANDATORY, why: `expected a ${keyName(k)} param, which mandatory lists` }
  }
  if (keys.has(NO_DEFAULT_ALPN) && !keys.has(ALPN))
    return { key: NO_DEFAULT_ALPN, why: 'expected alpn alongside no-default-alpn' }
  return undefined
}

function u16(msg: Uint8Array, at: number): number {
  return (msg[at] << 8) | msg[at + 1]
}

function keysIn(msg: Uint8Array, at: number, end: number): number[] {
  const keys: number[] = []
  for (let p = at; p < end; p += 2) keys.push(u16(msg, p))
  return keys
}

/** A character-string's octets as BIND quotes them; alpn ids escape `,` and `\` once more. */
function escaped(msg: Uint8Array, from: number, to: number, alpn: boolean): string {
  let s = ''
  for (let i = from; i < to; i++) {
    const b = msg[i]
    if (b < (alpn ? 0x21 : 0x20) || b > 0x7e) s += `\\${String(b).padStart(3, '0')}`
    else if (b === 0x22) s += '\\"'
    else if (b === 0x5c) s += alpn ? '\\\\\\\\' : '\\\\'
    else if (b === 0x2c && alpn) s += '\\\\,'
    else s += String.fromCharCode(b)
  }
  return s
}

/** Offsets of the fixed-size items in [at, end). */
function starts(at: number, end: number, size: number): number[] {
  const out: number[] = []
  for (let p = at; p < end; p += size) out.push(p)
  return out
}

function valueText(key: number, msg: Uint8Array, at: number, end: number): string {
  switch (key) {
    case MANDATORY:
      return keysIn(msg, at, end).map(keyName).join(',')
    case ALPN: {
      const ids: string[] = []
      for (let p = at; p < end; p += 1 + msg[p]) ids.push(escaped(msg, p + 1, p + 1 + msg[p], true))
      return `"${ids.join(',')}"`
    }
    case PORT:
      return String(u16(msg, at))
    case IPV4HINT:
      return starts(at, end, 4)
        .map((p) => formatIPv4(msg, p))
        .join(',')
    case ECH:
      return Buffer.from(msg.subarray(at, end)).toString('base64')
    case IPV6HINT:
      return starts(at, end, 16)
        .map((p) => ipv6Text(msg, p))
        .join(',')
    default:
      return `"${escaped(msg, at, end, false)}"`
  }
}

function targetFromText(tok: Token | undefined, origin: Buffer, fail: Fail): Buffer {
  if (tok === undefined || tok.text === '') throw fail(tok?.text, 'expected a target name')
  if (tok.text === '@') return origin
  try {
    return nameToWire(tok.text, origin)
  } catch (err) {
    throw fail(tok.text, `expected a target name (${(err as Error).message})`)
  }
}

function priorityFromText(tok: Token | undefined, fail: Fail): Buffer {
  if (!tok || tok.quoted || !/^\d+$/.test(tok.text) || Number(tok.text) > 0xffff)
    throw fail(tok?.text, 'expected a priority from 0 to 65535')
  return u16s([Number(tok.text)])
}

function fromText(tokens: readonly Token[], origin: Buffer, fail: Fail): Buffer {
  const priority = priorityFromText(tokens[0], fail)
  const target = targetFromText(tokens[1], origin, fail)
  const params = paramsFromText(tokens.slice(2), fail)
  for (let i = 1; i < params.length; i++)
    if (params[i].key === params[i - 1].key)
      throw fail(params[i].token, `expected ${keyName(params[i].key)} once`)
  const mandatory = params.find((p) => p.key === MANDATORY)?.value ?? Buffer.alloc(0)
  const broken = ruleBroken(
    new Set(params.map((p) => p.key)),
    keysIn(mandatory, 0, mandatory.length),
  )
  if (broken) throw fail(params.find((p) => p.key === broken.key)!.token, broken.why)
  const wire = params.flatMap((p) => [u16s([p.key, p.value.length]), p.value])
  return Buffer.concat([priority, target, ...wire])
}

function toText(msg: Uint8Array, start: number, end: number): string | undefined {
  const target = end - start >= 3 ? expandName(msg, start + 2, end) : undefined
  if (!target || target.wire.length !== target.end - (start + 2)) return undefined
  const parts = [String(u16(msg, start)), wireToText(target.wire)]
  const keys = new Set<number>()
  let mandatory: number[] = []
  for (let pos = target.end, last = -1; pos < end; ) {
    const key = u16(msg, pos)
    const at = pos + 4
    const next = at + u16(msg, pos + 2)
    if (at > end || next > end || key <= last || !valueValid(key, msg, at, next)) return undefined
    if (key === MANDATORY) mandatory = keysIn(msg, at, next)
    parts.push(next === at ? keyName(key) : `${keyName(key)}=${valueText(key, msg, at, next)}`)
    keys.add(key)
    last = key
    pos = next
  }
  return ruleBroken(keys, mandatory) ? undefined : parts.join(' ')
}

/** The codec for `type` (SVCB or HTTPS): the same form, errors naming that type. */
export function serviceBinding(type: number): RdataCodec {
  const fail: Fail = (token, why) => rdataError(type, token, why)
  return { fromText: (tokens, origin) => fromText(tokens, origin, fail), toText }
}

export const svcb = serviceBinding(Type.SVCB)
export const https = serviceBinding(Type.HTTPS)

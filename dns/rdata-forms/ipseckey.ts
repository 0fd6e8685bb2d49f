// IPSECKEY (RFC 4025) as BIND 9.18 reads and prints it, and its gateway field,
// which AMTRELAY's relay copies (RFC 8777 section 4.2): type 0 none, 1 IPv4,
// 2 IPv6, 3 an uncompressed name.

import { Type } from '../constants.ts'
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../ip.ts'
import { expandName, nameToWire, wireToText } from '../name.ts'
import type { Token } from '../rdata.ts'
import type { RdataCodec } from './codec.ts'
import { rdataError } from './rdata-error.ts'

const GATEWAY_WHAT = ['. (no gateway)', 'an IPv4 address', 'an IPv6 address', 'a domain name']

/** Gateway of `kind` (0-3) from its token; BIND takes no quoted token here. */
export function gatewayFromText(
  type: number,
  kind: number,
  tok: Token | undefined,
  origin: Buffer,
): Buffer {
  const fail = (why = `expected ${GATEWAY_WHAT[kind]}`) => rdataError(type, tok?.text, why)
  if (tok === undefined || tok.quoted) throw fail()
  const text = tok.text
  if (kind === 3) {
    if (text === '@') return origin
    try {
      return nameToWire(text, origin)
    } catch (err) {
      throw fail(`expected ${GATEWAY_WHAT[kind]} (${(err as Error).message})`)
    }
  }
  const bytes =
    kind === 0 ? (text === '.' ? [] : undefined) : (kind === 1 ? parseIPv4 : parseIPv6)(text)
  if (bytes === undefined) throw fail()
  return Buffer.from(bytes)
}

/** Where the gateway of `kind` starting at msg[at] ends; -1 when it does not fit or is compressed. */
export function gatewayEnd(kind: number, msg: Uint8Array, at: number, end: number): number {
  if (kind !== 3) {
    const next = at + [0, 4, 16][kind]
    return next <= end ? next : -1
  }
  const name = expandName(msg, at, end)
  return name && name.wire.length === name.end - at ? name.end : -1
}

export function gatewayText(kind: number, msg: Uint8Array, at: number): string {
  switch (kind) {
    case 0:
      return '.'
    case 1:
      return formatIPv4(msg, at)
    case 2:
      return ipv6Text(msg, at)
    default:
      return wireToText(msg, at)
  }
}

/**
 * IPv6 as BIND prints it (glibc inet_ntop): RFC 5952, except that the
 * IPv4-compatible and IPv4-mapped forms end in a dotted quad.
 */
export function ipv6Text(b: Uint8Array, at: number): string {
  let zeros = 0
  while (zeros < 8 && b[at + zeros * 2] === 0 && b[at + zeros * 2 + 1] === 0) zeros++
  if (zeros === 6) return `::${formatIPv4(b, at + 12)}`
  if (zeros === 5 && b[at + 10] === 0xff && b[at + 11] === 0xff)
    return `::ffff:${formatIPv4(b, at + 12)}`
  return formatIPv6(b, at)
}

function uint(tok: Token | undefined, max: number, what: string): number {
  if (tok && !tok.quoted && /^\d+$/.test(tok.text) && Number(tok.text) <= max)
    return Number(tok.text)
  throw rdataError(Type.IPSECKEY, tok?.text, `expected ${what}`)
}

/** BIND splits the key into words of 56 characters, whatever the style's width. */
const KEY_WORD = /.{1,56}/g

export const ipseckey: RdataCodec = {
  fromText(tokens, origin) {
    const precedence = uint(tokens[0], 0xff, 'a precedence from 0 to 255')
    const kind = uint(tokens[1], 3, 'a gateway type: 0 (none), 1 (IPv4), 2 (IPv6) or 3 (name)')
    const algorithm = uint(tokens[2], 0xff, 'an algorithm from 0 to 255')
    const gateway = gatewayFromText(Type.IPSECKEY, kind, tokens[3], origin)
    const keyTokens = tokens.slice(4)
    const quoted = keyTokens.find((t) => t.quoted)
    // BIND 9.18 wants a key although RFC 4025 lets it be absent.
    if (keyTokens.length === 0 || quoted)
      throw rdataError(Type.IPSECKEY, quoted?.text, 'expected a base64 public key')
    const text = keyTokens.map((t) => t.text).join('')
    const key = Buffer.from(text, 'base64')
    // Re-encoding catches what Node's decoder lets through: bad characters,
    // missing padding, nonzero bits after the last octet.
    if (key.toString('base64') !== text)
      throw rdataError(Type.IPSECKEY, text, 'expected a base64 public key')
    return Buffer.concat([Buffer.of(precedence, kind, algorithm), gateway, key])
  },

  toText(msg, start, end) {
    const kind = msg[start + 1]
    if (end - start < 3 || kind > 3) return undefined
    const keyStart = gatewayEnd(kind, msg, start + 3, end)
    if (keyStart < 0 || keyStart >= end) return undefined
    const key = Buffer.from(msg.subarray(keyStart, end)).toString('base64')
    const head = `${msg[start]} ${kind} ${msg[start + 2]} ${gatewayText(kind, msg, start + 3)}`
    return `${head} ${key.match(KEY_WORD)!.join(' ')}`
  },
}

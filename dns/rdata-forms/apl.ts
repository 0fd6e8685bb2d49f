// APL records (RFC 3123): address prefix lists `[!]afi:address/prefix ...` to wire and
// back, as BIND 9.18 reads and prints them (families 1, IPv4, and 2, IPv6).

import { Type } from '../constants.ts'
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../ip.ts'
import type { Token } from '../rdata.ts'
import type { RdataCodec } from './codec.ts'
import { rdataError } from './rdata-error.ts'

interface Family {
  name: string
  octets: number
  parse(text: string): Uint8Array | undefined
  format(address: Uint8Array): string
}

const FAMILIES = new Map<number, Family>([
  [1, { name: 'IPv4', octets: 4, parse: parseIPv4, format: formatIPv4 }],
  [2, { name: 'IPv6', octets: 16, parse: parseIPv6, format: formatIPv6AsBind }],
])

const NEGATED = 0x80

/**
 * IPv6 as glibc's inet_ntop writes it, which BIND prints with: RFC 5952, except
 * that `::a.b.c.d` and `::ffff:a.b.c.d` keep the IPv4 address dotted.
 */
function formatIPv6AsBind(b: Uint8Array): string {
  if (b.subarray(0, 10).every((x) => x === 0)) {
    if (b[10] === 0xff && b[11] === 0xff) return `::ffff:${formatIPv4(b, 12)}`
    if (b[10] === 0 && b[11] === 0 && (b[12] !== 0 || b[13] !== 0)) return `::${formatIPv4(b, 12)}`
  }
  return formatIPv6(b)
}

/**
 * `[!]afi:address/prefix`: the afi as C's strtoul reads it (a sign allowed), the
 * address up to the first `/`, the prefix digits only.
 */
const ITEM = /^(!?)([+-]?\d+)?:([^/]*)\/(.*)$/

function item(token: Token): Buffer {
  const fail = (why: string) => rdataError(Type.APL, token.text, why)
  const form = 'expected [!]afi:address/prefix'
  const m = token.quoted ? null : ITEM.exec(token.text)
  if (!m || m[3] === '') throw fail(form)
  // strtoul wraps a negative afi to a huge number (-0 stays 0), out of range like 65536.
  const afi = Number(m[2] ?? 0)
  if (afi < 0 || afi > 0xffff) throw fail(`${form}, afi from 0 to 65535`)
  if (!/^\d+$/.test(m[4]) || Number(m[4]) > 0xff) throw fail(`${form}, the prefix in digits`)
  const family = FAMILIES.get(afi)
  if (!family) throw fail('expected address family 1 (IPv4) or 2 (IPv6)')
  const address = family.parse(m[3])
  if (!address) throw fail(`expected an ${family.name} address`)
  const prefix = Number(m[4])
  if (prefix > family.octets * 8) throw fail(`expected a prefix from 0 to ${family.octets * 8}`)
  let length = address.length
  while (length > 0 && address[length - 1] === 0) length--
  const wire = Buffer.alloc(4 + length)
  wire.writeUInt16BE(afi, 0)
  wire[2] = prefix
  wire[3] = length | (m[1] === '!' ? NEGATED : 0)
  wire.set(address.subarray(0, length), 4)
  return wire
}

function fromText(tokens: readonly Token[]): Buffer {
  return Buffer.concat(tokens.map(item))
}

/** One item at msg[at..end) as text, and where the next starts; undefined when malformed. */
function itemText(msg: Uint8Array, at: number, end: number): [string, number] | undefined {
  if (end - at < 4) return undefined
  const afi = (msg[at] << 8) | msg[at + 1]
  const prefix = msg[at + 2]
  const length = msg[at + 3] & 0x7f
  const from = at + 4
  const family = FAMILIES.get(afi)
  // BIND stores other families but cannot print them: it writes the record as `\#`.
  if (!family || prefix > family.octets * 8 || length > family.octets) return undefined
  if (length > end - from || (length > 0 && msg[from + length - 1] === 0)) return undefined
  const address = new Uint8Array(family.octets)
  address.set(msg.subarray(from, from + length))
  const bang = msg[at + 3] & NEGATED ? '!' : ''
  return [`${bang}${afi}:${family.format(address)}/${prefix}`, from + length]
}

function toText(msg: Uint8Array, start: number, end: number): string | undefined {
  const items: string[] = []
  for (let at = start; at < end; ) {
    const next = itemText(msg, at, end)
    if (!next) return undefined
    items.push(next[0])
    at = next[1]
  }
  return items.join(' ')
}

export const apl: RdataCodec = { fromText, toText }

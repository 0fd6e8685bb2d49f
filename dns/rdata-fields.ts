// The field list of each record type with a plain presentation form, and the
// walk over rdata in wire form that reads a type's fields one by one (rdata.ts).

import { Type } from './constants.ts'
import { expandName } from './name.ts'
import { type ExtraField, extraEnd } from './rdata-forms/extra-fields.ts'
import { bitmapToTypes } from './rdata-forms/type-bitmap.ts'

export type Field =
  | 'ipv4'
  | 'ipv6'
  | 'name' // compressible (RFC 1035 types only, RFC 3597 section 4)
  | 'plain-name' // never compressed
  | 'u8'
  | 'u16'
  | 'u32'
  | 'ttl' // u32 that accepts TTL units (SOA timers)
  | 'string' // one character-string
  | 'strings' // one or more character-strings to the end
  | 'tag' // CAA tag: a length-prefixed token
  | 'rest' // CAA value: raw bytes to the end, quoted in text
  | 'hex' // hex bytes to the end
  | ExtraField
  | 'base64-or-dash' // base64 to the end, `-` for none (DOA)
  | 'bitmap' // NSEC type bitmap to the end, as type mnemonics
  | 'nsap' // bytes to the end written 0x<hex>, dots allowed
  | 'uri' // bytes to the end written as one quoted string (URI target)
  | 'string-opt' // an optional last character-string (ISDN subaddress)

const KEY: readonly Field[] = ['u16', 'u8', 'alg', 'base64']

const DIGEST: readonly Field[] = ['u16', 'alg', 'u8', 'hex']

const SIGNATURE: readonly Field[] = [
  'type',
  'alg',
  'u8',
  'u32',
  'time',
  'time',
  'u16',
  'plain-name',
  'base64',
]

const CERTIFICATE_ASSOCIATION: readonly Field[] = ['u8', 'u8', 'u8', 'hex']

export const FIELDS = new Map<number, readonly Field[]>([
  [Type.A, ['ipv4']],
  [Type.AAAA, ['ipv6']],
  [Type.NS, ['name']],
  [Type.CNAME, ['name']],
  [Type.PTR, ['name']],
  // MD and MF parse only to be refused as BIND refuses them (rdata-forms/checks.ts).
  [Type.MD, ['name']],
  [Type.MF, ['name']],
  [Type.MB, ['name']],
  [Type.MG, ['name']],
  [Type.MR, ['name']],
  [Type.MINFO, ['name', 'name']],
  [Type.DNAME, ['plain-name']],
  [Type.MX, ['u16', 'name']],
  [Type.SOA, ['name', 'name', 'u32', 'ttl', 'ttl', 'ttl', 'ttl']],
  [Type.TXT, ['strings']],
  [Type.SPF, ['strings']],
  [Type.NINFO, ['strings']],
  [Type.AVC, ['strings']],
  [Type.HINFO, ['string', 'string']],
  [Type.RP, ['plain-name', 'plain-name']],
  [Type.AFSDB, ['u16', 'plain-name']],
  [Type.RT, ['u16', 'plain-name']],
  [Type.KX, ['u16', 'plain-name']],
  [Type.LP, ['u16', 'plain-name']],
  [Type.PX, ['u16', 'plain-name', 'plain-name']],
  [Type.TALINK, ['plain-name', 'plain-name']],
  [Type['NSAP-PTR'], ['plain-name']],
  [Type.X25, ['string']],
  [Type.ISDN, ['string', 'string-opt']],
  [Type.GPOS, ['string', 'string', 'string']],
  [Type.NSAP, ['nsap']],
  [Type.EID, ['hex']],
  [Type.NIMLOC, ['hex']],
  [Type.SRV, ['u16', 'u16', 'u16', 'plain-name']],
  [Type.NAPTR, ['u16', 'u16', 'string', 'string', 'string', 'plain-name']],
  [Type.CAA, ['u8', 'tag', 'rest']],
  [Type.URI, ['u16', 'u16', 'uri']],
  [Type.SSHFP, ['u8', 'u8', 'hex']],
  [Type.TLSA, CERTIFICATE_ASSOCIATION],
  [Type.SMIMEA, CERTIFICATE_ASSOCIATION],
  [Type.DS, DIGEST],
  [Type.CDS, DIGEST],
  [Type.TA, DIGEST],
  [Type.DLV, DIGEST],
  [Type.DNSKEY, KEY],
  [Type.CDNSKEY, KEY],
  [Type.KEY, KEY],
  [Type.RRSIG, SIGNATURE],
  [Type.SIG, SIGNATURE],
  [Type.NSEC, ['plain-name', 'bitmap']],
  [Type.NSEC3, ['u8', 'u8', 'u16', 'salt', 'b32hex', 'bitmap']],
  [Type.NSEC3PARAM, ['u8', 'u8', 'u16', 'salt']],
  [Type.CSYNC, ['u32', 'u16', 'bitmap']],
  [Type.ZONEMD, ['u32', 'u8', 'u8', 'hex']],
  [Type.CERT, ['cert-type', 'u16', 'cert-alg', 'base64']],
  [Type.DHCID, ['base64']],
  [Type.OPENPGPKEY, ['base64']],
  [Type.SINK, ['u8', 'u8', 'u8', 'base64']],
  [Type.DOA, ['u32', 'u32', 'u8', 'string', 'base64-or-dash']],
  [Type.EUI48, ['eui48']],
  [Type.EUI64, ['eui64']],
  [Type.L32, ['u16', 'ipv4']],
  [Type.L64, ['u16', 'l64']],
  [Type.NID, ['u16', 'l64']],
])

/**
 * Walks the fields of rdata at msg[start..end); names may be compressed when the
 * data sits in a message, never in stored (`uncompressed`) data. Calls `visit`
 * with each field's kind and start; false when the data does not fit.
 */
export function walk(
  fields: readonly Field[],
  msg: Uint8Array,
  start: number,
  end: number,
  visit: (field: Field, at: number, next: number) => void,
  uncompressed = false,
): boolean {
  let pos = start
  for (const field of fields) {
    let next: number
    switch (field) {
      case 'ipv4':
        next = pos + 4
        break
      case 'ipv6':
        next = pos + 16
        break
      case 'u8':
        next = pos + 1
        break
      case 'u16':
        next = pos + 2
        break
      case 'u32':
      case 'ttl':
        next = pos + 4
        break
      case 'name':
      case 'plain-name': {
        const name = expandName(msg, pos, end)
        if (!name || (uncompressed && name.wire.length !== name.end - pos)) return false
        next = name.end
        break
      }
      case 'string':
      case 'tag':
        next = pos < end ? pos + 1 + msg[pos] : end + 1
        break
      case 'strings':
        if (pos >= end) return false
        next = pos
        while (next < end) next += 1 + msg[next]
        break
      case 'rest':
      case 'hex':
      case 'base64-or-dash':
      case 'nsap':
      case 'uri':
        next = end
        break
      case 'bitmap':
        if (bitmapToTypes(msg, pos, end) === undefined) return false
        next = end
        break
      case 'string-opt':
        next = pos === end ? end : pos + 1 + msg[pos]
        break
      default:
        next = extraEnd(field, msg, pos, end)
    }
    if (next > end) return false
    visit(field, pos, next)
    pos = next
  }
  return pos === end
}

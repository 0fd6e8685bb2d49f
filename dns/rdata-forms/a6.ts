// A6 (RFC 2874, historic): a prefix length, the address bits after the prefix
// (as an IPv6 address whose leading bits are ignored), and the prefix's name.

import { Type } from '../constants.ts'
import { formatIPv6, parseIPv6 } from '../ip.ts'
import { expandName, nameToWire, wireToText } from '../name.ts'
import type { RdataCodec } from './codec.ts'
import { rdataError } from './rdata-error.ts'

/** Octets of address suffix an A6 with prefix length `prefix` carries. */
const suffixOctets = (prefix: number) => 16 - (prefix >> 3)

export const a6: RdataCodec = {
  fromText(tokens, origin) {
    const [lengthTok, ...rest] = tokens
    if (!lengthTok || !/^\d+$/.test(lengthTok.text) || Number(lengthTok.text) > 128)
      throw rdataError(Type.A6, lengthTok?.text, 'expected a prefix length from 0 to 128')
    const prefix = Number(lengthTok.text)
    const parts: Buffer[] = [Buffer.of(prefix)]
    let t = 0
    if (prefix < 128) {
      const tok = rest[t++]
      const address = tok && parseIPv6(tok.text)
      if (!address) throw rdataError(Type.A6, tok?.text, 'expected an IPv6 address suffix')
      const suffix = Buffer.from(address.subarray(16 - suffixOctets(prefix)))
      // The bits that belong to the prefix are not sent.
      if (prefix & 7) suffix[0] &= 0xff >> (prefix & 7)
      parts.push(suffix)
    }
    if (prefix > 0) {
      const tok = rest[t++]
      if (!tok) throw rdataError(Type.A6, undefined, 'expected the prefix name')
      try {
        parts.push(tok.text === '@' ? origin : nameToWire(tok.text, origin))
      } catch (err) {
        throw rdataError(Type.A6, tok.text, (err as Error).message)
      }
    }
    if (t < rest.length) throw rdataError(Type.A6, rest[t].text, 'unexpected extra data')
    return Buffer.concat(parts)
  },

  toText(msg, start, end) {
    if (start >= end || msg[start] > 128) return undefined
    const prefix = msg[start]
    const out = [String(prefix)]
    let pos = start + 1
    if (prefix < 128) {
      const octets = suffixOctets(prefix)
      if (pos + octets > end) return undefined
      const address = new Uint8Array(16)
      address.set(msg.subarray(pos, pos + octets), 16 - octets)
      out.push(formatIPv6(address, 0))
      pos += octets
    }
    if (prefix > 0) {
      const name = expandName(msg, pos, end)
      if (!name || name.wire.length !== name.end - pos) return undefined
      out.push(wireToText(name.wire))
      pos = name.end
    }
    return pos === end ? out.join(' ') : undefined
  },
}

// AMTRELAY (RFC 8777) as BIND 9.18 reads and prints it: precedence, the
// discovery-optional bit, the relay type and the relay (IPSECKEY's gateway field).

import { Type } from '../constants.ts'
import type { Token } from '../rdata.ts'
import type { RdataCodec } from './codec.ts'
import { gatewayEnd, gatewayFromText, gatewayText } from './ipseckey.ts'
import { rdataError } from './rdata-error.ts'

function uint(tok: Token | undefined, max: number, what: string): number {
  if (tok && !tok.quoted && /^\d+$/.test(tok.text) && Number(tok.text) <= max)
    return Number(tok.text)
  throw rdataError(Type.AMTRELAY, tok?.text, `expected ${what}`)
}

export const amtrelay: RdataCodec = {
  fromText(tokens, origin) {
    const precedence = uint(tokens[0], 0xff, 'a precedence from 0 to 255')
    const discovery = uint(tokens[1], 1, 'discovery-optional 0 or 1')
    const kind = uint(tokens[2], 0x7f, 'a relay type from 0 to 127')
    // Types 4-127 have no text form: BIND answers "not implemented".
    if (kind > 3)
      throw rdataError(Type.AMTRELAY, tokens[2].text, 'expected relay type 0, 1, 2 or 3')
    const relay = gatewayFromText(Type.AMTRELAY, kind, tokens[3], origin)
    if (tokens.length > 4)
      throw rdataError(Type.AMTRELAY, tokens[4].text, 'expected the end of the record')
    return Buffer.concat([Buffer.of(precedence, (discovery << 7) | kind), relay])
  },

  toText(msg, start, end) {
    const kind = msg[start + 1] & 0x7f
    // BIND keeps types 4-127 but can only print them as `\#`, which undefined asks for.
    if (end - start < 2 || kind > 3 || gatewayEnd(kind, msg, start + 2, end) !== end)
      return undefined
    return `${msg[start]} ${msg[start + 1] >> 7} ${kind} ${gatewayText(kind, msg, start + 2)}`
  },
}

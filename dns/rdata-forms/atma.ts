// ATMA (ATM Forum af-dans-0152): an ATM End System Address, as hex digits (AESA
// format 0) or as `+` and decimal digits (E.164 format 1).

import { Type } from '../constants.ts'
import type { RdataCodec } from './codec.ts'
import { rdataError } from './rdata-error.ts'

export const atma: RdataCodec = {
  fromText(tokens) {
    const [tok, extra] = tokens
    if (extra) throw rdataError(Type.ATMA, extra.text, 'unexpected extra data')
    const text = tok?.text.replaceAll('.', '') ?? ''
    if (/^\+\d+$/.test(text))
      return Buffer.concat([Buffer.of(1), Buffer.from(text.slice(1), 'latin1')])
    if (/^([0-9a-fA-F]{2})+$/.test(text))
      return Buffer.concat([Buffer.of(0), Buffer.from(text, 'hex')])
    throw rdataError(Type.ATMA, tok?.text, 'expected hexadecimal digits, or + and decimal digits')
  },

  toText(msg, start, end) {
    if (end - start < 2) return undefined
    const body = Buffer.from(msg.subarray(start + 1, end))
    if (msg[start] === 0) return body.toString('hex')
    if (msg[start] === 1 && /^\d+$/.test(body.toString('latin1')))
      return `+${body.toString('latin1')}`
    return undefined
  },
}

// HIP (RFC 8005) as BIND 9.18 reads and prints it: algorithm, HIT in hex, public
// key in base64 (one token each) and any number of rendezvous server names.

import { Type } from '../constants.ts'
import { expandName, nameToWire, wireToText } from '../name.ts'
import type { Token } from '../rdata.ts'
import type { RdataCodec } from './codec.ts'
import { rdataError } from './rdata-error.ts'

const bad = (tok: Token | undefined, why: string) => rdataError(Type.HIP, tok?.text, why)

/** BIND takes every HIP field as an unquoted token. */
function plain(tok: Token | undefined, what: string): string {
  if (tok === undefined || tok.quoted) throw bad(tok, `expected ${what}`)
  return tok.text
}

function algorithm(tok: Token | undefined): number {
  const what = 'a public key algorithm from 0 to 255'
  const text = plain(tok, what)
  if (!/^\d+$/.test(text) || Number(text) > 0xff) throw bad(tok, `expected ${what}`)
  return Number(text)
}

function hit(tok: Token | undefined): Buffer {
  const what = 'the HIT in hexadecimal, 1 to 255 octets'
  const text = plain(tok, what)
  if (!/^([0-9a-fA-F]{2}){1,255}$/.test(text)) throw bad(tok, `expected ${what}`)
  return Buffer.from(text, 'hex')
}

function publicKey(tok: Token | undefined): Buffer {
  const what = 'the public key in base64, at most 65535 octets'
  const text = plain(tok, what)
  const key = Buffer.from(text, 'base64')
  // Re-encoding catches what Node's decoder lets through: bad characters,
  // missing padding, nonzero bits after the last octet.
  if (key.toString('base64') !== text || key.length > 0xffff) throw bad(tok, `expected ${what}`)
  return key
}

function server(tok: Token, origin: Buffer): Buffer {
  const text = plain(tok, 'a rendezvous server name')
  if (text === '@') return origin
  try {
    return nameToWire(text, origin)
  } catch (err) {
    throw bad(tok, `expected a rendezvous server name (${(err as Error).message})`)
  }
}

export const hip: RdataCodec = {
  fromText(tokens, origin) {
    const alg = algorithm(tokens[0])
    const id = hit(tokens[1])
    const key = publicKey(tokens[2])
    const head = Buffer.of(id.length, alg, key.length >> 8, key.length & 0xff)
    const servers = tokens.slice(3).map((tok) => server(tok, origin))
    return Buffer.concat([head, id, key, ...servers])
  },

  toText(msg, start, end) {
    const hitEnd = start + 4 + msg[start]
    const keyEnd = hitEnd + ((msg[start + 2] << 8) | msg[start + 3])
    if (end - start < 4 || hitEnd === start + 4 || keyEnd === hitEnd || keyEnd > end)
      return undefined
    const parts = [
      String(msg[start + 1]),
      Buffer.from(msg.subarray(start + 4, hitEnd))
        .toString('hex')
        .toUpperCase(),
      Buffer.from(msg.subarray(hitEnd, keyEnd)).toString('base64'),
    ]
    for (let pos = keyEnd; pos < end; ) {
      const name = expandName(msg, pos, end)
      if (!name || name.wire.length !== name.end - pos) return undefined
      parts.push(wireToText(name.wire))
      pos = name.end
    }
    return parts.join(' ')
  },
}

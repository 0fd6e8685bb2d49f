// Record data: presentation tokens -> wire (zone files), wire -> presentation
// (reports, comparisons), driven by one field list per type. Types without a
// field list use the RFC 3597 generic form `\# length hex`.

import { Type, typeName } from './constants.ts'
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './ip.ts'
import { expandName, nameToWire, wireLength, wireToText } from './name.ts'
import { FIELDS, type Field, walk } from './rdata-fields.ts'
import { refusedRdata } from './rdata-forms/checks.ts'
import { CODECS } from './rdata-forms/codecs.ts'
import { base64, EXTRA_WHAT, extraFromText, extraToText } from './rdata-forms/extra-fields.ts'
import { rdataError as bad } from './rdata-forms/rdata-error.ts'
import { bitmapFromText, bitmapToText } from './rdata-forms/type-bitmap.ts'
import { parseTtl } from './ttl.ts'

/** A token of a zone file line: its raw text (escapes kept) and whether it was quoted. */
export interface Token {
  text: string
  quoted: boolean
}

/** Rdata in uncompressed wire form, with the offsets of the names a writer may compress. */
export interface Rdata {
  wire: Buffer
  names: readonly number[]
}

/** Shared by the many rdatas that hold no names (one array less per record). */
const NO_NAMES: readonly number[] = Object.freeze([])

/** Types whose zone-file form this parser knows (others need `\#`). */
export function hasTextForm(type: number): boolean {
  return FIELDS.has(type) || CODECS.has(type)
}

/** Parses a record's data tokens; relative names get `origin`. */
export function rdataFromText(type: number, tokens: readonly Token[], origin: Buffer): Rdata {
  if (tokens.length > 0 && tokens[0].text === '\\#' && !tokens[0].quoted) {
    return rdataFromWire(type, genericWire(type, tokens))
  }
  const codec = CODECS.get(type)
  if (codec) return checked(type, codec.fromText(tokens, origin), NO_NAMES, tokens[0]?.text)
  const fields = FIELDS.get(type)
  if (!fields) {
    throw bad(
      type,
      tokens[0]?.text,
      `no text form known for ${typeName(type)}; write it as \\# <length> <hex>`,
    )
  }
  const parts: Buffer[] = []
  const names: number[] = []
  let size = 0
  let t = 0
  const push = (b: Buffer) => {
    parts.push(b)
    size += b.length
  }
  const next = (what: string): Token => {
    const tok = tokens[t++]
    if (tok === undefined) throw bad(type, undefined, `expected ${what}`)
    return tok
  }
  /** The tokens left, joined (hex and base64 may be split over several). */
  const rest = (): string => {
    const text = tokens
      .slice(t)
      .map((x) => x.text)
      .join('')
    t = tokens.length
    return text
  }
  for (const field of fields) {
    switch (field) {
      case 'ipv4':
      case 'ipv6': {
        const tok = next(`an ${field === 'ipv4' ? 'IPv4' : 'IPv6'} address`)
        const bytes = field === 'ipv4' ? parseIPv4(tok.text) : parseIPv6(tok.text)
        if (!bytes)
          throw bad(type, tok.text, `expected an ${field === 'ipv4' ? 'IPv4' : 'IPv6'} address`)
        push(Buffer.from(bytes))
        break
      }
      case 'name':
      case 'plain-name': {
        const tok = next('a domain name')
        let wire: Buffer
        try {
          wire = tok.text === '@' ? origin : nameToWire(tok.text, origin)
        } catch (err) {
          throw bad(type, tok.text, (err as Error).message)
        }
        if (field === 'name') names.push(size)
        push(wire)
        break
      }
      case 'u8':
      case 'u16':
      case 'u32':
      case 'ttl': {
        const tok = next('a number')
        const max = field === 'u8' ? 0xff : field === 'u16' ? 0xffff : 0xffffffff
        const v =
          field === 'ttl'
            ? parseTtl(tok.text)
            : /^\d+$/.test(tok.text)
              ? Number(tok.text)
              : undefined
        if (v === undefined || v > max)
          throw bad(type, tok.text, `expected a number from 0 to ${max}`)
        const b = Buffer.alloc(field === 'u8' ? 1 : field === 'u16' ? 2 : 4)
        b.writeUIntBE(v, 0, b.length)
        push(b)
        break
      }
      case 'string':
        push(characterString(type, next('a character-string')))
        break
      case 'strings':
        if (t >= tokens.length) throw bad(type, undefined, 'expected at least one character-string')
        while (t < tokens.length) push(characterString(type, tokens[t++]))
        break
      case 'tag': {
        const tok = next('a property tag')
        if (!/^[A-Za-z0-9]{1,255}$/.test(tok.text))
          throw bad(type, tok.text, 'expected a tag of letters and digits')
        push(Buffer.concat([Buffer.of(tok.text.length), Buffer.from(tok.text, 'latin1')]))
        break
      }
      case 'rest':
        push(unescapeBytes(type, next('a value')))
        break
      case 'hex': {
        const text = rest()
        if (!/^([0-9a-fA-F]{2})+$/.test(text)) throw bad(type, text, 'expected hexadecimal digits')
        push(Buffer.from(text, 'hex'))
        break
      }
      case 'base64-or-dash':
        if (tokens[t]?.text === '-' && t === tokens.length - 1) {
          t++
          break
        }
        push(base64(type, rest()))
        break
      case 'bitmap':
        push(
          bitmapFromText(
            tokens.slice(t).map((x) => x.text),
            (m) => bad(type, m, 'expected a record type'),
          ),
        )
        t = tokens.length
        break
      case 'nsap': {
        const tok = next('an NSAP address (0x...)')
        const hex = tok.text.slice(2).replaceAll('.', '')
        if (!/^0x/i.test(tok.text) || !/^([0-9a-fA-F]{2})+$/.test(hex))
          throw bad(type, tok.text, 'expected 0x and an even number of hexadecimal digits')
        push(Buffer.from(hex, 'hex'))
        break
      }
      case 'uri':
        push(unescapeBytes(type, next('a quoted target URI')))
        break
      case 'string-opt':
        if (t < tokens.length) push(characterString(type, tokens[t++]))
        break
      default:
        push(extraFromText(type, field, next(EXTRA_WHAT[field]), rest))
    }
  }
  if (t < tokens.length) throw bad(type, tokens[t].text, 'unexpected extra data')
  const wire = Buffer.concat(parts, size)
  return checked(type, wire, names.length > 0 ? names : NO_NAMES, tokens[0]?.text)
}

/** `wire` as Rdata once it passes what BIND checks of parsed data; else throws naming `token`. */
function checked(
  type: number,
  wire: Buffer,
  names: readonly number[],
  token: string | undefined,
): Rdata {
  if (wire.length > 0xffff) throw bad(type, undefined, 'rdata longer than 65535 octets')
  const refused = refusedRdata(type, wire)
  if (refused !== undefined) throw bad(type, token, refused)
  return { wire, names }
}

function genericWire(type: number, tokens: readonly Token[]): Buffer {
  const lenTok = tokens[1]
  if (!lenTok || !/^\d+$/.test(lenTok.text))
    throw bad(type, lenTok?.text, 'expected the rdata length after \\#')
  const hex = tokens
    .slice(2)
    .map((x) => x.text)
    .join('')
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw bad(type, hex, 'expected hexadecimal digits')
  const wire = Buffer.from(hex, 'hex')
  if (wire.length !== Number(lenTok.text)) {
    throw bad(
      type,
      lenTok.text,
      `length says ${lenTok.text} but the hex holds ${wire.length} octets`,
    )
  }
  return wire
}

/** Validates uncompressed rdata of `type` and finds its compressible names. */
export function rdataFromWire(type: number, wire: Buffer): Rdata {
  const codec = CODECS.get(type)
  if (codec && codec.toText(wire, 0, wire.length) === undefined)
    throw bad(type, wire.toString('hex'), `not valid ${typeName(type)} data`)
  const fields = FIELDS.get(type)
  if (!fields) return { wire, names: NO_NAMES }
  const names: number[] = []
  const ok = walk(
    fields,
    wire,
    0,
    wire.length,
    (field, at) => {
      if (field === 'name') names.push(at)
    },
    true,
  )

  if (!ok) throw bad(type, wire.toString('hex'), `not valid ${typeName(type)} data`)
  const refused = refusedRdata(type, wire)
  if (refused !== undefined) throw bad(type, wire.toString('hex'), refused)
  return { wire, names: names.length > 0 ? names : NO_NAMES }
}

function characterString(type: number, tok: Token): Buffer {
  const bytes = unescapeBytes(type, tok)
  if (bytes.length > 255) throw bad(type, tok.text, 'character-string longer than 255 octets')
  return Buffer.concat([Buffer.of(bytes.length), bytes])
}

function unescapeBytes(type: number, tok: Token): Buffer {
  const out: number[] = []
  const s = tok.text
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i)
    if (ch !== 0x5c) {
      if (ch > 0xff) throw bad(type, s, 'characters outside Latin-1 must be escaped as \\DDD')
      out.push(ch)
      continue
    }
    const d = s.slice(i + 1, i + 4)
    if (/^\d{3}$/.test(d)) {
      if (Number(d) > 255) throw bad(type, s, `escape \\${d} is over 255`)
      out.push(Number(d))
      i += 3
    } else if (i + 1 < s.length) {
      out.push(s.charCodeAt(++i))
    } else {
      throw bad(type, s, 'dangling backslash')
    }
  }
  return Buffer.from(out)
}

/** Presentation form of rdata found at msg[start..end) of a message. */
export function rdataToText(type: number, msg: Uint8Array, start: number, end: number): string {
  const byCodec = CODECS.get(type)?.toText(msg, start, end)
  if (byCodec !== undefined) return byCodec
  const fields = FIELDS.get(type)
  const parts: string[] = []
  const ok =
    fields !== undefined &&
    walk(fields, msg, start, end, (field, at, next) => {
      // An empty optional string or type bitmap prints as nothing.
      const text = fieldText(field, msg, at, next)
      if (text !== '') parts.push(text)
    })
  if (ok) return parts.join(' ')
  const hex = Buffer.from(msg.subarray(start, end)).toString('hex')
  return `\\# ${end - start}${hex ? ` ${hex}` : ''}`
}

function fieldText(field: Field, msg: Uint8Array, at: number, next: number): string {
  switch (field) {
    case 'ipv4':
      return formatIPv4(msg, at)
    case 'ipv6':
      return formatIPv6(msg, at)
    case 'u8':
      return String(msg[at])
    case 'u16':
      return String((msg[at] << 8) | msg[at + 1])
    case 'u32':
    case 'ttl':
      return String(
        ((msg[at] << 24) | (msg[at + 1] << 16) | (msg[at + 2] << 8) | msg[at + 3]) >>> 0,
      )
    case 'name':
    case 'plain-name':
      return wireToText(expandName(msg, at)!.wire)
    case 'string':
    case 'rest':
      return quote(msg, field === 'string' ? at + 1 : at, next)
    case 'tag':
      return Buffer.from(msg.subarray(at + 1, next)).toString('latin1')
    case 'strings': {
      const out: string[] = []
      for (let p = at; p < next; p += 1 + msg[p]) out.push(quote(msg, p + 1, p + 1 + msg[p]))
      return out.join(' ')
    }
    case 'hex':
      return Buffer.from(msg.subarray(at, next)).toString('hex').toUpperCase()
    case 'base64-or-dash':
      return next === at ? '-' : Buffer.from(msg.subarray(at, next)).toString('base64')
    case 'bitmap':
      return bitmapToText(msg, at, next) ?? ''
    case 'nsap':
      return `0x${Buffer.from(msg.subarray(at, next)).toString('hex')}`
    case 'uri':
      return quote(msg, at, next)
    case 'string-opt':
      return next === at ? '' : quote(msg, at + 1, next)
    default:
      return extraToText(field, msg, at, next)
  }
}

function quote(msg: Uint8Array, from: number, to: number): string {
  let s = '"'
  for (let i = from; i < to; i++) {
    const b = msg[i]
    if (b === 0x22 || b === 0x5c) s += `\\${String.fromCharCode(b)}`
    else if (b < 0x20 || b > 0x7e) s += `\\${b.toString().padStart(3, '0')}`
    else s += String.fromCharCode(b)
  }
  return `${s}"`
}

/** Offset of the name a record points at (CNAME, NS, PTR, DNAME, MB, MX and kin, SRV target), or -1. */
export function targetOffset(type: number): number {
  switch (type) {
    case Type.CNAME:
    case Type.NS:
    case Type.PTR:
    case Type.DNAME:
    case Type.MB:
    case Type.MD:
    case Type.MF:
      return 0
    case Type.MX:
    case Type.KX:
    case Type.AFSDB:
    case Type.RT:
    case Type.LP:
      return 2
    case Type.SRV:
      return 6
    default:
      return -1
  }
}

/** The uncompressed target name inside stored rdata, for types that have one. */
export function targetName(type: number, wire: Buffer): Buffer | undefined {
  const at = targetOffset(type)
  return at < 0 ? undefined : wire.subarray(at, at + wireLength(wire, at))
}

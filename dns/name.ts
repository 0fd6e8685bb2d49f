// Domain names: presentation text <-> uncompressed wire form, case folding, and
// the label-wise hash that lets the hot path look a name up straight from a packet.

import { CutoverError } from '../common/cutover-error.ts'
import { MAX_LABEL_LENGTH, MAX_LABELS, MAX_NAME_LENGTH } from './constants.ts'

/** ASCII case folding table: only A-Z change (RFC 4343). */
export const LOWER = new Uint8Array(256)
for (let i = 0; i < 256; i++) LOWER[i] = i >= 0x41 && i <= 0x5a ? i + 0x20 : i

export const ROOT_WIRE = Buffer.from([0])

/**
 * Parses a presentation-form name (`www.example.com.`, escapes `\.` and `\DDD`).
 * A name without a trailing dot is relative and gets `origin` (wire form) appended;
 * with no origin it is an error. Returns the wire form, case preserved.
 */
export function nameToWire(text: string, origin?: Buffer): Buffer {
  if (text === '.') return ROOT_WIRE
  const out: number[] = []
  let label: number[] = []
  let absolute = false
  const endLabel = () => {
    if (label.length === 0) throw invalid(text, 'empty label')
    if (label.length > MAX_LABEL_LENGTH)
      throw invalid(text, `label longer than ${MAX_LABEL_LENGTH} octets`)
    out.push(label.length, ...label)
    label = []
  }
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (ch === 0x2e) {
      endLabel()
      if (i === text.length - 1) absolute = true
    } else if (ch === 0x5c) {
      const d = text.slice(i + 1, i + 4)
      if (/^\d{3}$/.test(d)) {
        const v = Number(d)
        if (v > 255) throw invalid(text, `escape \\${d} is over 255`)
        label.push(v)
        i += 3
      } else if (i + 1 < text.length) {
        label.push(text.charCodeAt(++i) & 0xff)
      } else {
        throw invalid(text, 'dangling backslash')
      }
    } else {
      if (ch > 0x7e || ch < 0x21)
        throw invalid(text, 'characters outside printable ASCII must be escaped as \\DDD')
      label.push(ch)
    }
  }
  if (!absolute) {
    if (label.length > 0) endLabel()
    if (!origin) throw invalid(text, 'relative name with no origin')
    for (const b of origin) out.push(b)
  } else {
    out.push(0)
  }
  if (out.length > MAX_NAME_LENGTH)
    throw invalid(text, `name longer than ${MAX_NAME_LENGTH} octets`)
  return Buffer.from(out)
}

function invalid(text: string, why: string): CutoverError {
  return new CutoverError('NAME_INVALID', `invalid domain name '${text}': ${why}`)
}

/** Presentation form of an uncompressed wire name starting at `offset` (with trailing dot). */
export function wireToText(wire: Uint8Array, offset = 0): string {
  let text = ''
  let pos = offset
  for (let len = wire[pos]; len > 0; len = wire[pos]) {
    for (let i = pos + 1; i <= pos + len; i++) text += escapeByte(wire[i])
    text += '.'
    pos += len + 1
  }
  return text === '' ? '.' : text
}

function escapeByte(b: number): string {
  if (b < 0x21 || b > 0x7e) return `\\${b.toString().padStart(3, '0')}`
  const ch = String.fromCharCode(b)
  return '.\\()";$@'.includes(ch) ? `\\${ch}` : ch
}

/** Wire form of a name taken as absolute whether or not it ends in a dot (config, CLI). */
export function fqdnWire(text: string): Buffer {
  return nameToWire(text.endsWith('.') ? text : `${text}.`)
}

/** The canonical key of a name taken as absolute: lowercase presentation form, trailing dot. */
export function nameKey(text: string): string {
  return wireToText(lowerWire(fqdnWire(text)))
}

export function lowerWire(wire: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(wire.length)
  for (let i = 0; i < wire.length; i++) out[i] = LOWER[wire[i]]
  return out
}

/** Length in octets of the uncompressed wire name at `offset`. */
export function wireLength(wire: Uint8Array, offset = 0): number {
  let pos = offset
  while (wire[pos] > 0) pos += wire[pos] + 1
  return pos + 1 - offset
}

/** Number of labels, not counting the root. */
export function labelCount(wire: Uint8Array): number {
  let n = 0
  for (let pos = 0; wire[pos] > 0; pos += wire[pos] + 1) n++
  return n
}

/** The wire name with its first label removed (the parent). */
export function parentWire(wire: Buffer): Buffer {
  return wire.subarray(wire[0] + 1)
}

/** Case-insensitive equality of two uncompressed wire names. */
export function wireEquals(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number): boolean {
  let i = aStart
  let j = bStart
  for (;;) {
    const len = a[i]
    if (len !== b[j]) return false
    if (len === 0) return true
    for (let k = 1; k <= len; k++) if (LOWER[a[i + k]] !== LOWER[b[j + k]]) return false
    i += len + 1
    j += len + 1
  }
}

/** Is `child` equal to or below `ancestor` (both uncompressed wire)? */
export function isSubdomain(child: Buffer, ancestor: Buffer): boolean {
  if (ancestor.length > child.length) return false
  const start = child.length - ancestor.length
  // The suffix must begin on a label boundary.
  let pos = 0
  while (pos < start) pos += child[pos] + 1
  return pos === start && wireEquals(child, start, ancestor, 0)
}

// Label-wise hashing. A name's hash folds its labels from the root up, so the
// hash of every suffix of a query name falls out of one pass over its labels:
// the hot path finds the zone, the closest encloser and the wildcard without
// building a string.

export const ROOT_HASH = 0x2f2f2f2f

/** Hash of one label (length octet and lowercased bytes) at `start`. */
export function labelHash(buf: Uint8Array, start: number): number {
  const len = buf[start]
  let h = 0x811c9dc5 ^ len
  for (let i = start + 1; i <= start + len; i++) h = Math.imul(h ^ LOWER[buf[i]], 0x01000193)
  return h
}

/** Hash of a name from the hash of its first label and the hash of its parent. */
export function joinHash(label: number, parent: number): number {
  let h = Math.imul(label ^ ((parent << 13) | (parent >>> 19)), 0x85ebca6b)
  h ^= h >>> 15
  return h & 0x3fffffff
}

export const WILDCARD_LABEL_HASH = labelHash(Uint8Array.of(1, 0x2a), 0)

/** A name as offsets of its labels in some buffer and the hash of each suffix (see QueryView). */
export interface LabeledName {
  labels: number
  labelStart: ArrayLike<number>
  suffixHash: ArrayLike<number>
}

/** Label offsets and suffix hashes of an uncompressed wire name, as the query reader computes them. */
export function labelName(wire: Uint8Array): LabeledName {
  const labelStart: number[] = []
  let pos = 0
  for (; wire[pos] > 0; pos += wire[pos] + 1) labelStart.push(pos)
  const labels = labelStart.length
  if (labels > MAX_LABELS) throw new CutoverError('NAME_INVALID', 'too many labels')
  labelStart.push(pos)
  const suffixHash = new Array<number>(labels + 1)
  suffixHash[labels] = ROOT_HASH
  for (let i = labels - 1; i >= 0; i--)
    suffixHash[i] = joinHash(labelHash(wire, labelStart[i]), suffixHash[i + 1])
  return { labels, labelStart, suffixHash }
}

/** Hash of an uncompressed wire name, equal to what the query reader computes. */
export function wireHash(wire: Uint8Array): number {
  return labelName(wire).suffixHash[0]
}

/**
 * Reads a possibly compressed name from a whole message at `offset`. Returns the
 * uncompressed wire form (case preserved) and the offset after the name in place,
 * or undefined for a malformed name: pointers must aim backwards and stay inside.
 */
export function expandName(
  msg: Uint8Array,
  offset: number,
  length = msg.length,
): { wire: Buffer; end: number } | undefined {
  const out: number[] = []
  let pos = offset
  let end = -1
  let floor = offset
  for (;;) {
    if (pos >= length) return undefined
    const len = msg[pos]
    if (len === 0) {
      out.push(0)
      if (end < 0) end = pos + 1
      break
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= length) return undefined
      const target = ((len & 0x3f) << 8) | msg[pos + 1]
      if (target >= floor) return undefined
      if (end < 0) end = pos + 2
      floor = target
      pos = target
      continue
    }
    if (len > MAX_LABEL_LENGTH || pos + len >= length) return undefined
    for (let i = pos; i <= pos + len; i++) out.push(msg[i])
    if (out.length >= MAX_NAME_LENGTH) return undefined
    pos += len + 1
  }
  return { wire: Buffer.from(out), end }
}

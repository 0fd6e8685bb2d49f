// The type bitmap of NSEC, NSEC3 and CSYNC (RFC 4034 section 4.1.2): type
// mnemonics to windowed bitmaps and back.

import { typeCode, typeName } from '../constants.ts'

/** The bitmap for `mnemonics` (TYPEnnn allowed); throws naming the first one that is no type. */
export function bitmapFromText(
  mnemonics: readonly string[],
  fail: (token: string) => Error,
): Buffer {
  const types = new Set<number>()
  for (const m of mnemonics) {
    const code = typeCode(m)
    if (code === undefined) throw fail(m)
    types.add(code)
  }
  return bitmapOf(types)
}

/** The bitmap listing `types`. */
export function bitmapOf(types: Iterable<number>): Buffer {
  const windows = new Map<number, Uint8Array>()
  for (const code of types) {
    const window = code >> 8
    let bits = windows.get(window)
    if (!bits) {
      bits = new Uint8Array(32)
      windows.set(window, bits)
    }
    bits[(code & 0xff) >> 3] |= 0x80 >> (code & 7)
  }
  const parts: number[] = []
  for (const window of [...windows.keys()].sort((a, b) => a - b)) {
    const bits = windows.get(window)!
    let length = 32
    while (bits[length - 1] === 0) length--
    parts.push(window, length, ...bits.subarray(0, length))
  }
  return Buffer.from(parts)
}

/** The types a bitmap at msg[start..end) lists; undefined when it is malformed. */
export function bitmapToTypes(msg: Uint8Array, start: number, end: number): number[] | undefined {
  const types: number[] = []
  let previous = -1
  for (let pos = start; pos < end; ) {
    if (pos + 2 > end) return undefined
    const window = msg[pos]
    const length = msg[pos + 1]
    if (window <= previous || length < 1 || length > 32 || pos + 2 + length > end) return undefined
    for (let i = 0; i < length; i++)
      for (let bit = 0; bit < 8; bit++)
        if (msg[pos + 2 + i] & (0x80 >> bit)) types.push((window << 8) | (i * 8 + bit))
    previous = window
    pos += 2 + length
  }
  return types
}

export function bitmapToText(msg: Uint8Array, start: number, end: number): string | undefined {
  return bitmapToTypes(msg, start, end)?.map(typeName).join(' ')
}

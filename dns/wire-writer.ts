// Builds DNS wire data with name compression. Used when answers are precomputed
// (zone load or change) and to encode whole messages off the hot path; the hot
// path only copies what this produced.
//
// A precomputed answer is written before the question it will follow is known,
// so a pointer may aim at three kinds of place:
//   - an absolute offset (the question name of a known query is at 12);
//   - a position inside the data being written, whose final offset is only known
//     when it is copied behind a question ("blob" mode, recorded as a fixup);
//   - a suffix of the question name, measured from its end ("tail", also a fixup).

import { MAX_NAME_LENGTH } from './constants.ts'
import { lowerWire, wireLength } from './name.ts'
import { type Rdata, targetOffset } from './rdata.ts'

export type PointerTarget = { kind: 'abs'; offset: number } | { kind: 'tail'; length: number }

/** The largest question a precomputed answer may follow: header + name + type + class. */
const MAX_QUESTION_END = 12 + MAX_NAME_LENGTH + 4

export class WireWriter {
  buf: Buffer
  pos = 0
  /** Where this data starts in the final message, or undefined when unknown (blob mode). */
  readonly #base: number | undefined
  readonly #dict = new Map<string, PointerTarget | { kind: 'blob'; at: number }>()
  readonly #fixups: number[] = []

  /** `into`: a buffer to write in (the caller's, reused), or the size of a new one. */
  constructor(base: number | undefined, into: Buffer | number = 65535) {
    this.#base = base
    this.buf = typeof into === 'number' ? Buffer.alloc(into) : into
  }

  /** Makes `wire` and its suffixes known as already present at `target`. */
  seed(wire: Buffer, target: PointerTarget): void {
    for (let i = 0; wire[i] > 0; i += wire[i] + 1) {
      const key = keyOf(wire, i)
      if (this.#dict.has(key) || (target.kind === 'abs' && target.offset + i > 0x3fff)) continue
      this.#dict.set(
        key,
        target.kind === 'abs'
          ? { kind: 'abs', offset: target.offset + i }
          : { kind: 'tail', length: target.length - i },
      )
    }
  }

  u8(v: number): void {
    this.buf[this.pos++] = v
  }

  u16(v: number): void {
    this.buf.writeUInt16BE(v, this.pos)
    this.pos += 2
  }

  u32(v: number): void {
    this.buf.writeUInt32BE(v >>> 0, this.pos)
    this.pos += 4
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos)
    this.pos += b.length
  }

  /** Writes an uncompressed wire name, compressing it against what came before when allowed. */
  name(wire: Buffer, compress = true): void {
    for (let i = 0; wire[i] > 0; i += wire[i] + 1) {
      const key = keyOf(wire, i)
      const known = compress ? this.#dict.get(key) : undefined
      if (known) {
        this.#pointer(known)
        return
      }
      if (compress) this.#remember(key)
      const len = wire[i]
      this.buf.set(wire.subarray(i, i + len + 1), this.pos)
      this.pos += len + 1
    }
    this.buf[this.pos++] = 0
  }

  /** Writes one resource record; `owner` undefined means "the question name" (offset 12). */
  record(owner: Buffer | undefined, type: number, klass: number, ttl: number, rdata: Rdata): void {
    if (owner === undefined) this.u16(0xc00c)
    else this.name(owner)
    this.u16(type)
    this.u16(klass)
    this.u32(ttl)
    const lengthAt = this.pos
    this.pos += 2
    let from = 0
    for (const at of rdata.names) {
      this.bytes(rdata.wire.subarray(from, at))
      const end = at + wireLength(rdata.wire, at)
      this.name(rdata.wire.subarray(at, end))
      from = end
    }
    if (from === 0) {
      // A name that may not be compressed (a DNAME's or SRV's target) may still
      // be pointed at by later names, as BIND does: it keeps large DNAME answers in 512 octets.
      const target = targetOffset(type)
      if (target >= 0) this.#rememberName(rdata.wire, target, this.pos + target)
    }
    this.bytes(rdata.wire.subarray(from))
    this.buf.writeUInt16BE(this.pos - lengthAt - 2, lengthAt)
  }

  /** Makes the name at `wire[from]` and its suffixes known as written at position `at`. */
  #rememberName(wire: Buffer, from: number, at: number): void {
    for (let i = from; wire[i] > 0; i += wire[i] + 1) this.#remember(keyOf(wire, i), at + i - from)
  }

  /** The bytes written, copied out. */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos))
  }

  /**
   * Pointer fixups for blob mode as pairs (position, target): target >= 0 is a
   * position inside the blob, target < 0 is a question-name suffix of -target octets.
   */
  fixups(): Int32Array {
    return this.#fixups.length > 0 ? Int32Array.from(this.#fixups) : NO_FIXUPS
  }

  #remember(key: string, at = this.pos): void {
    if (this.#dict.has(key)) return
    const limit = this.#base === undefined ? at + MAX_QUESTION_END : this.#base + at
    if (limit < 0x4000) this.#dict.set(key, { kind: 'blob', at })
  }

  #pointer(t: PointerTarget | { kind: 'blob'; at: number }): void {
    if (t.kind === 'abs') {
      this.u16(0xc000 | t.offset)
    } else if (t.kind === 'blob' && this.#base !== undefined) {
      this.u16(0xc000 | (this.#base + t.at))
    } else {
      this.#fixups.push(this.pos, t.kind === 'blob' ? t.at : -t.length)
      this.u16(0xc000)
    }
  }
}

/** Shared by the many answers that need no fixups. */
const NO_FIXUPS = new Int32Array(0)

function keyOf(wire: Buffer, from: number): string {
  return lowerWire(wire.subarray(from)).toString('latin1')
}

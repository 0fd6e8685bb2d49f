// A map from domain names to values that the hot path can query with a name
// still inside a received packet: keyed by the label-wise hash (see name.ts),
// confirmed by a case-insensitive byte compare. No string per lookup.

import { type LabeledName, wireEquals, wireHash } from './name.ts'

interface Entry<T> {
  wire: Buffer
  value: T
  next: Entry<T> | undefined
}

export class NameTable<T> {
  #buckets = new Map<number, Entry<T>>()
  #size = 0

  get size(): number {
    return this.#size
  }

  /** Finds the name that starts at `start` in `buf`, whose hash the caller computed. */
  lookup(buf: Uint8Array, start: number, hash: number): T | undefined {
    for (let e = this.#buckets.get(hash); e !== undefined; e = e.next) {
      if (wireEquals(e.wire, 0, buf, start)) return e.value
    }
    return undefined
  }

  /** The value of the longest suffix of `name` (in `buf`) that is in the table: a name's zone. */
  enclosing(buf: Uint8Array, name: LabeledName): T | undefined {
    for (let i = 0; i <= name.labels; i++) {
      const found = this.lookup(buf, name.labelStart[i], name.suffixHash[i])
      if (found !== undefined) return found
    }
    return undefined
  }

  get(wire: Buffer): T | undefined {
    return this.lookup(wire, 0, wireHash(wire))
  }

  set(wire: Buffer, value: T): void {
    const hash = wireHash(wire)
    const head = this.#buckets.get(hash)
    for (let e = head; e !== undefined; e = e.next) {
      if (wireEquals(e.wire, 0, wire, 0)) {
        e.value = value
        return
      }
    }
    this.#buckets.set(hash, { wire, value, next: head })
    this.#size++
  }

  delete(wire: Buffer): boolean {
    const hash = wireHash(wire)
    let prev: Entry<T> | undefined
    for (let e = this.#buckets.get(hash); e !== undefined; prev = e, e = e.next) {
      if (!wireEquals(e.wire, 0, wire, 0)) continue
      if (prev) prev.next = e.next
      else if (e.next) this.#buckets.set(hash, e.next)
      else this.#buckets.delete(hash)
      this.#size--
      return true
    }
    return false
  }

  *values(): IterableIterator<T> {
    for (const head of this.#buckets.values()) {
      for (let e: Entry<T> | undefined = head; e !== undefined; e = e.next) yield e.value
    }
  }
}

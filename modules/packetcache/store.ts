// The packet cache's storage: entries by question name (looked up from the
// packet) and a small key (type and flag bits), in one LRU list, bounded in
// entries and in bytes.

import type { LabeledName } from '../../dns/name.ts'
import { NameTable } from '../../dns/name-table.ts'

export interface Entry {
  /** The stored response, options stripped, ID and question to be replaced per hit. */
  response: Buffer
  /** Offsets of the TTL fields to count down, and their values when stored. */
  ttlOffsets: Uint16Array
  ttls: Uint32Array
  storedAt: number
  expiresAt: number
  name: Buffer
  key: number
  prev: Entry | undefined
  next: Entry | undefined
}

/** Bytes an entry costs beyond its response: the object, arrays and map slots. */
const ENTRY_OVERHEAD = 160

export class PacketStore {
  readonly #names = new NameTable<Map<number, Entry>>()
  readonly #maxEntries: number
  readonly #maxBytes: number
  // Least recently used at the head.
  #head: Entry | undefined
  #tail: Entry | undefined
  #entries = 0
  #bytes = 0

  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries
    this.#maxBytes = maxBytes
  }

  get entries(): number {
    return this.#entries
  }

  get bytes(): number {
    return this.#bytes
  }

  /** The entry for the name at `buf`'s question and `key`, marked most recently used. */
  find(buf: Uint8Array, name: LabeledName, key: number): Entry | undefined {
    const entry = this.#names.lookup(buf, name.labelStart[0], name.suffixHash[0])?.get(key)
    if (entry !== undefined && entry !== this.#tail) {
      this.#unlink(entry)
      this.#append(entry)
    }
    return entry
  }

  set(entry: Entry): void {
    const old = this.#names.get(entry.name)?.get(entry.key)
    // Deleting the old entry may drop the name's map: look it up only afterwards.
    if (old !== undefined) this.delete(old)
    let byKey = this.#names.get(entry.name)
    if (byKey === undefined) {
      byKey = new Map()
      this.#names.set(entry.name, byKey)
    }
    byKey.set(entry.key, entry)

    this.#append(entry)
    this.#entries++
    this.#bytes += entry.response.length + ENTRY_OVERHEAD
    while ((this.#entries > this.#maxEntries || this.#bytes > this.#maxBytes) && this.#head)
      this.delete(this.#head)
  }

  delete(entry: Entry): void {
    const byKey = this.#names.get(entry.name)
    if (byKey?.get(entry.key) !== entry) return
    byKey.delete(entry.key)
    if (byKey.size === 0) this.#names.delete(entry.name)
    this.#unlink(entry)
    this.#entries--
    this.#bytes -= entry.response.length + ENTRY_OVERHEAD
  }

  #append(e: Entry): void {
    e.prev = this.#tail
    e.next = undefined
    if (this.#tail) this.#tail.next = e
    else this.#head = e
    this.#tail = e
  }

  #unlink(e: Entry): void {
    if (e.prev) e.prev.next = e.next
    else this.#head = e.next
    if (e.next) e.next.prev = e.prev
    else this.#tail = e.prev
    e.prev = e.next = undefined
  }
}

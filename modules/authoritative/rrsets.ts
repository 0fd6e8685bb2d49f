// A node's RRsets by type. Most names hold one or two types, and a zone may
// hold millions of names: a short array scanned in order costs a quarter of
// the memory of a Map per name, and a scan of one or two entries is no slower
// than hashing.

import type { RRset } from './zone.ts'

export class RRsets {
  #list: RRset[] = []

  get size(): number {
    return this.#list.length
  }

  get(type: number): RRset | undefined {
    for (const rrset of this.#list) if (rrset.type === type) return rrset
    return undefined
  }

  has(type: number): boolean {
    return this.get(type) !== undefined
  }

  /** Adds `rrset`, replacing the one of its type if there is one. */
  set(rrset: RRset): void {
    const at = this.#list.findIndex((r) => r.type === rrset.type)
    // A copy of the exact size: `push` and spread would reserve room for 16 more.
    if (at < 0) this.#list = this.#list.concat(rrset)
    else this.#list[at] = rrset
  }

  delete(type: number): void {
    const at = this.#list.findIndex((r) => r.type === type)
    if (at >= 0) this.#list.splice(at, 1)
  }

  types(): number[] {
    return this.#list.map((r) => r.type)
  }

  values(): readonly RRset[] {
    return this.#list
  }
}

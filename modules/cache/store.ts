// The cache's storage: stored responses by key, each key holding its Vary
// variants newest first, in one least-recently-used order bounded in bytes.

import type { HeaderList } from '../../common/header-list.ts'
import type { Entry } from './entry.ts'
import { varyMatches } from './vary.ts'

/** Variants kept per key: a response varying on User-Agent must not make lookups slow. */
const MAX_VARIANTS = 16

export class CacheStore {
  // A Map's insertion order is the LRU order: least recently used first.
  readonly #keys = new Map<string, Entry[]>()
  readonly #maxBytes: number
  #bytes = 0

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  get bytes(): number {
    return this.#bytes
  }

  /** The variant at `key` that `request` selects, marked most recently used. */
  find(key: string, request: HeaderList): Entry | undefined {
    const variants = this.#keys.get(key)
    if (variants === undefined) return undefined
    for (const entry of variants) {
      if (!varyMatches(request, entry.varyNames, entry.varyValues)) continue
      this.#keys.delete(key)
      this.#keys.set(key, variants)
      return entry
    }
    return undefined
  }

  /** Stores `entry` in place of the variants `request` (the one it answered) would select. */
  set(entry: Entry, request: HeaderList): void {
    const old = this.#keys.get(entry.key) ?? []
    this.#keys.delete(entry.key)
    const variants = [entry]
    let delta = entry.bytes
    for (const v of old) {
      if (variants.length < MAX_VARIANTS && !varyMatches(request, v.varyNames, v.varyValues)) {
        variants.push(v)
      } else {
        delta -= v.bytes
      }
    }
    this.#keys.set(entry.key, variants)
    this.#resize(delta)
    for (const [key, oldest] of this.#keys) {
      if (this.#bytes <= this.#maxBytes) break
      this.#drop(key, oldest)
    }
  }

  /** Forgets every variant at `key` (after an unsafe request to it, RFC 9111 4.4). */
  delete(key: string): void {
    const variants = this.#keys.get(key)
    if (variants !== undefined) this.#drop(key, variants)
  }

  /** Forgets `entry` if it is still stored. */
  remove(entry: Entry): void {
    const variants = this.#keys.get(entry.key)
    const i = variants === undefined ? -1 : variants.indexOf(entry)
    if (i < 0) return
    if (variants!.length === 1) {
      this.#keys.delete(entry.key)
    } else {
      variants!.splice(i, 1)
    }
    this.#resize(-entry.bytes)
  }

  #drop(key: string, variants: Entry[]): void {
    this.#keys.delete(key)
    let freed = 0
    for (const v of variants) freed += v.bytes
    this.#resize(-freed)
  }

  #resize(delta: number): void {
    this.#bytes += delta
  }
}

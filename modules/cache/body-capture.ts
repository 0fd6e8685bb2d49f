// Collects a response body as it streams to the client and stores the response
// once the body has arrived whole and within the size limit.

import type { HeaderList } from '../../common/header-list.ts'
import type { BodyTap } from '../http-module.ts'
import { type Entry, withBody } from './entry.ts'
import type { CacheStore } from './store.ts'

export class BodyCapture implements BodyTap {
  readonly #store: CacheStore
  readonly #entry: Entry
  readonly #request: HeaderList
  readonly #limit: number
  // undefined once the body is known not to be stored.
  #chunks: Buffer[] | undefined = []
  #size = 0

  /** Stores `entry` (whose body is empty so far), chosen by `request`, if the body fits `limit`. */
  constructor(store: CacheStore, entry: Entry, request: HeaderList, limit: number) {
    this.#store = store
    this.#entry = entry
    this.#request = request
    this.#limit = limit
  }

  chunk(data: Buffer): void {
    if (this.#chunks === undefined) return
    this.#size += data.length
    if (this.#size > this.#limit) this.#chunks = undefined
    else this.#chunks.push(data)
  }

  end(): void {
    if (this.#chunks === undefined) return
    const body = Buffer.concat(this.#chunks, this.#size)
    this.#chunks = undefined
    this.#store.set(withBody(this.#entry, body), this.#request)
  }

  abort(): void {
    this.#chunks = undefined
  }
}

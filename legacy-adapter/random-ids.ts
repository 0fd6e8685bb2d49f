// Unpredictable 16-bit query IDs, drawn from the system CSPRNG in batches so a
// forwarded query costs an array read, not a crypto call.

import { getRandomValues } from 'node:crypto'

export class RandomIds {
  readonly #pool = new Uint16Array(4096)
  #next = this.#pool.length

  next(): number {
    if (this.#next === this.#pool.length) {
      getRandomValues(this.#pool)
      this.#next = 0
    }
    return this.#pool[this.#next++]
  }
}

// Log lines gathered for a few milliseconds (or 64 KiB) and handed to their
// destination in one write, as nginx's `access_log ... buffer= flush=` does.
// sonic-boom measures its whole pending buffer on every write it is given and
// each write it makes wakes a thread, so at load a line per write cost more
// than making the line did.

import type { pino } from 'pino'

export type Destination = ReturnType<typeof pino.destination>

/** Past this many characters waiting, the batch is written at once rather than when its time is up. */
const MAX_BATCH = 64 * 1024
/** How long a line may wait for others: short enough that `tail -f` looks live. */
const FLUSH_MS = 20

export class LineBatch {
  readonly destination: Destination
  #pending = ''
  #scheduled = false

  constructor(destination: Destination) {
    this.destination = destination
  }

  /** Queues `line` (ending in a newline) for the batch's write. */
  write(line: string): void {
    this.#pending += line
    if (this.#pending.length >= MAX_BATCH) this.flush()
    else if (!this.#scheduled) {
      this.#scheduled = true
      setTimeout(this.#flushWhenDue, FLUSH_MS).unref()
    }
  }

  /** Hands every queued line to the destination now (before a reopen or an end). */
  flush(): void {
    if (this.#pending === '') return
    const lines = this.#pending
    this.#pending = ''
    this.destination.write(lines)
  }

  readonly #flushWhenDue = (): void => {
    this.#scheduled = false
    this.flush()
  }
}

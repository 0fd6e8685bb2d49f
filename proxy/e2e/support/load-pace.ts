// What the HTTP/2 and DNS-over-TLS loads of the restart tests share: their
// bounds, what a closed connection leaves to ask again, and the pace at which
// they ask.

/** A load stops asking by itself after this, if its test never stops it. */
export const LOAD_BOUND_MS = 300_000
/** A stream or DNS-over-TLS connection with nothing back for this long has failed. */
export const STALL_MS = 10_000
/** A request the server refused this many times in a row has failed; so have as many connections in a row that answered nothing. */
export const MAX_ATTEMPTS = 5

/** What one connection (or HTTP/2 session) left: the requests to ask again, and whether it answered any. */
export interface Spent<T> {
  left: T[]
  answered: boolean
}

/** How fast a load asks new requests, and whether it still does. */
export interface Pace {
  /** The test stopped the load, or LOAD_BOUND_MS passed: ask nothing new. */
  readonly stopping: boolean
  /** Takes a new request's turn; when this tenth of a second has none left, false, and `resume` runs at the next (or at the stop). */
  take(resume: () => void): boolean
  stop(): void
}

/**
 * `perSecond` turns a second, given out ten times a second. A paced load leaves
 * the CPU to the restarts (a load as fast as it can go doubles their time) and
 * still has requests in flight at every drain.
 */
export function pace(perSecond: number): Pace {
  const step = perSecond / 10
  let left = step
  let stopping = false
  const waiting = new Set<() => void>()
  const resumeAll = () => {
    const resumes = [...waiting]
    waiting.clear()
    for (const resume of resumes) resume()
  }
  const tick = setInterval(() => {
    left = step
    resumeAll()
  }, 100)
  const bound = setTimeout(() => stop(), LOAD_BOUND_MS)
  const stop = () => {
    stopping = true
    clearInterval(tick)
    clearTimeout(bound)
    resumeAll()
  }
  return {
    get stopping() {
      return stopping
    },
    take(resume) {
      if (left >= 1) {
        left--
        return true
      }
      waiting.add(resume)
      return false
    },
    stop,
  }
}

// How often workers crash, and how long to wait before replacing the next one:
// at once for the first three in a minute, then a pause that doubles with each
// crash beyond them (500 ms, 1 s, 2 s...), at most 30 s.

const WINDOW_MS = 60_000
const FREE_CRASHES = 3
const FIRST_PAUSE_MS = 250
const MAX_PAUSE_MS = 30_000

export interface CrashWindow {
  /** Counts a crash at `now`; returns how long to wait before replacing the worker. */
  crashed(now: number): number
  /** The crashes in the minute before `now`. */
  lastMinute(now: number): number
  /** Whether workers crash more often than a healthy proxy would (`/readyz` says so). */
  tooMany(now: number): boolean
}

export function crashWindow(): CrashWindow {
  const times: number[] = []
  const lastMinute = (now: number) => {
    while (times.length > 0 && times[0] < now - WINDOW_MS) times.shift()
    return times.length
  }
  return {
    crashed(now) {
      times.push(now)
      const n = lastMinute(now)
      return n <= FREE_CRASHES
        ? 0
        : Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (n - FREE_CRASHES))
    },
    lastMinute,
    tooMany: (now) => lastMinute(now) > FREE_CRASHES,
  }
}

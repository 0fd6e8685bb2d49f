// What the soak run reads from its samples: growth that stays, and the slope
// it prints.

export interface Sample {
  atS: number
  rssMiB: number
  fds: number
}

/**
 * Growth is what is still there when the run is warm: the lowest sample of the
 * last third against the middle third (the first third is warm-up: compiled
 * code, caches, pools). Memory against the middle's lowest: a leak lifts the
 * floor that garbage collection comes back to, and a collection not yet run
 * does not. Descriptors against the middle's median: a sample just after a
 * reload or restart finds pools and connections still being opened again
 * (310 open fell to 210 for a moment in one run), and the lowest would read
 * that dip as the level. Fails past 25 % resident or 10 descriptors more.
 */
export function growth(samples: Sample[], fail: (what: string) => void): void {
  const third = Math.floor(samples.length / 3)
  if (third === 0) return
  const floor = (xs: Sample[], pick: (s: Sample) => number) => Math.min(...xs.map(pick))
  const middle = samples.slice(third, 2 * third)
  const last = samples.slice(2 * third)
  const rss = [floor(middle, (s) => s.rssMiB), floor(last, (s) => s.rssMiB)]
  const fdsMiddle = middle.map((s) => s.fds).sort((a, b) => a - b)
  const fds = [fdsMiddle[Math.floor(fdsMiddle.length / 2)], floor(last, (s) => s.fds)]
  if (rss[1] > rss[0] * 1.25)
    fail(`resident memory grew from ${rss[0].toFixed(1)} to ${rss[1].toFixed(1)} MiB`)
  if (fds[1] > fds[0] + 10) fail(`open descriptors grew from ${fds[0]} to ${fds[1]}`)
}

/** Least-squares slope of y over x. */
export function slope(points: [number, number][]): number {
  const n = points.length
  if (n < 2) return 0
  const mx = points.reduce((a, [x]) => a + x, 0) / n
  const my = points.reduce((a, [, y]) => a + y, 0) / n
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0)
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0)
  return sxx === 0 ? 0 : sxy / sxx
}

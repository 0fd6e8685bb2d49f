// RRSIG and SIG signature times (RFC 4034 section 3.2): YYYYMMDDHHmmSS in UTC,
// or seconds since 1970 as a plain number, held as 32-bit serial time.

/** Seconds (mod 2^32) for `text`; undefined when it is neither form. */
export function timeFromText(text: string): number | undefined {
  if (/^\d{14}$/.test(text)) {
    const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((i, k) =>
      Number(text.slice(i, k === 0 ? 4 : i + 2)),
    )
    const ms = Date.UTC(y, mo - 1, d, h, mi, s)
    const back = new Date(ms)
    if (
      y < 1970 ||
      back.getUTCMonth() !== mo - 1 ||
      back.getUTCDate() !== d ||
      h > 23 ||
      mi > 59 ||
      s > 59
    )
      return undefined
    return (ms / 1000) % 2 ** 32
  }
  if (/^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff) return Number(text)
  return undefined
}

/** YYYYMMDDHHmmSS for 32-bit serial time `seconds`, in the 136 years around now (RFC 4034 3.1.5). */
export function timeToText(seconds: number, now = Date.now() / 1000): string {
  // The epoch cycle nearest now: serial arithmetic picks the closest instant.
  let t = seconds
  const cycle = 2 ** 32
  while (t + cycle / 2 < now) t += cycle
  return new Date(t * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

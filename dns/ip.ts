// IPv4 and IPv6 text <-> bytes, strict: the address forms a zone file, an access
// rule or a socket may hold. The project's one parser: rdata (A, AAAA), CIDR
// matching and stickiness keys all read addresses here, without allocating
// when they pass a buffer in.

/** Four bytes of a dotted-quad IPv4 address, or undefined when it is not one. */
export function parseIPv4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4)
  return dottedInto(text, 0, text.length, out, 0) ? out : undefined
}

/** Sixteen bytes of an IPv6 address (with `::` and a trailing dotted quad), or undefined. */
export function parseIPv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16)
  return ipv6Into(text, out) ? out : undefined
}

/**
 * A client address written into `out` (16 bytes or more) without allocating:
 * 4 for IPv4 and IPv4-mapped IPv6 (one client whatever the socket family),
 * 16 for IPv6, 0 when `text` is neither.
 */
export function addressInto(text: string, out: Uint8Array): 0 | 4 | 16 {
  if (text.indexOf(':') < 0) return dottedInto(text, 0, text.length, out, 0) ? 4 : 0
  if (!ipv6Into(text, out)) return 0
  for (let i = 0; i < 10; i++) if (out[i] !== 0) return 16
  if (out[10] !== 0xff || out[11] !== 0xff) return 16
  out.copyWithin(0, 12, 16)
  return 4
}

/** Parses the dotted quad text[start..end) into out[at..at+4]; no leading zeros, as inet_pton. */
function dottedInto(
  text: string,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
): boolean {
  let i = start
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (i >= end || text.charCodeAt(i) !== 0x2e) return false
      i++
    }
    const first = i
    let v = 0
    for (; i < end && i - first < 4; i++) {
      const c = text.charCodeAt(i)
      if (c < 0x30 || c > 0x39) break
      v = v * 10 + (c - 0x30)
    }
    const digits = i - first
    if (digits === 0 || digits > 3 || v > 255) return false
    if (digits > 1 && text.charCodeAt(first) === 0x30) return false
    out[at + octet] = v
  }
  return i === end
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  const l = c | 0x20
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1
}

const groups = new Uint16Array(8)
const quad = new Uint8Array(4)

/** Parses IPv6 text into out[0..16]: groups of 1-4 hex digits, one `::`, a dotted quad only at the end. */
function ipv6Into(text: string, out: Uint8Array): boolean {
  const n = text.length
  let i = 0
  let count = 0
  let gap = -1
  if (text.charCodeAt(0) === 0x3a) {
    if (text.charCodeAt(1) !== 0x3a) return false
    gap = 0
    i = 2
  }
  while (i < n) {
    if (count === 8) return false
    let j = i
    let v = 0
    for (let d = hexDigit(text.charCodeAt(j)); d >= 0 && j < n; d = hexDigit(text.charCodeAt(++j)))
      v = v * 16 + d
    if (j < n && text.charCodeAt(j) === 0x2e) {
      if (count > 6 || !dottedInto(text, i, n, quad, 0)) return false
      groups[count++] = (quad[0] << 8) | quad[1]
      groups[count++] = (quad[2] << 8) | quad[3]
      break
    }
    if (j === i || j - i > 4) return false
    groups[count++] = v
    i = j
    if (i === n) break
    if (text.charCodeAt(i) !== 0x3a) return false
    i++
    if (i < n && text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false
      gap = count
      i++
    } else if (i === n) {
      return false
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return false
  const zeros = 8 - count
  for (let g = 0, o = 0; o < 8; o++) {
    const v = gap >= 0 && o >= gap && o < gap + zeros ? 0 : groups[g++]
    out[o * 2] = v >> 8
    out[o * 2 + 1] = v & 0xff
  }
  return true
}

export function formatIPv4(b: Uint8Array, offset = 0): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`
}

/** RFC 5952 text: lowercase, leading zeros dropped, the longest zero run (2+) as `::`. */
export function formatIPv6(b: Uint8Array, offset = 0): string {
  const g: number[] = []
  for (let i = 0; i < 8; i++) g.push((b[offset + i * 2] << 8) | b[offset + i * 2 + 1])
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':')
  if (bestStart < 0) return hex(g)
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`
}

// IPv4 and IPv6 text <-> bytes, strict: the address forms a zone file or an
// access rule may hold. Shared by rdata (A, AAAA) and CIDR matching.

/** Four bytes of a dotted-quad IPv4 address, or undefined when it is not one. */
export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  const out = new Uint8Array(4)
  for (let i = 0; i < 4; i++) {
    const p = parts[i]
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined
    const v = Number(p)
    if (v > 255) return undefined
    out[i] = v
  }
  return out
}

/** Sixteen bytes of an IPv6 address (with `::` and a trailing dotted quad), or undefined. */
export function parseIPv6(text: string): Uint8Array | undefined {
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  // A dotted quad may only end the address: `atEnd` says whether this part does.
  const groups = (s: string, atEnd: boolean): number[] | undefined => {
    if (s === '') return []
    const out: number[] = []
    const parts = s.split(':')
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]
      if (atEnd && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p)
        if (!v4) return undefined
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3])
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined
        out.push(Number.parseInt(p, 16))
      }
    }
    return out
  }
  const head = groups(halves[0], halves.length === 1)
  const tail = halves.length === 2 ? groups(halves[1], true) : []

  if (!head || !tail) return undefined
  const missing = 8 - head.length - tail.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail]
  const out = new Uint8Array(16)
  for (let i = 0; i < 8; i++) {
    out[i * 2] = all[i] >> 8
    out[i * 2 + 1] = all[i] & 0xff
  }
  return out
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

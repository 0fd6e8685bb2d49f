// TTL values as zone files write them: seconds, or BIND-style units (1w2d3h4m5s).

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }
export const MAX_TTL = 0x7fffffff

/** Seconds for a TTL token, or undefined when it is not a TTL (RFC 2181: at most 2^31-1). */
export function parseTtl(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const v = Number(text)
    return v <= MAX_TTL ? v : undefined
  }
  const re = /(\d+)([smhdw])/giy
  let total = 0
  let matched = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT[m[2].toLowerCase()]
    matched = re.lastIndex
  }
  if (matched !== text.length || matched === 0 || total > MAX_TTL) return undefined
  return total
}

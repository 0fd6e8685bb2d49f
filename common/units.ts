// Config value units people write by hand, shared by the modules' rule schemas
// and the proxy's config: durations ("500ms", "2s", "1m") and sizes ("64MiB").

import { z } from 'zod'

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
}

/** A duration in milliseconds, from "250ms", "2s", "1m", "1h", "1d" or a number of seconds. */
export const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  if (typeof v === 'number' && v >= 0) return v * 1000
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(v.trim()) : null
  if (!m) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration like "500ms", "2s" or "1m", got ${JSON.stringify(v)}`,
    })
    return z.NEVER
  }
  return Number(m[1]) * DURATION_UNITS[m[2]]
})

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
}

/** A size in bytes, from "64MiB", "512KiB", "1GB" or a number of bytes. */
export const size = z.union([z.string(), z.number()]).transform((v, ctx) => {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v
  const m = typeof v === 'string' ? /^(\d+)\s*(B|KiB|MiB|GiB|KB|MB|GB)$/.exec(v.trim()) : null
  if (!m) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a size like "64MiB" or a number of bytes, got ${JSON.stringify(v)}`,
    })
    return z.NEVER
  }
  return Number(m[1]) * SIZE_UNITS[m[2]]
})

// Compares two HTTP responses after normalising them: status, headers minus a
// volatile list (which a suite may extend), body exactly or as JSON. Returns
// field-level differences, like the DNS comparison.

import { isDeepStrictEqual } from 'node:util'
import type { FieldDiff } from './dns-compare.ts'

export interface HttpSeen {
  status: number
  /** Lowercase names; repeated fields joined with ", " (Set-Cookie with " | "). */
  headers: Record<string, string>
  body: Buffer
}

/** Headers that differ between any two responses by nature: time, hop, framing, request ids. */
export const VOLATILE_HEADERS = [
  'date',
  'age',
  'server',
  'via',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'x-request-id',
  'x-amzn-requestid',
  'x-trace-id',
  'traceparent',
  'x-cutover-trace',
  'expires',
]

export interface HttpCompareOptions {
  /** More header names to leave out (lowercase). */
  ignoreHeaders?: readonly string[]
  /** `exact` (bytes), `json` (parsed, key order free), `ignore`. */
  body?: 'exact' | 'json' | 'ignore'
  /** Fields to leave out entirely (`status`, `header.x-foo`, `body`). */
  ignore?: readonly string[]
}

const MAX_SHOWN = 200

function shown(b: Buffer): string {
  const text = b.subarray(0, MAX_SHOWN).toString('utf8')
  return b.length > MAX_SHOWN ? `${text}… (${b.length} bytes)` : text
}

export function compareHttp(
  legacy: HttpSeen,
  candidate: HttpSeen,
  options: HttpCompareOptions = {},
): FieldDiff[] {
  const out: FieldDiff[] = []
  const skip = new Set([...VOLATILE_HEADERS, ...(options.ignoreHeaders ?? [])])
  if (legacy.status !== candidate.status)
    out.push({
      field: 'status',
      legacy: String(legacy.status),
      candidate: String(candidate.status),
    })
  for (const name of new Set([...Object.keys(legacy.headers), ...Object.keys(candidate.headers)])) {
    if (skip.has(name)) continue
    const l = legacy.headers[name]
    const c = candidate.headers[name]
    if (l !== c)
      out.push({ field: `header.${name}`, legacy: l ?? '(absent)', candidate: c ?? '(absent)' })
  }
  const mode = options.body ?? (isJson(legacy) && isJson(candidate) ? 'json' : 'exact')
  if (mode === 'json') {
    let same = false
    try {
      same = isDeepStrictEqual(
        JSON.parse(legacy.body.toString('utf8')),
        JSON.parse(candidate.body.toString('utf8')),
      )
    } catch {
      same = legacy.body.equals(candidate.body)
    }
    if (!same)
      out.push({ field: 'body', legacy: shown(legacy.body), candidate: shown(candidate.body) })
  } else if (mode === 'exact' && !legacy.body.equals(candidate.body)) {
    out.push({ field: 'body', legacy: shown(legacy.body), candidate: shown(candidate.body) })
  }
  const ignore = options.ignore ?? []
  return ignore.length === 0
    ? out
    : out.filter((d) => !ignore.some((i) => d.field === i || d.field.startsWith(`${i}.`)))
}

function isJson(r: HttpSeen): boolean {
  return (r.headers['content-type'] ?? '').includes('json')
}

/** The response as text for side-by-side views. */
export function describeHttp(r: HttpSeen): string {
  const lines = [`${r.status}`]
  for (const [k, v] of Object.entries(r.headers).sort()) lines.push(`${k}: ${v}`)
  lines.push('', shown(r.body))
  return lines.join('\n')
}

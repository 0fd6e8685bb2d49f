// Text helpers the plain-text reports share (terminal, JUnit, progress): values
// made safe for one line, durations and rates for people, field diffs as aligned columns.

import type { FieldDiff } from './dns-compare.ts'

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

// C0 and C1 control characters and DEL: a response may carry ESC sequences that would
// repaint a terminal, or newlines that would break a column.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to replace
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g

/** `s` on one line with control characters written as escapes (`\n`, `\x1B`). */
export function printable(s: string): string {
  return s.replace(
    CONTROL,
    (c) => ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  )
}

/** `850 ms`, `2.5 s`, `3 min 12 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  const s = Math.round(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  return `${Math.floor(s / 3600)} h ${String(Math.floor(s / 60) % 60).padStart(2, '0')} min`
}

/** Cases per second over `ms`, with sensible precision; `-` when no time has passed. */
export function formatRate(count: number, ms: number): string {
  if (!(ms > 0)) return '-'
  const rate = (count * 1000) / ms
  return rate >= 100 ? String(Math.round(rate)) : rate >= 10 ? rate.toFixed(1) : rate.toFixed(2)
}

export interface Paint {
  legacy(s: string): string
  candidate(s: string): string
}

/** No colour: text as it is. */
export const PLAIN: Paint = { legacy: (s) => s, candidate: (s) => s }

/** Rows wider than this are stacked (field, then each side on its own line). */
const MAX_WIDTH = 120

/**
 * Field diffs as lines: `field  legacy  candidate` in aligned columns under a heading,
 * or, when that would be too wide, each diff stacked. Values are made printable;
 * `paint` colours each side after the padding, so colour never breaks alignment.
 */
export function fieldDiffLines(
  diffs: readonly FieldDiff[],
  paint: Paint = PLAIN,
  indent = '',
): string[] {
  const rows = diffs.map((d) => [printable(d.field), printable(d.legacy), printable(d.candidate)])
  const head = ['field', 'legacy', 'candidate']
  const w0 = Math.max(head[0].length, ...rows.map((r) => r[0].length))
  const w1 = Math.max(head[1].length, ...rows.map((r) => r[1].length))
  const w2 = Math.max(head[2].length, ...rows.map((r) => r[2].length))
  if (indent.length + w0 + w1 + w2 + 4 <= MAX_WIDTH) {
    return [
      `${indent}${head[0].padEnd(w0)}  ${head[1].padEnd(w1)}  ${head[2]}`,
      ...rows.map(
        ([f, l, c]) =>
          `${indent}${f.padEnd(w0)}  ${paint.legacy(l)}${' '.repeat(w1 - l.length)}  ${paint.candidate(c)}`,
      ),
    ]
  }
  return rows.flatMap(([f, l, c]) => [
    `${indent}${f}`,
    `${indent}  legacy:    ${paint.legacy(l)}`,
    `${indent}  candidate: ${paint.candidate(c)}`,
  ])
}

/** How many times each key occurs, most frequent first (ties by key). */
export function countBy<T>(items: Iterable<T>, key: (item: T) => string): [string, number][] {
  const counts = new Map<string, number>()
  for (const item of items) {
    const k = key(item)
    counts.set(k, (counts.get(k) ?? 0) + 1)
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

// The plain-text helpers: printable values, durations, rates, aligned field diffs, counts.

import { describe, expect, it } from 'vitest'
import { countBy, fieldDiffLines, formatDuration, formatRate, printable } from './report-text.ts'

describe('printable', () => {
  it('writes control characters as escapes and leaves the rest alone', () => {
    expect(printable('a\nb\r\tc\x1b[2J\x00\x7f\x9b')).toBe('a\\nb\\r\\tc\\x1B[2J\\x00\\x7F\\x9B')
    expect(printable(`<&">' é 🦩`)).toBe(`<&">' é 🦩`)
  })
})

describe('formatDuration', () => {
  it('picks a unit people read at a glance', () => {
    expect(formatDuration(0)).toBe('0 ms')
    expect(formatDuration(850.4)).toBe('850 ms')
    expect(formatDuration(2500)).toBe('2.50 s')
    expect(formatDuration(12_340)).toBe('12.3 s')
    expect(formatDuration(192_000)).toBe('3 min 12 s')
    expect(formatDuration(3_720_000)).toBe('1 h 02 min')
    expect(formatDuration(Number.NaN)).toBe('-')
  })
})

describe('formatRate', () => {
  it('gives cases per second with sensible precision, and - before any time passed', () => {
    expect(formatRate(8, 2500)).toBe('3.20')
    expect(formatRate(125, 10_000)).toBe('12.5')
    expect(formatRate(1000, 2500)).toBe('400')
    expect(formatRate(5, 0)).toBe('-')
  })
})

describe('fieldDiffLines', () => {
  const diffs = [
    { field: 'answer.ttl', legacy: 'a 300', candidate: 'a 60' },
    { field: 'flags.aa', legacy: 'true', candidate: 'false' },
  ]

  it('aligns field, legacy and candidate in columns under a heading', () => {
    expect(fieldDiffLines(diffs, undefined, '  ')).toEqual([
      '  field       legacy  candidate',
      '  answer.ttl  a 300   a 60',
      '  flags.aa    true    false',
    ])
  })

  it('paints each side after padding, so the columns stay aligned', () => {
    const paint = { legacy: (s: string) => `[${s}]`, candidate: (s: string) => `{${s}}` }
    expect(fieldDiffLines(diffs, paint)[1]).toBe('answer.ttl  [a 300]   {a 60}')
  })

  it('stacks diffs too wide for columns', () => {
    const wide = [{ field: 'body', legacy: 'x'.repeat(70), candidate: 'y'.repeat(70) }]
    expect(fieldDiffLines(wide)).toEqual([
      'body',
      `  legacy:    ${'x'.repeat(70)}`,
      `  candidate: ${'y'.repeat(70)}`,
    ])
  })
})

describe('countBy', () => {
  it('counts by key, most frequent first, ties by key', () => {
    expect(countBy(['b', 'a', 'c', 'a', 'c'], (s) => s)).toEqual([
      ['a', 2],
      ['c', 2],
      ['b', 1],
    ])
  })
})

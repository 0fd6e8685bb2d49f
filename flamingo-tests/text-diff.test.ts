// Line alignment and word marks for side-by-side views.

import { describe, expect, it } from 'vitest'
import { alignLines, commonMask, wordDiff } from './text-diff.ts'

describe('commonMask', () => {
  it('marks a longest common subsequence on both sides', () => {
    expect(commonMask(['a', 'b', 'c', 'd'], ['b', 'x', 'd'])).toEqual([
      [false, true, false, true],
      [true, false, true],
    ])
    expect(commonMask([], ['a'])).toEqual([[], [false]])
  })

  it('gives up on inputs too large to compare cell by cell', () => {
    const big = Array.from({ length: 2001 }, (_, i) => String(i))
    expect(commonMask(big, big)).toBeUndefined()
  })
})

describe('alignLines', () => {
  it('pairs identical texts line by line', () => {
    expect(alignLines(['a', 'b'], ['a', 'b'])).toEqual([
      { legacy: 'a', candidate: 'a', same: true },
      { legacy: 'b', candidate: 'b', same: true },
    ])
  })

  it('pairs a changed line with its counterpart between common lines', () => {
    expect(alignLines(['h', 'x 300', 'f'], ['h', 'x 60', 'f'])).toEqual([
      { legacy: 'h', candidate: 'h', same: true },
      { legacy: 'x 300', candidate: 'x 60', same: false },
      { legacy: 'f', candidate: 'f', same: true },
    ])
  })

  it('leaves a side empty where the other has an extra line, keeping later lines aligned', () => {
    expect(alignLines(['h', 'f'], ['h', 'new', 'f'])).toEqual([
      { legacy: 'h', candidate: 'h', same: true },
      { legacy: undefined, candidate: 'new', same: false },
      { legacy: 'f', candidate: 'f', same: true },
    ])
    expect(alignLines(['a', 'b', 'c'], ['x'])).toEqual([
      { legacy: 'a', candidate: 'x', same: false },
      { legacy: 'b', candidate: undefined, same: false },
      { legacy: 'c', candidate: undefined, same: false },
    ])
  })

  it('pairs lines by position when the texts are too long to align', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `line ${i}`)
    const b = [...a.slice(0, 2999), 'other']
    const rows = alignLines(a, b)
    expect(rows).toHaveLength(3000)
    expect(rows[0]).toEqual({ legacy: 'line 0', candidate: 'line 0', same: true })
    expect(rows[2999]).toEqual({ legacy: 'line 2999', candidate: 'other', same: false })
  })
})

describe('wordDiff', () => {
  it('marks only the words that differ, keeping every character', () => {
    const [l, c] = wordDiff(
      'answer: a.test 300 IN AAAA 2001:db8::1',
      'answer: a.test 60 IN AAAA 2001:db8::2',
    )
    expect(l).toEqual([
      { text: 'answer: a.test ', changed: false },
      { text: '300', changed: true },
      { text: ' IN AAAA ', changed: false },
      { text: '2001:db8::1', changed: true },
    ])
    expect(c.map((p) => p.text).join('')).toBe('answer: a.test 60 IN AAAA 2001:db8::2')
    expect(c.filter((p) => p.changed).map((p) => p.text)).toEqual(['60', '2001:db8::2'])
  })

  it('marks a whole line that shares nothing', () => {
    expect(wordDiff('abc', 'xyz')).toEqual([
      [{ text: 'abc', changed: true }],
      [{ text: 'xyz', changed: true }],
    ])
  })
})

// The flat header list helpers: order, duplicates and letter case kept; names
// compared case-insensitively.

import { describe, expect, it } from 'vitest'
import { headerAdd, headerAll, headerGet, headerRemove, headerSet } from './header-list.ts'

const sample = (): string[] => [
  'Host',
  'example.test',
  'Set-Cookie',
  'a=1',
  'Accept',
  '*/*',
  'set-cookie',
  'b=2',
]

describe('headerGet', () => {
  it('gives the first value of a name in any letter case', () => {
    expect(headerGet(sample(), 'set-cookie')).toBe('a=1')
    expect(headerGet(sample(), 'host')).toBe('example.test')
  })

  it('gives undefined for a missing name, and an empty value as it is', () => {
    expect(headerGet(sample(), 'cookie')).toBeUndefined()
    expect(headerGet([], 'host')).toBeUndefined()
    expect(headerGet(['X-Empty', ''], 'x-empty')).toBe('')
  })

  it('does not read values as names', () => {
    expect(headerGet(['x-a', 'host', 'x-b', 'y'], 'host')).toBeUndefined()
  })
})

describe('headerAll', () => {
  it('gives every value of a name in order, whatever its case', () => {
    expect(headerAll(sample(), 'set-cookie')).toEqual(['a=1', 'b=2'])
    expect(headerAll(sample(), 'accept')).toEqual(['*/*'])
    expect(headerAll(sample(), 'cookie')).toEqual([])
  })
})

describe('headerRemove', () => {
  it('removes every field of a name, keeps the rest in order, and counts', () => {
    const list = sample()
    expect(headerRemove(list, 'set-cookie')).toBe(2)
    expect(list).toEqual(['Host', 'example.test', 'Accept', '*/*'])
  })

  it('removes adjacent duplicates', () => {
    const list = ['A', '1', 'a', '2', 'B', '3', 'A', '4']
    expect(headerRemove(list, 'a')).toBe(3)
    expect(list).toEqual(['B', '3'])
  })

  it('leaves the list alone when the name is missing', () => {
    const list = sample()
    expect(headerRemove(list, 'cookie')).toBe(0)
    expect(list).toEqual(sample())
  })
})

describe('headerSet', () => {
  it('replaces every field of a name with one, written as given, at the end', () => {
    const list = sample()
    headerSet(list, 'SET-COOKIE', 'c=3')
    expect(list).toEqual(['Host', 'example.test', 'Accept', '*/*', 'SET-COOKIE', 'c=3'])
  })

  it('adds the field when it is missing', () => {
    const list: string[] = []
    headerSet(list, 'X-Served-By', 'cutover')
    expect(list).toEqual(['X-Served-By', 'cutover'])
  })
})

describe('headerAdd', () => {
  it('appends a field, keeping any existing ones', () => {
    const list = sample()
    headerAdd(list, 'Set-Cookie', 'c=3')
    expect(headerAll(list, 'set-cookie')).toEqual(['a=1', 'b=2', 'c=3'])
    expect(list.slice(-2)).toEqual(['Set-Cookie', 'c=3'])
  })
})

// NameTable: names to values, looked up from wire names or straight from a packet.

import { describe, expect, it } from 'vitest'
import { Type } from './constants.ts'
import { buildQuery } from './message.ts'
import { labelName, nameToWire, ROOT_WIRE, wireHash } from './name.ts'
import { NameTable } from './name-table.ts'
import { createQueryView, Parse, readQuery } from './query-view.ts'

const w = (text: string) => nameToWire(text)

// Three names whose hashes collide (found by a search over n<i>.example.com.),
// so that they share one bucket: the chain tests need them.
const COLLIDING = ['n842171.example.com.', 'n903868.example.com.', 'n1376105.example.com.']

/** A query for `name` as the table meets it: the packet and the view read from it. */
function received(name: string) {
  const q = buildQuery({ id: 7, name, type: Type.A })
  const v = createQueryView()
  expect(readQuery(q, q.length, v)).toBe(Parse.OK)
  return { q, v }
}

describe('NameTable', () => {
  it('sets, gets and counts', () => {
    const t = new NameTable<string>()
    expect(t.size).toBe(0)
    expect(t.get(w('example.com.'))).toBeUndefined()
    t.set(w('example.com.'), 'zone')
    t.set(w('www.example.com.'), 'www')
    t.set(ROOT_WIRE, 'root')
    expect(t.size).toBe(3)
    expect(t.get(w('example.com.'))).toBe('zone')
    expect(t.get(w('www.example.com.'))).toBe('www')
    expect(t.get(ROOT_WIRE)).toBe('root')
    expect(t.get(w('example.org.'))).toBeUndefined()
    expect(t.get(w('com.'))).toBeUndefined()
  })

  it('ignores case in get and set', () => {
    const t = new NameTable<number>()
    t.set(w('Example.COM.'), 1)
    expect(t.get(w('example.com.'))).toBe(1)
    expect(t.get(w('EXAMPLE.com.'))).toBe(1)
    t.set(w('EXAMPLE.COM.'), 2)
    expect(t.size).toBe(1)
    expect(t.get(w('example.com.'))).toBe(2)
  })

  it('looks a name up straight from a received query', () => {
    const t = new NameTable<string>()
    t.set(w('www.example.com.'), 'www')
    t.set(w('example.com.'), 'zone')
    const { q, v } = received('WWW.Example.COM')
    expect(t.lookup(q, 12, v.suffixHash[0])).toBe('www')
    expect(t.lookup(q, v.labelStart[1], v.suffixHash[1])).toBe('zone')
    expect(t.lookup(q, v.labelStart[2], v.suffixHash[2])).toBeUndefined()
    // The hash picks the bucket: a wrong one finds nothing even at the right offset.
    expect(t.lookup(q, 12, v.suffixHash[1])).toBeUndefined()
  })

  it('finds the longest enclosing name in the table', () => {
    const t = new NameTable<string>()
    t.set(w('example.com.'), 'example')
    t.set(w('sub.example.com.'), 'sub')
    const { q, v } = received('a.b.SUB.example.com')
    expect(t.enclosing(q, v)).toBe('sub')
    const other = w('www.example.com.')
    expect(t.enclosing(other, labelName(other))).toBe('example')
    const outside = w('www.example.org.')
    expect(t.enclosing(outside, labelName(outside))).toBeUndefined()
    t.set(ROOT_WIRE, 'root')
    expect(t.enclosing(outside, labelName(outside))).toBe('root')
  })

  it('deletes, and reports whether the name was there', () => {
    const t = new NameTable<string>()
    t.set(w('a.example.'), 'a')
    t.set(w('b.example.'), 'b')
    expect(t.delete(w('A.EXAMPLE.'))).toBe(true)
    expect(t.size).toBe(1)
    expect(t.get(w('a.example.'))).toBeUndefined()
    expect(t.get(w('b.example.'))).toBe('b')
    expect(t.delete(w('a.example.'))).toBe(false)
    expect(t.delete(w('c.example.'))).toBe(false)
    expect(t.size).toBe(1)
  })

  it('uses names that really collide in the chain tests', () => {
    const hashes = COLLIDING.map((n) => wireHash(w(n)))
    expect(hashes[1]).toBe(hashes[0])
    expect(hashes[2]).toBe(hashes[0])
  })

  it('keeps colliding names apart', () => {
    const t = new NameTable<string>()
    for (const n of COLLIDING) t.set(w(n), n)
    expect(t.size).toBe(3)
    for (const n of COLLIDING) expect(t.get(w(n.toUpperCase()))).toBe(n)
    // Updating one in the chain changes only that one.
    t.set(w(COLLIDING[1]), 'updated')
    expect(t.size).toBe(3)
    expect(t.get(w(COLLIDING[0]))).toBe(COLLIDING[0])
    expect(t.get(w(COLLIDING[1]))).toBe('updated')
    expect(t.get(w(COLLIDING[2]))).toBe(COLLIDING[2])
    // A name in the same bucket that is not in the table is not found.
    const lone = new NameTable<string>()
    lone.set(w(COLLIDING[0]), 'x')
    expect(lone.get(w(COLLIDING[1]))).toBeUndefined()
    expect(lone.delete(w(COLLIDING[1]))).toBe(false)
    expect(lone.size).toBe(1)
  })

  // Entries are pushed at the head: after setting 0, 1, 2 the chain is 2 -> 1 -> 0.
  it.each([
    ['head', 2],
    ['middle', 1],
    ['tail', 0],
  ])('deletes the %s of a chain and keeps the rest', (_where, index) => {
    const t = new NameTable<string>()
    for (const n of COLLIDING) t.set(w(n), n)
    expect(t.delete(w(COLLIDING[index]))).toBe(true)
    expect(t.size).toBe(2)
    expect(t.get(w(COLLIDING[index]))).toBeUndefined()
    for (let i = 0; i < 3; i++) if (i !== index) expect(t.get(w(COLLIDING[i]))).toBe(COLLIDING[i])
    expect([...t.values()].sort()).toEqual(COLLIDING.filter((_, i) => i !== index).sort())
  })

  it('empties a chain one entry at a time, in any order', () => {
    const t = new NameTable<string>()
    for (const n of COLLIDING) t.set(w(n), n)
    for (const i of [1, 2, 0]) expect(t.delete(w(COLLIDING[i]))).toBe(true)
    expect(t.size).toBe(0)
    expect([...t.values()]).toEqual([])
    for (const n of COLLIDING) expect(t.get(w(n))).toBeUndefined()
    // And the bucket works again afterwards.
    t.set(w(COLLIDING[2]), 'again')
    expect(t.get(w(COLLIDING[2]))).toBe('again')
  })

  it('holds 10,000 names, with collisions among them, through sets and deletes', () => {
    const t = new NameTable<number>()
    const names: string[] = []
    for (let i = 0; i < 10_000; i++) names.push(`h${i}.zone${i % 97}.example.`)
    names.push(...COLLIDING)
    names.forEach((n, i) => {
      t.set(w(n), i)
    })
    expect(t.size).toBe(names.length)
    names.forEach((n, i) => {
      expect(t.get(w(n.toUpperCase()))).toBe(i)
    })
    // Delete every other one, including the middle of the colliding chain.
    names.forEach((n, i) => {
      if (i % 2 === 1) expect(t.delete(w(n))).toBe(true)
    })
    expect(t.size).toBe(Math.ceil(names.length / 2))
    names.forEach((n, i) => {
      expect(t.get(w(n))).toBe(i % 2 === 1 ? undefined : i)
    })
    const values = [...t.values()].sort((a, b) => a - b)
    expect(values).toEqual(names.map((_, i) => i).filter((i) => i % 2 === 0))
  })
})

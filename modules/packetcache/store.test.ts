// The packet cache's store on its own: entries found by a name inside a packet
// and a key, one LRU list, bounded in entries and bytes, deletes that hold.

import { describe, expect, it } from 'vitest'
import { fqdnWire, labelName, lowerWire } from '../../dns/name.ts'
import { type Entry, PacketStore } from './store.ts'

const OVERHEAD = 160

function entry(name: string, key: number, size = 40): Entry {
  return {
    response: Buffer.alloc(size),
    ttlOffsets: new Uint16Array(0),
    ttls: new Uint32Array(0),
    storedAt: 0,
    expiresAt: 1,
    name: lowerWire(fqdnWire(name)),
    key,
    prev: undefined,
    next: undefined,
  }
}

/** A store of at most 10 entries and 10,000 bytes, holding `entries` set in this order. */
function storeOf(...entries: Entry[]): PacketStore {
  const store = new PacketStore(10, 10_000)
  for (const e of entries) store.set(e)
  return store
}

/** Looks `name` up as the hot path does: from its wire form, in whatever case. */
function find(store: PacketStore, name: string, key: number): Entry | undefined {
  const wire = fqdnWire(name)
  return store.find(wire, labelName(wire), key)
}

describe('PacketStore', () => {
  it('finds an entry by name in any case and by key, and counts entries and bytes', () => {
    const a = entry('www.example.test', 17)
    const b = entry('www.example.test', 18, 100)
    const store = storeOf(a, b)
    expect(find(store, 'WWW.Example.Test', 17)).toBe(a)
    expect(find(store, 'www.example.test', 18)).toBe(b)
    expect(find(store, 'www.example.test', 19)).toBeUndefined()
    expect(find(store, 'example.test', 17)).toBeUndefined()
    expect(store.entries).toBe(2)
    expect(store.bytes).toBe(40 + 100 + 2 * OVERHEAD)
  })

  it('deletes an entry once; deleting it again or a stranger changes nothing', () => {
    const a = entry('a.test', 1)
    const b = entry('b.test', 1)
    const store = storeOf(a, b)
    store.delete(a)
    expect(find(store, 'a.test', 1)).toBeUndefined()
    expect(store.entries).toBe(1)
    store.delete(a)
    store.delete(entry('b.test', 1))
    expect(store.entries).toBe(1)
    expect(store.bytes).toBe(40 + OVERHEAD)
    expect(find(store, 'b.test', 1)).toBe(b)
  })

  it('evicts from the least recently used end; find refreshes recency', () => {
    const store = new PacketStore(3, 1_000_000)
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((n) => entry(`${n}.test`, 1))
    store.set(a)
    store.set(b)
    store.set(c)
    expect(find(store, 'a.test', 1)).toBe(a)
    store.set(d)
    expect(find(store, 'b.test', 1)).toBeUndefined()
    expect(find(store, 'c.test', 1)).toBe(c)
    store.set(e)
    expect(find(store, 'a.test', 1)).toBe(undefined)
    expect(find(store, 'c.test', 1)).toBe(c)
    expect(find(store, 'd.test', 1)).toBe(d)
    expect(find(store, 'e.test', 1)).toBe(e)
    expect(store.entries).toBe(3)
  })

  it('evicts as many entries as it takes to get under maxBytes', () => {
    const store = new PacketStore(100, 3 * (100 + OVERHEAD))
    const small = ['a', 'b', 'c'].map((n) => entry(`${n}.test`, 1, 100))
    for (const s of small) store.set(s)
    expect(store.entries).toBe(3)
    const big = entry('big.test', 1, 2 * 100 + OVERHEAD)
    store.set(big)
    expect(find(store, 'a.test', 1)).toBeUndefined()
    expect(find(store, 'b.test', 1)).toBeUndefined()
    expect(find(store, 'c.test', 1)).toBe(small[2])
    expect(find(store, 'big.test', 1)).toBe(big)
    expect(store.bytes).toBe(100 + 2 * 100 + OVERHEAD + 2 * OVERHEAD)
  })

  it('replaces the entry with the same name and key, and can still find and delete the new one', () => {
    const replacement = entry('www.example.test', 1, 60)
    const store = storeOf(entry('www.example.test', 1), replacement)
    expect(store.entries).toBe(1)
    expect(store.bytes).toBe(60 + OVERHEAD)
    expect(find(store, 'www.example.test', 1)).toBe(replacement)
    // Eviction deletes from the head; a delete that does nothing would never end it.
    store.delete(replacement)
    expect(store.entries).toBe(0)
    expect(store.bytes).toBe(0)
  })

  it('replaces one key of a name while others stay', () => {
    const other = entry('www.example.test', 2)
    const replacement = entry('www.example.test', 1, 60)
    const store = storeOf(other, entry('www.example.test', 1), replacement)
    expect(store.entries).toBe(2)
    expect(find(store, 'www.example.test', 1)).toBe(replacement)
    expect(find(store, 'www.example.test', 2)).toBe(other)
  })
})

// The pause before replacing a crashed worker, and when it counts as crashing too often.

import { describe, expect, it } from 'vitest'
import { crashWindow } from './crash-backoff.ts'

describe('crash backoff', () => {
  it('replaces the first three crashes of a minute at once, then doubles the pause up to 30 s', () => {
    const w = crashWindow()
    const pauses = Array.from({ length: 12 }, (_, i) => w.crashed(1000 + i))
    expect(pauses).toEqual([0, 0, 0, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000])
  })

  it('forgets crashes older than a minute, also when no new one comes', () => {
    const w = crashWindow()
    for (let i = 0; i < 4; i++) w.crashed(i * 1000)
    expect(w.tooMany(10_000)).toBe(true)
    expect(w.lastMinute(10_000)).toBe(4)
    expect(w.lastMinute(61_500)).toBe(2)
    expect(w.tooMany(61_500)).toBe(false)
    expect(w.crashed(61_500)).toBe(0)
  })
})

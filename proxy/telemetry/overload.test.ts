// The overload guard: the shed share follows how late the event loop runs,
// measured on this process's own loop.

import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { MAX_SHARE, nextShare, startOverloadGuard } from './overload.ts'

const SETTINGS = { maxDelay: 10, retryAfter: 1000, dnsUdp: 'drop' as const }

/** Keeps the loop busy in blocks of `blockMs` for `forMs`: every timer runs about a block late. */
async function busy(forMs: number, blockMs: number): Promise<void> {
  const end = performance.now() + forMs
  while (performance.now() < end) {
    const until = performance.now() + blockMs
    while (performance.now() < until);
    await delay(0)
  }
}

/** Waits (bounded) until `done()` holds; false when it never did. */
async function eventually(done: () => boolean, withinMs: number): Promise<boolean> {
  const end = performance.now() + withinMs
  while (!done() && performance.now() < end) await delay(20)
  return done()
}

describe('nextShare', () => {
  it('rises by a step per late interval from the second in a row, up to the most it ever sheds', () => {
    expect(nextShare(0, 25, 0, 10)).toBe(0)
    let share = 0
    const seen: number[] = []
    for (let i = 0; i < 10; i++) {
      share = nextShare(share, 25, 25, 10)
      seen.push(share)
    }
    expect(seen[0]).toBeGreaterThan(0)
    expect(seen[1]).toBeGreaterThan(seen[0])
    expect(seen.at(-1)).toBe(MAX_SHARE)
  })

  it('falls by a smaller step per interval in time, down to none', () => {
    const up = nextShare(0.5, 25, 25, 10) - 0.5
    const down = 0.5 - nextShare(0.5, 5, 25, 10)
    expect(down).toBeGreaterThan(0)
    expect(down).toBeLessThan(up)
    expect(nextShare(0.01, 5, 5, 10)).toBe(0)
  })

  it('never sheds with maxDelay 0', () => {
    expect(nextShare(0, 10_000, 10_000, 0)).toBe(0)
  })
})

describe('startOverloadGuard', () => {
  it('sheds while the loop runs late and stops by itself once it runs in time', async () => {
    const guard = startOverloadGuard(SETTINGS)
    try {
      expect(guard.share).toBe(0)
      expect(guard.shed()).toBe(false)
      await busy(600, 40)
      expect(guard.share).toBeGreaterThan(0)
      const draws = Array.from({ length: 1000 }, () => guard.shed()).filter(Boolean).length
      expect(draws).toBeGreaterThan(0)
      expect(await eventually(() => guard.share === 0, 5000)).toBe(true)
      expect(guard.shed()).toBe(false)
    } finally {
      guard.stop()
    }
  })

  it('sees a loop late by more than its own interval (a bound of 60 ms, turns of 150 ms)', async () => {
    const guard = startOverloadGuard({ ...SETTINGS, maxDelay: 60 })
    try {
      await busy(1200, 150)
      expect(guard.share).toBeGreaterThan(0)
    } finally {
      guard.stop()
    }
  })

  it('stops shedding at once when a reload sets maxDelay to 0, and watches again when one sets it back', async () => {
    const guard = startOverloadGuard(SETTINGS)
    try {
      await busy(400, 40)
      expect(guard.share).toBeGreaterThan(0)
      guard.configure({ ...SETTINGS, maxDelay: 0 })
      expect(guard.share).toBe(0)
      await busy(300, 40)
      expect(guard.share).toBe(0)
      // And watches again when a reload turns it back on.
      guard.configure(SETTINGS)
      await busy(400, 40)
      expect(guard.share).toBeGreaterThan(0)
    } finally {
      guard.stop()
    }
  })
})

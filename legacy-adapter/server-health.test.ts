// Which legacy server to use next: round-robin over those up, another than the
// one just tried, servers skipped after consecutive failures, and a pick even
// when every server is down.

import { afterEach, describe, expect, it, vi } from 'vitest'
import { ServerHealth } from './server-health.ts'

const noProbe = () => {}

function picks(health: ServerHealth, n: number, avoid = -1): number[] {
  return Array.from({ length: n }, () => health.pick(avoid))
}

describe('ServerHealth', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('picks the servers in turn', () => {
    const health = new ServerHealth(3, 3, 1000, noProbe)
    expect(picks(health, 7)).toEqual([0, 1, 2, 0, 1, 2, 0])
    expect(health.upCount).toBe(3)
  })

  it('avoids the given server when another is up', () => {
    const health = new ServerHealth(3, 3, 1000, noProbe)
    for (const avoid of [0, 1, 2, 0, 0, 2]) expect(health.pick(avoid)).not.toBe(avoid)
    const two = new ServerHealth(2, 3, 1000, noProbe)
    expect(picks(two, 4, 1)).toEqual([0, 0, 0, 0])
  })

  it('returns the only server even when asked to avoid it', () => {
    const health = new ServerHealth(1, 3, 1000, noProbe)
    expect(picks(health, 3, 0)).toEqual([0, 0, 0])
  })

  it('skips a server after failuresBeforeDown failures in a row; a success resets the count', () => {
    const health = new ServerHealth(2, 3, 1000, noProbe)
    health.failed(0)
    health.failed(0)
    health.succeeded(0)
    health.failed(0)
    health.failed(0)
    expect(health.isUp(0)).toBe(true)
    health.failed(0)
    expect(health.isUp(0)).toBe(false)
    expect(health.upCount).toBe(1)
    expect(picks(health, 4)).toEqual([1, 1, 1, 1])

    health.succeeded(0)
    expect(health.isUp(0)).toBe(true)
    expect(health.upCount).toBe(2)
    expect(picks(health, 4).sort()).toEqual([0, 0, 1, 1])
  })

  it('still picks each server in turn when all are down', () => {
    const health = new ServerHealth(3, 1, 1000, noProbe)
    for (const i of [0, 1, 2]) health.failed(i)
    expect(health.upCount).toBe(0)
    expect(picks(health, 6)).toEqual([0, 1, 2, 0, 1, 2])
    expect(new Set(picks(health, 6, 1))).toEqual(new Set([0, 1, 2]))
  })

  it('keeps to the avoided server when it is the only one up, rather than pick one that is down', () => {
    const health = new ServerHealth(2, 1, 1000, noProbe)
    health.failed(1)
    // A retry after server 0 timed out: 0 is the one server up, 1 is down.
    expect(picks(health, 4, 0)).toEqual([0, 0, 0, 0])
  })

  it('probes each server that is down, every interval, until stopped', () => {
    vi.useFakeTimers()
    const probed: number[] = []
    const health = new ServerHealth(3, 1, 100, (i) => probed.push(i))
    health.start()
    vi.advanceTimersByTime(100)
    expect(probed).toEqual([])
    health.failed(0)
    health.failed(2)
    vi.advanceTimersByTime(100)
    expect(probed).toEqual([0, 2])
    health.succeeded(0)
    vi.advanceTimersByTime(200)
    expect(probed).toEqual([0, 2, 2, 2])
    health.stop()
    vi.advanceTimersByTime(500)
    expect(probed).toEqual([0, 2, 2, 2])
  })
})

// The shared bucket store's two sides wired to each other in one process (the
// end-to-end test runs them across real workers).

import { describe, expect, it } from 'vitest'
import { bucketHost, type TakeRequest, workerBuckets } from './shared-ratelimit.ts'

const limits = { rate: 2, perMs: 60_000, burst: 2, maxBuckets: 100 }

describe('shared buckets', () => {
  it('two workers draw from one bucket', async () => {
    const host = bucketHost(() => 0)
    const a = workerBuckets((m) => a.answered(host(m)))
    const b = workerBuckets((m) => b.answered(host(m)))
    const storeA = a.factory('rule', limits)
    const storeB = b.factory('rule', limits)
    expect([await storeA.take('k', 0), await storeB.take('k', 0)]).toEqual([0, 0])
    expect(await storeA.take('k', 0)).toBe(30)
    expect(await storeB.take('other', 0)).toBe(0)
    a.close()
    b.close()
  })

  it('makes the rule a new bucket when a reload changed its limits', async () => {
    const host = bucketHost(() => 0)
    const w = workerBuckets((m) => w.answered(host(m)))
    const before = w.factory('rule', limits)
    await before.take('k', 0)
    await before.take('k', 0)
    expect(await before.take('k', 0)).toBeGreaterThan(0)
    const after = w.factory('rule', { ...limits, burst: 5 })
    expect(await after.take('k', 0)).toBe(0)
    w.close()
  })

  it('lets the request through, and counts it, when the supervisor does not answer', async () => {
    const lost: TakeRequest[] = []
    const w = workerBuckets((m) => lost.push(m))
    expect(await w.factory('rule', limits).take('k', 0)).toBe(0)
    expect(lost).toHaveLength(1)
    expect(w.unanswered).toBe(1)
    w.close()
  })
})

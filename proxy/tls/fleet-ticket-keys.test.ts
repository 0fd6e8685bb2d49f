// The fleet's session ticket key, with a real Redis: two supervisors share
// one key, take the next one together when it expires, and keep serving with
// a key of their own while Redis is down.

import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../e2e/support/free-port.ts'
import { type RedisServer, startRedis } from '../e2e/support/redis.ts'
import { until } from '../e2e/support/until.ts'
import { fleetTicketKeys } from './fleet-ticket-keys.ts'
import type { TicketKeyRing } from './ticket-keys.ts'

const rings: TicketKeyRing[] = []
let redis: RedisServer | undefined
afterEach(async () => {
  for (const r of rings.splice(0)) r.stop()
  await redis?.stop()
  redis = undefined
})

const quiet = { warn() {} }

describe('fleet session ticket keys', () => {
  it('two supervisors share one key, and both take the next one when it expires', async () => {
    redis = await startRedis()
    const o = { url: redis.url, prefix: 'fleet-test', rotationMs: 400, log: quiet }
    const seen: Buffer[] = []
    const a = await fleetTicketKeys(o, (k) => seen.push(k))
    const b = await fleetTicketKeys(o, () => {})
    rings.push(a, b)
    expect(a.current()).toHaveLength(48)
    expect(b.current().equals(a.current())).toBe(true)
    const first = a.current()
    await until(
      () => !a.current().equals(first) && !b.current().equals(first),
      'a next key on both',
    )
    // Both polled the key Redis holds now (a rotation may fall between their polls).
    await until(() => a.current().equals(b.current()), 'both holding the same key')
    expect(seen.some((k) => k.equals(a.current()))).toBe(true)
  })

  it('with Redis unreachable: a key of its own, and a warning', async () => {
    const warnings: string[] = []
    const ring = await fleetTicketKeys(
      {
        url: `redis://127.0.0.1:${await freePort()}`,
        prefix: 'fleet-test',
        rotationMs: 60_000,
        log: { warn: (_o, msg) => warnings.push(msg ?? '') },
      },
      () => {},
    )
    rings.push(ring)
    expect(ring.current()).toHaveLength(48)
    expect(warnings).toEqual([expect.stringMatching(/Redis unreachable/)])
  })
})

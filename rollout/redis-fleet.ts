// What a fleet shares through Redis besides the state: the lease that picks the
// one instance whose controller drives plans, every instance's counters so
// that controller judges gates on the whole fleet's traffic, and who is in the
// fleet (each instance says so every second; one silent for 30 s is gone).

import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { StatsSource } from './controller.ts'
import { newStats, type ScopeStats } from './scope.ts'
import type { ScopeSet } from './scopes.ts'

const LEASE_MS = 10_000
const RENEW_MS = 3000
const PUBLISH_MS = 1000
/** An instance not heard from for this long has left the fleet. */
const SILENT_MS = 30_000
const LEAVE_MS = 500

/** One member of the fleet, as it last said. */
export interface FleetInstance {
  id: string
  host: string
  pid: number
  /** When it last said so, ms since the epoch. */
  at: number
  leading: boolean
}

export interface Fleet {
  /** True while this instance holds the controller lease. */
  leading(): boolean
  /** Every instance heard from lately, this one included, as of the last publish. */
  instances(): FleetInstance[]
  stats: StatsSource
  close(): void
}

/** Joins the fleet: publishes this instance's counters and competes for the controller lease. */
export async function joinFleet(url: string, prefix: string, scopes: ScopeSet): Promise<Fleet> {
  const id = randomUUID()
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (n) => Math.min(n * 200, 2000),
  })
  client.on('error', () => {})
  await client.connect().catch(() => {})
  const leaseKey = `${prefix}:rollout:lease`
  const statsKey = (scope: string) => `${prefix}:stats:${scope}`
  const instancesKey = `${prefix}:instances`
  let leaseUntil = 0
  let fleetStats = new Map<string, ScopeStats>()
  let instances: FleetInstance[] = []

  const renew = async () => {
    if (client.status !== 'ready') return
    // Take the lease if free, or extend it if ours; atomically.
    const ok = await client.eval(
      "local v = redis.call('GET', KEYS[1]) if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end return 0",
      1,
      leaseKey,
      id,
      LEASE_MS,
    )
    leaseUntil = ok === 1 ? Date.now() + LEASE_MS - RENEW_MS : 0
  }
  const publish = async () => {
    if (client.status !== 'ready') return
    const tx = client.multi()
    for (const [scope, s] of scopes)
      tx.hset(statsKey(scope), id, serialize(s.stats)).pexpire(statsKey(scope), 60_000)
    const self = {
      host: hostname(),
      pid: process.pid,
      at: Date.now(),
      leading: Date.now() < leaseUntil,
    }
    tx.hset(instancesKey, id, JSON.stringify(self)).hgetall(instancesKey)
    const replies = await tx.exec()
    const all = (replies?.at(-1)?.[1] ?? {}) as Record<string, string>
    const now = Date.now()
    instances = Object.entries(all)
      .flatMap(([member, json]) => {
        try {
          return [{ id: member, ...(JSON.parse(json) as Omit<FleetInstance, 'id'>) }]
        } catch {
          return [] // not one of ours: let go below
        }
      })
      .filter((i) => now - i.at < SILENT_MS)
    const gone = Object.keys(all).filter((member) => !instances.some((i) => i.id === member))
    if (gone.length) await client.hdel(instancesKey, ...gone)
    // Only the leader needs the sums.
    if (Date.now() < leaseUntil) fleetStats = await sumAll(client, [...scopes.keys()], statsKey)
  }
  const timers = [
    setInterval(() => void renew().catch(() => {}), RENEW_MS),
    setInterval(() => void publish().catch(() => {}), PUBLISH_MS),
  ]
  for (const t of timers) t.unref()
  await renew().catch(() => {})
  await publish().catch(() => {})
  return {
    leading: () => Date.now() < leaseUntil,
    // While Redis is away nothing is heard, and the list ages out rather than standing still.
    instances: () => instances.filter((i) => Date.now() - i.at < SILENT_MS),
    stats: { snapshot: (scope) => fleetStats.get(scope) },
    close: () => {
      for (const t of timers) clearInterval(t)
      // Leaving: the others see it gone at once rather than after its silence,
      // unless Redis does not answer in time (it then goes after its silence).
      void Promise.race([client.hdel(instancesKey, id), delay(LEAVE_MS, undefined, { ref: false })])
        .catch(() => {})
        .finally(() => client.disconnect())
    },
  }
}

function serialize(s: ScopeStats): string {
  return JSON.stringify({
    ...s,
    newLatency: [...s.newLatency],
    legacyLatency: [...s.legacyLatency],
  })
}

async function sumAll(
  client: Redis,
  scopes: string[],
  key: (s: string) => string,
): Promise<Map<string, ScopeStats>> {
  const out = new Map<string, ScopeStats>()
  for (const scope of scopes) {
    const sum = newStats()
    for (const raw of Object.values(await client.hgetall(key(scope)))) {
      const s = JSON.parse(raw) as Record<string, number | number[]>
      // An instance of an older version has no legacyErrors.
      for (const k of [
        'newRequests',
        'newErrors',
        'fallbacks',
        'legacyRequests',
        'legacyErrors',
        'shadowed',
        'mismatches',
      ] as const)
        sum[k] += (s[k] as number | undefined) ?? 0
      ;(s.newLatency as number[]).forEach((v, i) => {
        sum.newLatency[i] += v
      })
      ;(s.legacyLatency as number[]).forEach((v, i) => {
        sum.legacyLatency[i] += v
      })
    }
    out.set(scope, sum)
  }
  return out
}

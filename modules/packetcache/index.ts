// packetcache: serves repeated queries from the legacy's earlier replies, as
// dnsdist's packet cache does: keyed by the lowercased name, type and the RD,
// CD, DO and EDNS bits; TTLs counted down on the way out; per worker.

import { z } from 'zod'
import { duration, size } from '../../common/units.ts'
import { Flag, Opcode } from '../../dns/constants.ts'
import { lowerWire } from '../../dns/name.ts'
import { createQueryView, Parse, type QueryView, readQuery } from '../../dns/query-view.ts'
import type { DnsContext, DnsModule, DnsReply } from '../dns-module.ts'
import type { ModuleEnv } from '../env.ts'
import { counterSeries, summedGauge } from '../shared/registered-metrics.ts'
import { ANSWER, NEXT, type Verdict } from '../verdict.ts'
import { cacheable } from './lifetime.ts'
import { type Entry, PacketStore } from './store.ts'

export const NAME = 'packetcache'

/** Its config section, `dns.packetcache`; durations in ms once parsed. */
export const packetcacheSettings = z.strictObject({
  enabled: z.boolean().default(true),
  maxEntries: z.int().min(1).default(100_000),
  maxBytes: size.default(64 * 1024 * 1024),
  /** How long a SERVFAIL is served from the cache. */
  servfailTtl: duration.default(5000),
  /** The longest any reply is kept. */
  maxTtl: duration.default(86_400_000),
})

export type PacketCacheSettings = z.output<typeof packetcacheSettings>

/** The part of the key besides the name: type and the bits that change an answer. */
function keyOf(view: QueryView): number {
  return (
    view.qtype * 16 +
    (view.flags & Flag.RD ? 8 : 0) +
    (view.flags & Flag.CD ? 4 : 0) +
    (view.ednsDo ? 2 : 0) +
    (view.edns ? 1 : 0)
  )
}

/** Queries whose replies may be shared between clients: plain IN queries without a client subnet. */
function shareable(view: QueryView): boolean {
  return (
    view.opcode === Opcode.QUERY && view.qclass === 1 && view.ecsOffset < 0 && !view.extraRecords
  )
}

export function packetcache(options: PacketCacheSettings, env: ModuleEnv): DnsModule {
  const store = new PacketStore(options.maxEntries, options.maxBytes)
  const { hit: hits, miss: misses } = counterSeries(
    env.registry,
    `cutover_${NAME}_lookups_total`,
    'Packet cache lookups for legacy-bound DNS queries, by result',
    'result',
    ['hit', 'miss'],
  )
  const entries = summedGauge(
    env.registry,
    `cutover_${NAME}_entries`,
    'Replies held in the packet cache',
  )
  const bytes = summedGauge(env.registry, `cutover_${NAME}_bytes`, 'Bytes held by the packet cache')
  const readEntries = (): number => store.entries
  const readBytes = (): number => store.bytes
  entries.add(readEntries)
  bytes.add(readBytes)

  const replyView = createQueryView()

  const serve = (ctx: DnsContext, entry: Entry, now: number): void => {
    const out = ctx.out
    const { response, ttlOffsets, ttls } = entry
    response.copy(out)
    ctx.query.copy(out, 0, 0, 2)
    ctx.query.copy(out, 12, 12, ctx.view.questionEnd)
    const elapsed = Math.floor((now - entry.storedAt) / 1000)
    for (let i = 0; i < ttlOffsets.length; i++) {
      const left = ttls[i] - elapsed
      out.writeUInt32BE(Math.max(left, 0), ttlOffsets[i])
    }
    ctx.response = out
    ctx.responseLength = response.length
  }

  return {
    name: NAME,

    query(ctx: DnsContext): Verdict {
      const view = ctx.view
      if (!shareable(view)) return NEXT
      const entry = store.find(ctx.query, view, keyOf(view))
      const now = performance.now()
      if (entry === undefined || now >= entry.expiresAt || entry.response.length > ctx.sizeLimit) {
        if (entry !== undefined && now >= entry.expiresAt) store.delete(entry)
        misses.inc()
        return NEXT
      }
      hits.inc()
      serve(ctx, entry, now)
      return ANSWER
    },

    response(reply: DnsReply): void {
      const q = reply.query
      if (readQuery(q, q.length, replyView) !== Parse.OK || !shareable(replyView)) return
      const c = cacheable(
        reply.response.subarray(0, reply.responseLength),
        options.servfailTtl / 1000,
        options.maxTtl / 1000,
      )
      if (c === undefined) return
      const now = performance.now()
      store.set({
        response: c.response,
        ttlOffsets: c.ttlOffsets,
        ttls: c.ttls,
        storedAt: now,
        expiresAt: now + c.ttl * 1000,
        name: lowerWire(q.subarray(12, replyView.qnameEnd)),
        key: keyOf(replyView),
        prev: undefined,
        next: undefined,
      })
    },

    close(): void {
      entries.delete(readEntries)
      bytes.delete(readBytes)
    },
  }
}

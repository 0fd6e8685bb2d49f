// The fleet's record event log: a Redis stream, one entry per event (field
// `event`, the event as JSON), its id the event's sequence. Every proxy process
// reads it in order from the start (a full build replays it) and then blocks
// for what comes next; when Redis goes away it keeps trying from the last id
// it applied, so nothing is lost or read twice.

import { setTimeout as delay } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { Sequence } from '../../modules/authoritative/record-event.ts'
import type { LogEntry, RecordLog } from './record-log.ts'

const PAGE = 1000
const BLOCK_MS = 1000
const RETRY_MS = 500
/** How long a start waits for Redis to hand over the log before it fails. */
const REPLAY_PATIENCE_MS = 15_000

type StreamEntries = [id: string, fields: string[]][]

function entryOf([id, fields]: StreamEntries[number]): LogEntry {
  const at = fields.indexOf('event')
  return { sequence: id, text: at >= 0 ? (fields[at + 1] ?? '') : '' }
}

export function redisStreamLog(url: string, stream: string): RecordLog {
  const options = {
    lazyConnect: true,
    connectTimeout: 2000,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
  }
  const client = new Redis(url, { ...options, maxRetriesPerRequest: 1 })
  // Blocking reads get a connection of their own.
  const reader = new Redis(url, { ...options, maxRetriesPerRequest: null })
  client.on('error', () => {})
  reader.on('error', () => {})
  let broken: string | undefined
  let closed = false
  const where = `Redis stream ${stream} at ${url}`

  const ready = async (r: Redis) => {
    if (r.status === 'wait') await r.connect()
  }

  return {
    describe: () => where,
    // A stream cannot tell it was replaced (its ids are times): `claimed` goes unchecked.
    // A Redis slow to answer (or restarting) is waited for a while, from the last entry read.
    async replay(after, each) {
      let start = after === '0-0' ? '-' : `(${after}`
      const deadline = Date.now() + REPLAY_PATIENCE_MS
      for (;;) {
        try {
          await ready(client)
          for (;;) {
            const page = (await client.xrange(stream, start, '+', 'COUNT', PAGE)) as StreamEntries
            for (const e of page) each(entryOf(e))
            if (page.length > 0) start = `(${page[page.length - 1][0]}`
            if (page.length < PAGE) return
          }
        } catch (err) {
          if (Date.now() >= deadline)
            throw new Error(
              `cannot read record events from ${where} within ${REPLAY_PATIENCE_MS / 1000} s: ${(err as Error).message}`,
            )
          await delay(RETRY_MS)
        }
      }
    },
    follow(after, each) {
      let last: Sequence = after
      void (async () => {
        while (!closed) {
          try {
            await ready(reader)
            const got = (await reader.xread(
              'COUNT',
              PAGE,
              'BLOCK',
              BLOCK_MS,
              'STREAMS',
              stream,
              last,
            )) as [string, StreamEntries][] | null
            broken = undefined
            for (const e of got?.[0]?.[1] ?? []) {
              last = e[0]
              each(entryOf(e))
            }
          } catch (err) {
            if (closed) return
            broken = `${where}: ${(err as Error).message}; retrying from ${last}`
            await delay(RETRY_MS)
          }
        }
      })()
    },
    async append(text) {
      await ready(client)
      await client.xadd(stream, '*', 'event', text)
    },
    async lag(position) {
      const behind = (await client.xrange(
        stream,
        `(${position}`,
        '+',
        'COUNT',
        PAGE + 1,
      )) as StreamEntries
      if (behind.length === 0) return { events: 0, seconds: 0 }
      const sentAt = Number(behind[0][0].split('-')[0])
      return { events: behind.length, seconds: Math.max(0, (Date.now() - sentAt) / 1000) }
    },
    health: () => (broken ? { ok: false, detail: broken } : { ok: true }),
    async close() {
      closed = true
      reader.disconnect()
      client.disconnect()
    },
  }
}

// Session ticket keys shared by a fleet (`rollout.store: redis`): the key lives
// in Redis with the rotation period as its expiry; whichever supervisor first
// finds it gone makes the next one (SET NX), and every supervisor picks up the
// one in Redis within a poll. A client then resumes on any instance. While
// Redis cannot be reached, a supervisor keeps the key it has (or makes its
// own) and says so once.

import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Config } from '../config/config.ts'
import { TICKET_KEY_BYTES, type TicketKeyRing, ticketKeyRing } from './ticket-keys.ts'

export interface FleetTicketKeyOptions {
  url: string
  prefix: string
  rotationMs: number
  log: { warn(obj: object, msg?: string): void }
  /** The key to keep while Redis cannot be reached (the replaced supervisor's), else one of its own. */
  first?: Buffer
}

/** How often a supervisor looks for a newer key: within a minute of a rotation. */
const POLL_MS = 30_000

/** A ring that follows the fleet's key in Redis; resolves once it has one (or made its own). */
export async function fleetTicketKeys(
  o: FleetTicketKeyOptions,
  rotated: (keys: Buffer) => void,
): Promise<TicketKeyRing> {
  const client = new Redis(o.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
  })
  client.on('error', () => {})
  const name = `${o.prefix}:tls:ticket-key`
  let key = o.first ?? randomBytes(TICKET_KEY_BYTES)
  let warned = false
  const sync = async (): Promise<void> => {
    try {
      if (client.status === 'wait') await client.connect()
      await client.set(
        name,
        randomBytes(TICKET_KEY_BYTES).toString('base64'),
        'PX',
        o.rotationMs,
        'NX',
      )
      const shared = Buffer.from((await client.get(name)) ?? '', 'base64')
      warned = false
      if (shared.length !== TICKET_KEY_BYTES || shared.equals(key)) return
      key = shared
      rotated(key)
    } catch (err) {
      if (warned) return
      warned = true
      o.log.warn(
        { err: (err as Error).message, url: o.url },
        'session ticket key: Redis unreachable; this instance keeps its own key until it is back (sessions resume only here)',
      )
    }
  }
  await sync()
  const timer = setInterval(() => void sync(), Math.min(POLL_MS, o.rotationMs / 4))
  timer.unref()
  return {
    current: () => key,
    stop() {
      clearInterval(timer)
      client.disconnect()
    },
  }
}

/**
 * The ring a proxy's TLS listeners use: the fleet's with a Redis rollout store,
 * else one of its own; none without a `tls` section.
 */
export async function ticketKeysFor(
  config: Config,
  log: FleetTicketKeyOptions['log'],
  rotated: (keys: Buffer) => void,
  first?: Buffer,
): Promise<TicketKeyRing | undefined> {
  if (!config.tls) return undefined
  const rotationMs = config.tls.ticketRotation
  if (config.rollout.store !== 'redis') return ticketKeyRing(rotationMs, rotated, first)
  const { url, prefix } = config.rollout.redis
  return fleetTicketKeys({ url, prefix, rotationMs, log, first }, rotated)
}

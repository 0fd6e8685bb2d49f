// Record events from the log into the authoritative module serving now: the
// whole log replayed into a full build before it serves, then each new event
// applied as it arrives (a per-record build). An event at or below a zone's
// sequence is skipped, so a replay after a swap never applies one twice.

import { randomUUID } from 'node:crypto'
import { Counter, Gauge, type Registry } from 'prom-client'
import { issueText } from '../../common/issue-text.ts'
import type { AuthoritativeModule, EventOutcome } from '../../modules/authoritative/index.ts'
import {
  compareSequence,
  type RecordEventBody,
  recordEventSchema,
  type Sequence,
} from '../../modules/authoritative/record-event.ts'
import { registered } from '../../modules/shared/registered-metrics.ts'
import type { Logger } from '../telemetry/log.ts'
import type { LogEntry, RecordLog } from './record-log.ts'

const PUBLISH_WAIT_MS = 5000
const LAG_EVERY_MS = 1000

export type Published = EventOutcome & { sequence: Sequence }

export interface RecordFeed {
  /** Applies the log to `module`, a full build about to serve; resolves with the entries read. */
  replayInto(module: AuthoritativeModule): Promise<number>
  /** Where `module` stands in the log: it has seen every event up to this one (snapshots are taken at it). */
  position(module: AuthoritativeModule): Sequence
  /** Entries the first replay read (the log past the zones' snapshots). */
  replayedAtStart: number
  /** After a swap: what the live path applied to the module before is applied to the new one. */
  resync(): Promise<void>
  /** Adds an event to the log; resolves with its outcome here once applied (undefined if not within 5 s). */
  publish(body: RecordEventBody): Promise<Published | undefined>
  /** Hears the outcome of every event that carries an id (the supervisor waits on them). */
  onOutcome(listener: (id: string, outcome: Published) => void): void
  lag(): { events: number; seconds: number }
  notReady(): string[]
  close(): Promise<void>
}

export async function startRecordFeed(
  log: RecordLog,
  target: () => AuthoritativeModule,
  logger: Logger,
  registry: Registry,
  maxLagMs: number,
): Promise<RecordFeed> {
  const events = registered(
    registry,
    'cutover_record_events_total',
    () =>
      new Counter({
        name: 'cutover_record_events_total',
        help: 'Record events read from the log, by result: applied, skipped (applied before) or refused',
        labelNames: ['result'],
        registers: [registry],
      }),
  )
  let lag = { events: 0, seconds: 0 }
  // The last entry each module has seen: a reload's new build and the serving
  // one stand at different places until the swap's resync.
  const through = new WeakMap<AuthoritativeModule, Sequence>()
  const positionOf = (module: AuthoritativeModule) => through.get(module) ?? module.position()
  const advance = (module: AuthoritativeModule, sequence: Sequence) => {
    if (compareSequence(sequence, positionOf(module)) > 0) through.set(module, sequence)
  }
  const lagGauge = (name: string, help: string, read: () => number) =>
    registered(
      registry,
      name,
      () =>
        new Gauge({
          name,
          help,
          registers: [registry],
          // Every worker follows the log: the fleet's figure is the worst one.
          aggregator: 'max',
          collect() {
            this.set(read())
          },
        }),
    )
  lagGauge(
    'cutover_record_lag_events',
    'Record events in the log not yet applied',
    () => lag.events,
  )
  lagGauge(
    'cutover_record_lag_seconds',
    'Age of the oldest record event not yet applied',
    () => lag.seconds,
  )

  const waiting = new Map<string, (outcome: Published) => void>()
  const listeners: ((id: string, outcome: Published) => void)[] = []

  const applyTo = (module: AuthoritativeModule, entry: LogEntry): EventOutcome => {
    const outcome = outcomeOf(module, entry)
    advance(module, entry.sequence)
    return outcome
  }

  const outcomeOf = (module: AuthoritativeModule, entry: LogEntry): EventOutcome => {
    let body: RecordEventBody
    try {
      const parsed = recordEventSchema.safeParse(JSON.parse(entry.text))
      if (!parsed.success) {
        const why = parsed.error.issues.map(
          (i) => `${i.path.join('.') || 'event'}: ${issueText(i)}`,
        )
        return { result: 'refused', reason: why.join('; ') }
      }
      body = parsed.data
    } catch {
      return { result: 'refused', reason: 'not JSON' }
    }
    const outcome = module.apply({ ...body, sequence: entry.sequence })
    if (body.id !== undefined) {
      const published = { ...outcome, sequence: entry.sequence }
      waiting.get(body.id)?.(published)
      for (const l of listeners) l(body.id, published)
    }
    return outcome
  }

  const live = (entry: LogEntry) => {
    const outcome = applyTo(target(), entry)
    events.inc({ result: outcome.result })
    if (outcome.result === 'refused')
      logger.warn(
        { sequence: entry.sequence, reason: outcome.reason, log: log.describe() },
        'record event refused',
      )
  }

  /** Reads the log past where `module` stands into it; resolves with the entries read. */
  const replayInto = async (module: AuthoritativeModule) => {
    let read = 0
    let applied = 0
    const started = performance.now()
    // What the zones' snapshots hold, or what this module saw before, needs no reading again.
    await log.replay(
      positionOf(module),
      (entry) => {
        read++
        if (applyTo(module, entry).result === 'applied') applied++
      },
      module.newest(),
    )
    if (applied > 0)
      logger.info(
        { applied, ms: Math.round(performance.now() - started), log: log.describe() },
        'record events replayed onto the zones',
      )
    return read
  }

  const replayedAtStart = await replayInto(target())
  log.follow(positionOf(target()), live)
  const lagTimer = setInterval(() => {
    log.lag(positionOf(target())).then(
      (l) => {
        lag = l
      },
      () => {},
    )
  }, LAG_EVERY_MS)
  lagTimer.unref()

  return {
    replayInto,
    resync: () => replayInto(target()).then(() => undefined),
    position: positionOf,
    replayedAtStart,
    async publish(body) {
      const id = body.id ?? randomUUID()
      const outcome = new Promise<Published | undefined>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id)
          resolve(undefined)
        }, PUBLISH_WAIT_MS)
        waiting.set(id, (o) => {
          clearTimeout(timer)
          waiting.delete(id)
          resolve(o)
        })
      })
      await log.append(JSON.stringify({ ...body, id }))
      return outcome
    },
    onOutcome(listener) {
      listeners.push(listener)
    },
    lag: () => lag,
    notReady() {
      const reasons: string[] = []
      const h = log.health()
      if (!h.ok) reasons.push(h.detail ?? `${log.describe()} unavailable`)
      if (lag.seconds * 1000 > maxLagMs)
        reasons.push(`record events ${lag.seconds.toFixed(1)} s behind (${lag.events} not applied)`)
      return reasons
    },
    async close() {
      clearInterval(lagTimer)
      await log.close()
    },
  }
}

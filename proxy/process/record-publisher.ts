// Record events from the admin API when workers serve the zones: appended to
// the record log every worker follows, and answered once each worker that was
// ready when it came reported applying it, or after 5 s without an answer.

import { randomUUID } from 'node:crypto'
import type { RecordEventBody } from '../../modules/authoritative/record-event.ts'
import type { Published } from '../records/feed.ts'
import type { RecordLog } from '../records/record-log.ts'

const OUTCOME_WITHIN_MS = 5000

interface Waiting {
  /** The workers yet to report. */
  workers: Set<number>
  first: Published | undefined
  done(outcome: Published | undefined): void
}

export interface RecordPublisher {
  /**
   * Appends the event (under an id of its own) and resolves with the first
   * outcome reported, once every worker in `ready` reported one; undefined if
   * they did not all report within 5 s.
   */
  publish(body: RecordEventBody, ready: number[]): Promise<Published | undefined>
  /** Hand it every `record-outcome` a worker reports. */
  applied(worker: number, eventId: string, outcome: Published): void
}

export function recordPublisher(log: RecordLog): RecordPublisher {
  const waiting = new Map<string, Waiting>()
  return {
    async publish(body, ready) {
      const id = randomUUID()
      const outcome = new Promise<Published | undefined>((resolve) => {
        const timer = setTimeout(() => w.done(undefined), OUTCOME_WITHIN_MS)
        const w: Waiting = {
          workers: new Set(ready),
          first: undefined,
          done(o) {
            clearTimeout(timer)
            waiting.delete(id)
            resolve(o)
          },
        }
        waiting.set(id, w)
      })
      try {
        await log.append(JSON.stringify({ ...body, id }))
      } catch (err) {
        waiting.get(id)?.done(undefined)
        throw err
      }
      return outcome
    },
    applied(worker, eventId, outcome) {
      const w = waiting.get(eventId)
      if (!w) return
      w.first ??= outcome
      w.workers.delete(worker)
      if (w.workers.size === 0) w.done(w.first)
    },
  }
}

// Rate limit buckets shared by all of a proxy's workers: the supervisor keeps
// them (the in-process store, one per rule) and a worker asks it for each
// token over IPC. A client spread over several workers' connections meets one
// limit, and the buckets outlive restarts. If the supervisor does not answer
// within a bound, the request is let through (failing open, counted): a rate
// limit must never become an outage.

import {
  type BucketLimits,
  type BucketStoreFactory,
  memoryBucketStore,
} from '../../modules/ratelimit/bucket-store.ts'

const ANSWER_WITHIN_MS = 100

export interface TakeRequest {
  type: 'take'
  id: number
  rule: string
  limits: BucketLimits
  key: string
}

export interface TakeAnswer {
  type: 'taken'
  id: number
  wait: number
}

export interface WorkerBuckets {
  factory: BucketStoreFactory
  /** Hand it every 'taken' message. */
  answered(m: TakeAnswer): void
  /** Tokens let through because the supervisor did not answer in time. */
  readonly unanswered: number
  close(): void
}

/** The worker's side: a store factory whose stores ask the supervisor through `send`. */
export function workerBuckets(send: (m: TakeRequest) => void): WorkerBuckets {
  const pending = new Map<number, { resolve: (wait: number) => void; at: number }>()
  let nextId = 0
  let unanswered = 0
  // One sweep for all of them, not a timer per request.
  const sweep = setInterval(() => {
    const late = performance.now() - ANSWER_WITHIN_MS
    for (const [id, p] of pending) {
      if (p.at > late) continue
      pending.delete(id)
      unanswered++
      p.resolve(0)
    }
  }, ANSWER_WITHIN_MS / 2)
  sweep.unref()
  return {
    factory: (rule, limits) => ({
      take(key) {
        const id = nextId++
        return new Promise<number>((resolve) => {
          pending.set(id, { resolve, at: performance.now() })
          send({ type: 'take', id, rule, limits, key })
        })
      },
    }),
    answered(m) {
      const p = pending.get(m.id)
      if (!p) return
      pending.delete(m.id)
      p.resolve(m.wait)
    },
    get unanswered() {
      return unanswered
    },
    close() {
      clearInterval(sweep)
      for (const p of pending.values()) p.resolve(0)
      pending.clear()
    },
  }
}

/**
 * The supervisor's side: answers a worker's request from the rule's store, made
 * on first use and made again when a reload changed the rule's limits.
 */
export function bucketHost(now: () => number = () => performance.timeOrigin + performance.now()) {
  const stores = new Map<string, { limits: string; store: ReturnType<typeof memoryBucketStore> }>()
  return (m: TakeRequest): TakeAnswer => {
    const limits = JSON.stringify(m.limits)
    let entry = stores.get(m.rule)
    if (entry?.limits !== limits) {
      entry = { limits, store: memoryBucketStore(m.rule, m.limits) }
      stores.set(m.rule, entry)
    }
    return { type: 'taken', id: m.id, wait: entry.store.take(m.key, now()) }
  }
}

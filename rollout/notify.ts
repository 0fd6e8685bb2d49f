// Webhooks: each transition of the rollout state (a percentage set, a plan
// started, advanced, rolled back with the gate readings that broke it...) as a
// JSON event POSTed to every `rollout.notify` URL, with a `text` field that
// Slack and the chat tools copying its incoming webhooks show as it is. Sent in
// the background, in order, one at a time per URL, retried with backoff: a
// webhook that is down or slow never holds a change back. What still cannot be
// sent after the last try, or overflows the queue, is logged with the event.

import { hostname } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
import type { RolloutLog } from './service.ts'
import type { HistoryEntry } from './state.ts'

export interface NotifyTiming {
  /** How long one POST may take. */
  timeoutMs: number
  /** The wait before the first retry; doubled for each after it. */
  backoffMs: number
  attempts: number
  /** Events waiting per URL; beyond it the oldest is given up. */
  queueLimit: number
}

export const NOTIFY_TIMING: NotifyTiming = {
  timeoutMs: 5000,
  backoffMs: 1000,
  attempts: 6,
  queueLimit: 1000,
}

/** What a webhook receives. */
export interface NotifyEvent {
  event: `rollout.${HistoryEntry['action']}`
  scope: string
  /** Percent on the new path before and after. */
  from: number
  to: number
  by: string
  why: string
  at: string
  host: string
  gates?: HistoryEntry['gates']
  /** One line for a chat channel. */
  text: string
}

export interface Notifier {
  /** Queues an event per entry for every URL; returns at once. */
  send(entries: readonly HistoryEntry[]): void
  /** New URLs (a reload): a URL kept keeps its queue. */
  configure(urls: readonly string[]): void
  /** Waits up to `withinMs` for the queues to empty; what is left is logged as not sent. */
  close(withinMs: number): Promise<void>
}

const VERBS: Record<HistoryEntry['action'], string> = {
  set: 'set',
  plan: 'started a plan for',
  advance: 'advanced',
  rollback: 'rolled back',
  pause: 'paused the plan of',
  resume: 'resumed the plan of',
  abort: 'aborted the plan of',
  promote: 'promoted',
  done: 'finished the plan of',
  init: 'added',
}

export function eventOf(e: HistoryEntry, host = hostname()): NotifyEvent {
  const from = e.from / 100
  const to = e.to / 100
  // The readings that decided: those that broke on a rollback, those that held on an advance.
  const gates = e.gates?.filter(
    (g) => g.state === 'breached' || (e.action !== 'rollback' && g.state === 'ok'),
  )
  const readings = gates?.length
    ? ` (${gates.map((g) => `${g.gate} ${g.value.toPrecision(3)} ${g.state === 'breached' ? '>' : '≤'} ${g.limit}`).join(', ')})`
    : ''
  return {
    event: `rollout.${e.action}`,
    scope: e.scope,
    from,
    to,
    by: e.by,
    why: e.why,
    at: new Date(e.at).toISOString(),
    host,
    ...(e.gates ? { gates: e.gates } : {}),
    text: `cutover on ${host}: ${e.by} ${VERBS[e.action]} ${e.scope}, ${from}% → ${to}%: ${e.why}${readings}`,
  }
}

/** A webhook's answer worth another try: none, a timeout, 429 or a 5xx. */
function retryable(status: number | undefined): boolean {
  return status === undefined || status === 429 || status >= 500
}

export function startNotifier(
  first: readonly string[],
  log: RolloutLog,
  timing: NotifyTiming = NOTIFY_TIMING,
): Notifier {
  const queues = new Map<string, { events: NotifyEvent[]; running: Promise<void> | undefined }>()
  let closing = false
  // Past the stop's grace, the posts still going are cut rather than holding the process.
  const stopping = new AbortController()

  const post = async (url: string, event: NotifyEvent): Promise<number | undefined> => {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'cutover' },
        body: JSON.stringify(event),
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(timing.timeoutMs), stopping.signal]),
      })
      await res.body?.cancel()
      return res.status
    } catch {
      return undefined
    }
  }

  const deliver = async (url: string, event: NotifyEvent): Promise<void> => {
    let status: number | undefined
    for (let attempt = 1; attempt <= timing.attempts; attempt++) {
      status = await post(url, event)
      if (status !== undefined && status < 300) return
      if (!retryable(status) || closing || attempt === timing.attempts) break
      await delay(timing.backoffMs * 2 ** (attempt - 1), undefined, {
        signal: stopping.signal,
        ref: false,
      }).catch(() => {}) // cut short by the stop
    }
    log.warn(
      { url, status: status ?? 'no answer', event },
      `rollout: webhook not notified of ${event.event} for ${event.scope}`,
    )
  }

  type Queue = NonNullable<ReturnType<typeof queues.get>>
  const drain = async (url: string, q: Queue) => {
    // Until the stop cuts it, or a reload takes the URL away.
    while (q.events.length > 0 && !stopping.signal.aborted && queues.get(url) === q)
      await deliver(url, q.events.shift() as NotifyEvent)
    q.running = undefined
  }
  const giveUp = (url: string, q: Queue, why: string) => {
    for (const event of q.events.splice(0)) log.warn({ url, event }, why)
  }

  const configure = (urls: readonly string[]) => {
    for (const [url, q] of queues)
      if (!urls.includes(url)) {
        queues.delete(url)
        giveUp(url, q, 'rollout: webhook removed by a reload; this event not sent')
      }
    for (const url of urls)
      if (!queues.has(url)) queues.set(url, { events: [], running: undefined })
  }
  configure(first)

  return {
    send(entries) {
      if (closing || entries.length === 0) return
      const events = entries.map((e) => eventOf(e))
      for (const [url, q] of queues) {
        q.events.push(...events)
        while (q.events.length > timing.queueLimit) {
          const dropped = q.events.shift()
          log.warn({ url, event: dropped }, 'rollout: webhook queue full; oldest event not sent')
        }
        q.running ??= drain(url, q)
      }
    },
    configure,
    async close(withinMs) {
      closing = true
      const running = () => [...queues.values()].flatMap((q) => (q.running ? [q.running] : []))
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(running()),
        new Promise((r) => {
          timer = setTimeout(r, withinMs)
        }),
      ])
      clearTimeout(timer)
      stopping.abort()
      await Promise.all(running())
      for (const [url, q] of queues)
        giveUp(url, q, 'rollout: stopping; webhook not notified of this event')
    },
  }
}

// An open-loop HTTP load, as the internet sends it: requests start at a fixed
// rate whatever the server does (a slow server does not slow the senders, as it
// would wrk's), over a pool of keep-alive connections; the latency of each
// answered request by status, and what got no answer in time; `steady` alone
// for requests started after the first second, once a server's response to
// the load (shedding) has set in. Run as a script pinned to the load core:
// node open-loop-http.ts URL HOST RATE SECONDS.

import { Pool } from 'undici'

const [url, host, rateText, secondsText] = process.argv.slice(2)
const rate = Number(rateText)
const seconds = Number(secondsText)
/** Requests start in batches every tick: a timer per request would be the bottleneck. */
const TICK_MS = 5
const TIMEOUT_MS = 2000

const pool = new Pool(url, {
  connections: 512,
  pipelining: 1,
  headersTimeout: TIMEOUT_MS,
  bodyTimeout: TIMEOUT_MS,
})
const latencies = new Map<number, number[]>()
const steadyLatencies = new Map<number, number[]>()
/** Requests started after this are the steady state's. */
const STEADY_AFTER_MS = 1000
let failed = 0
/**
 * 200s answered from the first second until the sending stopped: the server's
 * rate while its queue is full. Not every 200 of the run over its length: at
 * overload those answered after the sending stopped make that a rate no
 * window saw, and those sent in the last seconds missing from it make it low.
 */
let servedSteady = 0
let sent = 0
const started = performance.now()

async function one(): Promise<void> {
  const t0 = performance.now()
  try {
    const res = await pool.request({ path: '/', method: 'GET', headers: { host } })
    await res.body.dump()
    const ms = performance.now() - t0
    const at = performance.now() - started
    if (res.statusCode === 200 && at >= STEADY_AFTER_MS && at < seconds * 1000) servedSteady++
    for (const by of t0 - started >= STEADY_AFTER_MS ? [latencies, steadyLatencies] : [latencies]) {
      const list = by.get(res.statusCode) ?? []
      list.push(ms)
      by.set(res.statusCode, list)
    }
  } catch {
    failed++
  }
}

const inFlight = new Set<Promise<void>>()
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const elapsed = performance.now() - started
    if (elapsed >= seconds * 1000) {
      clearInterval(timer)
      resolve()
      return
    }
    const due = Math.floor((elapsed / 1000) * rate) - sent
    for (let i = 0; i < due; i++) {
      sent++
      const p = one()
      inFlight.add(p)
      void p.then(() => inFlight.delete(p))
    }
  }, TICK_MS)
})
await Promise.all(inFlight)
await pool.close()

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
const summary = (by: Map<number, number[]>) =>
  Object.fromEntries(
    [...by].map(([status, list]) => {
      const sorted = list.sort((a, b) => a - b)
      return [status, { count: sorted.length, p50Ms: pct(sorted, 0.5), p99Ms: pct(sorted, 0.99) }]
    }),
  )
const byStatus = summary(latencies)
const steady = summary(steadyLatencies)
process.stdout.write(
  `${JSON.stringify({ sent, failed, seconds, byStatus, steady, servedRate: servedSteady / (seconds - STEADY_AFTER_MS / 1000) })}\n`,
)

// One row of a load benchmark: its server started pinned, a one-second warm-up,
// the measured run, and the server stopped whatever happens. Load generators run
// on one core and servers on the other, so neither takes from the other.

import type { Server } from './servers.ts'

export const LOAD_CORE = 0
export const SERVER_CORE = 1
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
/**
 * Before an interleaved row's measured run, counted from its start: long
 * enough for a larger server's code to be compiled hot. Under load cutover's
 * worker spends its first 6 to 8 s compiling (V8's optimizing compiler, on the
 * same pinned core; the optimization events per 2 s fall from hundreds to a
 * handful by then), with a p99 of 20 to 100 ms meanwhile; a bare proxy
 * settles in 4 s.
 */
const WARM_UP_SECONDS = 8

/** What a load generator reports: throughput, latency percentiles, failed requests. */
export interface LoadResult {
  rps: number
  p50Ms: number
  p99Ms: number
  errors: number
  /** Requests made, for a run bound by a count rather than by its seconds (h2load's). */
  requests?: number
  /** CPU microseconds the server spent per request, where it could be read. */
  cpuUsPerRequest?: number
  /** An interleaved row's p99 in its first seconds, from 1 s after its start: what a restart's new process serves at. */
  coldP99Ms?: number
  /** An interleaved row's runs, one per round in round order. */
  rounds?: LoadResult[]
}

/** The middle one of `values` (the upper middle of an even count). */
function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
}

/**
 * `row`'s `key` as a multiple of `baseline`'s. For interleaved rows, the
 * median of the ratios within each round: the two ran within a minute of each other,
 * so a slow phase of the machine (on these shared VMs the p99 of one server
 * swings 3× between rounds) weighs on both sides of each ratio.
 */
export function ratio(
  row: LoadResult,
  baseline: LoadResult,
  key: (r: LoadResult) => number,
): number {
  if (!row.rounds || !baseline.rounds) return key(row) / key(baseline)
  const base = baseline.rounds
  return median(row.rounds.map((r, k) => key(r) / key(base[k])))
}

/** The `p` quantile (0..1) of ascending `sorted`; NaN when there is none. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
    : Number.NaN
}

/** Drives the server listening on `port` for `seconds`. */
export type Load = (port: number, seconds: number) => Promise<LoadResult>

/** Starts a server, warms it up, measures it under `load` for SECONDS and stops it. */
export async function measure(
  name: string,
  start: () => Promise<Server>,
  load: Load,
): Promise<LoadResult> {
  const server = await start()
  try {
    await load(server.port, 1)
    const result = await load(server.port, SECONDS)
    process.stderr.write(
      `  ${name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(2)} ms\n`,
    )
    return result
  } finally {
    await server.stop()
  }
}

/**
 * Measures servers that differ in one setting, in `rounds` rounds whose order
 * alternates (AB, BA, ...), each row's server started fresh, measured cold
 * (its p99 alone is kept), warmed up, loaded and stopped in turn; each row's
 * medians are kept, and its rounds for `ratio`. A drift of the machine then
 * weighs on every row alike, and no row gains from going first.
 */
export async function measureInterleaved(
  rows: readonly { name: string; start: () => Promise<Server> }[],
  load: Load,
  rounds = 4,
): Promise<LoadResult[]> {
  const runs: LoadResult[][] = rows.map(() => [])
  for (let round = 0; round < rounds; round++) {
    const order = rows.map((_, i) => i)
    if (round % 2 === 1) order.reverse()
    for (const i of order) {
      const server = await rows[i].start()
      try {
        await load(server.port, 1)
        const cold = await load(server.port, SECONDS)
        const rest = WARM_UP_SECONDS - 1 - SECONDS
        if (rest > 0) await load(server.port, rest)
        runs[i].push({ ...(await loadCounted(server, load)), coldP99Ms: cold.p99Ms })
      } finally {
        await server.stop()
      }
    }
  }
  return runs.map((results, i) => {
    const of = (key: (r: LoadResult) => number) => median(results.map(key))
    const medianRps = of((r) => r.rps)
    const kept = results.find((r) => r.rps === medianRps) ?? results[0]
    // CPU per request and the p99 have their own medians: their runs need not be throughput's.
    const cpu = results.every((r) => r.cpuUsPerRequest !== undefined)
      ? of((r) => r.cpuUsPerRequest ?? 0)
      : undefined
    const p99Ms = of((r) => r.p99Ms)
    const coldP99Ms = of((r) => r.coldP99Ms ?? 0)
    process.stderr.write(
      `  ${rows[i].name}: ${kept.rps.toFixed(0)} req/s, p99 ${p99Ms.toFixed(2)} ms (${coldP99Ms.toFixed(2)} ms in its first seconds), ${cpu?.toFixed(1) ?? '?'} CPU µs/request (medians of ${rounds}; p99 by round ${results.map((r) => r.p99Ms.toFixed(1)).join(', ')})\n`,
    )
    return { ...kept, p99Ms, cpuUsPerRequest: cpu, coldP99Ms, rounds: results }
  })
}

/** One measured run of `load` against `server`, with the CPU it spent per request when readable. */
async function loadCounted(server: Server, load: Load): Promise<LoadResult> {
  const before = server.cpuSeconds?.()
  const result = await load(server.port, SECONDS)
  const after = server.cpuSeconds?.()
  if (before === undefined || after === undefined || result.rps === 0) return result
  const requests = result.requests ?? result.rps * SECONDS
  return { ...result, cpuUsPerRequest: ((after - before) * 1e6) / requests }
}

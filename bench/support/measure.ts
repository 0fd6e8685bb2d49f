// One row of a load benchmark: its server started pinned, a one-second warm-up,
// the measured run, and the server stopped whatever happens. Load generators run
// on one core and servers on the other, so neither takes from the other.

import type { Server } from './servers.ts'

export const LOAD_CORE = 0
export const SERVER_CORE = 1
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
/** Before an interleaved row's measured run: long enough for a larger server's code to be compiled hot. */
const WARM_UP_SECONDS = 2

/** What a load generator reports: throughput, latency percentiles, failed requests. */
export interface LoadResult {
  rps: number
  p50Ms: number
  p99Ms: number
  errors: number
  /** CPU microseconds the server spent per request, where it could be read. */
  cpuUsPerRequest?: number
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
 * alternates (AB, BA, ...), each row's server started fresh, warmed up, loaded
 * and stopped in turn; each row's median round is kept. A drift of the machine
 * then weighs on every row alike, and no row gains from going first.
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
        await load(server.port, WARM_UP_SECONDS)
        runs[i].push(await loadCounted(server, load))
      } finally {
        await server.stop()
      }
    }
  }
  return runs.map((results, i) => {
    const median = (key: (r: LoadResult) => number) =>
      [...results].sort((a, b) => key(a) - key(b))[Math.floor(results.length / 2)]
    const kept = median((r) => r.rps)
    // CPU per request and the p99 have their own medians: their runs need not be throughput's.
    const cpu = median((r) => r.cpuUsPerRequest ?? 0).cpuUsPerRequest
    const p99Ms = median((r) => r.p99Ms).p99Ms
    process.stderr.write(
      `  ${rows[i].name}: ${kept.rps.toFixed(0)} req/s, p99 ${p99Ms.toFixed(2)} ms, ${cpu?.toFixed(1) ?? '?'} CPU µs/request (medians of ${rounds})\n`,
    )
    return { ...kept, p99Ms, cpuUsPerRequest: cpu }
  })
}

/** One measured run of `load` against `server`, with the CPU it spent per request when readable. */
async function loadCounted(server: Server, load: Load): Promise<LoadResult> {
  const before = server.cpuSeconds?.()
  const result = await load(server.port, SECONDS)
  const after = server.cpuSeconds?.()
  if (before === undefined || after === undefined || result.rps === 0) return result
  return { ...result, cpuUsPerRequest: ((after - before) * 1e6) / (result.rps * SECONDS) }
}

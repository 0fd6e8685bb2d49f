// One row of a load benchmark: its server started pinned, a one-second warm-up,
// the measured run, and the server stopped whatever happens. Load generators run
// on one core and servers on the other, so neither takes from the other.

import type { Server } from './servers.ts'

export const LOAD_CORE = 0
export const SERVER_CORE = 1
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)

/** What a load generator reports: throughput, latency percentiles, failed requests. */
export interface LoadResult {
  rps: number
  p50Ms: number
  p99Ms: number
  errors: number
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

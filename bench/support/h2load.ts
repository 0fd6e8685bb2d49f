// h2load runs (HTTP/2 over TLS, streams multiplexed on each connection) and
// what we read from them: requests per second, and latency percentiles from its
// per-request log.
//
// A run is bound by a number of requests, not by time: h2load 1.52 (Debian 12)
// with -D hangs now and then after "Stopped all clients" and prints nothing (3
// runs in 10 against a bare node:http2 server; killed and run again, the whole
// TLS bench failed on two in a row), while 10 of 10 runs with -n ended. The
// count is the URL's last rate times the seconds asked for.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type LoadResult, percentile } from './measure.ts'
import { OverstayedError, runPinned } from './pinned.ts'

/** How long a connection may go without activity before h2load gives it up. */
const STALL_SECONDS = 5
/** Beyond four times its expected length and the stall timeout, how long a run may take before it is ended. */
const OVERSTAY_MS = 30_000
/** Requests per second assumed for a URL not yet run against: its first run is a warm-up. */
const FIRST_GUESS_RPS = 5_000
const lastRate = new Map<string, number>()

export async function h2load(
  core: number,
  url: string,
  authority: string,
  seconds: number,
  connections = 50,
  streams = 10,
): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-h2load-'))
  const log = join(dir, 'requests.tsv')
  const requests = Math.max(
    connections * streams,
    Math.round((lastRate.get(url) ?? FIRST_GUESS_RPS) * seconds),
  )
  const limitMs = (4 * seconds + STALL_SECONDS) * 1000 + OVERSTAY_MS
  const run = () =>
    runPinned(
      core,
      'h2load',
      [
        '-t1',
        `-c${connections}`,
        `-m${streams}`,
        `-n${requests}`,
        // A connection silent this long is closed and its requests count as failed: without it,
        // one stalled connection keeps h2load waiting for ever (seen once in a few dozen cold starts).
        `-N${STALL_SECONDS}`,
        `--log-file=${log}`,
        '-H',
        `:authority: ${authority}`,
        url,
      ],
      limitMs,
    )
  try {
    // A run still going at its limit (a stall -N did not end) is killed and run once more.
    const out = await run().catch((err: unknown) => {
      if (err instanceof OverstayedError) return run()
      throw err
    })
    const count = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN)
    // Columns: start (µs since the epoch), status, µs until the response ended.
    const latencies = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => Number(l.split('\t')[2]) / 1000)
      .sort((a, b) => a - b)
    const rps = count(/finished in [\d.]+\w+, ([\d.]+) req\/s/)
    if (rps > 0) lastRate.set(url, rps)
    return {
      rps,
      requests,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      // `failed` holds network errors, timeouts and 4xx/5xx; h2load counts a 3xx a success, we do not.
      errors: count(/(\d+) failed/) + count(/(\d+) 3xx/),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// wrk runs (HTTP/1.1, over TLS for an https:// URL) and what we read from them:
// requests per second and latency percentiles.

import type { LoadResult } from './measure.ts'
import { runPinned } from './pinned.ts'

export type WrkResult = LoadResult

function ms(text: string | undefined): number {
  if (!text) return Number.NaN
  const m = /([\d.]+)(us|ms|s)/.exec(text)
  if (!m) return Number.NaN
  const v = Number(m[1])
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v
}

export async function wrk(
  core: number,
  url: string,
  host: string,
  seconds: number,
  connections = 50,
  headers: readonly string[] = [],
): Promise<LoadResult> {
  const out = await runPinned(core, 'wrk', [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    ...[`Host: ${host}`, ...headers].flatMap((h) => ['-H', h]),
    url,
  ])
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50Ms: ms(/\s50%\s+(\S+)/.exec(out)?.[1]),
    p99Ms: ms(/\s99%\s+(\S+)/.exec(out)?.[1]),
    errors:
      (errors ? errors.slice(1).reduce((n, v) => n + Number(v), 0) : 0) +
      (non2xx ? Number(non2xx[1]) : 0),
  }
}

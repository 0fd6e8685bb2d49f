// dnsperf runs and what we read from them: throughput at saturation, and latency
// percentiles at a fixed rate (from its per-query verbose lines).

import { percentile } from './measure.ts'
import { runPinned } from './pinned.ts'

export interface DnsperfResult {
  qps: number
  lostPercent: number
  p50Ms: number
  p99Ms: number
  avgMs: number
}

export async function dnsperf(
  core: number,
  port: number,
  queryFile: string,
  seconds: number,
  rate?: number,
  /** More dnsperf flags: `-e` for EDNS, `-D` for the DO bit. */
  flags: readonly string[] = [],
): Promise<DnsperfResult> {
  const args = [
    '-s',
    '127.0.0.1',
    '-p',
    String(port),
    '-d',
    queryFile,
    '-l',
    String(seconds),
    '-c',
    '4',
    '-q',
    '200',
    '-t',
    '2',
    ...flags,
  ]
  if (rate) args.push('-Q', String(rate), '-v')
  const out = await runPinned(core, 'dnsperf', args)
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN)
  const latencies = rate
    ? out
        .split('\n')
        .filter((l) => l.startsWith('> '))
        .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)) * 1000)
        // A lost query's line ends in no latency.
        .filter((ms) => Number.isFinite(ms))
        .sort((a, b) => a - b)
    : []
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    lostPercent: num(/Queries lost:\s+\d+ \(([\d.]+)%\)/),
    avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  }
}

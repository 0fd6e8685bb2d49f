// Access log benchmark: wrk against cutover's module answer (static) with the
// access log off (the baseline) and with a line for every request appended to a
// file, to show what `log.access: { percent: 100 }` costs.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  LOAD_CORE,
  type LoadResult,
  measureInterleaved,
  SECONDS,
  SERVER_CORE,
} from './support/measure.ts'
import { startCutover, staticSite } from './support/servers.ts'
import { wrk } from './support/wrk.ts'

const HOST = 'bench.test'
const PATH = '/static'
const TARGET = 0.85

interface Row {
  name: string
  result: LoadResult
}

export async function accessLogBench(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-access-log-'))
  const file = join(dir, 'access.log')
  // Nothing listens here: the static rule answers without reaching an upstream.
  const cutover = (percent: number) => () =>
    startCutover(SERVER_CORE, dir, (listen) => ({
      log: { level: 'info', access: { percent, file } },
      http: staticSite(listen, HOST, PATH),
    }))
  const load = (port: number, seconds: number) =>
    wrk(LOAD_CORE, `http://127.0.0.1:${port}${PATH}`, HOST, seconds)
  try {
    const off = 'cutover module answer (static), access log off (baseline)'
    const on = 'the same, access log at 100% to a file'
    const [offResult, onResult] = await measureInterleaved(
      [
        { name: off, start: cutover(0) },
        { name: on, start: cutover(100) },
      ],
      load,
    )
    const rows: Row[] = [
      { name: off, result: offResult },
      { name: on, result: onResult },
    ]
    return report(rows, readFileSync(file, 'utf8').split('\n').length - 1)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function report(rows: readonly Row[], lines: number): string {
  const [baseline, logged] = rows
  const out = [
    `Access log: wrk -t1 -c50 on core ${LOAD_CORE}, cutover on core ${SERVER_CORE}; each started fresh and loaded in turn, in alternating order, median of four ${SECONDS} s runs`,
    '',
    '| server | req/s | vs log off | CPU µs/request | vs log off | p50 ms | p99 ms | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  const cpu = (r: LoadResult) => r.cpuUsPerRequest ?? Number.NaN
  for (const { name, result: r } of rows)
    out.push(
      `| ${name} | ${r.rps.toFixed(0)} | ${(r.rps / baseline.result.rps).toFixed(2)}× | ${cpu(r).toFixed(1)} | ${(cpu(baseline.result) / cpu(r)).toFixed(2)}× | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`,
    )
  const ratio = logged.result.rps / baseline.result.rps
  const cpuRatio = cpu(baseline.result) / cpu(logged.result)
  out.push(
    '',
    `${lines} lines logged (warm-up included)`,
    `access log at 100% keeps ${ratio.toFixed(2)}× of the throughput without it (target ≥ ${TARGET}×): ${ratio >= TARGET ? 'met' : 'NOT met'}`,
    `CPU per request: ${cpuRatio.toFixed(2)}× of the requests per CPU second without it`,
  )
  return out.join('\n')
}

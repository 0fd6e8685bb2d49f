// WebSocket benchmark: echo messages per second through cutover's new path (a
// site's origin) and its legacy path, against the same `ws` echo server reached
// directly (the baseline). The load (bench/support/ws-load.ts) runs on core 0,
// the server under test on core 1; behind cutover, the echo server is on core 0,
// as the HTTP bench's nginx origin is.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LOAD_CORE, type LoadResult, measure, SECONDS, SERVER_CORE } from './support/measure.ts'
import { type Server, startCutover, startScript } from './support/servers.ts'
import { wsLoad } from './support/ws-load.ts'

const SITE = 'bench.test'
const CONNECTIONS = 50

interface Row {
  name: string
  result: LoadResult
}

export async function websocketBench(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-ws-'))
  const upstream = await startScript(LOAD_CORE, 'ws-echo.ts')
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`
  const cutover = () =>
    startCutover(SERVER_CORE, dir, (listen) => ({
      http: {
        listen,
        legacy: { url: upstreamUrl },
        doh: false,
        sites: [{ host: SITE, origin: upstreamUrl, percent: 100, rules: [] }],
      },
    }))
  const rows: Row[] = []
  const row = async (name: string, start: () => Promise<Server>, host = SITE) => {
    const load = (port: number, seconds: number) =>
      wsLoad(LOAD_CORE, `ws://127.0.0.1:${port}/ws`, host, seconds, CONNECTIONS)
    rows.push({ name, result: await measure(name, start, load) })
  }
  try {
    await row('ws echo server, directly (baseline)', () => startScript(SERVER_CORE, 'ws-echo.ts'))
    await row('cutover new path to the echo server', cutover)
    await row('cutover legacy path to the echo server', cutover, 'legacy.test')
  } finally {
    await upstream.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return report(rows)
}

function report(rows: readonly Row[]): string {
  const [baseline] = rows
  const lines = [
    `WebSocket echo: ${CONNECTIONS} connections, each sending its next 32-byte message when the last one's echo arrives; load on core ${LOAD_CORE}, server on core ${SERVER_CORE} (behind cutover, the echo server on core ${LOAD_CORE}); ${SECONDS} s per run`,
    '',
    '| server | messages/s | vs direct | p50 ms | p99 ms | errors |',
    '|---|---:|---:|---:|---:|---:|',
  ]
  for (const { name, result: r } of rows)
    lines.push(
      `| ${name} | ${r.rps.toFixed(0)} | ${(r.rps / baseline.result.rps).toFixed(2)}× | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`,
    )
  return lines.join('\n')
}

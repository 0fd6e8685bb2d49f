// HTTP benchmark: wrk on core 0 against each server pinned to core 1, in one run:
// node:http hello (the ceiling), fastify hello, a module-answered response
// (static), cutover's new path to an origin, its legacy path, a raw undici
// dispatch proxy, @fastify/http-proxy and nginx proxy_pass, all to the same
// nginx origin on core 0. Each row as a ratio to its baseline.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  LOAD_CORE,
  type LoadResult,
  measure,
  measureInterleaved,
  ratio,
  SECONDS,
  SERVER_CORE,
} from './support/measure.ts'
import {
  type Server,
  startCutover,
  startNginxHello,
  startNginxOn,
  startScript,
} from './support/servers.ts'
import { wrk } from './support/wrk.ts'

/** Interleaved rounds of the forwarding rows: their p99 is the noisiest figure here. */
const ROUNDS = 6

interface Row {
  name: string
  result: LoadResult
}

export async function httpBench(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-http-'))
  const origin = await startNginxHello(LOAD_CORE)
  const originUrl = `http://127.0.0.1:${origin.port}`
  const node = (script: string, ...args: string[]) => startScript(SERVER_CORE, script, ...args)
  /**
   * `shadowed`: the site also has header rules both ways, and 10% of its
   * requests shadowed; `percent`: its share on the new path (0: all on the legacy).
   */
  const cutover = ({ shadowed = false, percent = 100 } = {}) =>
    startCutover(SERVER_CORE, dir, (listen) => ({
      http: {
        listen,
        legacy: { url: originUrl },
        doh: false,
        sites: [
          {
            host: 'bench.test',
            origin: originUrl,
            percent,
            rules: [
              { type: 'static', match: { exact: '/static' }, body: 'hello\n' },
              ...(shadowed
                ? [
                    {
                      type: 'headers',
                      request: { set: { 'X-Cutover': 'new-path' } },
                      response: { set: { 'X-Served-By': 'cutover' }, remove: ['Server'] },
                    },
                  ]
                : []),
            ],
            shadow: shadowed ? 10 : 0,
          },
        ],
      },
    }))
  const nginxProxy = () =>
    startNginxOn(
      SERVER_CORE,
      (port) => `upstream origin { server 127.0.0.1:${origin.port}; keepalive 64; }
  server { listen 127.0.0.1:${port} backlog=4096; keepalive_requests 100000;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
    )
  const rows: Row[] = []
  const row = async (
    name: string,
    start: () => Promise<Server>,
    path = '/',
    host = 'bench.test',
  ) => {
    const load = (port: number, seconds: number) =>
      wrk(LOAD_CORE, `http://127.0.0.1:${port}${path}`, host, seconds)
    rows.push({ name, result: await measure(name, start, load) })
  }
  try {
    await row('node:http hello (ceiling)', () => node('http-hello.ts'))
    await row('fastify hello', () => node('fastify-hello.ts'))
    await row('cutover module answer (static)', () => cutover(), '/static')
    // Forwarding, the rows compared with the bare undici proxy: interleaved rounds, medians.
    const forwarding = [
      { name: 'cutover new path to origin', start: () => cutover() },
      {
        name: 'cutover new path, header rules, 10% shadowed',
        start: () => cutover({ shadowed: true }),
      },
      { name: 'cutover legacy path', start: () => cutover({ percent: 0 }) },
      { name: 'raw undici dispatch proxy', start: () => node('undici-proxy.ts', originUrl) },
    ]
    const results = await measureInterleaved(
      forwarding,
      (port, seconds) => wrk(LOAD_CORE, `http://127.0.0.1:${port}/`, 'bench.test', seconds),
      ROUNDS,
    )
    rows.push(...forwarding.map((f, i) => ({ name: f.name, result: results[i] })))
    await row('@fastify/http-proxy', () => node('fastify-proxy.ts', originUrl))
    await row('nginx proxy_pass', nginxProxy)
  } finally {
    await origin.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return report(rows)
}

function report(rows: Row[]): string {
  const by = (name: string) => rows.find((r) => r.name.startsWith(name))!.result
  const hello = by('node:http hello')
  const undici = by('raw undici')
  /** `r`'s throughput, p99 or cold p99 as a multiple of the undici proxy's (paired by round where both have rounds). */
  const vsUndici = (r: LoadResult, key: (r: LoadResult) => number) =>
    ratio(r, undici, key).toFixed(2)
  const rps = (r: LoadResult) => r.rps
  const p99 = (r: LoadResult) => r.p99Ms
  const coldP99 = (r: LoadResult) => r.coldP99Ms ?? Number.NaN
  const lines = [
    `HTTP/1.1: wrk -t1 -c50 on core ${LOAD_CORE}, server on core ${SERVER_CORE}, nginx origin on core ${LOAD_CORE}; ${SECONDS} s per run`,
    '',
    `The forwarding rows (cutover to an origin or the legacy, the undici proxy) are medians of ${ROUNDS} interleaved rounds, measured from 8 s after each start, with the CPU each request cost the server; their ratios to the undici proxy are the medians of the ratios within each round. "cold p99" is their p99 from 1 s to 6 s after the start, while their code is still being compiled.`,
    '',
    '| server | req/s | vs node:http | vs undici proxy | p50 ms | p99 ms | p99 vs undici proxy | cold p99 ms | CPU µs/request | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const { name, result: r } of rows) {
    lines.push(
      `| ${name} | ${r.rps.toFixed(0)} | ${(r.rps / hello.rps).toFixed(2)}× | ${vsUndici(r, rps)}× | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${vsUndici(r, p99)}× | ${r.coldP99Ms?.toFixed(2) ?? ''} | ${r.cpuUsPerRequest?.toFixed(1) ?? ''} | ${r.errors} |`,
    )
  }
  const fastifyCost = 1 - by('fastify hello').rps / hello.rps
  const newPath = by('cutover new path to origin')
  const legacy = by('cutover legacy path')
  const shadowed = by('cutover new path, header rules')
  lines.push(
    '',
    `fastify costs ${(fastifyCost * 100).toFixed(0)}% against node:http here, so the listener is node:http (fastify serves the admin API).`,
    `new path to origin vs @fastify/http-proxy: ${(newPath.rps / by('@fastify/http-proxy').rps).toFixed(2)}× (target ≥ 1.6×); new path and legacy path vs the undici proxy ${vsUndici(newPath, rps)}× and ${vsUndici(legacy, rps)}× (target ≥ 0.9×), with header rules and a 10% shadow ${vsUndici(shadowed, rps)}× (target ≥ 0.85×)`,
    `p99 vs the undici proxy's: new path ${vsUndici(newPath, p99)}×, legacy path ${vsUndici(legacy, p99)}×, header rules and a 10% shadow ${vsUndici(shadowed, p99)}× (target ≤ 1.5×); in the first seconds after a start ${vsUndici(newPath, coldP99)}×, ${vsUndici(legacy, coldP99)}× and ${vsUndici(shadowed, coldP99)}×`,
    `header rules and a 10% shadow keep ${((shadowed.rps / newPath.rps) * 100).toFixed(0)}% of the new path's throughput (shadow work is shed while the event loop is busy)`,
  )
  return lines.join('\n')
}

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
    const results = await measureInterleaved(forwarding, (port, seconds) =>
      wrk(LOAD_CORE, `http://127.0.0.1:${port}/`, 'bench.test', seconds),
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
  const lines = [
    `HTTP/1.1: wrk -t1 -c50 on core ${LOAD_CORE}, server on core ${SERVER_CORE}, nginx origin on core ${LOAD_CORE}; ${SECONDS} s per run`,
    '',
    'The forwarding rows (cutover to an origin or the legacy, the undici proxy) are medians of 4 interleaved rounds, with the CPU each request cost the server.',
    '',
    '| server | req/s | vs node:http | vs undici proxy | p50 ms | p99 ms | p99 vs undici proxy | CPU µs/request | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const { name, result: r } of rows) {
    lines.push(
      `| ${name} | ${r.rps.toFixed(0)} | ${(r.rps / hello.rps).toFixed(2)}× | ${(r.rps / undici.rps).toFixed(2)}× | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${(r.p99Ms / undici.p99Ms).toFixed(2)}× | ${r.cpuUsPerRequest?.toFixed(1) ?? ''} | ${r.errors} |`,
    )
  }
  const fastifyCost = 1 - by('fastify hello').rps / hello.rps
  const newPath = by('cutover new path to origin')
  const shadowed = by('cutover new path, header rules')
  lines.push(
    '',
    `fastify costs ${(fastifyCost * 100).toFixed(0)}% against node:http here, so the listener is node:http (fastify serves the admin API).`,
    `new path to origin vs @fastify/http-proxy: ${(newPath.rps / by('@fastify/http-proxy').rps).toFixed(2)}× (target ≥ 1.6×); new path and legacy path vs the undici proxy ${(newPath.rps / undici.rps).toFixed(2)}× and ${(by('cutover legacy path').rps / undici.rps).toFixed(2)}× (target ≥ 0.9×), with header rules and a 10% shadow ${(shadowed.rps / undici.rps).toFixed(2)}× (target ≥ 0.85×)`,
    `header rules and a 10% shadow keep ${((shadowed.rps / newPath.rps) * 100).toFixed(0)}% of the new path's throughput (shadow work is shed while the event loop is busy)`,
  )
  return lines.join('\n')
}

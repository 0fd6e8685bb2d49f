// TLS benchmark: HTTPS keep-alive requests, a new TLS 1.3 handshake per request,
// and HTTP/2, each against cutover's module answer (static), the bare Node server
// it is held to and nginx terminating TLS for reference, all with one certificate
// made for the run. Each row as a ratio to its bare Node baseline.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type IssuedCertificate, makeTestCa } from '../proxy/e2e/support/certs.ts'
import { freePort } from '../proxy/e2e/support/free-port.ts'
import { ensureTools } from '../proxy/e2e/support/tools.ts'
import { h2load } from './support/h2load.ts'
import {
  LOAD_CORE,
  type LoadResult,
  measureInterleaved,
  ratio,
  SECONDS,
  SERVER_CORE,
} from './support/measure.ts'
import {
  type Server,
  startCutover,
  startNginxHello,
  startScript,
  staticSite,
} from './support/servers.ts'
import { wrk } from './support/wrk.ts'

const HOST = 'bench.test'
const PATH = '/static'
const CUTOVER = 'cutover module answer (static)'
const ROUNDS = 3
const rps = (r: LoadResult) => r.rps

type BareServer = 'https' | 'http2' | 'http2-compat'
const BARE_NAMES: Record<BareServer, string> = {
  https: 'bare node:https hello',
  http2: 'bare node:http2 hello, stream API',
  'http2-compat': 'bare node:http2 hello, (req, res) API',
}

/** One kind of load, its bare Node servers (the baseline first) and the ratio cutover should reach. */
interface Part {
  title: string
  drive(url: string, seconds: number): Promise<LoadResult>
  bare: readonly [BareServer, ...BareServer[]]
  target: number
}

const PARTS: readonly Part[] = [
  {
    title: 'HTTP/1.1 over TLS 1.3, keep-alive (wrk -c50)',
    drive: (url, seconds) => wrk(LOAD_CORE, url, HOST, seconds),
    bare: ['https'],
    target: 0.75,
  },
  {
    title: 'new TLS handshake per request (wrk -c50, Connection: close)',
    drive: (url, seconds) => wrk(LOAD_CORE, url, HOST, seconds, 50, ['Connection: close']),
    bare: ['https'],
    target: 0.8,
  },
  {
    title: 'HTTP/2 (h2load -c50 -m10)',
    drive: (url, seconds) => h2load(LOAD_CORE, url, HOST, seconds),
    // The compatibility API's row shows what Node's (req, res) layer over the stream costs.
    bare: ['http2', 'http2-compat'],
    target: 0.75,
  },
]

interface Row {
  part: Part
  name: string
  result: LoadResult
}

export async function tlsBench(): Promise<string> {
  ensureTools(['h2load', 'openssl'])
  const ca = makeTestCa()
  const certificate = ca.issue('bench', [HOST])
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-tls-'))
  const servers = {
    bare: (server: BareServer) =>
      startScript(SERVER_CORE, 'tls-hello.ts', certificate.cert, certificate.key, server),
    cutover: (workerAccept?: 'roundRobin') => startCutoverTls(dir, certificate, workerAccept),
    nginx: () => startNginxHello(SERVER_CORE, certificate),
  }
  const rows: Row[] = []
  try {
    for (const part of PARTS) {
      const contenders: { name: string; start: () => Promise<Server> }[] = [
        ...part.bare.map((bare, i) => ({
          name: `${BARE_NAMES[bare]} (${i === 0 ? 'baseline' : 'reference'})`,
          start: () => servers.bare(bare),
        })),
        { name: CUTOVER, start: () => servers.cutover() },
        {
          name: `${CUTOVER}, workerAccept: roundRobin`,
          start: () => servers.cutover('roundRobin'),
        },
        { name: 'nginx ssl hello (reference)', start: servers.nginx },
      ]
      const results = await measureInterleaved(
        contenders,
        (port, seconds) => part.drive(`https://127.0.0.1:${port}${PATH}`, seconds),
        ROUNDS,
      )
      rows.push(...contenders.map((c, i) => ({ part, name: c.name, result: results[i] })))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    ca.remove()
  }
  return report(rows)
}

/** cutover answering PATH on HOST from a static rule, over HTTPS (HTTP/1.1 and h2 by ALPN). */
async function startCutoverTls(
  dir: string,
  certificate: IssuedCertificate,
  /** Absent: the default (reusePort). */
  workerAccept?: 'roundRobin',
): Promise<Server> {
  const tlsPort = await freePort()
  const cutover = await startCutover(SERVER_CORE, dir, (listen) => ({
    workerAccept,
    tls: { certificates: [certificate] },
    http: { ...staticSite(listen, HOST, PATH), tls: { listen: `127.0.0.1:${tlsPort}` } },
  }))
  // Its CPU is read too: per request it varies far less than throughput on this machine.
  return { ...cutover, port: tlsPort }
}

function report(rows: readonly Row[]): string {
  const lines = [
    `TLS: load on core ${LOAD_CORE}, server on core ${SERVER_CORE}, one ECDSA P-256 certificate; ${SECONDS} s per run`,
    '',
    `Each row is the median of ${ROUNDS} interleaved rounds, measured from 8 s after each start (past cutover's compiling); a ratio is the median of the ratios within each round.`,
    '',
    '| load | server | req/s | vs baseline | CPU µs/request | p50 ms | p99 ms | errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ]
  const ofPart = (part: Part) => rows.filter((r) => r.part === part)
  for (const part of PARTS) {
    const [baseline] = ofPart(part)
    for (const { name, result: r } of ofPart(part)) {
      lines.push(
        `| ${part.title} | ${name} | ${r.rps.toFixed(0)} | ${ratio(r, baseline.result, rps).toFixed(2)}× | ${r.cpuUsPerRequest?.toFixed(1) ?? ''} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`,
      )
    }
  }
  lines.push('')
  for (const part of PARTS) {
    const [baseline, ...others] = ofPart(part)
    for (const cutover of others.filter((r) => r.name.startsWith(CUTOVER))) {
      const times = ratio(cutover.result, baseline.result, rps)
      lines.push(
        `${part.title}: ${cutover.name} ${times.toFixed(2)}× ${BARE_NAMES[part.bare[0]]} (target ≥ ${part.target}×): ${times >= part.target ? 'met' : 'NOT met'}`,
      )
    }
  }
  return lines.join('\n')
}

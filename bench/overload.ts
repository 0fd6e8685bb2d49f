// Overload benchmark: cutover given a quarter of a core (a cgroup CPU quota) so
// that one load core can send it twice what it serves. For DNS (its new path)
// and HTTP (forwarding to an nginx origin): its capacity, the most it serves
// under open-loop load with shedding off at rates around a closed-loop guess;
// then open-loop load, as the internet sends it, at a
// quarter of that (unloaded), at twice it with shedding off and on, and at a
// quarter again after a pause (recovery). What it serves, how fast, what it
// shed, and its resident memory. For DNS over UDP "shedding on" is also a
// small receive buffer (dns.udp.receiveBuffer): the kernel's queue, before
// the event loop ever sees a query.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { freePort } from '../proxy/e2e/support/free-port.ts'
import { cpuQuota } from './support/cpu-quota.ts'
import { dnsperf } from './support/dnsperf.ts'
import { LOAD_CORE, SECONDS, SERVER_CORE } from './support/measure.ts'
import { runPinned } from './support/pinned.ts'
import { type Server, startCutover, startNginxHello } from './support/servers.ts'
import { wrk } from './support/wrk.ts'

const ROOT = join(import.meta.dirname, '..')
const SHARE = Number(process.env.BENCH_OVERLOAD_SHARE ?? 0.25)
/** The shed share falls back to none within 2 s of the load falling (proxy/telemetry/overload.ts). */
const RECOVERY_PAUSE_MS = 3000
const LATENCY_BOUND = 5
/** Open-loop runs before the first measured one (10 s at the default 5 s a run): past cutover's compiling. */
const WARM_UP_RUNS = 2
/** The rates, as multiples of the closed-loop guess, sent to find capacity. */
const CAPACITY_PROBES = [1, 1.5, 2, 3]
/** Longer than the supervisor waits for a worker's metrics (ASK_WITHIN_MS in proxy/process/supervisor-admin.ts). */
const SETTLE_MS = 2500
/** dns.udp.receiveBuffer with shedding on: a few dozen queries wait at most. */
const UDP_RECEIVE_BUFFER = '16KiB'

interface Run {
  offered: number
  /** Served per second while the load lasted (HTTP: 200s answered from its first second until it stopped). */
  served: number
  p50Ms: number
  p99Ms: number
  /** p99 of what started after the first second, once shedding has set in (DNS over UDP: no backlog, all of them). */
  steadyP99Ms: number
  /** Turned away, as the client saw it: 503s, or datagrams with no answer. */
  turnedAway: number
  /** Turned away, as cutover counted it: cutover_shed_total, and for DNS the kernel's drops. */
  shedCounted: number
  residentMiB: number
}

interface Protocol {
  name: string
  start(shedding: boolean): Promise<Server & { shed(): Promise<number> }>
  /** A first guess at capacity, from closed-loop load (which under a CPU quota serves less than open-loop). */
  estimate(port: number): Promise<number>
  load(port: number, rate: number): Promise<Omit<Run, 'shedCounted' | 'residentMiB'>>
}

export async function overloadBench(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-overload-'))
  const quota = cpuQuota(`cutover-bench-overload-${process.pid}`, SHARE)
  // The origin shares the server core outside the quota: cutover, not nginx, is what is short of CPU.
  const origin = await startNginxHello(SERVER_CORE)
  const out = [
    `Overload: cutover on core ${SERVER_CORE} held to ${SHARE} of it by a cgroup CPU quota, load from core ${LOAD_CORE}; open-loop runs of ${SECONDS} s`,
  ]
  try {
    for (const protocol of [dnsProtocol(dir, quota), httpProtocol(dir, quota, origin.port)])
      out.push('', ...(await measureProtocol(protocol)))
  } finally {
    await origin.stop()
    await removeWhenEmpty(quota)
    rmSync(dir, { recursive: true, force: true })
  }
  return out.join('\n')
}

async function measureProtocol(p: Protocol): Promise<string[]> {
  const rows: [string, Run][] = []
  let capacity: number
  const run = async (server: Awaited<ReturnType<Protocol['start']>>, rate: number) => {
    const shedBefore = await server.shed()
    const r = await p.load(server.port, rate)
    const residentMiB = (server.residentBytes?.() ?? Number.NaN) / 2 ** 20
    // A worker still busy with the backlog answers the supervisor's scrape late, which then counts its last answer.
    await delay(SETTLE_MS)
    return { ...r, shedCounted: (await server.shed()) - shedBefore, residentMiB }
  }
  const off = await p.start(false)
  try {
    const estimate = await p.estimate(off.port)
    // Warm-up at the guess, for longer than cutover's code takes to be compiled hot (bench/support/measure.ts):
    // a colder server serves less, and the capacity read from it would be low.
    for (let i = 0; i < WARM_UP_RUNS; i++) await p.load(off.port, Math.round(estimate))
    await delay(RECOVERY_PAUSE_MS)
    // Capacity: the most it serves while the sending lasts, sent rising multiples of the guess
    // with nothing shed (past its capacity an overloaded server serves less, not the same).
    capacity = 0
    for (const factor of CAPACITY_PROBES) {
      const served = (await p.load(off.port, Math.round(factor * estimate))).served
      capacity = Math.max(capacity, Math.round(served))
      await delay(RECOVERY_PAUSE_MS)
    }
    rows.push([`2× capacity, shedding off`, await run(off, 2 * capacity)])
  } finally {
    await off.stop()
  }
  const on = await p.start(true)
  try {
    for (let i = 0; i < WARM_UP_RUNS; i++) await p.load(on.port, Math.round(capacity / 4))
    rows.unshift([`¼ capacity (unloaded)`, await run(on, Math.round(capacity / 4))])
    rows.push([`2× capacity, shedding on`, await run(on, 2 * capacity)])
    await delay(RECOVERY_PAUSE_MS)
    rows.push([
      `¼ capacity again, ${RECOVERY_PAUSE_MS / 1000} s later`,
      await run(on, Math.round(capacity / 4)),
    ])
  } finally {
    await on.stop()
  }
  return report(p.name, capacity, rows)
}

function report(name: string, capacity: number, rows: readonly [string, Run][]): string[] {
  const unloaded = rows[0][1]
  const shed = rows[2][1]
  const recovered = rows[3][1]
  const out = [
    `${name}: capacity ${capacity.toFixed(0)}/s (the most served while sent ${CAPACITY_PROBES.join(', ')}× a closed-loop guess, shedding off)`,
    '',
    '| load | offered/s | served/s | p50 ms | p99 ms | p99 after 1 s | vs unloaded | turned away | counted shed | resident MiB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const [label, r] of rows)
    out.push(
      `| ${label} | ${r.offered.toFixed(0)} | ${r.served.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.steadyP99Ms.toFixed(2)} | ${(r.steadyP99Ms / unloaded.p99Ms).toFixed(1)}× | ${r.turnedAway} | ${r.shedCounted} | ${r.residentMiB.toFixed(0)} |`,
    )
  const bound = shed.steadyP99Ms <= LATENCY_BOUND * unloaded.p99Ms
  out.push(
    '',
    `at 2× with shedding, what is served after the first second has a p99 of ${(shed.steadyP99Ms / unloaded.p99Ms).toFixed(1)}× unloaded (target ≤ ${LATENCY_BOUND}×): ${bound ? 'met' : 'NOT met'}`,
    `shed and counted: ${shed.shedCounted > 0 ? 'yes' : 'NO'}; recovered (nothing shed at ¼ capacity after the pause): ${recovered.shedCounted === 0 ? 'yes' : 'NO'}`,
  )
  return out
}

/** cutover with a metrics listener of its own, to read what it turned away from. */
async function startWithMetrics(
  dir: string,
  quota: ReturnType<typeof cpuQuota>,
  protocol: 'dns' | 'http',
  shedding: boolean,
  section: (listen: string) => object,
): Promise<Server & { shed(): Promise<number> }> {
  const metricsPort = await freePort()
  const server = await startCutover(
    SERVER_CORE,
    dir,
    (listen) => ({
      metrics: { listen: `127.0.0.1:${metricsPort}` },
      overload: { maxDelay: shedding ? '20ms' : '0ms' },
      ...section(listen),
    }),
    quota,
  )
  const series = [`cutover_shed_total{protocol="${protocol}"}`]
  if (protocol === 'dns') series.push('cutover_dns_udp_receive_drops_total')
  const shed = async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    let sum = 0
    for (const name of series) {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `))
      if (!line) throw new Error(`${name} is missing from /metrics`)
      sum += Number(line.slice(name.length + 1))
    }
    return sum
  }
  return { ...server, shed }
}

function dnsProtocol(dir: string, quota: ReturnType<typeof cpuQuota>): Protocol {
  const queries = join(dir, 'queries.txt')
  writeFileSync(queries, 'www.example.test A\nmail.example.test A\nns1.example.test A\n')
  const zone = join(ROOT, 'examples', 'zones', 'example.test.zone')
  return {
    name: 'DNS over UDP, new path (authoritative answers); what is shed is dropped',
    start: (shedding) =>
      startWithMetrics(dir, quota, 'dns', shedding, (listen) => ({
        dns: {
          listen,
          udp: { receiveBuffer: shedding ? UDP_RECEIVE_BUFFER : 0 },
          zones: [{ name: 'example.test', file: zone, percent: 100 }],
          legacy: { servers: ['127.0.0.1:9'] },
          packetcache: { enabled: false },
        },
      })),
    // Few outstanding queries and a short timeout: a lost one must not stall the window.
    estimate: async (port) =>
      (
        await dnsperf(LOAD_CORE, port, queries, SECONDS, undefined, [
          '-c',
          '1',
          '-q',
          '50',
          '-t',
          '0.5',
        ])
      ).qps,
    load: async (port, rate) => {
      // Enough outstanding that dnsperf never waits for an answer before sending: open loop.
      const r = await dnsperf(LOAD_CORE, port, queries, SECONDS, rate, ['-q', '60000', '-t', '1'])
      const sent = rate * SECONDS
      return {
        offered: rate,
        served: r.qps,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        steadyP99Ms: r.p99Ms,
        turnedAway: Math.round((sent * r.lostPercent) / 100),
      }
    },
  }
}

function httpProtocol(
  dir: string,
  quota: ReturnType<typeof cpuQuota>,
  originPort: number,
): Protocol {
  const origin = `http://127.0.0.1:${originPort}`
  return {
    name: 'HTTP/1.1, new path forwarding to an nginx origin; what is shed gets 503',
    start: (shedding) =>
      startWithMetrics(dir, quota, 'http', shedding, (listen) => ({
        http: {
          listen,
          legacy: { url: origin },
          doh: false,
          sites: [{ host: 'bench.test', origin, percent: 100 }],
        },
      })),
    estimate: async (port) =>
      (await wrk(LOAD_CORE, `http://127.0.0.1:${port}/`, 'bench.test', SECONDS)).rps,
    load: async (port, rate) => {
      const out = await runPinned(LOAD_CORE, process.execPath, [
        join(ROOT, 'bench', 'support', 'open-loop-http.ts'),
        `http://127.0.0.1:${port}`,
        'bench.test',
        String(rate),
        String(SECONDS),
      ])
      const r = JSON.parse(out) as {
        byStatus: Record<string, { count: number; p50Ms: number; p99Ms: number }>
        steady: Record<string, { p99Ms: number }>
        servedRate: number
      }
      const ok = r.byStatus['200'] ?? { count: 0, p50Ms: Number.NaN, p99Ms: Number.NaN }
      return {
        offered: rate,
        served: r.servedRate,
        p50Ms: ok.p50Ms,
        p99Ms: ok.p99Ms,
        steadyP99Ms: r.steady['200']?.p99Ms ?? Number.NaN,
        turnedAway: r.byStatus['503']?.count ?? 0,
      }
    },
  }
}

/** A cgroup can go only once its last process has exited, which may be just after its parent did. */
async function removeWhenEmpty(quota: ReturnType<typeof cpuQuota>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      quota.remove()
      return
    } catch (err) {
      if (i === 50) throw err
      await delay(100)
    }
  }
}

// The soak run: `cutover start` (two workers) in front of BIND, nginx and a
// WebSocket echo origin, under mixed load for a long time while it is
// restarted and reloaded and its zone changes every second. It samples the
// resident memory and open descriptors of the supervisor and its workers,
// and fails on an error, a lost query or request, or growth.

import { readdirSync, readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import { WebSocket } from 'ws'
import { tcpLoad, udpLoad } from '../proxy/e2e/support/dns-load.ts'
import { freePort } from '../proxy/e2e/support/free-port.ts'
import { httpLoad, proxyConfig, queries, startBackends } from '../proxy/e2e/support/restart-load.ts'
import { type SupervisedProxy, startSupervised } from '../proxy/e2e/support/supervised.ts'
import { startEcho } from '../proxy/e2e/support/ws-echo.ts'
import { growth, type Sample, slope } from './growth.ts'

const WS_HOST = 'ws.e2e.test'
/** Each WebSocket client closes and opens again this often, well within upgradeDrainDeadline. */
const WS_LIFE_MS = 10_000
const WS_CLIENTS = 4
/** HTTP requests a second on each path: steady, not saturating two cores. */
const HTTP_RATE = 300

export interface SoakOptions {
  durationMs: number
  /** How often memory and descriptors are sampled and printed. */
  sampleMs: number
  log(line: string): void
}

export interface SoakResult {
  failures: string[]
  samples: Sample[]
  rssSlopeMiBPerMin: number
  fdSlopePerMin: number
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const backends = await startBackends()
  const echo = await startEcho()
  const dnsPort = await freePort()
  const httpPort = await freePort()
  const config = proxyConfig(backends, dnsPort, httpPort)
  config.upgradeDrainDeadline = '30s'
  ;(config.http.sites as unknown[]).push({
    host: WS_HOST,
    origin: echo.url,
    percent: 100,
    rules: [],
  })
  let p: SupervisedProxy | undefined
  try {
    p = await startSupervised(config)
    return await soak(p, dnsPort, httpPort, o)
  } finally {
    if (p) {
      await p.command('stop')
      p.cleanup()
    }
    await echo.stop()
    await backends.stop()
  }
}

async function soak(
  p: SupervisedProxy,
  dnsPort: number,
  httpPort: number,
  o: SoakOptions,
): Promise<SoakResult> {
  const failures: string[] = []
  const fail = (what: string) => {
    if (!failures.includes(what)) failures.push(what)
  }
  const http = httpLoad(`http://127.0.0.1:${httpPort}`, {}, HTTP_RATE)
  const udp = udpLoad(dnsPort, queries, 4)
  const tcp = tcpLoad(dnsPort, queries, 2)
  const pipelined = tcpLoad(dnsPort, queries, 2, 4)
  const sockets = webSocketLoad(httpPort, fail)
  // A restart every minute and a reload every 30 s; a short run keeps three of each.
  const restartEvery = Math.min(60_000, o.durationMs / 3)
  const start = Date.now()
  const samples: Sample[] = []
  let events = 0
  let nextRestart = start + restartEvery
  let nextReload = start + restartEvery / 2
  // Samples fall between restarts and reloads, not on them: one taken as a
  // generation hands over counts whatever is in flight at that instant.
  let nextSample = start + o.sampleMs / 4
  for (let second = 0; Date.now() - start < o.durationMs; second++) {
    const now = Date.now()
    if (now >= nextSample) {
      const sample = await measure(p, (now - start) / 1000)
      samples.push(sample)
      o.log(
        `${sample.atS.toFixed(0)} s: ${sample.rssMiB.toFixed(1)} MiB resident, ${sample.fds} descriptors`,
      )
      nextSample += o.sampleMs
    }
    for (const [due, command] of [
      [nextRestart, 'restart'],
      [nextReload, 'reload'],
    ] as const)
      if (now >= due) {
        const r = await p.command(command)
        if (r.code !== 0) fail(`${command} exited ${r.code}: ${r.output.trim()}`)
        if (command === 'restart') nextRestart += restartEvery
        else nextReload += restartEvery
      }
    // A record event a second: a name created, and the one from ten seconds before deleted.
    events += await recordEvents(p, second, fail)
    await delay(Math.max(0, start + (second + 1) * 1000 - Date.now()))
  }
  const [h, u, t, tp] = await Promise.all([http.stop(), udp.stop(), tcp.stop(), pipelined.stop()])
  const ws = await sockets.stop()
  if (h.errors > 0 || h.non2xx > 0)
    fail(`HTTP: ${h.errors} failed, ${h.non2xx} not 2xx (${h.errorKinds.join('; ')})`)
  for (const [name, c] of [
    ['UDP', u],
    ['TCP', t],
    ['pipelined TCP', tp],
  ] as const)
    if (
      c.answered !== c.sent ||
      c.wrong > 0 ||
      c.unanswered > 0 ||
      c.retried > 0 ||
      c.errors.length > 0
    )
      fail(`DNS over ${name}: ${JSON.stringify(c)}`)
  if (ws.echoed !== ws.sent) fail(`WebSocket: ${ws.sent} sent, ${ws.echoed} echoed`)
  const cut = await p.metric('cutover_drain_cut_total')
  if (cut > 0) fail(`${cut} cut by a drain deadline`)
  o.log(
    `${h.ok} HTTP requests, ${u.sent + t.sent + tp.sent} DNS queries, ${ws.sent} WebSocket messages over ${ws.connections} connections, ${events} record events`,
  )
  const rssSlopeMiBPerMin = slope(samples.map((s) => [s.atS / 60, s.rssMiB]))
  const fdSlopePerMin = slope(samples.map((s) => [s.atS / 60, s.fds]))
  o.log(
    `slopes: ${rssSlopeMiBPerMin.toFixed(2)} MiB/min resident, ${fdSlopePerMin.toFixed(2)} descriptors/min`,
  )
  growth(samples, fail)
  return { failures, samples, rssSlopeMiBPerMin, fdSlopePerMin }
}

/**
 * Resident memory and open descriptors of the supervisor and its serving
 * workers (Linux /proc); a generation still draining after a restart is left
 * out, as it is on its way out whatever it holds.
 */
async function measure(p: SupervisedProxy, atS: number): Promise<Sample> {
  const status = await p.status()
  const serving = status.workers.filter((w) => w.generation === status.generation && w.pid)
  const pids = [p.run.child.pid!, ...serving.map((w) => w.pid!)]
  let rssKiB = 0
  let fds = 0
  for (const pid of pids) {
    try {
      rssKiB += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
      fds += readdirSync(`/proc/${pid}/fd`).length
    } catch {
      // A worker that exited since the status was read.
    }
  }
  return { atS, rssMiB: rssKiB / 1024, fds }
}

/** Second `second`'s record events; returns how many were applied. */
async function recordEvents(
  p: SupervisedProxy,
  second: number,
  fail: (what: string) => void,
): Promise<number> {
  const send = async (method: 'POST' | 'DELETE', i: number) => {
    const res = await fetch(`http://127.0.0.1:${p.adminPort}/zones/e2e.test/records`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${p.token}` },
      body: JSON.stringify({ name: `soak${i}`, type: 'A', ttl: 60, data: `192.0.2.${i % 250}` }),
    })
    const body = (await res.json()) as { result?: string }
    if (res.status !== 200 || body.result !== 'applied')
      fail(`record event ${method} soak${i}: ${res.status} ${JSON.stringify(body)}`)
    return 1
  }
  return (await send('POST', second)) + (second >= 10 ? await send('DELETE', second - 10) : 0)
}

/**
 * WebSocket clients through the proxy to the echo origin: each sends a
 * message every 50 ms and expects it back, and closes and opens again every
 * WS_LIFE_MS; a close it did not ask for, or an error, fails the run.
 */
function webSocketLoad(httpPort: number, fail: (what: string) => void) {
  const counts = { sent: 0, echoed: 0, connections: 0 }
  let stopping = false
  const client = async () => {
    while (!stopping) {
      counts.connections++
      const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/`, { headers: { host: WS_HOST } })
      await new Promise<void>((resolve) => {
        let closing = false
        let timer: NodeJS.Timeout | undefined
        const opened = Date.now()
        ws.on('open', () => {
          timer = setInterval(() => {
            if (stopping || Date.now() - opened > WS_LIFE_MS) {
              clearInterval(timer)
              closing = true
              ws.close(1000)
              return
            }
            counts.sent++
            ws.send(`m${counts.sent}`)
          }, 50)
        })
        ws.on('message', () => counts.echoed++)
        ws.on('error', (err) => fail(`WebSocket error: ${err.message}`))
        ws.on('close', (code) => {
          clearInterval(timer)
          if (!closing) fail(`WebSocket closed by the other side (${code})`)
          resolve()
        })
      })
    }
  }
  const running = Array.from({ length: WS_CLIENTS }, client)
  return {
    async stop() {
      stopping = true
      await Promise.all(running)
      return counts
    },
  }
}

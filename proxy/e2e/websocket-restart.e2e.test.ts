// End to end: WebSockets across `cutover restart`, with the supervisor and two
// workers in front of `ws` echo servers (a new-path site's origin and the
// legacy). With a long upgradeDrainDeadline the open ones keep echoing on the
// old generation until their clients close them, while new ones open on the
// new generation; with a short one the old ones are cut at it, and counted.

import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type RawData, WebSocket } from 'ws'
import { freePort } from './support/free-port.ts'
import { type SupervisedProxy, startSupervised } from './support/supervised.ts'
import { until } from './support/until.ts'
import { within } from './support/upstream.ts'
import { type EchoServer, startEcho } from './support/ws-echo.ts'

const SITE = 'new.ws.test'
/** Both paths: the site's origin, and the legacy for a host of no site. */
const HOSTS = [SITE, 'legacy.ws.test'] as const
/** Handshakes in flight at once while opening many: enough to be quick, few enough for 2 cores. */
const OPENING_AT_ONCE = 50
/** One WebSocket to each host every PACE_MS while a restart runs, at most MAX_DURING in all. */
const PACE_MS = 50
const MAX_DURING = 400

let origin: EchoServer
let legacy: EchoServer
let proxy: SupervisedProxy | undefined
let httpPort: number
const clients = new Set<WebSocket>()

beforeAll(async () => {
  origin = await startEcho()
  legacy = await startEcho()
})

afterAll(async () => {
  await origin?.stop()
  await legacy?.stop()
})

afterEach(() => {
  for (const ws of clients) ws.terminate()
  clients.clear()
  proxy?.cleanup()
  proxy = undefined
})

/** The supervised proxy, two workers, with these drain deadlines. */
async function start(
  drainDeadline: string,
  upgradeDrainDeadline: string,
): Promise<SupervisedProxy> {
  httpPort = await freePort()
  proxy = await startSupervised({
    workers: 2,
    drainDeadline,
    upgradeDrainDeadline,
    http: {
      listen: `127.0.0.1:${httpPort}`,
      legacy: { url: legacy.url },
      doh: false,
      sites: [{ host: SITE, origin: origin.url, percent: 100, rules: [] }],
    },
  })
  return proxy
}

/** A WebSocket through the proxy to `host`: resolves once open, rejects with why it did not. */
function open(host: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/chat`, { headers: { host } })
  clients.add(ws)
  return within(
    new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws))
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`${host}: refused with ${res.statusCode}`)),
      )
      ws.once('error', (err) => reject(new Error(`${host}: ${err.message}`)))
    }),
    10_000,
    `the WebSocket to ${host}`,
  )
}

/**
 * Opens `perHost` WebSockets to each of HOSTS, OPENING_AT_ONCE at a time;
 * resolves with them, or rejects with how many failed and why.
 */
async function openMany(perHost: number): Promise<WebSocket[]> {
  const hosts = HOSTS.flatMap((host) => Array<string>(perHost).fill(host))
  const opened: WebSocket[] = []
  for (let i = 0; i < hosts.length; i += OPENING_AT_ONCE) {
    const batch = await Promise.allSettled(hosts.slice(i, i + OPENING_AT_ONCE).map(open))
    const failed = batch.filter((r) => r.status === 'rejected')
    if (failed.length > 0)
      throw new Error(
        `${failed.length} of ${batch.length} WebSockets did not open (after ${opened.length}): ${[...new Set(failed.map((f) => String(f.reason)))].join('; ')}`,
      )
    for (const r of batch) if (r.status === 'fulfilled') opened.push(r.value)
  }
  return opened
}

/** Sends one message on each socket and resolves once every one has its own back. */
function echoAll(sockets: readonly WebSocket[], tag: string): Promise<void> {
  const each = sockets.map(
    (ws, i) =>
      new Promise<void>((resolve, reject) => {
        const text = `${tag} ${i}`
        // A socket already closed sends nothing and will not say so again.
        if (ws.readyState !== WebSocket.OPEN) {
          reject(new Error(`${tag} ${i}: closed before it was asked`))
          return
        }
        const on = (data: RawData) => {
          ws.off('message', on)
          if (data.toString() === text) resolve()
          else reject(new Error(`${tag} ${i}: got '${data}' back`))
        }
        ws.on('message', on)
        ws.once('close', (code) => reject(new Error(`${tag} ${i}: closed (${code})`)))
        ws.send(text)
      }),
  )
  return within(
    Promise.all(each).then(() => undefined),
    20_000,
    `${sockets.length} echoes (${tag})`,
  )
}

/** Closes each socket (a close handshake end to end) and resolves once all are closed. */
function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  const closed = sockets.map((ws) => new Promise<void>((resolve) => ws.once('close', resolve)))
  for (const ws of sockets) ws.close(1000)
  return within(
    Promise.all(closed).then(() => undefined),
    20_000,
    `${sockets.length} closes`,
  )
}

/** Whether generation `gen` serves on every worker and the workers before it drain (or are gone). */
async function switchedTo(p: SupervisedProxy, gen: number): Promise<boolean> {
  const { workers } = await p.status()
  const serving = workers.filter((w) => w.generation === gen && w.state === 'ready')
  return (
    serving.length === 2 && workers.every((w) => w.generation === gen || w.state === 'draining')
  )
}

/**
 * Waits for `switchedTo(p, gen)`; resolves with when the last look that saw
 * it not yet was sent and when the first that saw it was answered: the old
 * generation's drain started between the two.
 */
async function waitForSwitch(
  p: SupervisedProxy,
  gen: number,
): Promise<{ notYet: number; seen: number }> {
  let notYet = performance.now()
  await until(
    async () => {
      const asked = performance.now()
      if (await switchedTo(p, gen)) return true
      notYet = asked
      return false
    },
    `generation ${gen} to serve`,
    30_000,
  )
  return { notYet, seen: performance.now() }
}

describe('WebSockets across cutover restart', () => {
  it('keeps 1,000 open ones echoing through the drain, and opens new ones on the new generation', async () => {
    const p = await start('1s', '60s')
    const old = await openMany(500)
    await echoAll(old, 'before')
    const { generation } = await p.status()

    const restarted = p.command('restart')
    // Opened while the new generation starts, each on either generation, and none may fail;
    // paced, so that they leave the CPU to that start and still go on as the old one drains.
    const during: WebSocket[] = []
    while (during.length < MAX_DURING && !(await switchedTo(p, generation + 1))) {
      const [pair] = await Promise.all([openMany(1), delay(PACE_MS)])
      during.push(...pair)
    }
    await waitForSwitch(p, generation + 1)
    const switchedAt = performance.now()
    await echoAll(old, 'after the switch')
    await echoAll(during, 'during')
    const after = await openMany(50)
    await echoAll(after, 'after')
    // Past drainDeadline, which cuts plain connections, not WebSockets.
    await until(() => performance.now() > switchedAt + 1500, 'drainDeadline to pass', 5000)
    await echoAll(old, 'past drainDeadline')

    // The old generation ends as its last WebSocket closes, well before its 60 s.
    await closeAll([...old, ...during])
    const { code, output } = await restarted
    expect(code, output).toBe(0)
    const now = await p.status()
    expect(now.workers.map((w) => w.generation)).toEqual([generation + 1, generation + 1])
    // Those opened after the switch echo with the old generation gone: they were on the new one.
    await echoAll(after, 'on the new generation')
    expect(during.length).toBeGreaterThan(0)
    expect(origin.handshakes.length + legacy.handshakes.length).toBeGreaterThanOrEqual(
      old.length + during.length + after.length,
    )
    expect(await p.metric('cutover_drain_cut_total')).toBe(0)
    await closeAll(after)
  }, 60_000)

  it('cuts the old generation WebSockets at a short upgradeDrainDeadline, and counts them', async () => {
    const p = await start('1s', '2s')
    const old = await openMany(100)
    await echoAll(old, 'before')
    const closedAt = old.map(
      (ws) =>
        new Promise<{ code: number; at: number }>((resolve) =>
          ws.once('close', (code) => resolve({ code, at: performance.now() })),
        ),
    )
    const { generation } = await p.status()
    const restarted = p.command('restart')
    const drainStarted = await waitForSwitch(p, generation + 1)
    const closes = await within(Promise.all(closedAt), 20_000, 'the old WebSockets to be cut')
    const { code, output } = await restarted
    expect(code, output).toBe(0)

    // Cut without a close frame (1006) at the deadline, 2 s from the drain's start, counted once each.
    expect(new Set(closes.map((c) => c.code))).toEqual(new Set([1006]))
    const at = closes.map((c) => c.at)
    expect(Math.min(...at) - drainStarted.notYet).toBeGreaterThanOrEqual(2000)
    // The slack is for a loaded machine: the drain looks every 20 ms.
    expect(Math.max(...at) - drainStarted.seen).toBeLessThan(2000 + 3000)
    await until(
      async () => (await p.metric('cutover_drain_cut_total')) === old.length,
      `cutover_drain_cut_total to reach ${old.length}`,
      10_000,
    )
    const fresh = await openMany(10)
    await echoAll(fresh, 'after')
    await closeAll(fresh)
  }, 60_000)
})

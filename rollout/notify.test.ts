// Webhooks: what an event says, and how it is sent: in order, retried with
// backoff on what may pass, never holding the sender, and nothing given up
// without a log line. Against a real HTTP receiver on loopback.

import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { eventOf, type NotifyTiming, startNotifier } from './notify.ts'
import type { HistoryEntry } from './state.ts'

const FAST: NotifyTiming = { timeoutMs: 500, backoffMs: 10, attempts: 3, queueLimit: 100 }

const rollback: HistoryEntry = {
  at: Date.UTC(2026, 11, 7, 3, 0, 0),
  scope: 'site:www.example.test',
  from: 2500,
  to: 500,
  by: 'controller',
  action: 'rollback',
  why: 'error-rate 10.00% over 0.01 (200 samples)',
  gates: [
    { gate: 'error-rate', value: 0.1, limit: 0.01, samples: 200, state: 'breached' },
    { gate: 'latency', value: 1.1, limit: 1.5, samples: 200, state: 'ok' },
  ],
}

const set = (n: number): HistoryEntry => ({
  at: 0,
  scope: 'dns:example.test',
  from: 0,
  to: n * 100,
  by: 'alice',
  action: 'set',
  why: `step ${n}`,
})

interface Receiver {
  url: string
  bodies: unknown[]
  server: Server
}

const receivers: Receiver[] = []
afterEach(async () => {
  for (const r of receivers.splice(0)) {
    r.server.closeAllConnections()
    await new Promise((resolve) => r.server.close(resolve))
  }
})

/** A webhook on loopback that answers each POST with `status(n)` for the n-th one (from 1). */
async function receiver(status: (n: number, req: IncomingMessage) => number | 'hang' = () => 200) {
  const bodies: unknown[] = []
  let n = 0
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => {
      body += d
    })
    req.on('end', () => {
      const answer = status(++n, req)
      if (answer === 'hang') return
      if (answer < 300) bodies.push(JSON.parse(body))
      res.writeHead(answer).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const r = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    server,
  }
  receivers.push(r)
  return r
}

function logger() {
  const warnings: { obj: object; msg?: string }[] = []
  return {
    warnings,
    log: { info() {}, warn: (obj: object, msg?: string) => warnings.push({ obj, msg }) },
  }
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10))
  expect(done()).toBe(true)
}

describe('eventOf', () => {
  it('says what changed, by whom and why, with the breached gate in the text', () => {
    expect(eventOf(rollback, 'edge-1')).toEqual({
      event: 'rollout.rollback',
      scope: 'site:www.example.test',
      from: 25,
      to: 5,
      by: 'controller',
      why: 'error-rate 10.00% over 0.01 (200 samples)',
      at: '2026-12-07T03:00:00.000Z',
      host: 'edge-1',
      gates: rollback.gates,
      text: 'cutover on edge-1: controller rolled back site:www.example.test, 25% → 5%: error-rate 10.00% over 0.01 (200 samples) (error-rate 0.100 > 0.01)',
    })
  })

  it('has no gates for a change by hand', () => {
    const e = eventOf(set(10), 'edge-1')
    expect(e.gates).toBeUndefined()
    expect(e.text).toBe('cutover on edge-1: alice set dns:example.test, 0% → 10%: step 10')
  })
})

describe('startNotifier', () => {
  it('posts every event as JSON to every URL, in order', async () => {
    const [a, b] = [await receiver(), await receiver()]
    const { log, warnings } = logger()
    const n = startNotifier([a.url, b.url], log, FAST)
    n.send([set(1), set(2)])
    n.send([set(3)])
    await until(() => a.bodies.length === 3 && b.bodies.length === 3)
    for (const r of [a, b]) expect(r.bodies.map((e) => (e as { to: number }).to)).toEqual([1, 2, 3])
    await n.close(1000)
    expect(warnings).toEqual([])
  })

  it('retries a 5xx or 429 with backoff, and keeps the order', async () => {
    const r = await receiver((n) => (n === 1 ? 503 : n === 2 ? 429 : 200))
    const { log, warnings } = logger()
    const n = startNotifier([r.url], log, FAST)
    n.send([set(1), set(2)])
    await until(() => r.bodies.length === 2)
    expect(r.bodies.map((e) => (e as { to: number }).to)).toEqual([1, 2])
    await n.close(1000)
    expect(warnings).toEqual([])
  })

  it('gives up at once on a 4xx, and after the last try on a webhook that hangs, logging the event', async () => {
    const refusing = await receiver(() => 404)
    const hanging = await receiver(() => 'hang')
    const { log, warnings } = logger()
    const n = startNotifier([refusing.url, hanging.url], log, FAST)
    const started = performance.now()
    n.send([set(1)])
    // Sending never waits for the webhook.
    expect(performance.now() - started).toBeLessThan(50)
    await until(() => warnings.length === 2)
    expect(warnings).toContainEqual({
      obj: { url: refusing.url, status: 404, event: eventOf(set(1)) },
      msg: 'rollout: webhook not notified of rollout.set for dns:example.test',
    })
    expect(warnings).toContainEqual({
      obj: { url: hanging.url, status: 'no answer', event: eventOf(set(1)) },
      msg: 'rollout: webhook not notified of rollout.set for dns:example.test',
    })
    await n.close(1000)
  })

  it('gives up the oldest events past the queue limit, with a log line each', async () => {
    const r = await receiver(() => 'hang')
    const { log, warnings } = logger()
    const n = startNotifier([r.url], log, { ...FAST, queueLimit: 2 })
    n.send([set(1)])
    n.send([set(2), set(3), set(4)])
    // 1 is being sent; 2 made way for 4.
    expect(warnings).toEqual([
      {
        obj: { url: r.url, event: eventOf(set(2)) },
        msg: 'rollout: webhook queue full; oldest event not sent',
      },
    ])
    await n.close(10)
    expect(warnings.slice(1).map((w) => (w.obj as { event: { to: number } }).event.to)).toEqual([
      1, 3, 4,
    ])
  })

  it('cuts a post still going at the end of the stop grace, and says which event it was', async () => {
    const r = await receiver(() => 'hang')
    const { log, warnings } = logger()
    const n = startNotifier([r.url], log, { ...FAST, timeoutMs: 60_000 })
    n.send([set(1), set(2)])
    const started = performance.now()
    await n.close(50)
    expect(performance.now() - started).toBeLessThan(1000)
    expect(warnings.map((w) => [(w.obj as { event: { to: number } }).event.to, w.msg])).toEqual([
      [1, 'rollout: webhook not notified of rollout.set for dns:example.test'],
      [2, 'rollout: stopping; webhook not notified of this event'],
    ])
  })

  it('follows a reload: a URL added gets what comes next, one removed gets nothing more', async () => {
    const [a, b] = [await receiver(), await receiver()]
    const { log } = logger()
    const n = startNotifier([a.url], log, FAST)
    n.send([set(1)])
    await until(() => a.bodies.length === 1)
    n.configure([b.url])
    n.send([set(2)])
    await until(() => b.bodies.length === 1)
    expect(a.bodies).toHaveLength(1)
    await n.close(1000)
  })
})

// Reload, restart and stop given in every order and at once, as operators and
// their tools do (`cutover reload && cutover restart`, a deploy script and a
// cron job at the same moment), under HTTP/1.1 keep-alive, HTTP/1.0, DNS over
// UDP, DNS over TCP one query at a time and pipelined: every query answered
// and every request complete, no TCP client ever made to ask again (a restart
// hands its idle connections to the new generation), nothing cut. A stop at
// once with both finishes them all in order and exits 0.

import { describe, expect, it } from 'vitest'
import { tcpLoad, udpLoad } from './support/dns-load.ts'
import { http10Load } from './support/http10-load.ts'
import {
  expectAllAnswered,
  httpLoad,
  NEW_HOST,
  queries,
  supervisedTestBed,
} from './support/restart-load.ts'
import type { SupervisedProxy } from './support/supervised.ts'
import { until } from './support/until.ts'

const bed = supervisedTestBed()
const { started } = bed

type Command = 'reload' | 'restart' | 'stop'

/** Each step's commands are given at once; the steps one after another. */
const STEPS: Command[][] = [
  ['reload'],
  ['restart'],
  ['restart'],
  ['reload'],
  ['reload', 'restart'],
  ['restart', 'reload'],
  ['restart', 'restart'],
  ['reload', 'reload', 'restart'],
]

/** Gives `commands` at once; each must succeed. */
async function atOnce(p: SupervisedProxy, commands: readonly Command[]): Promise<void> {
  const results = await Promise.all(commands.map((c) => p.command(c)))
  for (const [i, r] of results.entries()) expect(r.code, `${commands[i]}: ${r.output}`).toBe(0)
}

describe('reload, restart and stop in every order and at once', () => {
  it('under HTTP and DNS load: nothing lost, nothing asked again, nothing cut', async () => {
    const { p, dnsPort, httpPort } = await bed.startOnFreePorts()
    const http = started(httpLoad(`http://127.0.0.1:${httpPort}`))
    const old = started(http10Load(httpPort, NEW_HOST))
    const udp = started(udpLoad(dnsPort, queries))
    const tcp = started(tcpLoad(dnsPort, queries, 4))
    const pipelined = started(tcpLoad(dnsPort, queries, 4, 8))
    await until(
      () =>
        http.responses() > 500 &&
        old.counts.ok > 50 &&
        udp.counts.answered > 100 &&
        tcp.counts.answered > 100 &&
        pipelined.counts.answered > 100,
      'the load to get going',
      20_000,
    )
    for (const step of STEPS) {
      const before = tcp.counts.answered + pipelined.counts.answered
      await atOnce(p, step)
      // The TCP clients go on through each step on the connections they had.
      await until(
        () => tcp.counts.answered + pipelined.counts.answered > before + 100,
        `DNS over TCP answered after ${step.join(' + ')}`,
        10_000,
      )
    }
    const [h, h10, u, t, tp] = await Promise.all([
      http.stop(),
      old.stop(),
      udp.stop(),
      tcp.stop(),
      pipelined.stop(),
    ])
    expect(h.errors, `failed requests: ${h.errorKinds.join('; ')}`).toBe(0)
    expect(h.non2xx).toBe(0)
    expect(h10).toEqual({ ...h10, failed: 0, failures: [] })
    expect(h10.ok).toBe(h10.sent)
    expectAllAnswered(u)
    for (const counts of [t, tp]) {
      expectAllAnswered(counts)
      expect(counts.retried, 'queries asked again after the server closed').toBe(0)
    }
    expect(await p.metric('cutover_drain_cut_total')).toBe(0)
    // Restarts asked at once may be one: their signals coalesce, and one new generation answers both.
    const generation = (await p.status()).generation
    expect(generation).toBeGreaterThanOrEqual(1 + STEPS.filter((s) => s.includes('restart')).length)
    expect(generation).toBeLessThanOrEqual(1 + STEPS.flat().filter((c) => c === 'restart').length)
  }, 300_000)

  it('a stop given at once with a reload and a restart: whichever comes first, the supervisor stops, starts no worker after, and exits 0', async () => {
    const { p, dnsPort } = await bed.startOnFreePorts()
    const tcp = started(tcpLoad(dnsPort, queries, 4, 8))
    await until(() => tcp.counts.answered > 100, 'the load to get going', 20_000)
    const [reload, restart, stop] = await Promise.all(
      (['reload', 'restart', 'stop'] as const).map((c) => p.command(c)),
    )
    expect(stop.code, stop.output).toBe(0)
    expect(await p.run.exited).toBe(0)
    // One that came after the stop says so; one before it was done.
    for (const [name, r] of [
      ['reload', reload],
      ['restart', restart],
    ] as const)
      if (r.code !== 0) expect(r.output).toContain(`cutover stopped before the ${name} was done`)
    const log = p.run.output()
    const stopping = log.indexOf('stop: every worker drains now')
    expect(stopping).toBeGreaterThan(0)
    expect(log.slice(stopping)).not.toContain('generation ready')
    expect((await tcp.stop()).wrong).toBe(0)
  }, 120_000)
})

describe('a restart hands connections over', () => {
  it('an idle DNS-over-TCP connection, and one with half a query read, go on in the new generation', async () => {
    const { p, dnsPort } = await bed.startOnFreePorts()
    const { connect } = await import('node:net')
    const socket = connect(dnsPort, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    let received = Buffer.alloc(0)
    socket.on('data', (d) => {
      received = Buffer.concat([received, d])
    })
    const framed = (i: number) => {
      const q = Buffer.from(queries[i % queries.length])
      q.writeUInt16BE(1000 + i, 0)
      const f = Buffer.alloc(2 + q.length)
      f.writeUInt16BE(q.length, 0)
      q.copy(f, 2)
      return f
    }
    const replies = () => {
      const ids: number[] = []
      for (let at = 0; at + 2 <= received.length; at += 2 + received.readUInt16BE(at))
        if (at + 2 + received.readUInt16BE(at) <= received.length)
          ids.push(received.readUInt16BE(at + 2))
      return ids
    }
    socket.write(framed(0))
    await until(() => replies().length === 1, 'the first reply')
    // Half of the next query before the restart, the rest after it.
    const second = framed(1)
    socket.write(second.subarray(0, 5))
    const { code, output } = await p.command('restart')
    expect(code, output).toBe(0)
    socket.write(second.subarray(5))
    socket.write(framed(2))
    await until(() => replies().length === 3, 'the replies after the restart', 10_000)
    // Answered in any order (RFC 7766): one of them is the legacy's.
    expect(replies().sort()).toEqual([1000, 1001, 1002])
    expect(socket.destroyed).toBe(false)
    socket.destroy()
    expect(await p.metric('cutover_drain_cut_total')).toBe(0)
  }, 120_000)
})

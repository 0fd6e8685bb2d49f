// `cutover upgrade` as operators run it, in front of BIND and nginx: supervisors
// in turn take the listening sockets over under HTTP keep-alive, HTTP/1.0 and
// DNS over UDP, TCP and pipelined TCP load: five, with the way of accepting and
// the number of workers changed at each upgrade (the successor serves every
// socket it took: sockets split per worker that it has no worker for are lent
// to the ones it has), and two with each way kept, a successor handing over in
// turn; nothing is lost, counters go on, the generations count on. A new
// supervisor that cannot start leaves the old one serving, and says why. A
// listener the new config moved is closed on the port it left.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tcpLoad, udpLoad } from './support/dns-load.ts'
import { freePort } from './support/free-port.ts'
import { http10Load } from './support/http10-load.ts'
import { RawConnection } from './support/raw-http.ts'
import {
  expectAllAnswered,
  httpLoad,
  NEW_HOST,
  proxyConfig,
  queries,
  supervisedTestBed,
} from './support/restart-load.ts'
import { type SupervisedProxy, supervisorPid } from './support/supervised.ts'
import { until } from './support/until.ts'

const bed = supervisedTestBed()
const { started } = bed

/** Requests served on either path so far, over HTTP. */
async function httpServed(p: SupervisedProxy): Promise<number> {
  return (
    (await p.metric('cutover_requests_total', { protocol: 'http', path: 'new' })) +
    (await p.metric('cutover_requests_total', { protocol: 'http', path: 'legacy' }))
  )
}

type Accept = 'reusePort' | 'roundRobin' | 'shared'

/** What each upgrade's config says: the first is the one started with, then one per upgrade. */
const plans: Record<string, { workerAccept: Accept; workers: number }[]> = {
  'workerAccept: reusePort': Array(3).fill({ workerAccept: 'reusePort', workers: 2 }),
  'workerAccept: roundRobin': Array(3).fill({ workerAccept: 'roundRobin', workers: 2 }),
  'workerAccept and workers changed each time': [
    { workerAccept: 'reusePort', workers: 3 },
    { workerAccept: 'shared', workers: 2 },
    { workerAccept: 'reusePort', workers: 1 },
    { workerAccept: 'reusePort', workers: 2 },
    { workerAccept: 'roundRobin', workers: 3 },
    { workerAccept: 'reusePort', workers: 2 },
  ],
}

describe('cutover upgrade', () => {
  for (const [name, plan] of Object.entries(plans))
    it(`${plan.length - 1} upgrades under HTTP and DNS load (${name}): nothing lost, counters and generations go on`, async () => {
      const { p, dnsPort, httpPort } = await bed.startOnFreePorts(plan[0])
      const http = started(httpLoad(`http://127.0.0.1:${httpPort}`))
      const old = started(http10Load(httpPort, NEW_HOST))
      const udp = started(udpLoad(dnsPort, queries))
      const tcp = started(tcpLoad(dnsPort, queries, 4))
      await until(
        () => http.responses() > 500 && udp.counts.answered > 100 && tcp.counts.answered > 100,
        'the load to get going',
        20_000,
      )
      const pids = [p.run.child.pid]
      let served = 0
      for (let i = 0; i < plan.length - 1; i++) {
        p.rewrite({ ...proxyConfig(bed.backends(), dnsPort, httpPort), ...plan[i + 1] })
        const { code, output } = await p.command('upgrade')
        expect(code, output).toBe(0)
        const status = await p.status()
        // A new process each time, named in the pid file, its workers all ready.
        expect(pids).not.toContain(status.pid)
        expect(supervisorPid(p.dir)).toBe(status.pid)
        pids.push(status.pid)
        expect(status.workers.every((w) => w.state === 'ready')).toBe(true)
        expect(status.workers).toHaveLength(plan[i + 1].workers)
        expect(status.generation).toBe(i + 2)
        const now = await httpServed(p)
        expect(now).toBeGreaterThan(served)
        served = now
      }
      expect(await p.run.exited).toBe(0)
      const [h, h10, u, t] = await Promise.all([http.stop(), old.stop(), udp.stop(), tcp.stop()])
      expect(h.errors, `failed requests: ${h.errorKinds.join('; ')}`).toBe(0)
      expect(h.non2xx, 'non-2xx').toBe(0)
      expect(h10.failed, `failed HTTP/1.0 requests: ${h10.failures.join('; ')}`).toBe(0)
      expectAllAnswered(u)
      expectAllAnswered(t)
      // The last supervisor's sums hold what its predecessors' workers served.
      expect(await httpServed(p)).toBeGreaterThanOrEqual(h.ok)
      expect(await p.metric('cutover_drain_cut_total')).toBe(0)
      // With fewer workers than the predecessor split its sockets for, the rest are lent.
      if (plan.some((step) => step.workers !== plan[0].workers))
        expect(p.run.output()).toContain('no live worker serves this socket: lent to another')
    }, 240_000)

  it('a new supervisor that cannot start leaves the old one serving, and upgrade says why', async () => {
    const { p, dnsPort, httpPort } = await bed.startOnFreePorts()
    const before = await p.status()
    // The config still validates; its zone file does not load, so no new worker starts.
    const zone = join(p.dir, 'broken.zone')
    writeFileSync(zone, '$ORIGIN broken.test.\n@ 3600 IN SOA ns hostmaster (1 2 3\n')
    const config = proxyConfig(bed.backends(), dnsPort, httpPort)
    const zones = (config.dns as { zones: { name: string; file: string; percent: number }[] }).zones
    zones.push({ name: 'broken.test', file: zone, percent: 100 })
    p.rewrite(config)

    const { code, output } = await p.command('upgrade')
    expect(code, output).toBe(1)
    expect(output).toMatch(/upgrade failed: .*broken\.zone/)
    const after = await p.status()
    expect(after.pid).toBe(before.pid)
    expect(after.lastUpgrade).toMatchObject({ ok: false })
    expect(supervisorPid(p.dir)).toBe(before.pid)
    const res = await fetch(`http://127.0.0.1:${httpPort}/`, { headers: { host: NEW_HOST } })
    expect(res.status).toBe(200)
  }, 120_000)

  it('an upgrade that moves the HTTP listener: once the old supervisor is gone, the port left is refused and the new one serves', async () => {
    const { p, dnsPort, httpPort } = await bed.startOnFreePorts()
    const moved = await freePort()
    p.rewrite(proxyConfig(bed.backends(), dnsPort, moved))
    const { code, output } = await p.command('upgrade')
    expect(code, output).toBe(0)
    expect(await p.run.exited).toBe(0)
    await expect(RawConnection.open(httpPort)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    const res = await fetch(`http://127.0.0.1:${moved}/`, { headers: { host: NEW_HOST } })
    expect(res.status).toBe(200)
  }, 120_000)
})

// A DNS worker that falls behind, end to end: under `cutover start` the worker
// alone reads the listening UDP socket (the supervisor holds it and never
// reads), so while the worker is stopped, queries queue in the socket's receive
// buffer (dns.udp.receiveBuffer) and the kernel drops what does not fit. The
// supervisor's /metrics reports those drops, which no worker could have seen,
// and the worker answers again once it runs.

import { createSocket } from 'node:dgram'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Rcode, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { freePort } from './support/free-port.ts'
import { stopProcess } from './support/stop-process.ts'
import { type SupervisedProxy, startSupervised } from './support/supervised.ts'
import { until } from './support/until.ts'

const ZONE = join(import.meta.dirname, 'zones', 'e2e.test.zone')
const QUERIES = 500
/**
 * At most this many of QUERIES may be queued rather than dropped. A 4 KiB
 * buffer (8 KiB as Linux doubles it) holds about ten small queries; the
 * system default (212,992 bytes, net.core.rmem_default) about 250: so fewer
 * drops than QUERIES - QUEUED means receiveBuffer was not applied.
 */
const QUEUED = 64
const DROPS = 'cutover_dns_udp_receive_drops_total'

let proxy: SupervisedProxy | undefined
afterEach(() => {
  proxy?.cleanup()
  proxy = undefined
})

/** Asks `name` A over UDP; the decoded reply. */
async function ask(port: number, name: string, timeoutMs?: number) {
  const reply = await exchange(
    { host: '127.0.0.1', port },
    buildQuery({ name, type: Type.A }),
    'udp',
    timeoutMs,
  )
  return decodeMessage(reply)
}

/** Sends QUERIES queries over UDP to `port` from one socket, each handed to the kernel; the socket, to close. */
async function flood(port: number) {
  const socket = createSocket('udp4')
  socket.on('message', () => {}) // the few queued queries are answered once the worker runs
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  await Promise.all(
    Array.from({ length: QUERIES }, (_, i) => {
      const q = buildQuery({ id: i, name: 'www.e2e.test', type: Type.A })
      return new Promise<void>((resolve, reject) =>
        socket.send(q, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      )
    }),
  )
  return socket
}

describe('dns.udp.receiveBuffer and cutover_dns_udp_receive_drops_total', () => {
  it('counts the queries the kernel dropped while the worker was stopped, and the worker answers after', async () => {
    const dnsPort = await freePort()
    const p = await startSupervised({
      workers: 1,
      dns: {
        listen: `127.0.0.1:${dnsPort}`,
        zones: [{ name: 'e2e.test', file: ZONE, percent: 100 }],
        // Never asked: the zone is answered on the new path.
        legacy: { servers: [`127.0.0.1:${await freePort()}`] },
        udp: { receiveBuffer: 4096 },
      },
    })
    proxy = p
    try {
      // Serving, with nothing dropped yet (and the metric there to read: a strict read throws if not).
      expect((await ask(dnsPort, 'www.e2e.test')).answer.length).toBeGreaterThan(0)
      expect(await p.metric(DROPS)).toBe(0)

      const status = await p.status()
      expect(status.workers).toHaveLength(1)
      const pid = status.workers[0].pid
      if (pid === undefined) throw new Error('the worker has no pid')
      expect(pid).not.toBe(status.pid)

      // A stopped process reads nothing, as one whose event loop is stuck under load.
      await stopProcess(pid)
      let sender: ReturnType<typeof createSocket> | undefined
      let dropped: number
      try {
        try {
          sender = await flood(dnsPort)
        } finally {
          process.kill(pid, 'SIGCONT')
        }
        dropped = await p.metric(DROPS)
      } finally {
        sender?.close()
      }
      expect(dropped).toBeGreaterThan(QUERIES - QUEUED)
      expect(dropped).toBeLessThanOrEqual(QUERIES)

      // The worker answers a fresh query once it runs again (asked until it does, as a client retries).
      let answered = false
      await until(
        async () => {
          try {
            const reply = await ask(dnsPort, 'mail.e2e.test', 500)
            answered = reply.rcode === Rcode.NOERROR && reply.answer.length > 0
          } catch {
            answered = false
          }
          return answered
        },
        'a fresh query answered after SIGCONT',
        15_000,
      )
      expect(answered).toBe(true)
      // The kernel's own count: it does not move without new drops.
      expect(await p.metric(DROPS)).toBe(dropped)
      expect((await p.status()).workers.map((w) => w.pid)).toEqual([pid])
    } finally {
      expect((await p.command('stop')).code).toBe(0)
      await p.run.exited
    }
  }, 90_000)
})

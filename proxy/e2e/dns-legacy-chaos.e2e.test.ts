// The legacy DNS servers failing under load, with real BIND processes: one
// hung (SIGSTOP), killed and started again, flapping; both hung. While one
// answers, every query is answered, the other skipped once its health fails
// and taken back once it recovers; with none, a query gets SERVFAIL within
// dns.legacy.timeout, never a hang, and answers come back by themselves.

import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Rcode, Type } from '../../dns/constants.ts'
import { buildQuery } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { type BindServer, startBind } from './support/bind.ts'
import { ROOT } from './support/cli.ts'
import { type DnsLoad, udpLoad } from './support/dns-load.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { until } from './support/until.ts'

const ZONES = join(ROOT, 'proxy', 'e2e', 'zones')
const TIMEOUT_MS = 1000
const QUERIES = [
  buildQuery({ name: 'www.other.test', type: Type.A }),
  buildQuery({ name: 'ns1.other.test', type: Type.A }),
]

let a: BindServer
let b: BindServer
let proxy: TestProxy

beforeAll(async () => {
  const zones = [{ name: 'other.test', file: join(ZONES, 'other.test.zone'), percent: 100 }]
  ;[a, b] = await Promise.all([startBind(zones, ZONES), startBind(zones, ZONES)])
  proxy = await startTestProxy({
    dns: {
      listen: '127.0.0.1:0',
      legacy: {
        servers: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`],
        timeout: `${TIMEOUT_MS}ms`,
        attempts: 2,
        health: { failures: 3, interval: '200ms', probe: 'other.test' },
      },
      // Every query reaches the legacy: a cached answer would hide its failures.
      packetcache: { enabled: false },
    },
  })
})

afterAll(async () => {
  await proxy?.stop()
  await Promise.all([a?.stop(), b?.stop()])
})

/** Runs `chaos` under a UDP load of legacy names; every query must be answered NOERROR. */
async function underLoad(chaos: () => Promise<void>): Promise<void> {
  const load: DnsLoad = udpLoad(proxy.dnsPort, QUERIES, 8)
  try {
    await until(() => load.counts.answered > 50, 'the load to get going')
    await chaos()
    const before = load.counts.answered
    await until(() => load.counts.answered > before + 50, 'answers after the chaos', 5000)
  } finally {
    const counts = await load.stop()
    expect(counts).toEqual({
      ...counts,
      answered: counts.sent,
      wrong: 0,
      unanswered: 0,
      errors: [],
    })
  }
}

const failures = () =>
  proxy.metric('cutover_legacy_failures_total', { protocol: 'dns', failure: 'timeout' })

describe('legacy DNS servers failing under load', () => {
  it('one hung for two seconds: every query answered by the other, and once its health failed, without waiting on it', async () => {
    await underLoad(async () => {
      await a.pause()
      try {
        // Three of the load's queries timed out on it mark it down: then it is not asked at all.
        await delay(1500)
        for (let i = 0; i < 5; i++) {
          const started = performance.now()
          const reply = await exchange(
            { host: '127.0.0.1', port: proxy.dnsPort },
            QUERIES[0],
            'udp',
            5000,
          )
          expect(reply[3] & 0xf).toBe(Rcode.NOERROR)
          expect(
            performance.now() - started,
            'a query that waited on the hung server',
          ).toBeLessThan(TIMEOUT_MS / 2)
        }
      } finally {
        a.resume()
      }
    })
  })

  it('one killed and started again: every query answered', async () => {
    await underLoad(() => a.killAndStart())
  })

  it('one flapping, hung and back every 150 ms for three seconds: every query answered', async () => {
    await underLoad(async () => {
      for (let i = 0; i < 10; i++) {
        await a.pause()
        await delay(150)
        a.resume()
        await delay(150)
      }
    })
  })

  it('both hung: SERVFAIL within the timeout, counted, never a hang; answers come back once they do', async () => {
    const before = await failures()
    await Promise.all([a.pause(), b.pause()])
    try {
      const query = buildQuery({ name: 'www.other.test', type: Type.A })
      const started = performance.now()
      const reply = await exchange({ host: '127.0.0.1', port: proxy.dnsPort }, query, 'udp', 5000)
      const took = performance.now() - started
      expect(reply[3] & 0xf).toBe(Rcode.SERVFAIL)
      expect(took).toBeLessThan(TIMEOUT_MS + 500)
      expect(await failures()).toBeGreaterThan(before)
      // Health is passive: timeouts mark a server down. A few more queries do it for both,
      // and the proxy says it is not ready, and why.
      await Promise.all(
        Array.from({ length: 4 }, () =>
          exchange({ host: '127.0.0.1', port: proxy.dnsPort }, QUERIES[1], 'udp', 5000),
        ),
      )
      await until(
        async () => (await proxy.admin('GET', '/readyz')).status === 503,
        '/readyz to say 503',
        5000,
      )
      expect(JSON.stringify((await proxy.admin('GET', '/readyz')).body)).toContain(
        'no legacy DNS server answers',
      )
    } finally {
      a.resume()
      b.resume()
    }
    await until(
      async () => {
        const reply = await exchange(
          { host: '127.0.0.1', port: proxy.dnsPort },
          buildQuery({ name: 'www.other.test', type: Type.A }),
          'udp',
          2000,
        )
        return (reply[3] & 0xf) === Rcode.NOERROR
      },
      'an answer once the servers are back',
      5000,
    )
    await until(
      async () => (await proxy.admin('GET', '/readyz')).status === 200,
      'ready again',
      5000,
    )
  })
})

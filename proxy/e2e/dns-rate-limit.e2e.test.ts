// Response rate limiting end to end (dns.rateLimit, BIND's rate-limit): a burst
// of UDP queries from one network gets the rate, then every second response
// over it truncated (TC=1, so a real client asks over TCP) and the rest
// dropped, each counted; TCP is never limited, nor an exempt network; random
// names in one zone share one account, so a random-subdomain flood is limited
// too. An authoritative answer cannot be made an amplifier.

import { createSocket } from 'node:dgram'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Flag, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { freePort } from './support/free-port.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { until } from './support/until.ts'

const ZONE = join(dirname(fileURLToPath(import.meta.url)), 'zones', 'e2e.test.zone')
const BURST = 40
const RATE = 5

let proxy: TestProxy

beforeAll(async () => {
  proxy = await startTestProxy({
    dns: {
      listen: '127.0.0.1:0',
      zones: [{ name: 'e2e.test', file: ZONE, percent: 100 }],
      // Never asked: the zone is answered on the new path.
      legacy: { servers: [`127.0.0.1:${await freePort()}`] },
      packetcache: { enabled: false },
      rateLimit: { responsesPerSecond: RATE, slip: 2, exempt: ['127.0.0.2/32'] },
    },
  })
})

afterAll(async () => {
  await proxy?.stop()
})

const counted = async () => {
  const [sent, dropped, slipped] = await Promise.all([
    proxy.metric('cutover_requests_total', { protocol: 'dns', path: 'new' }),
    proxy.metric('cutover_dns_rate_limited_total', { action: 'dropped' }),
    proxy.metric('cutover_dns_rate_limited_total', { action: 'slipped' }),
  ])
  return { sent, dropped, slipped }
}

/** Sends `names` at once over UDP from `from`; once the proxy counted each, the replies that came. */
async function burst(names: string[], from = '127.0.0.1') {
  const before = await counted()
  const socket = createSocket('udp4')
  const replies: Buffer[] = []
  socket.on('message', (m) => replies.push(m))
  await new Promise<void>((resolve) => socket.bind(0, from, resolve))
  for (const [i, name] of names.entries()) {
    const q = buildQuery({ name, type: Type.A })
    q.writeUInt16BE(i, 0)
    socket.send(q, proxy.dnsPort, '127.0.0.1')
  }
  const total = (c: Awaited<ReturnType<typeof counted>>) => c.sent + c.dropped + c.slipped
  await until(
    async () => total(await counted()) - total(before) === names.length,
    'every query counted',
  )
  const after = await counted()
  const delta = {
    sent: after.sent - before.sent,
    dropped: after.dropped - before.dropped,
    slipped: after.slipped - before.slipped,
  }
  // Every reply sent has arrived on loopback once the counters say so; the socket is read last.
  await until(() => replies.length === delta.sent + delta.slipped, 'the replies sent')
  socket.close()
  const truncated = replies.filter((r) => (r.readUInt16BE(2) & Flag.TC) !== 0)
  return { ...delta, answers: replies.length - truncated.length, truncated }
}

describe('dns.rateLimit', () => {
  it('answers the rate, slips every second response over it with TC and no records, drops the rest, counting each', async () => {
    const r = await burst(Array.from({ length: BURST }, () => 'www.e2e.test'))
    expect(r.sent).toBeGreaterThanOrEqual(RATE)
    expect(r.sent).toBeLessThan(RATE * 2)
    expect(r.answers).toBe(r.sent)
    expect(r.slipped).toBe(r.truncated.length)
    // Slip 2: half of what is over the rate goes out truncated.
    expect(Math.abs(r.slipped - r.dropped)).toBeLessThanOrEqual(1)
    for (const t of r.truncated) {
      const m = decodeMessage(t)
      expect([m.answer.length, m.authority.length, m.additional.length]).toEqual([0, 0, 0])
      expect(m.questions[0].name).toBe('www.e2e.test.')
    }
  })

  it('never limits DNS over TCP, which no spoofer can open', async () => {
    for (let i = 0; i < BURST; i++) {
      const reply = decodeMessage(
        await exchange(
          { host: '127.0.0.1', port: proxy.dnsPort },
          buildQuery({ name: 'mail.e2e.test', type: Type.A }),
          'tcp',
        ),
      )
      expect(reply.answer.length, `query ${i}`).toBeGreaterThan(0)
      expect(reply.flags & Flag.TC).toBe(0)
    }
  })

  it('never limits an exempt network', async () => {
    const r = await burst(
      Array.from({ length: BURST }, () => 'ns1.e2e.test'),
      '127.0.0.2',
    )
    expect(r).toMatchObject({ sent: BURST, dropped: 0, slipped: 0, answers: BURST })
  })

  it('counts the NXDOMAINs of random names in a zone as one account', async () => {
    const r = await burst(Array.from({ length: BURST }, (_, i) => `random${i}.e2e.test`))
    expect(r.sent).toBeLessThan(RATE * 2)
    expect(r.dropped + r.slipped).toBeGreaterThan(BURST - RATE * 2)
  })
})

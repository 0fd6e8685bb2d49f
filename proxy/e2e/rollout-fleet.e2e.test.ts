// Two instances on one Redis: they decide alike for the same client, see each
// other's changes, and each lists the whole fleet in its console with the one
// that drives the plans. BIND 9 is their DNS legacy.

import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { signDns } from '../../rollout/control.ts'
import { type BindServer, startBind } from './support/bind.ts'
import { queryFrom } from './support/ecs-query.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { type RedisServer, startRedis } from './support/redis.ts'
import { until } from './support/until.ts'

const ZONES = join(dirname(fileURLToPath(import.meta.url)), 'zones')
const ZONE = join(ZONES, 'e2e.test.zone')
const OPTION = 65430

let bind: BindServer
beforeAll(async () => {
  bind = await startBind([{ name: 'e2e.test', file: ZONE }], ZONES)
})
afterAll(async () => {
  await bind?.stop()
})

describe('two instances on one Redis', () => {
  let redis: RedisServer
  const instances: TestProxy[] = []

  beforeAll(async () => {
    redis = await startRedis()
    for (let i = 0; i < 2; i++) {
      instances.push(
        await startTestProxy({
          dns: {
            listen: '127.0.0.1:0',
            zones: [{ name: 'e2e.test', file: ZONE, percent: 50 }],
            legacy: { servers: [`127.0.0.1:${bind.port}`] },
            packetcache: { enabled: false },
          },
          rollout: { store: 'redis', redis: { url: redis.url, prefix: 'e2e' } },
        }),
      )
    }
  })

  afterAll(async () => {
    for (const p of instances) await p.stop()
    await redis?.stop()
  })

  it('show every instance of the fleet in the console, one of them driving the plans', async () => {
    const [a] = instances
    const admin = `http://127.0.0.1:${a.adminPort}`
    const signIn = await fetch(`${admin}/console/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: a.token }),
    })
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]
    type State = { process: { instances?: { leading: boolean; pid: number }[] } }
    const state = async () =>
      (await (await fetch(`${admin}/console/state`, { headers: { cookie } })).json()) as State
    await until(
      async () => (await state()).process.instances?.length === 2,
      'both instances to be listed',
      5000,
    )
    const listed = (await state()).process.instances ?? []
    expect(listed.filter((i) => i.leading)).toHaveLength(1)
    expect(listed.map((i) => i.pid)).toEqual([process.pid, process.pid])
  })

  it('decide alike for the same client, and see a change made through either', async () => {
    const [a, b] = instances
    const pathOf = async (p: TestProxy, n: number) => {
      const ts = Math.floor(Date.now() / 1000)
      const q = queryFrom(n)
      const name = Buffer.from([
        3, 0x77, 0x77, 0x77, 3, 0x65, 0x32, 0x65, 4, 0x74, 0x65, 0x73, 0x74, 0,
      ])
      const data = signDns(
        p.token,
        ts,
        { force: undefined, trace: true },
        q.readUInt16BE(0),
        name,
        Type.A,
      )
      const query = buildQuery({
        id: q.readUInt16BE(0),
        name: 'www.e2e.test',
        type: Type.A,
        edns: {
          udpSize: 1232,
          options: [
            { code: 8, data: q.subarray(q.length - 7) },
            { code: OPTION, data },
          ],
        },
      })
      const reply = decodeMessage(
        await exchange({ host: '127.0.0.1', port: p.dnsPort }, query, 'udp'),
      )
      return reply.edns?.options
        .find((o) => o.code === OPTION)
        ?.data.toString()
        .replace(/; reason=.*/, '')
    }
    for (let n = 0; n < 20; n++) expect(await pathOf(b, n)).toBe(await pathOf(a, n))
    expect(
      (await a.admin('PUT', `/rollout/${encodeURIComponent('dns:e2e.test')}`, { percent: 12.34 }))
        .status,
    ).toBe(200)
    await until(
      async () =>
        ((await b.admin('GET', `/rollout/${encodeURIComponent('dns:e2e.test')}`)).body
          .percent as number) === 12.34,
      'instance b to see the change',
      5000,
    )

    for (let n = 0; n < 20; n++) expect(await pathOf(b, n)).toBe(await pathOf(a, n))
  })
})

// End to end for the rollout, through the proxy with BIND 9 and nginx as the
// legacy: a percentage splits real traffic about as asked and sticks per client,
// 0 is a kill switch on the next request, forced paths and traces need the admin
// token, and a plan whose new path fails rolls back by itself (two instances
// on one Redis: rollout-fleet.e2e.test.ts). Each test has a proxy of its own
// and sets the percentages it needs: none relies on another's state.

import { createServer, type Server } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { signDns, signHttp } from '../../rollout/control.ts'
import { type BindServer, startBind } from './support/bind.ts'
import { queryFrom } from './support/ecs-query.ts'
import { freePort } from './support/free-port.ts'
import { type NginxServer, startNginx } from './support/nginx.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { until } from './support/until.ts'

const ZONES = join(dirname(fileURLToPath(import.meta.url)), 'zones')
const ZONE = join(ZONES, 'e2e.test.zone')
const OPTION = 65430

let bind: BindServer
let nginx: NginxServer
let nginxPort: number
let origin: Server
let originPort: number
let proxy: TestProxy

/** A query whose EDNS Client Subnet names client network `n` (10.x.y.0/24). */

async function metric(path: string, protocol = 'dns'): Promise<number> {
  return proxy.metric('cutover_requests_total', { protocol, path })
}

/** Sets a scope's percentage through the admin API, and checks it was taken. */
async function setPercent(scope: string, percent: number, reason?: string): Promise<void> {
  const res = await proxy.admin('PUT', `/rollout/${encodeURIComponent(scope)}`, {
    percent,
    reason,
  })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
}

/**
 * A proxy of its own for each test of the describe this is called in, both
 * scopes at 100% as configured: a test inherits no percentage, plan, history
 * or rollout state file from another, whatever order they run in.
 */
function freshProxyEachTest(): void {
  beforeEach(async () => {
    const started = await startTestProxy({
      dns: {
        listen: '127.0.0.1:0',
        zones: [{ name: 'e2e.test', file: ZONE, percent: 100 }],
        legacy: { servers: [`127.0.0.1:${bind.port}`] },
        packetcache: { enabled: false },
      },
      http: {
        listen: '127.0.0.1:0',
        legacy: { url: `http://127.0.0.1:${nginxPort}` },
        doh: false,
        sites: [
          {
            host: 'www.e2e.test',
            origin: `http://127.0.0.1:${originPort}`,
            stickiness: 'header:X-User',
            percent: 100,
          },
        ],
      },
      rollout: { gates: { minSamples: 20 } },
    })
    proxy = started
    return () => started.stop()
  })
}

beforeAll(async () => {
  bind = await startBind([{ name: 'e2e.test', file: ZONE }], ZONES)
  nginxPort = await freePort()
  nginx = await startNginx(
    `server { listen 127.0.0.1:${nginxPort}; location / { default_type text/plain; return 200 "legacy\\n"; } }`,
    [nginxPort],
  )
  // The new path's origin: healthy, except under /broken/.
  origin = createServer((req, res) => {
    req.resume()
    res.writeHead(req.url?.startsWith('/broken/') ? 500 : 200, { 'content-type': 'text/plain' })
    res.end('new\n')
  })
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve))
  originPort = (origin.address() as { port: number }).port
})

afterAll(async () => {
  await nginx?.stop()
  await bind?.stop()
  await new Promise<void>((resolve) => origin?.close(() => resolve()))
})

describe('percentages split traffic and stick', () => {
  freshProxyEachTest()

  it('sends about 30% of DNS clients (by EDNS Client Subnet) to the new path, the same ones every time', async () => {
    await setPercent('dns:e2e.test', 30)
    const clients = 2000
    const before = await metric('new')
    for (let n = 0; n < clients; n += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          exchange({ host: '127.0.0.1', port: proxy.dnsPort }, queryFrom(n + i), 'udp'),
        ),
      )
    }
    const share = ((await metric('new')) - before) / clients
    expect(share).toBeGreaterThan(0.27)
    expect(share).toBeLessThan(0.33)
    // The same clients again: exactly as many on the new path (sticky).
    const again = await metric('new')
    for (let n = 0; n < clients; n += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          exchange({ host: '127.0.0.1', port: proxy.dnsPort }, queryFrom(n + i), 'udp'),
        ),
      )
    }
    expect((await metric('new')) - again).toBe(again - before)
  })

  it('sends about 30% of HTTP users (by header) to the new path', async () => {
    await setPercent('http:www.e2e.test', 30)
    let fromNew = 0
    const users = 1000
    for (let u = 0; u < users; u += 50) {
      const bodies = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const res = await request(`http://127.0.0.1:${proxy.httpPort}/`, {
            headers: { host: 'www.e2e.test', 'x-user': `user-${u + i}` },
          })
          return res.body.text()
        }),
      )
      fromNew += bodies.filter((b) => b === 'new\n').length
    }
    expect(fromNew / users).toBeGreaterThan(0.26)
    expect(fromNew / users).toBeLessThan(0.34)
  })

  it('is a kill switch at 0: the very next request goes to the legacy', async () => {
    await setPercent('dns:e2e.test', 100)
    const before = await metric('legacy')
    await setPercent('dns:e2e.test', 0, 'kill switch')
    const reply = decodeMessage(
      await exchange({ host: '127.0.0.1', port: proxy.dnsPort }, queryFrom(1), 'udp'),
    )
    expect(reply.answer.length).toBeGreaterThan(0)
    expect(await metric('legacy')).toBe(before + 1)
    const history = (await proxy.admin('GET', '/history?scope=dns%3Ae2e.test')).body.entries as {
      to: number
      why: string
    }[]
    expect(history.at(-1)).toMatchObject({ to: 0, why: 'kill switch' })
  })
})

describe('forced paths and traces need the admin token', () => {
  freshProxyEachTest()

  const traced = (token: string, force: 'new' | 'legacy' | undefined) => {
    const q = queryFrom(7)
    const ts = Math.floor(Date.now() / 1000)
    const data = signDns(
      token,
      ts,
      { force, trace: true },
      q.readUInt16BE(0),
      Buffer.from([3, 0x77, 0x77, 0x77, 3, 0x65, 0x32, 0x65, 4, 0x74, 0x65, 0x73, 0x74, 0]),
      Type.A,
    )
    const id = q.readUInt16BE(0)
    return buildQuery({
      id,
      name: 'www.e2e.test',
      type: Type.A,
      edns: { udpSize: 1232, options: [{ code: OPTION, data }] },
    })
  }

  it('pins a DNS query to a path and echoes the decision trace in an EDNS option', async () => {
    await setPercent('dns:e2e.test', 0)
    const reply = decodeMessage(
      await exchange({ host: '127.0.0.1', port: proxy.dnsPort }, traced(proxy.token, 'new'), 'udp'),
    )
    const trace = reply.edns?.options.find((o) => o.code === OPTION)?.data.toString()
    expect(trace).toMatch(
      /^scope=dns:e2e.test; bucket=\d+; percent=0.00; path=new \(forced\); reason=-$/,
    )
  })

  it('ignores the option when the proof is made with another token', async () => {
    await setPercent('dns:e2e.test', 0)
    const before = await metric('legacy')
    const reply = decodeMessage(
      await exchange(
        { host: '127.0.0.1', port: proxy.dnsPort },
        traced('not-the-admin-token-at-all', 'new'),
        'udp',
      ),
    )
    expect(reply.edns?.options.some((o) => o.code === OPTION)).toBe(false)
    expect(await metric('legacy')).toBe(before + 1)
  })

  it('pins an HTTP request and answers with a trace header; the proof does not reach the upstream', async () => {
    await setPercent('http:www.e2e.test', 0)
    const ts = Math.floor(Date.now() / 1000)
    const auth = signHttp(proxy.token, ts, 'GET', 'www.e2e.test', '/x', 'new', '1')
    const res = await request(`http://127.0.0.1:${proxy.httpPort}/x`, {
      headers: {
        host: 'www.e2e.test',
        'x-cutover-force': 'new',
        'x-cutover-trace': '1',
        'x-cutover-auth': auth,
      },
    })
    expect(await res.body.text()).toBe('new\n')
    expect(res.headers['x-cutover-trace']).toMatch(
      /scope=http:www.e2e.test; bucket=\d+; percent=0.00; path=new \(forced\)/,
    )
    const forged = await request(`http://127.0.0.1:${proxy.httpPort}/x`, {
      headers: {
        host: 'www.e2e.test',
        'x-cutover-force': 'new',
        'x-cutover-auth': `${ts}.${'00'.repeat(16)}`,
      },
    })
    expect(await forged.body.text()).toBe('legacy\n')
  })
})

describe('plans', () => {
  freshProxyEachTest()

  it('rolls a plan back by itself when the new path fails, within one bake window, and says why', async () => {
    await setPercent('http:www.e2e.test', 0)
    const scope = encodeURIComponent('http:www.e2e.test')
    const started = Date.now()
    const plan = await proxy.admin('POST', `/rollout/${scope}`, {
      action: 'plan',
      steps: [50, 100],
      bake: '30s',
    })
    expect(plan.status).toBe(200)
    // Traffic to a part of the site whose origin answers 500.
    let n = 0
    await until(
      async () => {
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            const res = await request(`http://127.0.0.1:${proxy.httpPort}/broken/${n}`, {
              headers: { host: 'www.e2e.test', 'x-user': `u${n++}` },
            })
            await res.body.text()
          }),
        )
        const status = (await proxy.admin('GET', `/rollout/${scope}`)).body as {
          plan?: { status: string }
        }
        return status.plan?.status === 'paused'
      },
      'the rollback',
      5000,
    )
    expect(Date.now() - started).toBeLessThan(30_000)
    const status = (await proxy.admin('GET', `/rollout/${scope}`)).body as {
      percent: number
      plan: { note: string }
    }
    expect(status.percent).toBe(0)
    expect(status.plan.note).toMatch(/rolled back: error-rate/)
    const history = (await proxy.admin('GET', `/history?scope=${scope}`)).body.entries as {
      action: string
      by: string
      why: string
    }[]
    expect(history.at(-1)).toMatchObject({ action: 'rollback', by: 'controller' })
    expect(history.at(-1)?.why).toMatch(/error-rate/)
  })
})

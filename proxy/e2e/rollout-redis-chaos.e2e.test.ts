// Redis killed (SIGKILL) in the middle of a rollout plan, with traffic on: the
// proxy keeps serving at the percentage it had, says it is not ready, and holds
// the plan, however long its bake has run; once Redis is back (its append-only
// file kept) the plan goes on from the step it was at, each step taken once.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from './support/free-port.ts'
import { type NginxServer, startNginx } from './support/nginx.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { type RedisServer, startRedis } from './support/redis.ts'
import { until } from './support/until.ts'

const SITE = 'www.plan.test'
const SCOPE = encodeURIComponent(`http:${SITE}`)

let nginx: NginxServer
let redis: RedisServer
let proxy: TestProxy
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-redis-chaos-'))
  const [legacyPort, originPort] = [await freePort(), await freePort()]
  nginx = await startNginx(
    `server { listen 127.0.0.1:${legacyPort}; location / { default_type text/plain; return 200 "legacy\\n"; } }
server { listen 127.0.0.1:${originPort}; location / { default_type text/plain; return 200 "origin\\n"; } }`,
    [legacyPort, originPort],
  )
  redis = await startRedis({ persistIn: dir })
  proxy = await startTestProxy({
    http: {
      listen: '127.0.0.1:0',
      legacy: { url: `http://127.0.0.1:${legacyPort}` },
      doh: false,
      sites: [
        {
          host: SITE,
          origin: `http://127.0.0.1:${originPort}`,
          stickiness: 'header:X-User',
          percent: 0,
          rules: [{ type: 'headers', response: { set: { 'x-path': 'new' } } }],
        },
      ],
    },
    rollout: {
      store: 'redis',
      redis: { url: redis.url, prefix: 'chaos' },
      gates: { minSamples: 5, maxLatencyRatio: 100 },
    },
  })
}, 30_000)

afterAll(async () => {
  await proxy?.stop()
  await redis?.stop()
  await nginx?.stop()
  rmSync(dir, { recursive: true, force: true })
})

interface ScopeView {
  percent: number
  plan?: { status: string; step: number; steps: number[] }
}

async function scope(): Promise<ScopeView> {
  return (await proxy.admin('GET', `/rollout/${SCOPE}`)).body as unknown as ScopeView
}

describe('Redis killed during a rollout plan', () => {
  it('keeps the percentage and serves on, holds the plan while Redis is gone, and goes on once it is back', async () => {
    let stop = false
    const statuses = new Map<number, number>()
    let user = 0
    const lane = async () => {
      while (!stop) {
        const res = await request(`http://127.0.0.1:${proxy.httpPort}/`, {
          headers: { host: SITE, 'x-user': `u${user++}` },
        }).catch(() => undefined)
        await res?.body.text()
        const status = res?.statusCode ?? 0
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      }
    }
    const lanes = [lane(), lane(), lane()]
    try {
      const started = await proxy.admin('POST', `/rollout/${SCOPE}`, {
        action: 'plan',
        steps: [10, 40, 70, 100],
        bake: '1s',
      })
      expect(started.status, JSON.stringify(started.body)).toBe(200)
      await until(async () => (await scope()).percent === 40, 'the plan to reach 40 %', 20_000)

      await redis.kill()
      await until(
        async () => (await proxy.admin('GET', '/readyz')).status === 503,
        'readyz to say the store is gone',
        10_000,
      )
      const { percent, plan } = await scope()
      const servedBefore = statuses.get(200) ?? 0
      // Three bakes' time: with Redis gone the plan neither advances nor rolls back.
      await until(() => (statuses.get(200) ?? 0) > servedBefore + 300, 'traffic meanwhile', 20_000)
      await new Promise((resolve) => setTimeout(resolve, 3000))
      expect(await scope()).toMatchObject({ percent, plan })
      expect(plan?.status).toBe('running')

      redis = await startRedis({ port: redis.port, persistIn: dir })
      await until(
        async () => (await scope()).percent === 100,
        'the plan to finish once Redis is back',
        30_000,
      )
      expect((await proxy.admin('GET', '/readyz')).status).toBe(200)
    } finally {
      stop = true
      await Promise.all(lanes)
    }
    // Every request answered, while Redis was gone too.
    expect([...statuses.keys()]).toEqual([200])
    // Each step taken once: no transition made twice across the outage.
    const history = (await proxy.admin('GET', `/history?scope=${SCOPE}`)).body.entries as {
      action: string
      to: number
    }[]
    const advances = history.filter((e) => e.action === 'advance').map((e) => e.to)
    // In basis points, as history keeps them.
    expect(advances).toEqual([4000, 7000, 10000])
  }, 90_000)
})

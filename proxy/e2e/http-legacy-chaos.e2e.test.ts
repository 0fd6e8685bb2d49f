// Chaos on the HTTP side, with a real nginx as the legacy and as a new-path
// site's origin: killed under load and started again, closing connections
// without an answer, and hung in the middle of a response body. Whatever the
// upstream does, every client gets an answer or a closed connection within
// the configured bounds, never a hang; each failure is counted by kind; and
// the proxy serves again by itself as soon as the upstream does.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from './support/free-port.ts'
import { type NginxServer, startNginx } from './support/nginx.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { RawConnection } from './support/raw-http.ts'
import { until } from './support/until.ts'
import { within } from './support/upstream.ts'

const SITE = 'www.chaos.test'
const PATHS = [
  { path: 'new', host: SITE, failures: 'cutover_origin_failures_total' },
  { path: 'legacy', host: 'nosite.chaos.test', failures: 'cutover_legacy_failures_total' },
] as const

/** 2 MiB at 512 KiB/s: four seconds of body, time enough to hang it in the middle. */
const BIG = 2 * 1024 * 1024

let nginx: NginxServer
let proxy: TestProxy
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-chaos-'))
  const big = join(dir, 'big')
  writeFileSync(big, Buffer.alloc(BIG, 'x'))
  const [legacyPort, originPort] = [await freePort(), await freePort()]
  const server = (port: number, name: string) => `server {
  listen 127.0.0.1:${port};
  location / { default_type text/plain; return 200 "${name}\\n"; }
  location = /reset { return 444; }
  location = /big { limit_rate 512k; alias ${big}; }
}`
  nginx = await startNginx(`${server(legacyPort, 'legacy')}\n${server(originPort, 'origin')}`, [
    legacyPort,
    originPort,
  ])
  proxy = await startTestProxy({
    http: {
      listen: '127.0.0.1:0',
      legacy: { url: `http://127.0.0.1:${legacyPort}` },
      upstream: { headersTimeout: '2s', bodyTimeout: '1s' },
      doh: false,
      sites: [{ host: SITE, origin: `http://127.0.0.1:${originPort}`, percent: 100, rules: [] }],
    },
  })
}, 30_000)

afterAll(async () => {
  await proxy?.stop()
  await nginx?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function get(host: string, path = '/'): Promise<{ status: number; body: string }> {
  const res = await request(`http://127.0.0.1:${proxy.httpPort}${path}`, {
    headers: { host },
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  })
  return { status: res.statusCode, body: await res.body.text() }
}

describe('HTTP legacy and origin chaos (real nginx)', () => {
  it('killed under load: 502 at once while down, no hang, served again once it is back', async () => {
    let stop = false
    const seen = new Map<string, number>()
    const lane = async (host: string) => {
      while (!stop) {
        const r = await within(get(host), 5000, 'an answer while nginx is down').catch(
          (err: Error) => ({ status: 0, body: err.message }),
        )
        const key = `${host} ${r.status}`
        seen.set(key, (seen.get(key) ?? 0) + 1)
      }
    }
    const lanes = PATHS.flatMap((p) => [lane(p.host), lane(p.host)])
    await until(() => (seen.get(`${SITE} 200`) ?? 0) > 50, 'the load to get going', 10_000)
    await nginx.kill()
    await until(() => (seen.get(`${SITE} 502`) ?? 0) > 20, 'the 502s while down', 10_000)
    await nginx.start()
    const before = seen.get(`${SITE} 200`) ?? 0
    await until(() => (seen.get(`${SITE} 200`) ?? 0) > before + 50, 'service again', 10_000)
    stop = true
    await Promise.all(lanes)
    // Nothing but answers: 200 while up, 502 while down; no client error, no other status.
    for (const key of seen.keys()) expect(key).toMatch(/ (200|502)$/)
    for (const { host, path, failures } of PATHS) {
      expect(seen.get(`${host} 502`), `${path} 502s`).toBeGreaterThan(0)
      expect(
        await proxy.metric(failures, { protocol: 'http', failure: 'unreachable' }),
      ).toBeGreaterThan(0)
    }
  }, 60_000)

  it.each(PATHS)(
    'on the $path path, a connection closed without an answer is a 502 (counted as unreachable), and the next request is served',
    async ({ host, failures }) => {
      const before = await proxy.metric(failures, { protocol: 'http', failure: 'unreachable' })
      expect(await get(host, '/reset')).toEqual({ status: 502, body: 'Bad Gateway\n' })
      expect(await proxy.metric(failures, { protocol: 'http', failure: 'unreachable' })).toBe(
        before + 1,
      )
      expect((await get(host)).status).toBe(200)
    },
  )

  it.each(PATHS)(
    'on the $path path, a body hung in the middle ends the response after bodyTimeout; the client is not left waiting',
    async ({ host, failures }) => {
      const before = await proxy.metric(failures, { protocol: 'http', failure: 'timeout' })
      const conn = await RawConnection.open(proxy.httpPort)
      try {
        await conn.write(`GET /big HTTP/1.1\r\nhost: ${host}\r\n\r\n`)
        // The headers and the first part of the body arrive; then nginx hangs.
        await until(() => conn.receivedLength > 64 * 1024, 'the body to start', 5000)
        await nginx.pause()
        const hungAt = performance.now()
        const bytes = await conn.readToClose(5000)
        const ended = performance.now() - hungAt
        nginx.resume()
        // Cut short, and said so by closing: not the whole body, and well within the bound.
        expect(bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /)
        expect(bytes.length).toBeLessThan(BIG)
        expect(ended).toBeLessThan(3000)
      } finally {
        nginx.resume()
        conn.destroy()
      }
      expect(await proxy.metric(failures, { protocol: 'http', failure: 'timeout' })).toBe(
        before + 1,
      )
      const whole = await get(host, '/big')
      expect(whole.status).toBe(200)
      expect(whole.body.length).toBe(BIG)
    },
    30_000,
  )
})

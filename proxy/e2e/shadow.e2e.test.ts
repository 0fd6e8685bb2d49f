// Live shadow traffic end to end: a sampled share of a scope's requests is also
// answered on the other path and compared off the hot path; real differences
// show in metrics and in the admin API's examples, fields the legacy varies by
// itself count as noise, and unsafe HTTP methods are never shadowed.

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Type } from '../../dns/constants.ts'
import { buildQuery } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { type BindServer, startBind } from './support/bind.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'

const ZONES = join(dirname(fileURLToPath(import.meta.url)), 'zones')
const ZONE = join(ZONES, 'e2e.test.zone')

async function shadowOf(p: TestProxy, scope: string, atLeast: number) {
  for (let i = 0; i < 200; i++) {
    const s = (await p.admin('GET', `/shadow/${encodeURIComponent(scope)}`)).body as {
      compared: number
      mismatches: number
      fields: { field: string; noiseRate: number; mismatchRate: number; regression: boolean }[]
      examples: { id: string; diffs: { field: string; candidate: string }[] }[]
    }
    if (s.compared >= atLeast) return s
    await delay(25)
  }
  throw new Error(`fewer than ${atLeast} shadow comparisons for ${scope} within 5 s`)
}

describe('DNS shadow', () => {
  let dir: string
  let bind: BindServer
  let proxy: TestProxy

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cutover-shadow-'))
    bind = await startBind([{ name: 'e2e.test', file: ZONE }], ZONES)
    const divergent = join(dir, 'e2e.test.zone')
    copyFileSync(join(ZONES, 'e2e-included.zone'), join(dir, 'e2e-included.zone'))
    writeFileSync(
      divergent,
      readFileSync(ZONE, 'utf8').replace(
        'www     IN A    192.0.2.10',
        'www     IN A    192.0.2.99',
      ),
    )
    proxy = await startTestProxy({
      dns: {
        listen: '127.0.0.1:0',
        zones: [{ name: 'e2e.test', file: divergent, percent: 100, shadow: 100 }],
        legacy: { servers: [`127.0.0.1:${bind.port}`] },
      },
      // The test drives the proxy from its own event loop: keep shadows from being shed as load.
      shadow: { maxLoad: 1 },
    })
  })

  afterAll(async () => {
    await proxy?.stop()
    await bind?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('compares new-path answers with the legacy in the background and reports the difference', async () => {
    const at = { host: '127.0.0.1', port: proxy.dnsPort }
    for (let i = 0; i < 20; i++) {
      await exchange(at, buildQuery({ name: 'www.e2e.test', type: Type.A }), 'udp')
      await exchange(at, buildQuery({ name: 'mail.e2e.test', type: Type.A }), 'udp')
    }
    const s = await shadowOf(proxy, 'dns:e2e.test', 40)
    expect(s.mismatches).toBe(20)
    expect(s.examples.at(-1)?.id).toMatch(/^www\.e2e\.test\. 1$/)
    expect(s.examples.at(-1)?.diffs[0]).toMatchObject({ field: 'answer.rdata' })
    expect(s.examples.at(-1)?.diffs[0].candidate).toContain('192.0.2.99')
    expect(
      await proxy.metric('cutover_diff_mismatches_total', {
        protocol: 'dns',
        scope: 'dns:e2e.test',
      }),
    ).toBe(20)
  })
})

describe('HTTP shadow', () => {
  let legacy: Server
  let origin: Server
  let legacyPosts = 0
  let proxy: TestProxy

  beforeAll(async () => {
    legacy = createServer((req, res) => {
      if (req.method === 'POST') legacyPosts++
      req.resume()
      res.writeHead(200, { 'content-type': 'text/plain', 'x-random': String(Math.random()) })
      res.end('same body\n')
    })
    origin = createServer((req, res) => {
      req.resume()
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('same body\n')
    })
    for (const s of [legacy, origin])
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    proxy = await startTestProxy({
      http: {
        listen: '127.0.0.1:0',
        legacy: { url: `http://127.0.0.1:${(legacy.address() as { port: number }).port}` },
        doh: false,
        sites: [
          {
            host: 'www.e2e.test',
            origin: `http://127.0.0.1:${(origin.address() as { port: number }).port}`,
            percent: 0,
            shadow: 100,
          },
        ],
      },
      shadow: { maxLoad: 1 },
    })
  })

  afterAll(async () => {
    await proxy?.stop()
    for (const s of [legacy, origin]) await new Promise<void>((resolve) => s.close(() => resolve()))
  })

  it('judges a header the legacy varies by itself as noise, not a regression', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await request(`http://127.0.0.1:${proxy.httpPort}/page/${i}`, {
        headers: { host: 'www.e2e.test' },
      })
      expect(await res.body.text()).toBe('same body\n')
    }
    const s = await shadowOf(proxy, 'http:www.e2e.test', 10)
    expect(s.mismatches).toBe(0)
    const random = s.fields.find((f) => f.field === 'header.x-random')
    expect(random?.noiseRate).toBe(1)
    expect(random?.regression).toBe(false)
  })

  it('never shadows a POST: the legacy sees each one once', async () => {
    const before = legacyPosts
    for (let i = 0; i < 5; i++) {
      const res = await request(`http://127.0.0.1:${proxy.httpPort}/form`, {
        method: 'POST',
        headers: { host: 'www.e2e.test' },
        body: 'x=1',
      })
      await res.body.text()
    }
    expect(legacyPosts - before).toBe(5)
  })
})

// /metrics on an address of its own (metrics.listen), as a central Prometheus
// scrapes it: the supervisor's sums over its workers, without a token; nothing
// else is served there, and the admin API stays as it was.

import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Type } from '../../dns/constants.ts'
import { buildQuery } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { freePort } from './support/free-port.ts'
import { startTestProxy } from './support/proxy.ts'
import { stopProcess } from './support/stop-process.ts'
import { type SupervisedProxy, startSupervised } from './support/supervised.ts'

const ZONE = join(import.meta.dirname, 'zones', 'e2e.test.zone')
const dns = (listen: string) => ({
  listen,
  zones: [{ name: 'e2e.test', file: ZONE, percent: 100 }],
  legacy: { servers: ['127.0.0.1:9'] },
})

let proxy: SupervisedProxy | undefined
afterEach(() => {
  proxy?.cleanup()
  proxy = undefined
})

/** A supervised proxy with `workers` and metrics.listen that has answered `queries` DNS queries, and its metrics port. */
async function answered(
  workers: number,
  queries: number,
): Promise<{ p: SupervisedProxy; metricsPort: number }> {
  const [dnsPort, metricsPort] = [await freePort(), await freePort()]
  const p = await startSupervised({
    workers,
    dns: dns(`127.0.0.1:${dnsPort}`),
    metrics: { listen: `127.0.0.1:${metricsPort}` },
  })
  proxy = p
  for (let i = 0; i < queries; i++)
    await exchange(
      { host: '127.0.0.1', port: dnsPort },
      buildQuery({ name: 'www.e2e.test', type: Type.A }),
      'udp',
    )
  return { p, metricsPort }
}

describe('metrics.listen', () => {
  it("serves the workers' summed metrics without a token, and nothing else", async () => {
    const { p, metricsPort } = await answered(2, 20)
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    expect(text).toMatch(/^cutover_requests_total\{protocol="dns",path="new"\} 20$/m)
    expect(text).toMatch(
      /^cutover_scope_requests_total\{protocol="dns",scope="dns:e2e\.test",path="new"\} 20$/m,
    )
    expect(text).toMatch(
      /^cutover_scope_request_duration_seconds_count\{protocol="dns",scope="dns:e2e\.test",path="new"\} 20$/m,
    )
    expect(text).toContain('cutover_workers{state="ready"} 2')

    for (const [method, path] of [
      ['GET', '/rollout'],
      ['PUT', '/rollout/dns%3Ae2e.test'],
      ['POST', '/metrics'],
      ['GET', '/workers'],
    ]) {
      const other = await fetch(`http://127.0.0.1:${metricsPort}${path}`, { method })
      expect(other.status, `${method} ${path}`).toBe(404)
      expect(await other.text()).toBe(
        'only GET /metrics is served here; the admin API listens on admin.listen\n',
      )
    }
    // The admin API is where it was, its changes behind the token as ever.
    const put = await fetch(`http://127.0.0.1:${p.adminPort}/rollout/dns%3Ae2e.test`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ percent: 0 }),
    })
    expect(put.status).toBe(401)
  }, 60_000)

  it('counts a worker too busy to answer with its last answer: no sum goes backwards', async () => {
    const { p, metricsPort } = await answered(1, 5)
    const five = /^cutover_requests_total\{protocol="dns",path="new"\} 5$/m
    const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    expect(await scrape()).toMatch(five)
    const pid = (await p.status()).workers[0]?.pid
    if (pid === undefined) throw new Error('the worker has no pid')
    // A stopped process answers nothing, as one whose event loop is stuck under load.
    await stopProcess(pid)
    try {
      expect(await scrape()).toMatch(five)
    } finally {
      process.kill(pid, 'SIGCONT')
    }
  }, 60_000)

  it('in one process (workers: 0) too', async () => {
    const p = await startTestProxy({ dns: dns('127.0.0.1:0'), metrics: { listen: '127.0.0.1:0' } })
    try {
      expect(p.metricsPort).toBeGreaterThan(0)
      const res = await fetch(`http://127.0.0.1:${p.metricsPort}/metrics`)
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('# TYPE cutover_requests_total counter')
    } finally {
      await p.stop()
    }
  })
})

// Webhooks end to end: the supervised proxy tells every `rollout.notify` URL of
// a change made through its admin API, with who made it and why; a reload
// moves the webhooks; a config naming a bad URL is refused by `check`.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from './support/cli.ts'
import { freePort } from './support/free-port.ts'
import { type SupervisedProxy, startSupervised } from './support/supervised.ts'
import { until } from './support/until.ts'

const ZONE = join(import.meta.dirname, 'zones', 'e2e.test.zone')

let proxy: SupervisedProxy | undefined
const servers: Server[] = []
afterEach(async () => {
  proxy?.cleanup()
  proxy = undefined
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((resolve) => s.close(resolve))
  }
})

/** A webhook on loopback: what it was sent, parsed. */
async function webhook(): Promise<{ url: string; events: Record<string, unknown>[] }> {
  const events: Record<string, unknown>[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => {
      body += d
    })
    req.on('end', () => {
      events.push(JSON.parse(body))
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events }
}

describe('rollout.notify', () => {
  it('posts each change made through the admin API, and follows a reload', async () => {
    const [first, second] = [await webhook(), await webhook()]
    const dnsPort = await freePort()
    const config = (url: string) => ({
      workers: 1,
      dns: {
        listen: `127.0.0.1:${dnsPort}`,
        zones: [{ name: 'e2e.test', file: ZONE, percent: 0 }],
        legacy: { servers: ['127.0.0.1:9'] },
      },
      rollout: { notify: [url] },
    })
    proxy = await startSupervised(config(first.url))
    const p = proxy
    const put = (percent: number, reason: string) =>
      fetch(`http://127.0.0.1:${p.adminPort}/rollout/dns%3Ae2e.test`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${p.token}` },
        body: JSON.stringify({ percent, reason }),
      })
    expect((await put(10, 'first canary')).status).toBe(200)
    await until(() => first.events.length === 1, 'the first webhook to be told')
    expect(first.events[0]).toMatchObject({
      event: 'rollout.set',
      scope: 'dns:e2e.test',
      from: 0,
      to: 10,
      by: 'admin',
      why: 'first canary',
    })
    expect(first.events[0].text).toMatch(/: admin set dns:e2e\.test, 0% → 10%: first canary$/)

    p.rewrite(config(second.url))
    expect((await p.command('reload')).code).toBe(0)
    expect((await put(20, 'wider')).status).toBe(200)
    await until(() => second.events.length === 1, 'the second webhook to be told')
    expect(second.events[0]).toMatchObject({ event: 'rollout.set', from: 10, to: 20, why: 'wider' })
    expect(first.events).toHaveLength(1)
  }, 60_000)

  it('refuses a URL that is not http(s) at check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-notify-'))
    const file = join(dir, 'cutover.yaml')
    writeFileSync(
      file,
      `dns:\n  listen: 127.0.0.1:0\n  zones: [{ name: e2e.test, file: ${ZONE}, percent: 0 }]\n  legacy: { servers: ['127.0.0.1:9'] }\nrollout:\n  notify: ['ftp://hooks.example.test/x']\n`,
    )
    try {
      const run = runCli(['check', '--config', file])
      expect(await run.exited).toBe(2)
      expect(run.output()).toContain('rollout.notify.0: expected an http:// or https:// URL')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

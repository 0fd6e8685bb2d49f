// End to end: the in-process proxy writes access and query logs to files, one
// line per HTTP request and DNS query on every path (new, legacy against a
// real BIND and a node:http legacy, fallback with its reason), samples at a
// percentage, and reopens its files the way SIGUSR1 asks after logrotate moved them.

import { mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Type } from '../../dns/constants.ts'
import { buildQuery } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { signHttp } from '../../rollout/control.ts'
import { type BindServer, startBind } from './support/bind.ts'
import { logLines } from './support/log-lines.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { until } from './support/until.ts'
import { type Handler, startUpstream, type TestUpstream } from './support/upstream.ts'

const ZONES = join(dirname(fileURLToPath(import.meta.url)), 'zones')
const E2E_ZONE = join(ZONES, 'e2e.test.zone')

type Line = Record<string, unknown>

let dir: string
let accessFile: string
let queryFile: string
let bind: BindServer
let origin: TestUpstream
let legacy: TestUpstream
let proxy: TestProxy

/** Answers `text` to every request. */
const says =
  (text: string): Handler =>
  (req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(text)
  }

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-access-e2e-'))
  accessFile = join(dir, 'access.log')
  queryFile = join(dir, 'queries.log')
  bind = await startBind(
    [
      { name: 'e2e.test', file: E2E_ZONE },
      { name: 'other.test', file: join(ZONES, 'other.test.zone') },
    ],
    ZONES,
  )
  origin = await startUpstream(says('from the origin\n'))
  legacy = await startUpstream(says('from the legacy\n'))
  proxy = await startTestProxy({
    log: {
      level: 'silent',
      access: { percent: 100, file: accessFile },
      queries: { percent: 100, file: queryFile },
    },
    dns: {
      listen: '127.0.0.1:0',
      zones: [{ name: 'e2e.test', file: E2E_ZONE, percent: 100 }],
      legacy: { servers: [`127.0.0.1:${bind.port}`], timeout: '1s' },
    },
    http: {
      listen: '127.0.0.1:0',
      legacy: legacy.url,
      sites: [
        { host: 'new.e2e.test', origin: origin.url, percent: 100 },
        { host: 'old.e2e.test', percent: 0 },
      ],
    },
  })
})

afterAll(async () => {
  await proxy?.stop()
  await Promise.allSettled([bind?.stop(), origin?.stop(), legacy?.stop()])
  rmSync(dir, { recursive: true, force: true })
})

const linesOf = (file: string) => logLines<Line>(file)

/** The one line in `file` that `match` picks, once it is written. */
async function lineWhere(file: string, match: (l: Line) => boolean, what: string): Promise<Line> {
  await until(() => linesOf(file).some(match), what)
  const found = linesOf(file).filter(match)
  expect(found, what).toHaveLength(1)
  return found[0]
}

async function get(host: string, target: string, headers: Record<string, string> = {}) {
  const res = await request(`http://127.0.0.1:${proxy.httpPort}${target}`, {
    headers: { host, ...headers },
  })
  return { status: res.statusCode, body: await res.body.text() }
}

describe('the access log', () => {
  it('has one line per request on the new and the legacy path', async () => {
    const fresh = await get('new.e2e.test', '/fresh?x=1')
    const stale = await get('old.e2e.test', '/stale')
    expect([fresh.body, stale.body]).toEqual(['from the origin\n', 'from the legacy\n'])
    const onNew = await lineWhere(accessFile, (l) => l.target === '/fresh?x=1', 'the new path')
    expect(onNew).toMatchObject({
      log: 'access',
      worker: 0,
      client: '127.0.0.1',
      scope: 'http:new.e2e.test',
      path: 'new',
      method: 'GET',
      host: 'new.e2e.test',
      status: 200,
      bytes: Buffer.byteLength(fresh.body),
    })
    expect(onNew).not.toHaveProperty('reason')
    expect(onNew.upstreamMs).toBeGreaterThanOrEqual(0)
    expect(onNew.durationMs).toBeGreaterThanOrEqual(onNew.upstreamMs as number)
    const onLegacy = await lineWhere(accessFile, (l) => l.target === '/stale', 'the legacy path')
    expect(onLegacy).toMatchObject({
      scope: 'http:old.e2e.test',
      path: 'legacy',
      host: 'old.e2e.test',
      status: 200,
      bytes: Buffer.byteLength(stale.body),
    })
  })

  it('says why the new path handed a request to the legacy', async () => {
    // Forced onto the new path, a host no site serves falls back as unservable.
    const ts = Math.floor(Date.now() / 1000)
    const reply = await get('nosite.e2e.test', '/forced', {
      'x-cutover-force': 'new',
      'x-cutover-trace': '1',
      'x-cutover-auth': signHttp(proxy.token, ts, 'GET', 'nosite.e2e.test', '/forced', 'new', '1'),
    })
    expect(reply.body).toBe('from the legacy\n')
    expect(
      await lineWhere(accessFile, (l) => l.target === '/forced', 'the fallback'),
    ).toMatchObject({ scope: 'http:*', path: 'fallback', reason: 'unservable', status: 200 })
  })

  it('reopens its file by name after the file was moved away', async () => {
    await get('old.e2e.test', '/before-rotation')
    await lineWhere(accessFile, (l) => l.target === '/before-rotation', 'the line before')
    const rotated = `${accessFile}.1`
    renameSync(accessFile, rotated)
    proxy.reopenLogs()
    await get('old.e2e.test', '/after-rotation')
    await lineWhere(accessFile, (l) => l.target === '/after-rotation', 'the line after')
    expect(linesOf(accessFile)).toHaveLength(1)
    expect(linesOf(rotated).some((l) => l.target === '/after-rotation')).toBe(false)
    expect(linesOf(rotated).some((l) => l.target === '/before-rotation')).toBe(true)
  })
})

describe('the query log', () => {
  const dns = () => ({ host: '127.0.0.1', port: proxy.dnsPort })

  it('has a line for a query the new path answers', async () => {
    await exchange(dns(), buildQuery({ name: 'www.e2e.test', type: Type.A }), 'udp')
    const line = await lineWhere(
      queryFile,
      (l) => l.qname === 'www.e2e.test.' && l.qtype === 'A',
      'the new path',
    )
    expect(line).toMatchObject({
      log: 'queries',
      worker: 0,
      client: '127.0.0.1',
      scope: 'dns:e2e.test',
      path: 'new',
      protocol: 'udp',
      rcode: 'NOERROR',
    })
    expect(line.bytes).toBeGreaterThan(12)
    expect(line).not.toHaveProperty('upstreamMs')
  })

  it('has a line for a query BIND answers, with the time BIND took', async () => {
    await exchange(dns(), buildQuery({ name: 'nothing.other.test', type: Type.A }), 'tcp')
    const line = await lineWhere(queryFile, (l) => l.qname === 'nothing.other.test.', 'legacy')
    expect(line).toMatchObject({
      scope: 'dns:*',
      path: 'legacy',
      protocol: 'tcp',
      qtype: 'A',
      rcode: 'NXDOMAIN',
    })
    expect(line.upstreamMs).toBeGreaterThan(0)
  })

  it('says why the new path handed a query to BIND', async () => {
    await exchange(dns(), buildQuery({ name: 'mail.e2e.test', type: Type.ANY }), 'udp')
    const line = await lineWhere(
      queryFile,
      (l) => l.qname === 'mail.e2e.test.' && l.qtype === 'ANY',
      'the fallback',
    )
    expect(line).toMatchObject({ path: 'fallback', reason: 'qtype-any', scope: 'dns:e2e.test' })
    expect(line.upstreamMs).toBeGreaterThan(0)
  })

  it('logs a DNS-over-HTTPS query as a query, not as an HTTP request', async () => {
    const res = await request(`http://127.0.0.1:${proxy.httpPort}/dns-query`, {
      method: 'POST',
      headers: { 'content-type': 'application/dns-message' },
      body: buildQuery({ id: 0, name: 'ns1.e2e.test', type: Type.AAAA }),
    })
    await res.body.arrayBuffer()
    expect(res.statusCode).toBe(200)
    const line = await lineWhere(queryFile, (l) => l.qname === 'ns1.e2e.test.', 'the DoH query')
    expect(line).toMatchObject({ protocol: 'doh', path: 'new', qtype: 'AAAA' })
    expect(linesOf(accessFile).some((l) => l.target === '/dns-query')).toBe(false)
  })
})

describe('sampling', () => {
  it('writes about half the lines at 50%', async () => {
    const file = join(dir, 'half.log')
    const half = await startTestProxy({
      log: { level: 'silent', access: { percent: 50, file } },
      http: { listen: '127.0.0.1:0', legacy: legacy.url, doh: false },
    })
    const n = 400
    try {
      for (let i = 0; i < n; i += 20)
        await Promise.all(
          Array.from({ length: 20 }, async (_, j) => {
            const res = await request(`http://127.0.0.1:${half.httpPort}/${i + j}`, {
              headers: { host: 'any.e2e.test' },
            })
            await res.body.text()
          }),
        )
    } finally {
      // Stopping writes out every line it still held.
      await half.stop()
    }
    const lines = linesOf(file)
    // Binomial(400, 0.5): a standard deviation of 10; six of them either side.
    expect(lines.length).toBeGreaterThan(n / 2 - 60)
    expect(lines.length).toBeLessThan(n / 2 + 60)
    expect(new Set(lines.map((l) => l.target)).size).toBe(lines.length)
  })
})

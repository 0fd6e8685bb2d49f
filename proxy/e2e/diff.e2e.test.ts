// End to end for `cutover diff`: a suite generated from the zone, run against
// BIND 9 (the legacy) and the proxy's new path (its candidate listener), agrees
// case for case; a planted divergence is found, grouped and shown in every
// report format; a legacy that answers a random header shows it as noise; a
// target that is down is an error (exit 2), not a wall of mismatches.

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import type { RunReport } from '../../flamingo-tests/report-model.ts'
import { type BindServer, startBind } from './support/bind.ts'
import { cutover, dnsDiff, ROOT } from './support/cli.ts'
import { freePort } from './support/free-port.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'

const ZONES = join(ROOT, 'proxy', 'e2e', 'zones')
const ZONE = join(ZONES, 'e2e.test.zone')

let dir: string
let bind: BindServer
let proxy: TestProxy
let planted: TestProxy

async function proxyServing(zoneFile: string): Promise<TestProxy> {
  return startTestProxy({
    dns: {
      listen: '127.0.0.1:0',
      candidateListen: `127.0.0.1:${await freePort()}`,
      zones: [{ name: 'e2e.test', file: zoneFile, percent: 0 }],
      legacy: { servers: [`127.0.0.1:${bind.port}`] },
    },
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-diff-'))
  bind = await startBind([{ name: 'e2e.test', file: ZONE }], ZONES)
  // The percentage is 0: only the candidate listener reaches the new path.
  proxy = await proxyServing(ZONE)
  // The same zone with a changed address and a changed TTL: a divergence to find.
  const divergent = join(dir, 'e2e.test.zone')
  copyFileSync(join(ZONES, 'e2e-included.zone'), join(dir, 'e2e-included.zone'))
  writeFileSync(
    divergent,
    readFileSync(ZONE, 'utf8')
      .replace('www     IN A    192.0.2.10', 'www     IN A    192.0.2.99')
      .replace('MiXeD   300 IN A 192.0.2.12', 'MiXeD   600 IN A 192.0.2.12'),
  )
  planted = await proxyServing(divergent)
})

afterAll(async () => {
  await planted?.stop()
  await proxy?.stop()
  await bind?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('cutover diff against BIND 9', () => {
  it('generates a suite from the zone and finds no mismatch between BIND and the new path', async () => {
    const suite = join(dir, 'zone-suite.yaml')
    const gen = await cutover([
      'diff',
      'generate',
      '--zone',
      ZONE,
      '--origin',
      'e2e.test',
      '--out',
      suite,
    ])
    expect(gen.code).toBe(0)
    const json = join(dir, 'zone.json')
    const run = await dnsDiff(suite, bind.port, proxy.dnsCandidatePort, '--json', json)
    const report = JSON.parse(readFileSync(json, 'utf8')) as RunReport
    expect(report.totals.mismatch, run.out).toBe(0)
    expect(report.totals.error).toBe(0)
    expect(report.totals.cases).toBeGreaterThan(150)
    expect(run.code).toBe(0)
    process.stderr.write(
      `diff: ${report.totals.cases} DNS cases in ${report.durationMs.toFixed(0)} ms (${((report.totals.cases * 1000) / report.durationMs).toFixed(0)} cases/s)\n`,
    )
  })

  it('finds a planted divergence, groups it, and shows it in every report format', async () => {
    const suite = join(dir, 'zone-suite.yaml')
    const files = {
      json: join(dir, 'p.json'),
      junit: join(dir, 'p.xml'),
      html: join(dir, 'p.html'),
    }
    const run = await dnsDiff(
      suite,
      bind.port,
      planted.dnsCandidatePort,
      '--json',
      files.json,
      '--junit',
      files.junit,
      '--html',
      files.html,
    )
    expect(run.code).toBe(1)
    const report = JSON.parse(readFileSync(files.json, 'utf8')) as RunReport
    const fields = report.groups.map((g) => g.field)
    expect(fields).toContain('answer.rdata')
    expect(fields).toContain('answer.ttl')
    const rdata = report.groups.find((g) => g.field === 'answer.rdata')!
    expect(rdata.label).toBe('record data in answer')
    expect(rdata.example.diffs.find((d) => d.field === 'answer.rdata')?.candidate).toContain(
      '192.0.2.99',
    )
    expect(rdata.example.replay.legacy).toMatch(/^dig @127\.0\.0\.1 -p \d+ /)
    expect(run.out).toContain('record data in answer')
    expect(run.out).toContain('192.0.2.99')
    expect(readFileSync(files.junit, 'utf8')).toMatch(/<failure[^>]*>[^<]*answer\.rdata/)
    const html = readFileSync(files.html, 'utf8')
    expect(html).toContain('record data in answer')
    expect(html).toContain('192.0.2.99')
  })

  it('exits 2 when a target is down, naming it', async () => {
    const suite = join(dir, 'one.yaml')
    writeFileSync(suite, stringify({ kind: 'dns', cases: [{ name: 'www.e2e.test', type: 'A' }] }))
    const run = await dnsDiff(suite, bind.port, await freePort())
    expect(run.code).toBe(2)
    expect(run.out).toContain('candidate')
    expect(run.out).toContain('does not answer')
  })
})

describe('noise', () => {
  let legacyHttp: Server
  let originHttp: Server
  let web: TestProxy

  beforeAll(async () => {
    // The legacy adds a random header to every answer; the new path's origin does not.
    legacyHttp = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-random': String(Math.random()) })
      res.end('same body\n')
    })
    originHttp = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('same body\n')
    })
    for (const s of [legacyHttp, originHttp])
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    web = await startTestProxy({
      http: {
        listen: '127.0.0.1:0',
        legacy: { url: `http://127.0.0.1:${(legacyHttp.address() as { port: number }).port}` },
        doh: false,
        sites: [
          {
            host: 'www.e2e.test',
            origin: `http://127.0.0.1:${(originHttp.address() as { port: number }).port}`,
            percent: 0,
          },
        ],
      },
    })
  })

  afterAll(async () => {
    await web?.stop()
    for (const s of [legacyHttp, originHttp])
      await new Promise<void>((resolve) => s.close(() => resolve()))
  })

  it('reports a field the legacy itself varies as noise, not as a mismatch', async () => {
    const suite = join(dir, 'http.yaml')
    writeFileSync(
      suite,
      stringify({
        kind: 'http',
        cases: [
          { host: 'www.e2e.test', path: '/a' },
          { host: 'www.e2e.test', path: '/b?x=1' },
        ],
      }),
    )
    const json = join(dir, 'http.json')
    const legacyUrl = `http://127.0.0.1:${(legacyHttp.address() as { port: number }).port}`
    // The candidate is the proxy, forced to the new path with the admin token.
    const config = join(dir, 'web.yaml')
    writeFileSync(
      config,
      stringify({
        http: { listen: `127.0.0.1:${web.httpPort}`, legacy: { url: legacyUrl }, doh: false },
        admin: { listen: `127.0.0.1:${web.adminPort}`, tokenFile: join(dir, 'token') },
      }),
    )
    writeFileSync(join(dir, 'token'), web.token)
    const run = await cutover(['diff', suite, '--config', config, '--json', json, '--upload'])
    expect(run.code, run.out).toBe(0)
    // --upload: the console lists the run, and serves its HTML report sandboxed.
    const admin = `http://127.0.0.1:${web.adminPort}`
    const listed = (await (await fetch(`${admin}/diff-reports`)).json()) as {
      reports: { id: string; by: string; suites: string[]; totals: { cases: number } }[]
    }
    expect(listed.reports).toHaveLength(1)
    const [uploaded] = listed.reports
    expect(uploaded).toMatchObject({ by: 'admin', suites: [suite], totals: { cases: 2 } })
    expect(run.out).toContain(`report uploaded: ${admin}/diff-reports/${uploaded.id}`)
    const html = await fetch(`${admin}/diff-reports/${uploaded.id}`)
    expect(html.headers.get('content-security-policy')).toMatch(
      /^sandbox allow-scripts; default-src 'none';/,
    )
    expect(await html.text()).toMatch(/^<!doctype html>/i)
    const report = JSON.parse(readFileSync(json, 'utf8')) as RunReport
    expect(report.totals.mismatch).toBe(0)
    expect(report.totals.noisy).toBe(2)
    expect(report.results[0].noise.map((d) => d.field)).toEqual(['header.x-random'])
  })
})

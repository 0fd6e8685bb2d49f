// The Prometheus alert rules and the Grafana dashboard in examples/: promtool
// checks the rules and runs their unit tests; a real Prometheus scrapes a
// supervised cutover on metrics.listen with the rules loaded, and every query
// of the dashboard and every rule runs there without error, on metrics that
// cutover exports.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { makeTestCa, type TestCa } from './support/certs.ts'
import { freePort } from './support/free-port.ts'
import { type SupervisedProxy, startSupervised } from './support/supervised.ts'
import { findTool } from './support/tools.ts'
import { until } from './support/until.ts'

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples')
const RULES = join(EXAMPLES, 'prometheus', 'cutover-alerts.yml')
const DASHBOARD = join(EXAMPLES, 'grafana', 'cutover-dashboard.json')
const ZONE = join(import.meta.dirname, 'zones', 'e2e.test.zone')

/** Metrics a rule or panel reads that this proxy has no occasion to export: record events need a Redis feed. */
const NOT_HERE = new Set(['cutover_record_lag_seconds', 'cutover_record_lag_events'])

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[]
}
const rules = (
  parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }
).groups.flatMap((g) => g.rules)
/** Every query, as Grafana would send it: the variables given values. */
const queries = [
  ...dashboard.panels.flatMap((p) =>
    p.targets.map((t) => ({
      what: `panel "${p.title}"`,
      expr: t.expr.replaceAll('$scope', '.*').replaceAll('$__rate_interval', '1m'),
    })),
  ),
  ...rules.map((r) => ({ what: `alert ${r.alert}`, expr: r.expr })),
]

function promtool(args: string[], cwd: string): string {
  const bin = findTool('promtool')
  if (!bin) throw new Error('promtool is not installed: apt-get install -y prometheus')
  return execFileSync(bin, args, { cwd, encoding: 'utf8' })
}

describe('examples/prometheus', () => {
  it('has rules promtool accepts, and whose unit tests pass', () => {
    expect(promtool(['check', 'rules', RULES], EXAMPLES)).toContain('SUCCESS: 11 rules found')
    const dir = join(EXAMPLES, 'prometheus')
    expect(promtool(['test', 'rules', 'cutover-alerts.test.yml'], dir)).toContain('SUCCESS')
  })
})

describe('a real Prometheus scraping cutover', () => {
  let proxy: SupervisedProxy | undefined
  let prometheus: ChildProcess | undefined
  let dir: string
  let ca: TestCa
  let api: string
  let exported: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cutover-prometheus-'))
    ca = makeTestCa()
    const [dnsPort, httpsPort, metricsPort, promPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ]
    proxy = await startSupervised({
      workers: 1,
      metrics: { listen: `127.0.0.1:${metricsPort}` },
      tls: { certificates: [ca.issue('site', ['shop.e2e.test'])] },
      dns: {
        listen: `127.0.0.1:${dnsPort}`,
        zones: [{ name: 'e2e.test', file: ZONE, percent: 100 }],
        legacy: { servers: ['127.0.0.1:9'] },
      },
      http: {
        listen: '127.0.0.1:0',
        tls: { listen: `127.0.0.1:${httpsPort}` },
        legacy: { url: 'http://127.0.0.1:9' },
        sites: [{ host: 'shop.e2e.test', origin: 'http://127.0.0.1:9', percent: 0 }],
      },
    })
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${RULES}]
scrape_configs:
  - job_name: cutover
    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]
`,
    )
    const bin = findTool('prometheus')
    if (!bin) throw new Error('prometheus is not installed: apt-get install -y prometheus')
    prometheus = spawn(
      bin,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    )
    api = `http://127.0.0.1:${promPort}/api/v1`
    const scraped = async () => {
      try {
        const body = (await (await fetch(`${api}/query?query=up`)).json()) as {
          data: { result: { value: [number, string] }[] }
        }
        return body.data.result[0]?.value[1] === '1'
      } catch {
        return false
      }
    }
    await until(scraped, 'Prometheus to scrape cutover', 30_000)
    exported = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
  }, 60_000)

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once('exit', resolve))
      prometheus.kill('SIGTERM')
      await exited
    }
    proxy?.cleanup()
    ca?.remove()
    rmSync(dir, { recursive: true, force: true })
  })

  it.each(queries)('runs the query of $what', async ({ expr }) => {
    const res = await fetch(`${api}/query?query=${encodeURIComponent(expr)}`)
    const body = (await res.json()) as { status: string; error?: string }
    expect(body.error).toBeUndefined()
    expect(body.status).toBe('success')
  })

  it('reads only metrics cutover exports', () => {
    const names = new Set(
      queries.flatMap(({ expr }) =>
        [...expr.matchAll(/\bcutover_[a-z0-9_]+/g)].map((m) =>
          m[0].replace(/_(bucket|sum|count)$/, ''),
        ),
      ),
    )
    for (const name of names) {
      if (NOT_HERE.has(name)) continue
      expect(exported, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'))
    }
  })

  it('loads every rule', async () => {
    const body = (await (await fetch(`${api}/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string }[] }[] }
    }
    const loaded = body.data.groups.flatMap((g) => g.rules)
    expect(loaded.map((r) => r.name).sort()).toEqual(rules.map((r) => r.alert).sort())
    // Each has been evaluated on the scraped series without error.
    await until(
      async () => {
        const b = (await (await fetch(`${api}/rules`)).json()) as typeof body
        return b.data.groups.flatMap((g) => g.rules).every((r) => r.health === 'ok')
      },
      'every rule to evaluate',
      10_000,
    )
  })
})

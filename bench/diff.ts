// Differential harness throughput: thousands of DNS cases (a generated zone of
// 2,000 names, BIND 9 as the legacy, the proxy's candidate listener) and HTTP
// cases (nginx as the legacy and the origin, the proxy forced to its new path),
// each case sent three times (legacy twice, candidate once). Targets: 5,000 DNS
// and 2,000 HTTP cases a second on loopback.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { generateDnsCases } from '../flamingo-tests/generate-dns.ts'
import { runSuites } from '../flamingo-tests/runner.ts'
import { parseSuite } from '../flamingo-tests/suite.ts'
import { Target } from '../flamingo-tests/targets.ts'
import { startBind } from '../proxy/e2e/support/bind.ts'
import { freePort } from '../proxy/e2e/support/free-port.ts'
import { startNginx } from '../proxy/e2e/support/nginx.ts'
import { startPinned } from './support/pinned.ts'

const NAMES = 2000
const HTTP_CASES = 5000

export async function diffBench(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-diff-'))
  const zoneFile = join(dir, 'bench.test.zone')
  const lines = [
    '$TTL 300',
    '$ORIGIN bench.test.',
    '@ IN SOA ns1 hostmaster 1 7200 900 1209600 300',
    '@ IN NS ns1',
    'ns1 IN A 192.0.2.1',
  ]
  for (let i = 0; i < NAMES; i++)
    lines.push(`host${i} IN A 198.51.${(i >> 8) & 0xff}.${i & 0xff}`, `host${i} IN TXT "host ${i}"`)
  writeFileSync(zoneFile, `${lines.join('\n')}\n`)
  const bind = await startBind([{ name: 'bench.test', file: zoneFile }], dir)
  const nginxPort = await freePort()
  const nginx = await startNginx(
    `server { listen 127.0.0.1:${nginxPort} backlog=4096; keepalive_requests 100000; location / { default_type text/plain; return 200 "page $uri\\n"; } }`,
    [nginxPort],
  )
  const [CANDIDATE, HTTP] = [await freePort(), await freePort()]
  const config = join(dir, 'cutover.yaml')
  writeFileSync(
    config,
    stringify({
      dns: {
        listen: '127.0.0.1:0',
        candidateListen: `127.0.0.1:${CANDIDATE}`,
        zones: [{ name: 'bench.test', file: zoneFile, percent: 0 }],
        legacy: { servers: [`127.0.0.1:${bind.port}`] },
      },
      http: {
        listen: `127.0.0.1:${HTTP}`,
        legacy: { url: `http://127.0.0.1:${nginxPort}` },
        doh: false,
        sites: [{ host: 'bench.test', origin: `http://127.0.0.1:${nginxPort}`, percent: 0 }],
      },
      admin: { listen: '127.0.0.1:0' },
      // One worker: the proxy has its core, the harness the other.
      workers: 1,
      state: join(dir, 'state'),
      log: { level: 'info' },
    }),
  )
  // The proxy in a process of its own, as in production: the harness gets the other core.
  const [dnsCandidatePort, httpPort] = [CANDIDATE, HTTP]
  const child = await startPinned(
    1,
    process.execPath,
    [join(import.meta.dirname, '..', 'cli', 'cutover.ts'), 'start', '--config', config],
    (o) => o.includes('cutover is serving'),
  )
  const proxy = { dnsCandidatePort, httpPort, stop: child.stop }
  const token = readFileSync(join(dir, 'state', 'admin-token'), 'utf8').trim()
  const rows: string[] = []
  try {
    const dnsSuite = parseSuite(
      stringify({ kind: 'dns', cases: generateDnsCases('bench.test', zoneFile) }),
      'generated',
    )
    const httpSuite = parseSuite(
      stringify({
        kind: 'http',
        cases: Array.from({ length: HTTP_CASES }, (_, i) => ({
          host: 'bench.test',
          path: `/page/${i}`,
        })),
      }),
      'generated',
    )
    for (const [kind, suite, legacy, candidate] of [
      [
        'DNS',
        dnsSuite,
        { label: 'BIND', dns: { host: '127.0.0.1', port: bind.port } },
        { label: 'proxy', dns: { host: '127.0.0.1', port: proxy.dnsCandidatePort } },
      ],
      [
        'HTTP',
        httpSuite,
        { label: 'nginx', http: `http://127.0.0.1:${nginxPort}` },
        { label: 'proxy', http: `http://127.0.0.1:${proxy.httpPort}`, forceNewWith: token },
      ],
    ] as const) {
      const targets = [new Target(legacy), new Target(candidate)]
      for (const t of targets) await t.open()
      await runSuites([suite], targets[0], targets[1], { concurrency: 64, suppressions: [] })
      const report = await runSuites([suite], targets[0], targets[1], {
        concurrency: 64,
        suppressions: [],
      })
      for (const t of targets) await t.close()
      const rate = (report.totals.cases * 1000) / report.durationMs
      process.stderr.write(
        `  ${kind}: ${report.totals.cases} cases, ${rate.toFixed(0)}/s, ${report.totals.mismatch} mismatches, ${report.totals.error} errors\n`,
      )
      rows.push(
        `| ${kind} | ${report.totals.cases} | ${report.durationMs.toFixed(0)} | ${rate.toFixed(0)} | ${report.totals.mismatch} | ${report.totals.error} |`,
      )
    }
  } finally {
    await proxy.stop()
    await nginx.stop()
    await bind.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return [
    'cutover diff throughput (concurrency 64; each case: legacy twice, candidate once)',
    '',
    '| suite | cases | ms | cases/s | mismatches | errors |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n')
}

// Restart benchmark: wrk on core 0 through cutover (one worker, pinned to core 1)
// to an nginx origin, first steady, then while the proxy is restarted back to
// back (SIGUSR2: a new worker starts, the old one drains). The row that
// matters is requests per second during the storm against steady state, and
// that the storm costs no errors.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { freePort } from '../proxy/e2e/support/free-port.ts'
import { startNginx } from '../proxy/e2e/support/nginx.ts'
import type { SupervisorStatus } from '../proxy/process/supervisor.ts'
import { startPinned } from './support/pinned.ts'
import { type WrkResult, wrk } from './support/wrk.ts'

const LOAD_CORE = 0
const SERVER_CORE = 1
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5) * 2

export async function restartBench(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-restart-'))
  const [originPort, port, adminPort] = [await freePort(), await freePort(), await freePort()]
  const origin = await startNginx(
    `server { listen 127.0.0.1:${originPort} backlog=4096; keepalive_requests 100000; location / { default_type text/plain; return 200 "hello\\n"; } }`,
    [originPort],
    LOAD_CORE,
  )
  const config = join(dir, 'cutover.yaml')
  writeFileSync(
    config,
    stringify({
      http: {
        listen: `127.0.0.1:${port}`,
        legacy: { url: `http://127.0.0.1:${originPort}` },
        doh: false,
        sites: [{ host: 'bench.test', origin: `http://127.0.0.1:${originPort}`, percent: 100 }],
      },
      workers: 1,
      admin: { listen: `127.0.0.1:${adminPort}` },
      state: join(dir, 'state'),
      log: { level: 'info' },
    }),
  )
  const proxy = await startPinned(
    SERVER_CORE,
    process.execPath,
    [join(import.meta.dirname, '..', 'cli', 'cutover.ts'), 'start', '--config', config],
    (o) => o.includes('cutover is serving'),
  )
  const status = async () =>
    (await (await fetch(`http://127.0.0.1:${adminPort}/workers`)).json()) as SupervisorStatus
  const url = `http://127.0.0.1:${port}/`
  try {
    await wrk(LOAD_CORE, url, 'bench.test', 1)
    const steady = await wrk(LOAD_CORE, url, 'bench.test', SECONDS)
    process.stderr.write(`  steady: ${steady.rps.toFixed(0)} req/s\n`)

    let restarts = 0
    let storming = true
    const storm = (async () => {
      while (storming) {
        const before = (await status()).generation
        process.kill(proxy.child.pid!, 'SIGUSR2')
        for (let i = 0; i < 600; i++) {
          const now = await status()
          if (now.generation > before && now.workers.every((w) => w.generation === now.generation))
            break
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        restarts++
      }
    })()
    const during = await wrk(LOAD_CORE, url, 'bench.test', SECONDS)
    storming = false
    await storm
    process.stderr.write(`  during ${restarts} restarts: ${during.rps.toFixed(0)} req/s\n`)
    return report(steady, during, restarts)
  } finally {
    await proxy.stop()
    await origin.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

function report(steady: WrkResult, during: WrkResult, restarts: number): string {
  const row = (name: string, r: WrkResult) =>
    `| ${name} | ${r.rps.toFixed(0)} | ${(r.rps / steady.rps).toFixed(2)}× | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`
  return [
    `Restart storm: wrk -t1 -c50 on core ${LOAD_CORE}, cutover (1 worker) on core ${SERVER_CORE}, nginx origin on core ${LOAD_CORE}; ${SECONDS} s per run`,
    '',
    '| load | req/s | vs steady | p50 ms | p99 ms | errors |',
    '|---|---:|---:|---:|---:|---:|',
    row('steady state', steady),
    row(`restarted back to back (${restarts} restarts)`, during),
  ].join('\n')
}

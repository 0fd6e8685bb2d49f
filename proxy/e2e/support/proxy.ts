// Starts the proxy in-process for a test from a config object (written out as
// YAML and loaded the way `cutover start` loads it), on free loopback ports.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Logger, pino } from 'pino'
import { stringify } from 'yaml'
import { loadConfig } from '../../config/config.ts'
import { type RunningProxy, startProxy } from '../../process/single-process.ts'
import { familiesOfRegistry, sampleOf } from '../../telemetry/metric-sample.ts'

export interface TestProxy extends RunningProxy {
  /** The admin token the proxy created in its state folder. */
  token: string
  /** Its state folder (the record journal is there). */
  stateDir: string
  /** Calls the admin API (with the token when there is a body); resolves with status and JSON. */
  admin(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>
  /** One metric's value from the registry, strictly: see `sampleOf` for what throws. */
  metric(name: string, labels?: Record<string, string>): Promise<number>
}

export interface TestProxyOptions {
  /** Where the proxy logs, for a test that reads its log lines; by default it logs nothing. */
  log?: Logger
}

export async function startTestProxy(
  config: Record<string, unknown>,
  options: TestProxyOptions = {},
): Promise<TestProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-proxy-'))
  const file = join(dir, 'cutover.yaml')
  writeFileSync(
    file,
    stringify({
      admin: { listen: '127.0.0.1:0' },
      log: { level: 'silent' },
      state: dir,
      ...config,
    }),
  )
  const proxy = await startProxy(loadConfig(file), options.log ?? pino({ level: 'silent' })).catch(
    (err: unknown) => {
      // A config the test expects refused leaves nothing behind either.
      rmSync(dir, { recursive: true, force: true })
      throw err
    },
  )
  const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim()
  return {
    ...proxy,
    token,
    stateDir: dir,

    async admin(method, path, body) {
      const res = await fetch(`http://127.0.0.1:${proxy.adminPort}${path}`, {
        method,
        headers:
          body === undefined
            ? {}
            : { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    },
    async stop() {
      await proxy.stop()
      rmSync(dir, { recursive: true, force: true })
    },
    async metric(name, labels = {}) {
      return sampleOf(await familiesOfRegistry(proxy.registry), name, labels)
    },
  }
}

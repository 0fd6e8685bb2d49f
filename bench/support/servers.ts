// The servers a bench measures, each on a free loopback port and pinned to one
// core: cutover itself from a config written for the run, a script of
// bench/servers/, or nginx.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { freePort } from '../../proxy/e2e/support/free-port.ts'
import { startNginx } from '../../proxy/e2e/support/nginx.ts'
import type { CpuQuota } from './cpu-quota.ts'
import { cpuSecondsOf, type Pinned, residentBytesOf, startPinned } from './pinned.ts'

const ROOT = join(import.meta.dirname, '..', '..')

export interface Server {
  port: number
  stop(): Promise<void>
  /** CPU seconds its processes have used so far, where the bench can read them. */
  cpuSeconds?(): number
  /** Resident memory of its processes now, where the bench can read it. */
  residentBytes?(): number
}

/**
 * Starts cutover on `core` with one worker; `listener(address)` gives the
 * config's `dns` or `http` section, listening on `address`, and any other the
 * bench sets (a `log` of its own replaces the default). Config and state go in `dir`.
 */
export async function startCutover(
  core: number,
  dir: string,
  listener: (address: string) => object,
  /** Held to a share of the core (bench/overload.ts). */
  quota?: CpuQuota,
): Promise<Server> {
  const port = await freePort()
  const config = join(dir, `cutover-${port}.yaml`)
  writeFileSync(
    config,
    stringify({
      admin: { listen: '127.0.0.1:0' },
      // One worker on the pinned core, like the single-process peers it is compared with.
      workers: 1,
      state: join(dir, `state-${port}`),
      log: { level: 'info' },
      ...listener(`127.0.0.1:${port}`),
    }),
  )
  const command = [process.execPath, join(ROOT, 'cli', 'cutover.ts'), 'start', '--config', config]
  const run = quota
    ? quota.wrap(command[0], command.slice(1))
    : { command: command[0], args: command.slice(1) }
  const p = await startPinned(core, run.command, run.args, (o) => o.includes('cutover is serving'))
  return serverOf(port, p)
}

/** A pinned process serving `port`, with its CPU and memory read from /proc. */
function serverOf(port: number, p: Pinned): Server {
  const pid = p.child.pid
  return {
    port,
    stop: p.stop,
    cpuSeconds: pid === undefined ? undefined : () => cpuSecondsOf(pid),
    residentBytes: pid === undefined ? undefined : () => residentBytesOf(pid),
  }
}

/** Starts `bench/servers/<script> <port> ...args` on `core`; it prints `ready` once it serves. */
export async function startScript(
  core: number,
  script: string,
  ...args: string[]
): Promise<Server> {
  const port = await freePort()
  const p = await startPinned(
    core,
    process.execPath,
    [join(ROOT, 'bench', 'servers', script), String(port), ...args],
    (o) => o.includes('ready'),
  )
  return serverOf(port, p)
}

/** Starts nginx on `core` with the `http {}` body `conf(port)` gives for a free port. */
export async function startNginxOn(core: number, conf: (port: number) => string): Promise<Server> {
  const port = await freePort()
  const nginx = await startNginx(conf(port), [port], core)
  return { port, stop: nginx.stop }
}

/**
 * nginx on `core` answering every request with `hello`; with `tls`, over TLS with
 * that certificate and HTTP/2 offered by ALPN.
 */
export function startNginxHello(
  core: number,
  tls?: { cert: string; key: string },
): Promise<Server> {
  const secure = tls
    ? {
        flags: ' ssl http2',
        certificate: `ssl_certificate ${tls.cert}; ssl_certificate_key ${tls.key};`,
      }
    : { flags: '', certificate: '' }
  return startNginxOn(
    core,
    (port) => `server { listen 127.0.0.1:${port}${secure.flags} backlog=4096; ${secure.certificate}
    keepalive_requests 1000000; location / { default_type text/plain; return 200 "hello\\n"; } }`,
  )
}

/** Nothing listens here: a bench site whose static rule answers never reaches an upstream. */
const NOWHERE = 'http://127.0.0.1:9'

/** An `http` section with one site, `host`, whose static rule answers `path` with "hello". */
export function staticSite(listen: string, host: string, path: string): Record<string, unknown> {
  return {
    listen,
    legacy: { url: NOWHERE },
    doh: false,
    sites: [
      {
        host,
        origin: NOWHERE,
        percent: 100,
        rules: [{ type: 'static', match: { exact: path }, body: 'hello\n' }],
      },
    ],
  }
}

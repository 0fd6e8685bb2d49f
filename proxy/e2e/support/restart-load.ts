// What the restart-under-load tests share: BIND and nginx behind a supervised
// proxy on both paths, the HTTP/1.1 load they run through a restart storm
// (autocannon, plain or TLS; HTTP/2 and DNS over TLS in h2-load.ts and
// dot-load.ts) and the storm.

import { join } from 'node:path'
import autocannon from 'autocannon'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { Type } from '../../../dns/constants.ts'
import { buildQuery } from '../../../dns/message.ts'
import { type BindServer, startBind } from './bind.ts'
import { ROOT } from './cli.ts'
import type { DnsLoadCounts } from './dns-load.ts'
import { freePort } from './free-port.ts'
import { startNginx } from './nginx.ts'
import { type SupervisedProxy, startSupervised } from './supervised.ts'

const ZONES = join(ROOT, 'proxy', 'e2e', 'zones')
export const NEW_HOST = 'new.e2e.test'
export const LEGACY_HOST = 'legacy.e2e.test'

/** Both DNS paths: e2e.test answered by the new path, other.test forwarded to BIND. */
export const queries = [
  buildQuery({ name: 'www.e2e.test', type: Type.A }),
  buildQuery({ name: 'www.other.test', type: Type.A }),
  buildQuery({ name: 'mail.e2e.test', type: Type.A }),
  buildQuery({ name: 'ns1.other.test', type: Type.A }),
]

export interface Backends {
  bind: BindServer
  /** nginx's HTTP legacy. */
  legacyPort: number
  /** nginx's origin of both sites; it reads a whole upload at /upload. */
  originPort: number
  stop(): Promise<void>
}

/** BIND serving e2e.test and other.test, and nginx as the HTTP legacy and origin. */
export async function startBackends(): Promise<Backends> {
  const bind = await startBind(
    [
      { name: 'e2e.test', file: join(ZONES, 'e2e.test.zone') },
      { name: 'other.test', file: join(ZONES, 'other.test.zone') },
    ],
    ZONES,
  )
  try {
    const legacyPort = await freePort()
    const originPort = await freePort()
    // The origin reads a whole upload (nginx buffers the body before it passes it on).
    const nginx = await startNginx(
      `server { listen 127.0.0.1:${legacyPort}; location / { default_type text/plain; return 200 "legacy\\n"; } }
server {
  listen 127.0.0.1:${originPort};
  client_max_body_size 10m;
  location / { default_type text/plain; return 200 "origin\\n"; }
  location /upload { proxy_pass http://127.0.0.1:${originPort}/uploaded; }
  location = /uploaded { default_type text/plain; return 200 "uploaded $content_length\\n"; }
}`,
      [legacyPort, originPort],
    )
    return {
      bind,
      legacyPort,
      originPort,
      async stop() {
        await Promise.all([bind.stop(), nginx.stop()])
      },
    }
  } catch (err) {
    await bind.stop()
    throw err
  }
}

export interface ProxyConfig extends Record<string, unknown> {
  dns: Record<string, unknown>
  http: Record<string, unknown>
}

/**
 * Two workers in front of `b`: DNS on `dnsPort` (e2e.test on the new path),
 * HTTP on `httpPort` (NEW_HOST on the new path, LEGACY_HOST on the legacy one).
 */
export function proxyConfig(b: Backends, dnsPort: number, httpPort: number): ProxyConfig {
  return {
    workers: 2,
    drainDeadline: '20s',
    dns: {
      listen: `127.0.0.1:${dnsPort}`,
      zones: [{ name: 'e2e.test', file: join(ZONES, 'e2e.test.zone'), percent: 100 }],
      legacy: { servers: [`127.0.0.1:${b.bind.port}`] },
      packetcache: { enabled: false },
    },
    http: {
      listen: `127.0.0.1:${httpPort}`,
      legacy: { url: `http://127.0.0.1:${b.legacyPort}` },
      sites: [
        {
          host: NEW_HOST,
          origin: `http://127.0.0.1:${b.originPort}`,
          percent: 100,
          rules: [{ type: 'headers', response: { set: { 'x-path': 'new' } } }],
        },
        { host: LEGACY_HOST, origin: `http://127.0.0.1:${b.originPort}`, percent: 0, rules: [] },
      ],
    },
  }
}

interface Stoppable {
  stop(): Promise<unknown>
}

/**
 * For a file of tests against a supervised proxy in front of the backends:
 * the backends started once; after each test, the loads it started stopped
 * and its proxy gone.
 */
export function supervisedTestBed() {
  let backends: Backends | undefined
  let proxy: SupervisedProxy | undefined
  const { started, stopAll } = loadTracker()
  beforeAll(async () => {
    backends = await startBackends()
  })
  afterAll(async () => {
    await backends?.stop()
  })
  afterEach(async () => {
    await stopAll()
    proxy?.cleanup()
    proxy = undefined
  })
  return {
    started,
    backends: () => backends!,
    /** Starts `cutover start` with `config`; it goes after the test. */
    async start(config: Record<string, unknown>): Promise<SupervisedProxy> {
      proxy = await startSupervised(config)
      return proxy
    },
    /** Starts `cutover start` with `proxyConfig` on free ports, `more` laid over it; it goes after the test. */
    async startOnFreePorts(
      more: Record<string, unknown> = {},
    ): Promise<{ p: SupervisedProxy; dnsPort: number; httpPort: number }> {
      const dnsPort = await freePort()
      const httpPort = await freePort()
      proxy = await startSupervised({ ...proxyConfig(backends!, dnsPort, httpPort), ...more })
      return { p: proxy, dnsPort, httpPort }
    },
  }
}

/** The loads a test started, so that one failing before it stops them leaves none behind. */
export function loadTracker(): {
  started<T extends Stoppable>(load: T): T
  stopAll(): Promise<void>
} {
  const loads: Stoppable[] = []
  return {
    started(load) {
      loads.push(load)
      return load
    },
    async stopAll() {
      // Their outcome is the test's to assert; here they only must not outlive it.
      await Promise.allSettled(loads.splice(0).map((l) => l.stop()))
    },
  }
}

export interface HttpCounts {
  /** Requests that failed: connection errors and timeouts (autocannon counts a timeout as an error). */
  errors: number
  /** Each kind of failure once, to say what went wrong. */
  errorKinds: string[]
  non2xx: number
  ok: number
}

export interface HttpLoad {
  /** Stops, and gives the counts summed over both paths; rejects if autocannon itself failed. */
  stop(): Promise<HttpCounts>
  /** Responses so far; throws if autocannon itself failed, so a wait on it fails with the reason. */
  responses(): number
}

/**
 * autocannon on `url` with 100 connections, 50 for each of NEW_HOST and
 * LEGACY_HOST, as fast as they are answered or `perSecond` a second on each.
 * (One instance per path: an autocannon connection that the server closes
 * starts its request list over.) Over https:// the host is the name sent
 * as SNI and HTTP/1.1 is asked for by ALPN; autocannon never verifies the
 * certificate (it sets rejectUnauthorized: false over any tlsOptions).
 */
export function httpLoad(
  url: string,
  headers: Record<string, string> = {},
  perSecond?: number,
): HttpLoad {
  let responses = 0
  let failed: unknown
  const errorKinds = new Set<string>()
  const secure = url.startsWith('https:')
  const runs = [NEW_HOST, LEGACY_HOST].map((host) => {
    const { promise: done, resolve, reject } = Promise.withResolvers<autocannon.Result>()
    const instance = autocannon(
      {
        url,
        connections: 50,
        duration: 600,
        timeout: 10,
        headers: { host, ...headers },
        ...(perSecond && { overallRate: perSecond }),
        ...(secure && { servername: host, tlsOptions: { ALPNProtocols: ['http/1.1'] } }),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    )
    // Kept for responses() now; stop() awaits `done` and rejects with it again.
    done.catch((err: unknown) => {
      failed ??= err
    })
    instance.on('response', () => responses++)
    instance.on('reqError', (err: Error) => errorKinds.add(err.message))
    return { instance, done }
  })
  const stop = async (): Promise<HttpCounts> => {
    for (const r of runs) r.instance.stop()
    const results = await Promise.all(runs.map((r) => r.done))
    const sum = (pick: (r: autocannon.Result) => number) => results.reduce((n, r) => n + pick(r), 0)
    return {
      errors: sum((r) => r.errors),
      errorKinds: [...errorKinds],
      non2xx: sum((r) => r.non2xx),
      ok: sum((r) => r['2xx']),
    }
  }
  let stopped: Promise<HttpCounts> | undefined
  return {
    responses() {
      if (failed !== undefined) throw failed
      return responses
    },
    stop() {
      stopped ??= stop()
      return stopped
    },
  }
}

export function expectAllAnswered(counts: DnsLoadCounts): void {
  expect(counts.sent).toBeGreaterThan(0)
  expect(counts).toEqual({ ...counts, answered: counts.sent, wrong: 0, unanswered: 0, errors: [] })
}

/** Five restarts and five reloads, in turn, each waited for; the request counters never go back. */
export async function restartStorm(p: SupervisedProxy): Promise<void> {
  let served = 0
  for (let i = 0; i < 5; i++) {
    for (const command of ['restart', 'reload'] as const) {
      const { code, output } = await p.command(command)
      expect(code, output).toBe(0)
      const now =
        (await p.metric('cutover_requests_total', { protocol: 'http', path: 'new' })) +
        (await p.metric('cutover_requests_total', { protocol: 'http', path: 'legacy' }))
      expect(now).toBeGreaterThanOrEqual(served)
      served = now
    }
  }
  expect((await p.status()).generation).toBe(6)
}

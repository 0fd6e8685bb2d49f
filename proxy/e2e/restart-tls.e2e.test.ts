// The restart test under load, over TLS: `cutover start` with two workers in
// front of BIND and nginx, restarted and reloaded five times each while HTTPS
// over HTTP/1.1 (autocannon), HTTP/2 sessions and DNS over TLS run; a drain may
// close connections and send GOAWAY, but no request, stream or query is lost.

import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTestCa, type TestCa } from './support/certs.ts'
import type { DnsLoadCounts } from './support/dns-load.ts'
import { dotLoad } from './support/dot-load.ts'
import { freePort } from './support/free-port.ts'
import { type H2Counts, h2Load } from './support/h2-load.ts'
import {
  type Backends,
  expectAllAnswered,
  type HttpCounts,
  httpLoad,
  LEGACY_HOST,
  loadTracker,
  NEW_HOST,
  proxyConfig,
  restartStorm,
  startBackends,
} from './support/restart-load.ts'
import { type SupervisedProxy, startSupervised } from './support/supervised.ts'
import { until } from './support/until.ts'

const DOT_NAME = 'dns.e2e.test'
/** New requests a second for each load: requests in flight at every drain, and CPU left for the restarts. */
const RATE = 500

let ca: TestCa | undefined
let backends: Backends | undefined
let proxy: SupervisedProxy | undefined
const { started, stopAll } = loadTracker()

/** What each load counted over the storm, and the proxy it ran against. */
let outcome: { p: SupervisedProxy; https: HttpCounts; h2: H2Counts; dot: DnsLoadCounts }

/** The proxy of the restart test, with HTTPS (HTTP/1.1 and HTTP/2) and DNS over TLS beside its plain listeners. */
async function startTlsProxy(b: Backends, issuer: TestCa) {
  const [dns, dot, http, https] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ]
  const c = proxyConfig(b, dns, http)
  proxy = await startSupervised({
    ...c,
    // The workers accept from the shared sockets themselves: restarts lose nothing that way too.
    workerAccept: 'shared',
    tls: { certificates: [issuer.issue('restart', [NEW_HOST, LEGACY_HOST, DOT_NAME])] },
    dns: { ...c.dns, tls: { listen: `127.0.0.1:${dot}` } },
    http: { ...c.http, tls: { listen: `127.0.0.1:${https}` } },
  })
  return { p: proxy, dot, https }
}

beforeAll(async () => {
  ca = makeTestCa()
  backends = await startBackends()
  const { p, dot, https } = await startTlsProxy(backends, ca)
  const caPem = readFileSync(ca.caCert, 'utf8')
  const h1 = started(httpLoad(`https://127.0.0.1:${https}`, {}, RATE / 2))
  const h2 = started(h2Load(`https://127.0.0.1:${https}`, caPem, RATE))
  const dotQueries = started(dotLoad(dot, { ca: caPem, servername: DOT_NAME }, RATE))
  await until(
    () => h1.responses() > 500 && h2.counts.ok > 200 && dotQueries.counts.answered > 100,
    'the load to get going',
    20_000,
  )
  await restartStorm(p)
  const [h, s, d] = await Promise.all([h1.stop(), h2.stop(), dotQueries.stop()])
  outcome = { p, https: h, h2: s, dot: d }
}, 150_000)

afterAll(async () => {
  await stopAll()
  proxy?.cleanup()
  await backends?.stop()
  ca?.remove()
})

describe('five restarts and five reloads under load over TLS', () => {
  it('HTTPS over HTTP/1.1 on both paths: no failed request, no non-2xx', () => {
    const { https } = outcome
    expect(https.errors, `failed requests: ${https.errorKinds.join('; ')}`).toBe(0)
    expect(https.non2xx, 'non-2xx').toBe(0)
    expect(https.ok).toBeGreaterThan(1000)
  })

  it('HTTP/2: every stream answered 200 across the GOAWAY of each drain', () => {
    const { h2 } = outcome
    expect(h2).toEqual({ ...h2, ok: h2.sent, non200: 0, errors: 0, errorKinds: [] })
    expect(h2.sent).toBeGreaterThan(500)
    // Each restart drained the sessions of the generation it replaced.
    expect(h2.goaways).toBeGreaterThanOrEqual(5)
  })

  it('DNS over TLS: every query answered, each with its own answer', () => {
    expectAllAnswered(outcome.dot)
    expect(outcome.dot.answered).toBeGreaterThan(500)
  })

  it('no drain cut a connection, and what DNS over TLS lost to a close is counted; both paths served over both protocols; nothing failed', async () => {
    const { p, dot } = outcome
    // A DoT connection cannot be handed over (its TLS session is the worker's): a query
    // that crossed the old worker's close is counted as lost, and its client asked again.
    const cut = await p.metric('cutover_drain_cut_total')
    expect(cut).toBeLessThanOrEqual(dot.retried)
    if (dot.retried === 0) expect(cut).toBe(0)
    for (const protocol of ['http', 'dns'])
      for (const path of ['new', 'legacy'])
        expect(await p.metric('cutover_requests_total', { protocol, path })).toBeGreaterThan(0)
    // Read whole: /metrics cannot name the labels of a counter that never counted.
    expect(await p.metric('cutover_legacy_failures_total')).toBe(0)
    expect(await p.metric('cutover_http2_session_errors_total')).toBe(0)
  })
})

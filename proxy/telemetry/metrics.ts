// The metrics users see (names fixed in the architecture), on a registry passed
// in. Hot paths hold pre-bound children so a count is one addition, no label lookup.

import { Counter, Gauge, type Registry } from 'prom-client'
import { LATENCY_BUCKETS } from '../../rollout/latency.ts'
import { type HotCounter, HotHistogram, hotCounter } from './hot-metrics.ts'

export type Protocol = 'dns' | 'http'
export type PathLabel = 'new' | 'legacy' | 'fallback'

export interface Metrics {
  requests: HotCounter<'protocol' | 'path'>
  scopeRequests: HotCounter<'protocol' | 'scope' | 'path'>
  scopeErrors: HotCounter<'protocol' | 'scope' | 'path'>
  scopeDuration: HotHistogram
  scopeFallbacks: HotCounter<'protocol' | 'scope' | 'reason'>
  fallbacks: HotCounter<'protocol' | 'reason'>
  duration: HotHistogram
  rolloutPercent: Gauge<'scope'>
  diffMismatches: Counter<'protocol' | 'scope'>
  malformed: HotCounter<'protocol'>
  legacyFailures: Counter<'protocol' | 'failure'>
  originFailures: Counter<'protocol' | 'failure'>
  /** HTTP/2 client sessions ended for what they sent, by nghttp2's reason. */
  http2SessionErrors: Counter<'reason'>
  shadowShed: HotCounter<'protocol'>
  rateLimited: HotCounter<'action'>
  shed: HotCounter<'protocol'>
  /** Readers of open client connections by protocol, for the gauge; each listener adds its own. */
  openConnections: Map<string, () => number>
}

export function createMetrics(registry: Registry): Metrics {
  const registers = [registry]
  const openConnections = new Map<string, () => number>()
  new Gauge({
    name: 'cutover_open_connections',
    help: 'Client connections open now (HTTP, DNS over TCP)',
    labelNames: ['protocol'],
    registers,
    collect() {
      this.reset()
      for (const [protocol, read] of openConnections) this.set({ protocol }, read())
    },
  })
  return {
    openConnections,

    requests: hotCounter(
      registry,
      'cutover_requests_total',
      'Requests served, by protocol and by the path that answered (new, legacy, or fallback to legacy)',
      ['protocol', 'path'],
    ),
    scopeRequests: hotCounter(
      registry,
      'cutover_scope_requests_total',
      'Requests of one zone or site (scope), by the path that answered',
      ['protocol', 'scope', 'path'],
    ),
    scopeErrors: hotCounter(
      registry,
      'cutover_scope_errors_total',
      'Requests of one scope answered with an error (SERVFAIL, HTTP 5xx), by the path that answered',
      ['protocol', 'scope', 'path'],
    ),
    scopeDuration: new HotHistogram(
      registry,
      'cutover_scope_request_duration_seconds',
      'Time from receiving a request of one scope to sending its response, by the path that answered',
      LATENCY_BUCKETS,
    ),
    scopeFallbacks: hotCounter(
      registry,
      'cutover_scope_fallbacks_total',
      'Requests of one scope the new path handed to the legacy path, by reason',
      ['protocol', 'scope', 'reason'],
    ),
    fallbacks: hotCounter(
      registry,
      'cutover_fallbacks_total',
      'Requests the new path handed to the legacy path, by reason',
      ['protocol', 'reason'],
    ),
    duration: new HotHistogram(
      registry,
      'cutover_request_duration_seconds',
      'Time from receiving a request to sending its response',
      LATENCY_BUCKETS,
    ),
    rolloutPercent: new Gauge({
      name: 'cutover_rollout_percent',
      help: "Share of a scope's traffic on the new path, in percent",
      labelNames: ['scope'],
      registers,
      // With workers, the supervisor reports it once; the workers' copies are not summed.
      aggregator: 'omit',
    }),

    diffMismatches: new Counter({
      name: 'cutover_diff_mismatches_total',
      help: 'Shadowed requests whose new and legacy responses differed',
      labelNames: ['protocol', 'scope'],
      registers,
    }),
    malformed: hotCounter(
      registry,
      'cutover_malformed_total',
      'Requests rejected as malformed (DNS FORMERR or dropped, HTTP 400)',
      ['protocol'],
    ),
    shadowShed: hotCounter(
      registry,
      'cutover_shadow_shed_total',
      'Shadow comparisons skipped because the bound on them was reached',
      ['protocol'],
    ),
    shed: hotCounter(
      registry,
      'cutover_shed_total',
      'Requests and queries turned away at once because the process was overloaded (overload.maxDelay)',
      ['protocol'],
    ),
    rateLimited: hotCounter(
      registry,
      'cutover_dns_rate_limited_total',
      'New-path UDP answers over dns.rateLimit: dropped, or slipped (sent truncated so a real client asks over TCP)',
      ['action'],
    ),
    legacyFailures: new Counter({
      name: 'cutover_legacy_failures_total',
      help: 'Requests the legacy path did not answer (timeout, overload, unreachable)',
      labelNames: ['protocol', 'failure'],
      registers,
    }),
    http2SessionErrors: new Counter({
      name: 'cutover_http2_session_errors_total',
      help: 'HTTP/2 client connections ended for what they sent (rapid reset, CONTINUATION flood, bad frames), by reason',
      labelNames: ['reason'],
      registers,
    }),
    originFailures: new Counter({
      name: 'cutover_origin_failures_total',
      help: "Requests a new-path site's origin did not answer (timeout, unreachable, bad-reply)",
      labelNames: ['protocol', 'failure'],
      registers,
    }),
  }
}

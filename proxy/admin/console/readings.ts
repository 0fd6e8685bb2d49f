// What the console shows from the proxy's own metrics (summed over the workers,
// in a supervisor): each certificate's remaining life, how far record changes
// lag, and each scope's fallbacks by reason since start.

import { familiesOfText } from '../../telemetry/metric-sample.ts'

export interface Readings {
  certificates: { name: string; expiresInSeconds: number }[]
  /** Absent without a record feed. */
  recordLag?: { seconds: number; events: number }
  /** Scope id -> reason -> requests handed to the legacy since start. */
  fallbacks: Record<string, Record<string, number>>
}

export function readingsOf(metricsText: string): Readings {
  const families = familiesOfText(metricsText)
  const samples = (name: string) => families.find((f) => f.name === name)?.samples ?? []
  const fallbacks: Readings['fallbacks'] = {}
  for (const { labels, value } of samples('cutover_scope_fallbacks_total')) {
    if (value === 0) continue
    fallbacks[labels.scope] ??= {}
    fallbacks[labels.scope][labels.reason] = value
  }
  const [lagSeconds] = samples('cutover_record_lag_seconds')
  const [lagEvents] = samples('cutover_record_lag_events')
  return {
    certificates: samples('cutover_tls_certificate_expiry_seconds').map((s) => ({
      name: s.labels.name,
      expiresInSeconds: s.value,
    })),
    recordLag: lagSeconds && { seconds: lagSeconds.value, events: lagEvents?.value ?? 0 },
    fallbacks,
  }
}

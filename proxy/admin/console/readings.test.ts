// What the console reads from the metrics text: certificates, record lag, and
// each scope's fallbacks by reason.

import { describe, expect, it } from 'vitest'
import { readingsOf } from './readings.ts'

describe('readingsOf', () => {
  it('reads certificates, record lag and fallbacks by scope and reason', () => {
    const text = `# TYPE cutover_tls_certificate_expiry_seconds gauge
cutover_tls_certificate_expiry_seconds{name="shop.test"} 86400
# TYPE cutover_record_lag_seconds gauge
cutover_record_lag_seconds 1.5
# TYPE cutover_record_lag_events gauge
cutover_record_lag_events 3
# TYPE cutover_scope_fallbacks_total counter
cutover_scope_fallbacks_total{protocol="dns",scope="dns:shop.test",reason="module-error"} 4
cutover_scope_fallbacks_total{protocol="dns",scope="dns:shop.test",reason="unserved"} 0
`
    expect(readingsOf(text)).toEqual({
      certificates: [{ name: 'shop.test', expiresInSeconds: 86400 }],
      recordLag: { seconds: 1.5, events: 3 },
      fallbacks: { 'dns:shop.test': { 'module-error': 4 } },
    })
  })

  it('has no record lag without a record feed, and no fallbacks when none happened', () => {
    expect(readingsOf('')).toEqual({ certificates: [], recordLag: undefined, fallbacks: {} })
  })
})

// cutover_tls_certificate_expiry_seconds: how long each served certificate
// has left, read at scrape time from the store serving now (a reload swaps it).

import { Gauge, type Registry } from 'prom-client'
import { registered } from '../../modules/shared/registered-metrics.ts'
import type { CertificateStore } from './certificates.ts'

const NAME = 'cutover_tls_certificate_expiry_seconds'

/** Below this, /readyz warns that a certificate needs renewing. */
export const EXPIRY_WARNING_MS = 7 * 86_400_000

export function watchCertificates(
  registry: Registry,
  current: () => CertificateStore | undefined,
): void {
  registered(
    registry,
    NAME,
    () =>
      new Gauge({
        name: NAME,
        help: 'Seconds until each served certificate expires, by its first name',
        labelNames: ['name'],
        registers: [registry],
        // Every worker serves the same files: the supervisor shows one value, not their sum.
        aggregator: 'min',
        collect() {
          this.reset()
          const now = Date.now()
          for (const c of current()?.certificates ?? [])
            this.set({ name: c.name }, Math.round((c.notAfter - now) / 1000))
        },
      }),
  )
}

/** Why /readyz warns about `store`: each certificate expiring within seven days. */
export function expiryWarnings(store: CertificateStore | undefined, now = Date.now()): string[] {
  return (store?.certificates ?? [])
    .filter((c) => c.notAfter - now < EXPIRY_WARNING_MS)
    .map(
      (c) =>
        `certificate ${c.name} expires in ${((c.notAfter - now) / 86_400_000).toFixed(1)} days (${new Date(c.notAfter).toISOString()}): renew it and run cutover reload`,
    )
}

// What the proxy hands a module at setup: where to log and where to register
// metrics. Passed in, never global, so a module can be tested alone.

import type { Registry } from 'prom-client'
import type { BucketStoreFactory } from './ratelimit/bucket-store.ts'

export interface ModuleLog {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface ModuleEnv {
  log: ModuleLog
  registry: Registry
  /** Rate limit buckets shared by all of a proxy's workers (absent in one process). */
  buckets?: BucketStoreFactory
}

// What the DNS and HTTP sides of an instance share: logging and metrics, the
// scopes they serve (built once from the config), the admin token, shadow
// settings, the load gauge, the traffic recorder and the access and query logs.

import type { ModuleEnv } from '../../modules/env.ts'
import type { ShadowConfig } from '../config/config.ts'
import type { ScopeList } from '../config/scope-list.ts'
import type { TlsSettings } from '../config/tls-settings.ts'
import type { SocketSource } from '../net/socket-source.ts'
import type { TrafficRecorder } from '../shadow/traffic-recorder.ts'
import type { AccessLogs } from '../telemetry/access-log.ts'
import type { LoadGauge } from '../telemetry/load-gauge.ts'
import type { Logger } from '../telemetry/log.ts'
import type { Metrics } from '../telemetry/metrics.ts'
import type { Overload } from '../telemetry/overload.ts'
import type { CertificateStore } from '../tls/certificates.ts'

export interface ServiceDeps {
  env: ModuleEnv & { log: Logger }
  /** Where the listeners get their sockets: the supervisor's, or this process's own. */
  sockets: SocketSource
  metrics: Metrics
  /** Every scope of the config; each side marks whether the new path serves its own. */
  scopes: ScopeList
  token: string
  /** EDNS option code for forced paths and traces. */
  ednsOption: number
  shadow: ShadowConfig
  load: LoadGauge
  /** Load shedding, for the whole process. */
  overload: Overload
  recorder: TrafficRecorder | undefined
  /** log.access and log.queries: the same pair for the instance's life, their settings replaced on reload. */
  accessLogs: AccessLogs
  /** The certificates of the HTTPS and DNS-over-TLS listeners, read from `tls` (re-read on reload). */
  certificates: CertificateStore | undefined
  tls: TlsSettings | undefined
  /** The session ticket keys the supervisor gave, for listeners started now. */
  ticketKeys: Buffer | undefined
}

/**
 * A side built again from a new config, not yet serving. A reload prepares
 * every side first, so a side that fails to build leaves all of them as they were.
 */
export interface PreparedReload {
  /** Swaps the new parts in at once; settles when the old ones have finished what they had. */
  commit(): Promise<void>
  /** Releases the new parts unused. */
  discard(): Promise<void>
}

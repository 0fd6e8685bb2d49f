// What a supervisor tells its operator beside its operations: where each
// listener serves once everything does, and what a restart cannot change.

import type { AddressInfo } from 'node:net'
import { type Config, loadConfig } from '../config/config.ts'
import type { Logger } from '../telemetry/log.ts'
import type { WorkerState } from './generations.ts'

/** The one line logged once everything serves: where each listener is. */
export function logServing(
  config: Config,
  ports: WorkerState['ports'],
  admin: AddressInfo | string | null | undefined,
  workers: number,
  log: Logger,
): void {
  const at = (hp: { host: string } | undefined, port: number | undefined) =>
    hp && port ? `${hp.host}:${port}` : undefined
  const adminPort = typeof admin === 'object' && admin ? admin.port : undefined
  log.info(
    {
      dns: at(config.dns?.listen, ports.dns),
      candidate: at(config.dns?.candidateListen, ports.candidate),
      http: at(config.http?.listen, ports.http),
      https: at(config.http?.tls?.listen, ports.https),
      dot: at(config.dns?.tls?.listen, ports.dot),
      admin: `${config.admin.listen.host}:${adminPort ?? config.admin.listen.port}`,
      workers,
    },
    'cutover is serving',
  )
}

/** Says so when the config file changes what the supervisor took at start: a restart keeps it. */
export function warnStartOnly(serving: Config, log: Logger): void {
  let next: Config
  try {
    next = loadConfig(serving.file)
  } catch {
    return // the new workers read it too, and their failure says why
  }
  for (const key of ['workers', 'workerAccept'] as const)
    if (next[key] !== serving[key])
      log.warn(
        { key, serving: serving[key], file: next[key] },
        `${key} is taken at \`cutover start\`: this restart keeps ${serving[key]}; stop and start to change it`,
      )
}

// `cutover start` with workers: the supervisor run until SIGTERM or SIGINT,
// its signals wired to its operations.

import type { Logger } from '../telemetry/log.ts'
import { Supervisor } from './supervisor.ts'

/**
 * Runs the supervisor until SIGTERM or SIGINT has drained it; resolves with the
 * exit code. SIGHUP reloads, SIGUSR2 restarts, SIGUSR1 has every worker reopen its log files.
 */
export async function runSupervisor(
  file: string,
  log: Logger,
  serving: () => void = () => {},
): Promise<number> {
  const supervisor = await Supervisor.start(file, log)
  serving()
  const failed = (what: string) => (err: Error) => log.error({ err: err.message }, `${what} failed`)
  process.on('SIGHUP', () => void supervisor.reload().catch(failed('reload')))
  process.on('SIGUSR2', () => void supervisor.restart().catch(failed('restart')))
  process.on('SIGUSR1', () => supervisor.reopenLogs())
  return new Promise((done, fail) => {
    let asked = false
    const stop = (signal: string) => {
      if (asked) return
      asked = true
      log.info({ signal }, 'stopping: draining every worker')
      supervisor.stop().then(() => done(0), fail)
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
    // Replaced by `cutover upgrade`: its successor serves on.
    supervisor.replaced.then(() => done(0))
  })
}

// `cutover start` runs the proxy in the foreground: a supervisor and its
// workers (or, with `workers: 0`, one process) until SIGTERM or SIGINT. Its pid
// is in the state folder's pid file, where the commands of control.ts find it.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CutoverError } from '../common/cutover-error.ts'
import { type Config, loadConfig } from '../proxy/config/config.ts'
import { runSupervisor } from '../proxy/process/run-supervisor.ts'
import { startProxy } from '../proxy/process/single-process.ts'
import { startedByUpgrade } from '../proxy/process/upgrade.ts'
import { createLogger } from '../proxy/telemetry/log.ts'
import { loadCertificates } from '../proxy/tls/certificates.ts'
import { options, requireConfig } from './args.ts'
import { PID_FILE, pidIn } from './control.ts'

export async function startCommand(args: string[]): Promise<number> {
  const { values } = options(args, { config: { type: 'string', short: 'c' } })
  return runProxy(loadConfig(requireConfig(values.config, 'start')))
}

/**
 * Runs the proxy of `config` in the foreground (a supervisor and its workers,
 * or one process) until a signal stops it; `serving` is called once it serves.
 */
export async function runProxy(config: Config, serving: () => void = () => {}): Promise<number> {
  // A certificate that cannot serve is a config error before anything listens.
  if (config.tls) loadCertificates(config.tls)
  const log = createLogger(config.log.level)
  prepareStateFolder(config.state)
  const pidFile = join(config.state, PID_FILE)
  const writePid = () => writeFileSync(pidFile, `${process.pid}\n`)
  // A supervisor that replaces another names itself only once it serves: until then the old one runs the show.
  if (!startedByUpgrade()) writePid()
  try {
    if (config.workers !== 0)
      return await runSupervisor(config.file, log, () => {
        writePid()
        serving()
      })
    const proxy = await startProxy(config, log)
    serving()
    process.on('SIGHUP', () =>
      log.warn(
        'reload and restart need workers (the config has workers: 0); restart the process instead',
      ),
    )
    return await new Promise((done) => {
      const stop = (signal: string) => {
        log.info({ signal }, 'stopping')
        proxy.stop().then(() => done(0))
      }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    })
  } finally {
    // After an upgrade the file names the successor.
    if (pidIn(pidFile) === process.pid) rmSync(pidFile, { force: true })
  }
}

/** Makes the state folder, and proves it can be written before anything depends on it. */
function prepareStateFolder(state: string): void {
  const probe = join(state, `.write-test-${process.pid}`)
  try {
    mkdirSync(state, { recursive: true })
    writeFileSync(probe, '')
    rmSync(probe)
  } catch (err) {
    throw new CutoverError(
      'CONFIG_INVALID',
      `the state folder ${state} cannot be written (${(err as Error).message}): cutover keeps its pid file, admin token, rollout state and zone snapshots there; make it writable, free space in it, or set \`state:\` to a folder that can be`,
    )
  }
}

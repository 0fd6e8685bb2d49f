// `cutover start` runs the proxy in the foreground until SIGTERM or SIGINT;
// `cutover stop` signals it through the pid file in the state folder and waits.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { CutoverError } from '../dns/errors.ts'
import { loadConfig } from '../proxy/config.ts'
import { createLogger } from '../proxy/log.ts'
import { startProxy } from '../proxy/server.ts'
import { options, requireConfig } from './args.ts'

const PID_FILE = 'cutover.pid'
const STOP_WAIT_MS = 60_000

export async function startCommand(args: string[]): Promise<number> {
  const { values } = options(args, { config: { type: 'string', short: 'c' } })
  const config = loadConfig(requireConfig(values.config, 'start'))
  const log = createLogger(config.log.level)
  const proxy = await startProxy(config, log)
  mkdirSync(config.state, { recursive: true })
  const pidFile = join(config.state, PID_FILE)
  writeFileSync(pidFile, `${process.pid}\n`)
  return new Promise((done) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping')
      proxy.stop().then(() => {
        rmSync(pidFile, { force: true })
        done(0)
      })
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
  })
}

export async function stopCommand(args: string[]): Promise<number> {
  const { values } = options(args, {
    config: { type: 'string', short: 'c' },
    state: { type: 'string' },
  })
  const state =
    typeof values.config === 'string'
      ? loadConfig(values.config).state
      : resolve(values.state ?? '.cutover')
  const pidFile = join(state, PID_FILE)
  let pid: number
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim())
  } catch {
    throw new CutoverError(
      'USAGE',
      `no running proxy found: ${pidFile} does not exist (pass --config FILE of the running proxy)`,
    )
  }
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    rmSync(pidFile, { force: true })
    process.stdout.write(`cutover was not running (stale pid file ${pidFile} removed)\n`)
    return 0
  }
  const deadline = Date.now() + STOP_WAIT_MS
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0)
    } catch {
      process.stdout.write(`cutover (pid ${pid}) stopped\n`)
      return 0
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  process.stderr.write(`cutover (pid ${pid}) is still running after ${STOP_WAIT_MS / 1000} s\n`)
  return 1
}

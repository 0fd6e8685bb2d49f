// The commands that act on a running proxy (see start.ts): `stop`, `restart`
// and `reload` signal it through the pid file in its state folder and wait until
// it is done; `upgrade` asks its admin API, and the new supervisor writes its
// own pid into the pid file once it serves. They load no more than they need:
// a restart's command is a Node process that starts next to a busy proxy.

import { readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { CutoverError } from '../common/cutover-error.ts'
import { readToken, tokenFileOf } from '../proxy/admin/token.ts'
import { type Config, loadConfig } from '../proxy/config/config.ts'
import type { SupervisorStatus } from '../proxy/process/supervisor.ts'
import { adminUrl, configFileOf, options } from './args.ts'

export const PID_FILE = 'cutover.pid'
const WAIT_MS = 120_000

interface Running {
  config: Config
  pid: number
}

/** The config named by --config, if any, and the pid file in its state folder (or --state's, by default `.cutover`). */
function located(args: string[]): { config: Config | undefined; pidFile: string } {
  const { values } = options(args, {
    config: { type: 'string', short: 'c' },
    state: { type: 'string' },
  })
  const file = configFileOf(values.config)
  const config = file === undefined ? undefined : loadConfig(file)
  const state = config ? config.state : resolve(values.state ?? '.cutover')
  return { config, pidFile: join(state, PID_FILE) }
}

/** The pid in `pidFile`, or undefined when there is none. */
export function pidIn(pidFile: string): number | undefined {
  try {
    return Number(readFileSync(pidFile, 'utf8').trim())
  } catch {
    return undefined
  }
}

/** The pid in `pidFile`; a usage error when there is none, naming the command to pass --config to, if given. */
function runningPid(pidFile: string, command?: string): number {
  const pid = pidIn(pidFile)
  if (pid === undefined)
    throw new CutoverError(
      'USAGE',
      `no running proxy found: ${pidFile} does not exist (pass --config FILE of the running proxy${command ? ` to 'cutover ${command}'` : ''})`,
    )
  return pid
}

function running(args: string[], command: string): Running {
  const { config, pidFile } = located(args)
  const pid = runningPid(pidFile, command)
  if (!config) throw new CutoverError('USAGE', `'cutover ${command}' needs --config FILE`)
  if (!alive(pid))
    throw new CutoverError(
      'USAGE',
      `cutover is not running: ${pidFile} names pid ${pid}, which is gone (start it with 'cutover start --config ${config.file}')`,
    )
  return { config, pid }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function status(config: Config): Promise<SupervisorStatus> {
  const at = adminUrl(config)
  let res: Response
  try {
    res = await fetch(`${at}/workers`)
  } catch (err) {
    throw new CutoverError(
      'USAGE',
      `cannot reach the admin API at ${at} (${(err as Error).cause ?? (err as Error).message}); is the proxy running with this config?`,
    )
  }
  if (!res.ok)
    throw new CutoverError(
      'USAGE',
      `the proxy runs without workers (workers: 0): it cannot ${res.status === 404 ? 'restart or reload in place' : 'answer'}`,
    )
  return (await res.json()) as SupervisorStatus
}

/** The supervisor's status; 'stopped' once it has exited (a stop came first); undefined while a stop closes its admin API. */
async function statusWhileRunning(
  config: Config,
  pid: number,
): Promise<SupervisorStatus | 'stopped' | undefined> {
  if (!alive(pid)) return 'stopped'
  try {
    return await status(config)
  } catch {
    return undefined
  }
}

function stoppedBefore(command: string): number {
  process.stderr.write(`cutover stopped before the ${command} was done (a stop came first)\n`)
  return 1
}

export async function stopCommand(args: string[]): Promise<number> {
  const { pidFile } = located(args)
  const pid = runningPid(pidFile)
  if (!alive(pid)) {
    rmSync(pidFile, { force: true })
    process.stdout.write(`cutover was not running (stale pid file ${pidFile} removed)\n`)
    return 0
  }
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + WAIT_MS
  while (Date.now() < deadline) {
    if (!alive(pid)) {
      process.stdout.write(`cutover (pid ${pid}) stopped\n`)
      return 0
    }
    await delay(100)
  }
  process.stderr.write(`cutover (pid ${pid}) is still running after ${WAIT_MS / 1000} s\n`)
  return 1
}

/**
 * Polls the supervisor every `pollMs` until `done` gives the exit code of the
 * `command` given; `stopped` gives it once the supervisor has exited (by
 * default: a stop came first). 1, with why, when WAIT_MS passes first.
 */
async function untilDone(
  { config, pid }: Running,
  command: string,
  pollMs: number,
  done: (now: SupervisorStatus) => number | undefined,
  stopped: () => Promise<number> | number = () => stoppedBefore(command),
): Promise<number> {
  const deadline = Date.now() + WAIT_MS
  while (Date.now() < deadline) {
    const now = await statusWhileRunning(config, pid)
    if (now === 'stopped') return stopped()
    // undefined: the admin API is closed for a moment (a stop under way, or a new supervisor taking it).
    const code = now === undefined ? undefined : done(now)
    if (code !== undefined) return code
    await delay(pollMs)
  }
  process.stderr.write(
    `the ${command} did not finish within ${WAIT_MS / 1000} s; see the proxy's log\n`,
  )
  return 1
}

export async function restartCommand(args: string[]): Promise<number> {
  const target = running(args, 'restart')
  const before = await status(target.config)
  process.kill(target.pid, 'SIGUSR2')
  return untilDone(target, 'restart', 200, (now) => {
    if (
      now.generation <= before.generation ||
      !now.workers.every((w) => w.generation === now.generation && w.state === 'ready')
    )
      return undefined
    process.stdout.write(`restarted: generation ${now.generation}, ${now.workers.length} workers\n`)
    return 0
  })
}

export async function reloadCommand(args: string[]): Promise<number> {
  const target = running(args, 'reload')
  // Refuse a config that does not validate here, with its errors, before the proxy sees it.
  // check loads every module and zone: imported here, as only reload needs it.
  const { checkCommand } = await import('./check.ts')
  const checked = await checkCommand(['--config', target.config.file])
  if (checked !== 0) return checked
  const before = await status(target.config)
  process.kill(target.pid, 'SIGHUP')
  return untilDone(target, 'reload', 100, (now) => {
    if (now.reloads <= before.reloads) return undefined
    if (now.lastReload?.ok) {
      process.stdout.write(`reloaded ${now.workers.length} workers\n`)
      return 0
    }
    process.stderr.write(`reload refused: ${now.lastReload?.error}\n`)
    return 1
  })
}

export async function upgradeCommand(args: string[]): Promise<number> {
  const target = running(args, 'upgrade')
  const { config, pid } = target
  const before = await status(config)
  const res = await fetch(`${adminUrl(config)}/upgrade`, {
    method: 'POST',
    headers: { authorization: `Bearer ${readToken(tokenFileOf(config))}` },
  })
  if (res.status !== 202) {
    const { error } = (await res.json()) as { error?: string }
    process.stderr.write(`upgrade refused: ${error ?? res.statusText}\n`)
    return 1
  }
  // Whichever supervisor answers: the old one until the new one serves, then the new one.
  const failed = (now: SupervisorStatus) => {
    const upgrade = now.lastUpgrade
    if (now.pid !== pid || !upgrade || upgrade.at === before.lastUpgrade?.at || upgrade.ok)
      return undefined
    process.stderr.write(`upgrade failed: ${upgrade.error}; the running supervisor serves on\n`)
    return 1
  }
  // The old supervisor has exited: done, if a successor answers.
  const replaced = async () => {
    const successor = await status(config).catch(() => undefined)
    if (successor === undefined || successor.pid === pid) return stoppedBefore('upgrade')
    process.stdout.write(
      `upgraded: supervisor ${pid} replaced by ${successor.pid}, serving with ${successor.workers.length} workers\n`,
    )
    return 0
  }
  return untilDone(target, 'upgrade', 200, failed, replaced)
}

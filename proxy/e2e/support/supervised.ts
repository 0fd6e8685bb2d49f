// Runs the proxy the way operators do, `cutover start` with its supervisor and
// workers, from a config object on free loopback ports; and drives it with the
// same commands they use (`cutover restart`, `reload`, `stop`).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import type { SupervisorStatus } from '../../process/supervisor.ts'
import { familiesOfText, sampleOf } from '../../telemetry/metric-sample.ts'
import { type CliRun, runCli, waitForOutput } from './cli.ts'
import { freePort } from './free-port.ts'

export interface SupervisedProxy {
  run: CliRun
  /** The config file: rewrite it, then `command('reload')`. */
  file: string
  dir: string
  adminPort: number
  token: string
  status(): Promise<SupervisorStatus>
  metrics(): Promise<string>
  /** One metric's value from /metrics, strictly: see `sampleOf` and `familiesOfText` for what throws. */
  metric(name: string, labels?: Record<string, string>): Promise<number>
  /** Writes `config` as its config file, with the admin, state and log it started with (then `reload`, `restart`...). */
  rewrite(config: Record<string, unknown>): void
  /** Runs `cutover <name> --config FILE`; resolves with its exit code and output. */
  command(
    name: 'restart' | 'reload' | 'stop' | 'upgrade',
  ): Promise<{ code: number; output: string }>
  /** Kills it if a test left it running, and removes its folder. */
  cleanup(): void
}

/** The pid the proxy's pid file names, if it has one. */
export function supervisorPid(dir: string): number | undefined {
  try {
    return Number(readFileSync(join(dir, 'state', 'cutover.pid'), 'utf8'))
  } catch {
    return undefined
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // gone already
  }
}

/** Starts `cutover start` with `config` (admin port, state and log level filled in). */
export async function startSupervised(
  config: Record<string, unknown>,
  startTimeoutMs?: number,
): Promise<SupervisedProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-supervised-'))
  const file = join(dir, 'cutover.yaml')
  const adminPort = await freePort()
  const rewrite = ({ admin, ...c }: Record<string, unknown>) =>
    writeFileSync(
      file,
      stringify({
        // A test's own admin settings (tokens) go beside the listen address it was given.
        admin: { listen: `127.0.0.1:${adminPort}`, ...(admin as object | undefined) },
        log: { level: 'info' },
        state: join(dir, 'state'),
        ...c,
      }),
    )
  rewrite(config)
  const run = runCli(['start', '--config', file])
  await waitForOutput(run, 'cutover is serving', startTimeoutMs)
  const token = readFileSync(join(dir, 'state', 'admin-token'), 'utf8').trim()
  const admin = (path: string) => fetch(`http://127.0.0.1:${adminPort}${path}`)
  const metrics = async () => (await admin('/metrics')).text()
  return {
    run,
    file,
    dir,
    adminPort,
    token,
    status: async () => (await (await admin('/workers')).json()) as SupervisorStatus,
    metrics,
    rewrite,
    async metric(name, labels = {}) {
      return sampleOf(familiesOfText(await metrics()), name, labels)
    },
    async command(name) {
      const c = runCli([name, '--config', file])
      const code = await c.exited
      return { code, output: c.output() }
    },
    cleanup() {
      if (run.child.exitCode === null) run.child.kill('SIGKILL')
      // After `cutover upgrade` the supervisor is another process: the pid file names it.
      const pid = supervisorPid(dir)
      if (pid !== undefined && pid !== run.child.pid) killQuietly(pid)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
